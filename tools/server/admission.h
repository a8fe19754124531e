// Admission of the requests the answer cache could not answer. Each is planned on a worker
// (model checks, the entity tag: plan.h). A product rendered from the model (manifest, playlist,
// init segment; a HEAD of media) is made there and answered, and cached; a media product runs a
// pipeline: at most `max_concurrent` run at once (a pipeline holds its slot until it has
// stopped), up to `max_queue` requests wait in arrival order, and beyond that the answer is 503
// with Retry-After. A client that goes away at any step frees its slot and stops its pipeline.
#pragma once

#include <libsoup/soup.h>

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "answer_cache.h"
#include "catalog.h"
#include "manifest/manifest.h"
#include "pipeline_run.h"
#include "plan.h"
#include "respond.h"
#include "server.h"
#include "url/request.h"

namespace ams::server {

struct PipelineRequest {
  url::Request request;
  manifest::Format format = manifest::Format::kSmooth;
  std::shared_ptr<const Published> published;
  bool gzip = false;  // the client accepts gzip and the product is text
  std::string cache_key;
  std::shared_ptr<const RequestFilters> filters;  // none: nullptr
  std::string origin;  // "http://host:port" for a protected MPD's licence URL; "" otherwise
};

class Admission {
 public:
  Admission(const Config& config, std::string service_id, GMainContext* main, AnswerCache* cache);
  ~Admission();  // stops every pipeline and waits for the worker threads

  // Main thread. Answers `msg` now (503) or later; pauses it meanwhile.
  void submit(SoupServerMessage* msg, PipelineRequest request);

  // Main thread: cancels every request (at shutdown).
  void cancel_all();

  // Main thread. Runs `work` on a worker and then `then` on the main loop, for the blocking steps
  // of an answer that takes no plan (opening a download). `then` is dropped when this Admission
  // is gone by the time `work` ends. `work` is destroyed on the worker, `then` on the main loop.
  void run_off_loop(std::function<void()> work, std::function<void()> then);

  struct Stats {
    unsigned running = 0;
    size_t queued = 0;
    unsigned stopping = 0;  // pipelines answered and waiting to be stopped
    unsigned live = 0;      // pipelines that exist (at most max_concurrent)
    unsigned rendering = 0;
  };
  // Any thread (the status page sums every loop's).
  // SIGHUP (Server::reconfigure): the max-age and pipeline timeout of the requests from now
  // on; the pipelines running keep their deadline. On the main loop.
  void set_live(unsigned max_age_seconds, unsigned pipeline_timeout_seconds) {
    config_.max_age_seconds = max_age_seconds;
    config_.pipeline_timeout_seconds = pipeline_timeout_seconds;
  }
  Stats stats() const {
    return {active_.load(), queued_.load(), teardown_.pending(), teardown_.live(),
            rendering_.load()};
  }

 private:
  struct Job;
  struct Rendered;
  void start(const std::shared_ptr<Job>& job);
  void render(const std::shared_ptr<Job>& job);
  void render_planned(const std::shared_ptr<Job>& job);
  static Rendered rendered_of(Result<RequestPlan> plan, HttpError error, bool accepts_gzip,
                              unsigned max_age);
  void on_planned(const std::shared_ptr<Job>& job, Result<RequestPlan> plan, HttpError error);
  void on_rendered(const std::shared_ptr<Job>& job, Rendered rendered);
  void on_done(const std::shared_ptr<Job>& job, PipelineResult result);
  void complete(const std::shared_ptr<Job>& job);
  void on_finished(Job* job);
  void watch_hangup(const std::shared_ptr<Job>& job);
  void on_client_gone(const std::shared_ptr<Job>& job);
  void release(const std::shared_ptr<Job>& job);
  void pump();
  void post_to_worker(std::function<void()> task);
  void post_to_main(std::function<void()> task);
  // A pipeline may start: fewer than max_concurrent are running or waiting to be stopped.
  bool has_slot() const { return active_ + teardown_.pending() < config_.max_concurrent; }

  Config config_;  // only set_live() changes it, on the main loop
  const std::string service_id_;
  GMainContext* main_;
  AnswerCache* cache_;
  GThreadPool* workers_;
  std::shared_ptr<void> alive_ = std::make_shared<char>(0);  // expires with this Admission
  Teardown teardown_;
  std::atomic<unsigned> active_{0};
  std::atomic<unsigned> rendering_{0};
  std::atomic<size_t> queued_{0};  // queue_.size(), for other threads
  std::deque<std::shared_ptr<Job>> queue_;
  std::unordered_map<Job*, std::shared_ptr<Job>> jobs_;  // every request not yet finished
};

// The entity an answer of `plan` is: its content type, entity tag (per coding), Last-Modified.
Entity entity_of(const RequestPlan& plan, bool gzipped, unsigned max_age_seconds);

}  // namespace ams::server
