#include "pipeline_run.h"

#include "encryption.h"

#include <map>
#include <optional>

#include "http.h"

namespace ams::server {
namespace {

// A fragment or TS segment is a few MB; more than this means a request for something absurd.
constexpr size_t kMaxOutputBytes = 256u << 20;

struct Delivery {
  std::shared_ptr<PipelineRun> run;
  PipelineResult result;
};

struct Stop {
  GstPtr<GstElement> pipeline;
  std::shared_ptr<const void> owner;
  int shape = -1;
};

GstPtr<GstElement> child(GstElement* pipeline, const char* name) {
  return GstPtr<GstElement>(gst_bin_get_by_name(GST_BIN(pipeline), name));
}

// amsdemux makes its pads again at each run: the TS muxer's request pads of the last run go.
void release_request_pads(GstElement* mux) {
  std::vector<GstPtr<GstPad>> pads;
  GST_OBJECT_LOCK(mux);
  for (GList* l = GST_ELEMENT(mux)->sinkpads; l != nullptr; l = l->next) {
    auto* pad = static_cast<GstPad*>(l->data);
    GstPadTemplate* templ = GST_PAD_PAD_TEMPLATE(pad);
    if (templ != nullptr && GST_PAD_TEMPLATE_PRESENCE(templ) == GST_PAD_REQUEST) {
      pads.push_back(GstPtr<GstPad>::ref(pad));
    }
  }
  GST_OBJECT_UNLOCK(mux);
  for (const GstPtr<GstPad>& pad : pads) gst_element_release_request_pad(mux, pad.get());
}

}  // namespace

Teardown::Teardown(unsigned threads, unsigned max_idle) : max_idle_(max_idle) {
  pool_ = g_thread_pool_new(&Teardown::run, this, static_cast<gint>(threads), FALSE, nullptr);
}

Teardown::~Teardown() {
  on_stopped(nullptr);
  g_thread_pool_free(pool_, FALSE, TRUE);
  for (auto& [shape, pipelines] : idle_) {
    for (GstPtr<GstElement>& p : pipelines) gst_element_set_state(p.get(), GST_STATE_NULL);
  }
}

GstPtr<GstElement> Teardown::take(int shape) {
  std::lock_guard<std::mutex> guard(lock_);
  auto it = idle_.find(shape);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  GstPtr<GstElement> p = std::move(it->second.back());
  it->second.pop_back();
  return p;
}

// Back to READY, with nothing of the request left in it (callbacks, bus messages, request
// pads), and kept; false when it cannot be (then it is stopped for good).
bool Teardown::keep(int shape, GstPtr<GstElement>& pipeline) {
  if (shape < 0 || max_idle_ == 0) return false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (idle_[shape].size() >= max_idle_) return false;
  }
  if (gst_element_set_state(pipeline.get(), GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
    return false;
  }
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
  gst_bus_set_flushing(bus.get(), TRUE);  // the messages of the run go
  gst_bus_set_flushing(bus.get(), FALSE);
  if (GstPtr<GstElement> sink = child(pipeline.get(), "out")) {
    GstAppSinkCallbacks none = {};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &none, nullptr, nullptr);
  }
  if (GstPtr<GstElement> mux = child(pipeline.get(), "mux")) release_request_pads(mux.get());
  std::lock_guard<std::mutex> guard(lock_);
  idle_[shape].push_back(std::move(pipeline));
  return true;
}

void Teardown::run(gpointer data, gpointer self_pointer) {
  auto* self = static_cast<Teardown*>(self_pointer);
  {
    std::unique_ptr<Stop> stop(static_cast<Stop*>(data));
    if (!self->keep(stop->shape, stop->pipeline) && stop->pipeline) {
      gst_element_set_state(stop->pipeline.get(), GST_STATE_NULL);
      // The messages left on the bus hold references to the pipeline: flush them, or the
      // pipeline (and its bus's socket pair) would never be freed.
      GstPtr<GstBus> bus(gst_element_get_bus(stop->pipeline.get()));
      gst_bus_set_flushing(bus.get(), TRUE);
    }
  }
  --self->live_;
  --self->pending_;
  std::lock_guard<std::mutex> guard(self->lock_);
  if (self->stopped_) self->stopped_();
}

void Teardown::on_stopped(std::function<void()> stopped) {
  std::lock_guard<std::mutex> guard(lock_);
  stopped_ = std::move(stopped);
}

void Teardown::stop(GstPtr<GstElement>* pipeline, std::shared_ptr<const void> owner, int shape) {
  if (!*pipeline) return;
  ++pending_;
  g_thread_pool_push(pool_, new Stop{std::move(*pipeline), std::move(owner), shape}, nullptr);
}

PipelineRun::PipelineRun(std::shared_ptr<const RequestPlan> plan, GMainContext* main,
                         Teardown* teardown, Done done)
    : plan_(std::move(plan)), main_(main), teardown_(teardown), done_(std::move(done)) {}

PipelineRun::~PipelineRun() = default;

namespace {

// The factories, looked up once per process.
GstElementFactory* factory(const char* name) {
  static std::mutex lock;
  static std::map<std::string, GstElementFactory*> factories;
  std::lock_guard<std::mutex> guard(lock);
  GstElementFactory*& f = factories[name];
  if (f == nullptr) f = gst_element_factory_find(name);  // kept for the process
  return f;
}

GstElement* make(const char* factory_name, const char* name) {
  GstElementFactory* f = factory(factory_name);
  return f != nullptr ? gst_element_factory_create(f, name) : nullptr;
}

const char* cmaf_format(RequestPlan::Muxer muxer) {
  switch (muxer) {
    case RequestPlan::Muxer::kDash:
      return "dash";
    case RequestPlan::Muxer::kSmooth:
      return "smooth";
    default:
      return "cmaf";
  }
}

// amsdemux exposes its pads once it runs: link each to the muxer (a request pad of amstsmux).
void link_demux_pad(GstElement*, GstPad* pad, gpointer mux_pointer) {
  auto* mux = static_cast<GstElement*>(mux_pointer);
  GstPtr<GstPad> sink(gst_element_get_static_pad(mux, "sink"));
  if (!sink) sink.reset(gst_element_request_pad_simple(mux, "sink_%u"));
  if (sink) gst_pad_link(pad, sink.get());
}

}  // namespace

void PipelineRun::attach(GstElement* pipeline) {
  GstPtr<GstElement> demux = child(pipeline, "demux");
  GstPtr<GstElement> sink = child(pipeline, "out");
  GstAmsPlan* boxed = gst::plan_boxed_new(plan_->media);
  g_object_set(demux.get(), "plan", boxed, nullptr);
  g_boxed_free(GST_TYPE_AMS_PLAN, boxed);
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = &PipelineRun::on_new_sample;
  callbacks.eos = &PipelineRun::on_eos;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, this, nullptr);
}

// amsdemux plan=... ! amscmafmux format=... | amstsmux ! appsink, with typed calls (or one such
// pipeline kept from an earlier request of the same shape).
GstPtr<GstElement> PipelineRun::build() {
  if (GstPtr<GstElement> kept = teardown_->take(static_cast<int>(plan_->muxer))) {
    attach(kept.get());
    return kept;
  }
  GstPtr<GstElement> pipeline = GstPtr<GstElement>::sink(gst_pipeline_new(nullptr));
  GstElement* demux = make("amsdemux", "demux");
  const bool ts = plan_->muxer == RequestPlan::Muxer::kTs;
  GstElement* mux = make(ts ? "amstsmux" : "amscmafmux", "mux");
  GstElement* sink = make("appsink", "out");
  if (!pipeline || !demux || !mux || !sink) {
    for (GstElement* e : {demux, mux, sink}) {
      if (e != nullptr) gst_object_unref(gst_object_ref_sink(e));
    }
    return nullptr;
  }
  if (!ts) {
    gst_util_set_object_arg(G_OBJECT(mux), "format", cmaf_format(plan_->muxer));
    g_object_set(mux, "init-segment", FALSE, nullptr);  // clients fetch it once (plan.h)
  }
  g_object_set(sink, "sync", FALSE, "async", FALSE, "buffer-list", TRUE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline.get()), demux, mux, sink, nullptr);
  if (!gst_element_link(mux, sink)) return nullptr;
  g_signal_connect(demux, "pad-added", G_CALLBACK(link_demux_pad), mux);
  attach(pipeline.get());
  return pipeline;
}

void PipelineRun::start() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (cancelled_ || finished_) return;
    pipeline_ = build();
    if (pipeline_) {
      phase_ = Phase::kStarting;
      teardown_->created();
    }
  }
  if (!pipeline_) {
    finish({false,
            {},
            http_error(500, hresult::kPipelineError,
                       "cannot build the pipeline (is the gstams plugin on GST_PLUGIN_PATH?)")});
    return;
  }
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
  gst_bus_set_sync_handler(bus.get(), &PipelineRun::on_bus_message, this, nullptr);
  GstElement* element = pipeline_.get();  // alive: only this thread stops a kStarting pipeline
  GstStateChangeReturn ret = gst_element_set_state(element, GST_STATE_PLAYING);
  bool stop_now = false;
  std::optional<PipelineResult> result;
  {
    std::lock_guard<std::mutex> guard(lock_);
    phase_ = Phase::kRunning;
    if (!finished_ && cancelled_) finished_ = true, stop_pending_ = true;
    stop_now = stop_pending_;
    result = std::move(held_result_);
    held_result_.reset();
  }
  if (stop_now) stop_pipeline();
  // Answered only now that the pipeline is in the teardown's count: the slot it frees must not
  // let a new pipeline start while this one still exists uncounted.
  if (result) deliver(std::move(*result));
  if (ret == GST_STATE_CHANGE_FAILURE) {
    finish({false, {}, http_error(500, hresult::kPipelineError, "cannot start the pipeline")});
  }
}

void PipelineRun::cancel() {
  cancelled_ = true;
  bool stop_now = false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (!finished_) {
      finished_ = true;
      stop_now = phase_ == Phase::kRunning;
      stop_pending_ = phase_ == Phase::kStarting;
    }
  }
  if (stop_now) stop_pipeline();
}

void PipelineRun::fail(HttpError error) {
  finish({false, {}, std::move(error)});
}

// Only after phase_ is kRunning: a pipeline being started belongs to its worker.
void PipelineRun::stop_pipeline() {
  GstPtr<GstElement> pipeline;
  bool reusable = false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    pipeline = std::move(pipeline_);
    reusable = answered_ok_;
  }
  // Only a pipeline that ran to its end without error is kept for another request.
  teardown_->stop(&pipeline, shared_from_this(), reusable ? static_cast<int>(plan_->muxer) : -1);
}

void PipelineRun::finish(PipelineResult result) {
  bool stop_now = false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (finished_) return;
    finished_ = true;
    stop_now = phase_ == Phase::kRunning;
    stop_pending_ = phase_ == Phase::kStarting;
    if (result.ok) result.body = std::move(output_);
    answered_ok_ = result.ok;
    if (stop_pending_) {
      held_result_ = std::move(result);  // start() delivers it once it has handed the pipeline on
      return;
    }
  }
  if (stop_now) stop_pipeline();
  deliver(std::move(result));
}

void PipelineRun::deliver(PipelineResult result) {
  // AES-128 (HLS encryption=cbc): the segment encrypted whole, here, off the main loop.
  if (result.ok && plan_->encryption) {
    Result<Body> sealed = aes128_cbc_encrypt(result.body, *plan_->encryption);
    if (sealed) {
      result.body = std::move(*sealed);
    } else {
      result = {false, {}, http_error(500, hresult::kInternal, sealed.status().to_string())};
    }
  }
  auto* delivery = new Delivery{shared_from_this(), std::move(result)};
  g_main_context_invoke_full(
      main_, G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        auto* d = static_cast<Delivery*>(data);
        if (!d->run->cancelled_ && d->run->done_) d->run->done_(std::move(d->result));
        return G_SOURCE_REMOVE;
      },
      delivery, [](gpointer data) { delete static_cast<Delivery*>(data); });
}

GstBusSyncReply PipelineRun::on_bus_message(GstBus*, GstMessage* message, gpointer data) {
  auto* self = static_cast<PipelineRun*>(data);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &error, &debug);
    std::string detail = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                         (error != nullptr ? error->message : "?") + " (" +
                         (debug != nullptr ? debug : "") + ")";
    // A demuxer that cannot find what the URL names says so with NOT_FOUND: keep it a 404.
    bool missing = error != nullptr && error->domain == GST_RESOURCE_ERROR &&
                   error->code == GST_RESOURCE_ERROR_NOT_FOUND;
    g_clear_error(&error);
    g_free(debug);
    self->finish({false,
                  {},
                  missing ? http_error(404, hresult::kFragmentNotFound, detail)
                          : http_error(500, hresult::kPipelineError, detail)});
  }
  // PASS, not DROP: with GStreamer 1.22, dropping every message in a sync handler left ~8
  // references on these pipelines (measured); passed messages are flushed at teardown.
  return GST_BUS_PASS;
}

void PipelineRun::on_eos(GstAppSink*, gpointer data) {
  auto* self = static_cast<PipelineRun*>(data);
  bool failed = false;
  {
    std::lock_guard<std::mutex> guard(self->lock_);
    failed = self->output_failed_;
  }
  if (failed) {
    self->finish({false, {}, http_error(500, hresult::kPipelineError, "cannot map a buffer")});
  } else {
    self->finish({true, {}, {}});
  }
}

GstFlowReturn PipelineRun::on_new_sample(GstAppSink* sink, gpointer data) {
  auto* self = static_cast<PipelineRun*>(data);
  GstPtr<GstSample> sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_EOS;
  std::lock_guard<std::mutex> guard(self->lock_);
  if (self->finished_) return GST_FLOW_EOS;
  bool ok = true;
  if (GstBufferList* list = gst_sample_get_buffer_list(sample.get())) {
    const guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n && ok; ++i) ok = self->output_.append(gst_buffer_list_get(list, i));
  } else if (GstBuffer* buffer = gst_sample_get_buffer(sample.get())) {
    ok = self->output_.append(buffer);
  }
  if (!ok) self->output_failed_ = true;
  if (!ok || self->output_.size() > kMaxOutputBytes) return GST_FLOW_ERROR;
  return GST_FLOW_OK;
}

}  // namespace ams::server
