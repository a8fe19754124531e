// What one media pipeline of the streaming endpoint costs, phase by phase, and what reusing one
// would save: `amsdemux plan=P ! amscmafmux format=cmaf init-segment=false ! appsink` (and the
// amstsmux one) as the server builds it (tools/server/pipeline_run.cc), run N times in this
// process on one fragment (one TS segment) of the asset's top video rung.
//
//   pipeline_bench ASSET.ism [ITERATIONS]        (GST_PLUGIN_PATH must name the gstams plugin)
//
// Fresh: create the elements and link them, set PLAYING, wait for the appsink's EOS, set NULL and
// drop the pipeline, as each request does. Reused: one pipeline set back to READY after each run
// and given the next plan there. Prints the median and the 90th percentile of each phase in
// microseconds of wall time and the CPU time of the whole loop per run.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gstamspresentation.h"
#include "model/builder.h"
#include "model/segments.h"

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Done {
  std::mutex lock;
  std::condition_variable cv;
  bool eos = false;
  size_t bytes = 0;
};

GstFlowReturn on_sample(GstAppSink* sink, gpointer data) {
  auto* done = static_cast<Done*>(data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  size_t n = 0;
  if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
    n = gst_buffer_list_calculate_size(list);
  } else if (GstBuffer* b = gst_sample_get_buffer(sample)) {
    n = gst_buffer_get_size(b);
  }
  gst_sample_unref(sample);
  std::lock_guard<std::mutex> guard(done->lock);
  done->bytes += n;
  return GST_FLOW_OK;
}

void on_eos(GstAppSink*, gpointer data) {
  auto* done = static_cast<Done*>(data);
  std::lock_guard<std::mutex> guard(done->lock);
  done->eos = true;
  done->cv.notify_all();
}

void link_pad(GstElement*, GstPad* pad, gpointer mux_pointer) {
  auto* mux = static_cast<GstElement*>(mux_pointer);
  GstPad* sink = gst_element_get_static_pad(mux, "sink");
  if (sink == nullptr) sink = gst_element_request_pad_simple(mux, "sink_%u");
  if (sink != nullptr) {
    gst_pad_link(pad, sink);
    gst_object_unref(sink);
  }
}

struct Pipeline {
  GstElement* pipeline = nullptr;
  GstElement* demux = nullptr;
  GstElement* mux = nullptr;
};

// amsdemux makes its pads again at each run: the muxer's request pads of the last run go.
void release_request_pads(GstElement* mux) {
  GList* pads = g_list_copy_deep(
      GST_ELEMENT(mux)->sinkpads,
      [](gconstpointer pad, gpointer) -> gpointer {
        return gst_object_ref(const_cast<gpointer>(pad));
      },
      nullptr);
  for (GList* l = pads; l != nullptr; l = l->next) {
    auto* pad = static_cast<GstPad*>(l->data);
    if (GST_PAD_TEMPLATE(GST_PAD_PAD_TEMPLATE(pad)) &&
        GST_PAD_TEMPLATE_PRESENCE(GST_PAD_PAD_TEMPLATE(pad)) == GST_PAD_REQUEST) {
      gst_element_release_request_pad(mux, pad);
    }
  }
  g_list_free_full(pads, gst_object_unref);
}

Pipeline build(bool ts, Done* done) {
  Pipeline p;
  p.pipeline = gst_pipeline_new(nullptr);
  p.demux = gst_element_factory_make("amsdemux", nullptr);
  GstElement* mux = gst_element_factory_make(ts ? "amstsmux" : "amscmafmux", nullptr);
  p.mux = mux;
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  if (!ts) g_object_set(mux, "init-segment", FALSE, nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, "buffer-list", TRUE, nullptr);
  gst_bin_add_many(GST_BIN(p.pipeline), p.demux, mux, sink, nullptr);
  gst_element_link(mux, sink);
  g_signal_connect(p.demux, "pad-added", G_CALLBACK(link_pad), mux);
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = on_sample;
  callbacks.eos = on_eos;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, done, nullptr);
  return p;
}

void set_plan(GstElement* demux, const ams::gst::PlanPtr& plan) {
  GstAmsPlan* boxed = ams::gst::plan_boxed_new(plan);
  g_object_set(demux, "plan", boxed, nullptr);
  g_boxed_free(GST_TYPE_AMS_PLAN, boxed);
}

void wait_eos(Done* done) {
  std::unique_lock<std::mutex> guard(done->lock);
  done->cv.wait(guard, [&] { return done->eos; });
  done->eos = false;
}

struct Phases {
  std::vector<double> build, play, run, stop;
  double cpu = 0;
  size_t bytes = 0;
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

Phases fresh(const ams::gst::PlanPtr& plan, bool ts, int n) {
  Phases out;
  Done done;
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < n; ++i) {
    auto t = Clock::now();
    Pipeline p = build(ts, &done);
    set_plan(p.demux, plan);
    out.build.push_back(us_since(t));
    t = Clock::now();
    gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
    out.play.push_back(us_since(t));
    t = Clock::now();
    wait_eos(&done);
    out.run.push_back(us_since(t));
    t = Clock::now();
    gst_element_set_state(p.pipeline, GST_STATE_NULL);
    gst_object_unref(p.pipeline);
    out.stop.push_back(us_since(t));
  }
  out.cpu = (cpu_seconds() - cpu0) / n;
  out.bytes = done.bytes / static_cast<size_t>(n);
  return out;
}

Phases reused(const ams::gst::PlanPtr& plan, bool ts, int n) {
  Phases out;
  Done done;
  Pipeline p = build(ts, &done);
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < n; ++i) {
    auto t = Clock::now();
    set_plan(p.demux, plan);
    out.build.push_back(us_since(t));
    t = Clock::now();
    gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
    out.play.push_back(us_since(t));
    t = Clock::now();
    wait_eos(&done);
    out.run.push_back(us_since(t));
    t = Clock::now();
    gst_element_set_state(p.pipeline, GST_STATE_READY);
    release_request_pads(p.mux);
    out.stop.push_back(us_since(t));
  }
  out.cpu = (cpu_seconds() - cpu0) / n;
  out.bytes = done.bytes / static_cast<size_t>(n);
  gst_element_set_state(p.pipeline, GST_STATE_NULL);
  gst_object_unref(p.pipeline);
  return out;
}

void print(const char* name, const Phases& p) {
  std::printf("%-28s %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %9.0f %9zu\n", name,
              percentile(p.build, 0.5), percentile(p.build, 0.9), percentile(p.play, 0.5),
              percentile(p.play, 0.9), percentile(p.run, 0.5), percentile(p.run, 0.9),
              percentile(p.stop, 0.5), percentile(p.stop, 0.9), p.cpu * 1e6, p.bytes);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) {
    std::fprintf(stderr, "usage: pipeline_bench ASSET.ism [ITERATIONS]\n");
    return 2;
  }
  const int n = argc > 2 ? std::max(1, std::atoi(argv[2])) : 300;
  auto presentation = ams::model::build_presentation(argv[1]);
  if (!presentation) {
    std::fprintf(stderr, "%s\n", presentation.status().to_string().c_str());
    return 1;
  }
  const ams::model::Presentation& p = **presentation;
  if (p.tracks.empty() || p.tracks[0].type != ams::model::TrackType::kVideo ||
      p.tracks[0].fragments.size() < 2) {
    std::fprintf(stderr, "the asset needs a video track of two fragments or more\n");
    return 1;
  }
  if (gst_element_factory_find("amsdemux") == nullptr) {
    std::fprintf(stderr, "no amsdemux: set GST_PLUGIN_PATH to the gstams plugin\n");
    return 1;
  }
  auto plan_of = [&](size_t per) {
    auto plan = std::make_shared<ams::gst::Plan>();
    plan->presentation = *presentation;
    plan->selection.tracks = {0};
    plan->selection.per_segment = per;
    plan->selection.first_segment = 1;
    plan->selection.segment_count = 1;
    return ams::gst::PlanPtr(std::move(plan));
  };
  const size_t k = std::max<size_t>(1, p.fragments_per_hls_segment);
  const auto fragment = plan_of(1);
  const auto segment = plan_of(p.tracks[0].fragments.size() > k ? k : 1);
  std::printf("%s, top video rung (%u bit/s), %d runs each; microseconds of wall time\n", argv[1],
              p.tracks[0].bitrate, n);
  std::printf("%-28s %8s %8s %8s %8s %8s %8s %8s %8s %9s %9s\n", "pipeline", "build50", "build90",
              "play50", "play90", "run50", "run90", "stop50", "stop90", "cpu/run", "bytes");
  fresh(fragment, false, 20);  // warm the caches and the thread pool
  print("fMP4 fragment, fresh", fresh(fragment, false, n));
  print("fMP4 fragment, reused", reused(fragment, false, n));
  print("TS segment, fresh", fresh(segment, true, n));
  print("TS segment, reused", reused(segment, true, n));
  return 0;
}
