#include "admission.h"

#include <algorithm>
#include <optional>

#include "http.h"
#include "respond.h"

namespace ams::server {

enum class JobState { kQueued, kPlanning, kRunning, kDone };

struct Admission::Job {
  SoupServerMessage* msg = nullptr;  // owned reference until the message finishes
  gulong finished_handler = 0;
  PipelineRequest request;
  bool media = false;  // a pipeline makes the answer (else it is rendered from the model)
  JobState state = JobState::kQueued;
  bool holds_slot = false;
  std::shared_ptr<const RequestPlan> plan;
  std::shared_ptr<PipelineRun> run;
  GSource* timer = nullptr;
  GSource* hangup = nullptr;  // watches the client's socket while the message is paused
};

namespace {

void destroy_source(GSource** source) {
  if (*source == nullptr) return;
  g_source_destroy(*source);
  g_source_unref(*source);
  *source = nullptr;
}

// libsoup does not read a paused message's socket, so it would not notice a client that goes
// away. A readable socket with nothing to read (EOF) or an error means it went.
bool peer_closed(GSocket* socket, GIOCondition condition) {
  if (condition & (G_IO_HUP | G_IO_ERR)) return true;
  char byte = 0;
  GInputVector vector = {&byte, 1};
  gint flags = G_SOCKET_MSG_PEEK;
  GError* error = nullptr;
  gssize n = g_socket_receive_message(socket, nullptr, &vector, 1, nullptr, nullptr, &flags,
                                      nullptr, &error);
  // Nothing to read after a wake-up is not a hang-up; a reset or other error is.
  bool would_block = error != nullptr && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error(&error);
  return n == 0 || (n < 0 && !would_block);
}

struct Task {
  std::function<void()> run;
};

gboolean run_task(gpointer data) {
  static_cast<Task*>(data)->run();
  return G_SOURCE_REMOVE;
}

bool is_head(SoupServerMessage* msg) {
  return soup_server_message_get_method(msg) == SOUP_METHOD_HEAD;
}

GBytes* bytes_of(std::string text) {
  auto* owned = new std::string(std::move(text));
  return g_bytes_new_with_free_func(
      owned->data(), owned->size(), [](gpointer p) { delete static_cast<std::string*>(p); }, owned);
}

}  // namespace

Entity entity_of(const RequestPlan& plan, bool gzipped, unsigned max_age_seconds) {
  Entity e;
  e.content_type = plan.content_type;
  e.etag = etag_for_coding(plan.etag, gzipped);
  e.last_modified_ns = plan.last_modified_ns;
  e.gzipped = gzipped;
  e.vary_encoding = route_of(plan.product).compressible;
  e.max_age_seconds = max_age_seconds;
  return e;
}

Admission::Admission(const Config& config, std::string service_id, GMainContext* main,
                     AnswerCache* cache)
    : config_(config),
      service_id_(std::move(service_id)),
      main_(main),
      cache_(cache),
      teardown_(std::max(config.max_concurrent, 1u), std::max(config.max_concurrent, 1u)) {
  // A stopped pipeline frees a slot: let the next request in (on the main loop, and only while
  // this Admission exists).
  teardown_.on_stopped([this, alive = std::weak_ptr<void>(alive_)] {
    post_to_main([this, alive] {
      if (alive.lock()) pump();
    });
  });
  // Planning reads indexes (cold: a few reads per file), rendering is CPU only and starting a
  // pipeline is quick: a few threads keep the main loop's hand-offs short without competing with
  // the streaming threads.
  workers_ = g_thread_pool_new(
      [](gpointer data, gpointer) {
        std::unique_ptr<Task> task(static_cast<Task*>(data));
        task->run();
      },
      nullptr, 4, FALSE, nullptr);
}

Admission::~Admission() {
  teardown_.on_stopped(nullptr);
  cancel_all();
  g_thread_pool_free(workers_, FALSE, TRUE);
}

void Admission::post_to_worker(std::function<void()> task) {
  g_thread_pool_push(workers_, new Task{std::move(task)}, nullptr);
}

void Admission::run_off_loop(std::function<void()> work, std::function<void()> then) {
  post_to_worker([this, alive = std::weak_ptr<void>(alive_), work = std::move(work),
                  then = std::move(then)]() mutable {
    work();
    // What `work` holds is let go here, before `then` may run, so that the last reference to
    // anything both share (a message) is dropped on the main loop.
    work = nullptr;
    // The Admission waits for its workers before it goes: `this` is still valid here.
    post_to_main([alive, then = std::move(then)] {
      if (alive.lock()) then();
    });
  });
}

void Admission::post_to_main(std::function<void()> task) {
  g_main_context_invoke_full(main_, G_PRIORITY_DEFAULT, run_task, new Task{std::move(task)},
                             [](gpointer data) { delete static_cast<Task*>(data); });
}

void Admission::submit(SoupServerMessage* msg, PipelineRequest request) {
  const bool media = route_of(product_of(request.request, request.format)).pipeline &&
                     !is_head(msg);  // HEAD of media: its size comes from the index
  const size_t waiting = queue_.size() + rendering_;
  if (waiting >= config_.max_queue && (!media || !has_slot())) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
    respond_error(msg, http_error(503, hresult::kServerBusy), service_id_);
    return;
  }
  auto job = std::make_shared<Job>();
  job->msg = SOUP_SERVER_MESSAGE(g_object_ref(msg));
  job->request = std::move(request);
  job->media = media;
  struct Finished {
    Admission* self;
    Job* job;
  };
  job->finished_handler = g_signal_connect_data(
      msg, "finished",
      G_CALLBACK(+[](SoupServerMessage*, Finished* f) { f->self->on_finished(f->job); }),
      new Finished{this, job.get()},
      [](gpointer data, GClosure*) { delete static_cast<Finished*>(data); }, GConnectFlags(0));
  jobs_[job.get()] = job;
  watch_hangup(job);
  soup_server_message_pause(msg);
  if (!media) return render(job);
  queue_.push_back(job);
  queued_ = queue_.size();
  pump();
}

void Admission::watch_hangup(const std::shared_ptr<Job>& job) {
  GSocket* socket = soup_server_message_get_socket(job->msg);
  if (socket == nullptr) return;
  job->hangup = g_socket_create_source(
      socket, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
  struct Watch {
    Admission* self;
    std::weak_ptr<Job> job;
  };
  g_source_set_callback(
      job->hangup, G_SOURCE_FUNC(+[](GSocket* socket, GIOCondition condition, Watch* w) {
        std::shared_ptr<Job> j = w->job.lock();
        if (!j) return G_SOURCE_REMOVE;
        // A pipelined next request is not a hang-up; stop watching (it cannot be told apart).
        if (peer_closed(socket, condition)) w->self->on_client_gone(j);
        destroy_source(&j->hangup);
        return G_SOURCE_REMOVE;
      }),
      new Watch{this, job}, [](gpointer data) { delete static_cast<Watch*>(data); });
  g_source_attach(job->hangup, main_);
}

// The client closed its connection while we were working: stop, free the slot, and let libsoup
// finish the message (its write fails, and "finished" cleans up).
void Admission::on_client_gone(const std::shared_ptr<Job>& job) {
  if (job->state == JobState::kDone) return;
  if (job->run) job->run->cancel();
  if (job->state == JobState::kQueued) std::erase(queue_, job);
  queued_ = queue_.size();
  soup_server_message_set_status(job->msg, 499, "Client Closed Request");
  job->state = JobState::kDone;
  destroy_source(&job->timer);
  soup_server_message_unpause(job->msg);
  release(job);
}

void Admission::release(const std::shared_ptr<Job>& job) {
  if (!job->holds_slot) return;
  job->holds_slot = false;
  --active_;
  pump();
}

// What a worker made of a request answered without a pipeline.
struct Admission::Rendered {
  HttpError error;  // status 0: none
  Entity entity;
  Body body;                             // GET
  std::optional<uint64_t> size;          // HEAD of media: what a GET would get
  std::shared_ptr<const Answer> answer;  // for the cache
  bool cached = false;                   // the product goes to the answer cache
};

// What a worker makes of a plan answered without a pipeline: the rendered bytes (and their gzip
// coding), or, for a HEAD of media, the size from the index.
Admission::Rendered Admission::rendered_of(Result<RequestPlan> plan, HttpError error,
                                           bool accepts_gzip, unsigned max_age) {
  Rendered out;
  out.error = std::move(error);
  if (!plan) return out;
  out.error.status = 0;
  if (route_of(plan->product).pipeline) {
    out.entity = entity_of(*plan, false, max_age);
    Result<uint64_t> size = media_size(*plan);
    if (size) {
      out.size = *size;
    } else {
      out.error = asset_error(size.status());
    }
    return out;
  }
  Result<std::string> text = ams::server::render(*plan);
  if (!text) {
    out.error = asset_error(text.status());
    return out;
  }
  auto answer = std::make_shared<Answer>();
  answer->content_type = plan->content_type;
  answer->etag = plan->etag;
  answer->last_modified_ns = plan->last_modified_ns;
  answer->last_modified = http_date(plan->last_modified_ns);
  answer->asset_path = plan->asset_path;
  answer->presentation_id = plan->presentation->source_id;
  if (route_of(plan->product).compressible) {
    if (std::optional<std::string> packed = gzip(*text)) {
      answer->gzipped = bytes_of(std::move(*packed));
    }
  }
  answer->body = bytes_of(std::move(text).value());
  const bool gzipped = accepts_gzip && answer->gzipped != nullptr;
  out.entity = entity_of(*plan, gzipped, max_age);
  out.body = Body::of(gzipped ? answer->gzipped : answer->body);
  out.cached = route_of(plan->product).cached;
  out.answer = std::move(answer);
  return out;
}

// A product made from the model: planned, rendered (and gzipped) on a worker, cached. A HEAD of
// media is planned and sized from the index, no pipeline.
void Admission::render(const std::shared_ptr<Job>& job) {
  ++rendering_;
  job->state = JobState::kPlanning;
  const unsigned max_age = config_.max_age_seconds;
  post_to_worker([this, job, max_age] {
    HttpError error;
    error.status = 0;
    Result<RequestPlan> plan =
        make_plan(job->request.request, job->request.format, job->request.published,
                  job->request.filters, &error, job->request.origin);
    Rendered out = rendered_of(std::move(plan), std::move(error), job->request.gzip, max_age);
    post_to_main([this, job, out = std::move(out)]() mutable { on_rendered(job, std::move(out)); });
  });
}

// A plan that turned out to need no pipeline (a WebVTT segment: its URL looks like a media
// segment's): rendered on a worker like a manifest, its pipeline slot given back.
void Admission::render_planned(const std::shared_ptr<Job>& job) {
  release(job);
  ++rendering_;
  job->state = JobState::kPlanning;
  const unsigned max_age = config_.max_age_seconds;
  std::shared_ptr<const RequestPlan> plan = job->plan;
  post_to_worker([this, job, plan, max_age] {
    Rendered out = rendered_of(*plan, HttpError{}, job->request.gzip, max_age);
    post_to_main([this, job, out = std::move(out)]() mutable { on_rendered(job, std::move(out)); });
  });
}

void Admission::on_rendered(const std::shared_ptr<Job>& job, Rendered out) {
  --rendering_;
  if (out.answer && out.cached) {
    cache_->insert(job->request.cache_key, out.answer);
  }
  if (job->state == JobState::kDone) return;  // the client went away meanwhile
  if (out.error.status != 0) {
    respond_error(job->msg, out.error, service_id_);
  } else if (out.size) {
    answer_entity_head(job->msg, out.entity, *out.size, service_id_);
  } else {
    answer_entity(job->msg, out.entity, out.body, service_id_);
  }
  complete(job);
}

void Admission::start(const std::shared_ptr<Job>& job) {
  ++active_;
  job->holds_slot = true;
  job->state = JobState::kPlanning;
  post_to_worker([this, job] {
    HttpError error;
    Result<RequestPlan> plan =
        make_plan(job->request.request, job->request.format, job->request.published,
                  job->request.filters, &error, job->request.origin);
    post_to_main([this, job, plan = std::move(plan), error = std::move(error)]() mutable {
      on_planned(job, std::move(plan), std::move(error));
    });
  });
}

void Admission::on_planned(const std::shared_ptr<Job>& job, Result<RequestPlan> plan,
                           HttpError error) {
  if (job->state == JobState::kDone) return;  // the client went away meanwhile
  if (!plan) {
    respond_error(job->msg, error, service_id_);
    return complete(job);
  }
  job->plan = std::make_shared<const RequestPlan>(std::move(plan).value());
  if (!route_of(job->plan->product).pipeline) return render_planned(job);
  // The client's copy is current: no pipeline.
  if (answer_not_modified(job->msg, entity_of(*job->plan, false, config_.max_age_seconds))) {
    return complete(job);
  }
  job->state = JobState::kRunning;
  std::weak_ptr<Job> weak = job;
  job->run = std::make_shared<PipelineRun>(job->plan, main_, &teardown_,
                                           [this, weak](PipelineResult result) {
                                             if (auto j = weak.lock())
                                               on_done(j, std::move(result));
                                           });
  job->timer = g_timeout_source_new_seconds(config_.pipeline_timeout_seconds);
  auto* run_ref = new std::weak_ptr<PipelineRun>(job->run);
  g_source_set_callback(
      job->timer,
      [](gpointer data) -> gboolean {
        if (auto run = static_cast<std::weak_ptr<PipelineRun>*>(data)->lock()) {
          run->fail(http_error(500, hresult::kTimeout, "the pipeline did not finish in time"));
        }
        return G_SOURCE_REMOVE;
      },
      run_ref, [](gpointer data) { delete static_cast<std::weak_ptr<PipelineRun>*>(data); });
  g_source_attach(job->timer, main_);
  std::shared_ptr<PipelineRun> run = job->run;
  post_to_worker([run] { run->start(); });
}

void Admission::on_done(const std::shared_ptr<Job>& job, PipelineResult result) {
  if (job->state == JobState::kDone) return;
  if (!result.ok) {
    respond_error(job->msg, result.error, service_id_);
    return complete(job);
  }
  answer_entity(job->msg, entity_of(*job->plan, false, config_.max_age_seconds), result.body,
                service_id_);
  complete(job);
}

// The answer is written (or the client is gone): free the slot and let the next request in.
void Admission::complete(const std::shared_ptr<Job>& job) {
  if (job->state == JobState::kDone) return;
  bool answered = job->state != JobState::kQueued;
  job->state = JobState::kDone;
  destroy_source(&job->timer);
  destroy_source(&job->hangup);
  if (answered) soup_server_message_unpause(job->msg);
  release(job);
}

void Admission::on_finished(Job* raw) {
  auto it = jobs_.find(raw);
  if (it == jobs_.end()) return;
  std::shared_ptr<Job> job = it->second;
  jobs_.erase(it);
  g_signal_handler_disconnect(job->msg, job->finished_handler);
  if (job->state != JobState::kDone) {
    // Finished before we answered: the client disconnected. Nothing more is written to it.
    if (job->run) job->run->cancel();
    if (job->state == JobState::kQueued) std::erase(queue_, job);
    queued_ = queue_.size();
    job->state = JobState::kDone;
    release(job);
  }
  destroy_source(&job->timer);
  destroy_source(&job->hangup);
  g_object_unref(job->msg);
  job->msg = nullptr;
}

void Admission::pump() {
  while (has_slot() && !queue_.empty()) {
    std::shared_ptr<Job> next = queue_.front();
    queue_.pop_front();
    queued_ = queue_.size();
    if (next->state == JobState::kQueued) start(next);
  }
}

void Admission::cancel_all() {
  for (auto& [raw, job] : jobs_) {
    if (job->run) job->run->cancel();
    job->state = JobState::kDone;
  }
  queue_.clear();
  queued_ = 0;
}

}  // namespace ams::server
