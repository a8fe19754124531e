// One media request's pipeline, `amsdemux plan=... ! amscmafmux|amstsmux ! appsink`, built with
// typed calls from the request plan (no description string is parsed), started on a worker
// thread, fed by amsdemux's streaming thread, and answered on the main context with the muxer's
// buffers as they are (Body: the fragment header and the samples' memory, not copied). Nothing
// here blocks the main loop: the main thread only starts and cancels runs; stopping a pipeline
// (set_state NULL, which can block) happens on the teardown pool.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "body.h"
#include "errors.h"
#include "gstptr.h"
#include "plan.h"

namespace ams::server {

using gst::GstPtr;

struct PipelineResult {
  bool ok = false;
  Body body;
  HttpError error;  // when !ok
};

// A pool of threads that stops pipelines. set_state(READY/NULL) waits for streaming threads, so
// it never runs on the main loop nor on a streaming thread of the pipeline it stops. A pipeline
// holds its streaming threads and buffers until it is stopped, so the ones waiting here count
// against the server's bound on live pipelines (pending(), and `stopped` after each one).
//
// A pipeline that answered without error is set to READY (its threads stopped, its buffers
// dropped) and kept for the next request of the same shape (`idle`, at most `max_idle` a shape):
// pipeline_bench shows that building and tearing one down is half of a fragment request's CPU.
class Teardown {
 public:
  explicit Teardown(unsigned threads, unsigned max_idle = 0);
  ~Teardown();  // waits for every queued teardown; drops the idle pipelines
  // Takes the pipeline; `owner` (whose callbacks the pipeline calls) lives until it has stopped.
  // `shape` >= 0: it may be kept for reuse by take(shape).
  void stop(GstPtr<GstElement>* pipeline, std::shared_ptr<const void> owner, int shape = -1);
  // An idle pipeline of `shape` (in READY, callbacks cleared), or null.
  GstPtr<GstElement> take(int shape);
  // Pipelines handed to stop() and not yet stopped.
  unsigned pending() const { return pending_.load(); }
  // Pipelines that exist: built (created()) and not yet stopped here.
  unsigned live() const { return live_.load(); }
  void created() { ++live_; }
  // Runs on a teardown thread after each pipeline has stopped; empty: nothing.
  void on_stopped(std::function<void()> stopped);

 private:
  static void run(gpointer data, gpointer self);
  bool keep(int shape, GstPtr<GstElement>& pipeline);

  GThreadPool* pool_;
  const unsigned max_idle_;
  std::atomic<unsigned> pending_{0};
  std::atomic<unsigned> live_{0};
  std::mutex lock_;  // guards stopped_ and idle_
  std::function<void()> stopped_;
  std::map<int, std::vector<GstPtr<GstElement>>> idle_;
};

class PipelineRun : public std::enable_shared_from_this<PipelineRun> {
 public:
  using Done = std::function<void(PipelineResult)>;

  // `done` runs on `main` once, unless cancel() came first.
  PipelineRun(std::shared_ptr<const RequestPlan> plan, GMainContext* main, Teardown* teardown,
              Done done);
  ~PipelineRun();

  // Worker thread: builds the pipeline and sets it to PLAYING.
  void start();
  // Main thread: the client is gone or the request timed out; `done` will not run.
  void cancel();
  const RequestPlan& plan() const { return *plan_; }

  // Any thread: ends the run with an error (used for timeouts, on the main thread).
  void fail(HttpError error);

 private:
  enum class Phase { kIdle, kStarting, kRunning };
  static GstBusSyncReply on_bus_message(GstBus* bus, GstMessage* message, gpointer self);
  static GstFlowReturn on_new_sample(GstAppSink* sink, gpointer self);
  static void on_eos(GstAppSink* sink, gpointer self);
  GstPtr<GstElement> build();
  void attach(GstElement* pipeline);
  void finish(PipelineResult result);
  void stop_pipeline();
  void deliver(PipelineResult result);

  const std::shared_ptr<const RequestPlan> plan_;
  GMainContext* main_;
  Teardown* teardown_;
  Done done_;

  std::mutex lock_;  // guards the fields below
  GstPtr<GstElement> pipeline_;
  Phase phase_ = Phase::kIdle;
  bool finished_ = false;
  bool stop_pending_ = false;
  Body output_;                                // the streaming thread appends; read once finished
  std::optional<PipelineResult> held_result_;  // finished while starting: delivered by start()
  bool output_failed_ = false;
  bool answered_ok_ = false;  // the run ended with its answer: the pipeline may be reused

  std::atomic<bool> cancelled_{false};
};

}  // namespace ams::server
