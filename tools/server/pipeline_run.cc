#include "pipeline_run.h"

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
};

}  // namespace

Teardown::Teardown(unsigned threads) {
  pool_ = g_thread_pool_new(&Teardown::run, this, static_cast<gint>(threads), FALSE, nullptr);
}

Teardown::~Teardown() {
  on_stopped(nullptr);
  g_thread_pool_free(pool_, FALSE, TRUE);
}

void Teardown::run(gpointer data, gpointer self_pointer) {
  auto* self = static_cast<Teardown*>(self_pointer);
  {
    std::unique_ptr<Stop> stop(static_cast<Stop*>(data));
    gst_element_set_state(stop->pipeline.get(), GST_STATE_NULL);
    // The messages left on the bus hold references to the pipeline: flush them, or the
    // pipeline (and its bus's socket pair) would never be freed.
    GstPtr<GstBus> bus(gst_element_get_bus(stop->pipeline.get()));
    gst_bus_set_flushing(bus.get(), TRUE);
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

void Teardown::stop(GstPtr<GstElement>* pipeline, std::shared_ptr<const void> owner) {
  if (!*pipeline) return;
  ++pending_;
  g_thread_pool_push(pool_, new Stop{std::move(*pipeline), std::move(owner)}, nullptr);
}

PipelineRun::PipelineRun(Plan plan, bool gzip, GMainContext* main, Teardown* teardown, Done done)
    : plan_(std::move(plan)),
      gzip_(gzip),
      main_(main),
      teardown_(teardown),
      done_(std::move(done)) {}

PipelineRun::~PipelineRun() = default;

void PipelineRun::start() {
  GError* error = nullptr;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (cancelled_ || finished_) return;
    pipeline_.reset(gst_parse_launch_full(plan_.pipeline.c_str(), nullptr,
                                          GST_PARSE_FLAG_FATAL_ERRORS, &error));
    if (pipeline_) {  // FATAL_ERRORS: NULL whenever `error` is set
      phase_ = Phase::kStarting;
      teardown_->created();
    }
  }
  if (error != nullptr || !pipeline_) {
    std::string message = error != nullptr ? error->message : "no pipeline";
    g_clear_error(&error);
    finish({false,
            {},
            false,
            http_error(500, hresult::kPipelineError,
                       "cannot build " + plan_.pipeline + ": " + message)});
    return;
  }
  if (pipeline_) {
    if (plan_.output != Output::kManifestMessage) {
      GstPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "out"));
      GstAppSinkCallbacks callbacks = {};
      callbacks.new_sample = &PipelineRun::on_new_sample;
      gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, this, nullptr);
    }
    GstPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
    gst_bus_set_sync_handler(bus.get(), &PipelineRun::on_bus_message, this, nullptr);
  }
  GstElement* element = pipeline_.get();  // alive: only this thread stops a kStarting pipeline
  GstStateChangeReturn ret = gst_element_set_state(element, GST_STATE_PLAYING);
  bool stop_now = false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    phase_ = Phase::kRunning;
    if (!finished_ && cancelled_) finished_ = true, stop_pending_ = true;
    stop_now = stop_pending_;
  }
  if (stop_now) stop_pipeline();
  if (ret == GST_STATE_CHANGE_FAILURE) {
    finish({false,
            {},
            false,
            http_error(500, hresult::kPipelineError, "cannot start " + plan_.pipeline)});
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
  finish({false, {}, false, std::move(error)});
}

// Only after phase_ is kRunning: a pipeline being started belongs to its worker.
void PipelineRun::stop_pipeline() {
  GstPtr<GstElement> pipeline;
  {
    std::lock_guard<std::mutex> guard(lock_);
    pipeline = std::move(pipeline_);
  }
  teardown_->stop(&pipeline, shared_from_this());
}

void PipelineRun::finish(PipelineResult result) {
  bool stop_now = false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (finished_) return;
    finished_ = true;
    stop_now = phase_ == Phase::kRunning;
    stop_pending_ = phase_ == Phase::kStarting;
    if (result.ok && plan_.output != Output::kManifestMessage) result.bytes = std::move(output_);
  }
  if (stop_now) stop_pipeline();
  if (result.ok && gzip_) {
    if (std::optional<std::string> packed = gzip(result.bytes)) {
      result.bytes = std::move(*packed);
      result.gzipped = true;
    }
  }
  deliver(std::move(result));
}

void PipelineRun::deliver(PipelineResult result) {
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
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(message);
      if (self->plan_.output == Output::kManifestMessage && s != nullptr &&
          gst_structure_has_name(s, "ams-manifest")) {
        const char* text = gst_structure_get_string(s, "text");
        self->finish({text != nullptr, text != nullptr ? text : "", false,
                      http_error(500, hresult::kPipelineError, "empty manifest message")});
      }
      break;
    }
    case GST_MESSAGE_EOS:
      if (self->plan_.output == Output::kManifestMessage) {
        self->finish({false, {}, false, http_error(500, hresult::kPipelineError, "no manifest")});
      } else {
        self->finish({true, {}, false, {}});
      }
      break;
    case GST_MESSAGE_ERROR: {
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
                    false,
                    missing ? http_error(404, hresult::kFragmentNotFound, detail)
                            : http_error(500, hresult::kPipelineError, detail)});
      break;
    }
    default:
      break;
  }
  // PASS, not DROP: with GStreamer 1.22, dropping every message in a sync handler left ~8
  // references on these pipelines (measured); passed messages are flushed at teardown.
  return GST_BUS_PASS;
}

GstFlowReturn PipelineRun::on_new_sample(GstAppSink* sink, gpointer data) {
  auto* self = static_cast<PipelineRun*>(data);
  GstPtr<GstSample> sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_EOS;
  bool init_complete = false;
  if (GstBufferList* list = gst_sample_get_buffer_list(sample.get())) {
    guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n && !init_complete; ++i) {
      self->collect(gst_buffer_list_get(list, i), &init_complete);
    }
  } else if (GstBuffer* buffer = gst_sample_get_buffer(sample.get())) {
    self->collect(buffer, &init_complete);
  }
  if (init_complete) {
    // The init segment is whole once media follows it: answer without waiting for EOS.
    self->finish({true, {}, false, {}});
    return GST_FLOW_EOS;
  }
  std::lock_guard<std::mutex> guard(self->lock_);
  if (self->output_.size() > kMaxOutputBytes) return GST_FLOW_ERROR;
  return self->finished_ ? GST_FLOW_EOS : GST_FLOW_OK;
}

void PipelineRun::collect(GstBuffer* buffer, bool* init_complete) {
  bool header = GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_HEADER);
  bool want = plan_.output == Output::kInitSegment ? header : !header;
  std::lock_guard<std::mutex> guard(lock_);
  if (plan_.output == Output::kInitSegment && !header && saw_header_) {
    *init_complete = true;
    return;
  }
  saw_header_ = saw_header_ || header;
  if (!want) return;
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
  output_.append(reinterpret_cast<const char*>(map.data), map.size);
  gst_buffer_unmap(buffer, &map);
}

}  // namespace ams::server
