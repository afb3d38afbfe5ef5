#include "server/server.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/connection_probe.h"
#include "server/engine.h"
#include "server/metrics.h"
#include "server/openai_response.h"
#include "server/request.h"
#include "server/scheduler.h"

namespace ember::server {

extern const char kChatPageHtml[];  // server/page.html, embedded by CMake

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(25);

// Response ids: unique per process (counter) and across restarts (random prefix).
class IdSource {
 public:
  IdSource() {
    std::random_device rd;
    rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
    prefix_ = rng_();
  }
  std::string Next(const char* kind) {
    std::lock_guard<std::mutex> lock(mu_);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s-%012llx%08llx", kind, static_cast<unsigned long long>(prefix_ & 0xffffffffffffULL),
                  static_cast<unsigned long long>(++counter_));
    return buf;
  }
  uint64_t Seed() {
    std::lock_guard<std::mutex> lock(mu_);
    return rng_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
  uint64_t prefix_ = 0;
  uint64_t counter_ = 0;
};

ApiError Error(int status, std::string message, std::string type, std::string code) {
  ApiError e;
  e.http_status = status;
  e.message = std::move(message);
  e.type = std::move(type);
  e.code = std::move(code);
  return e;
}

void SendError(httplib::Response& res, const ApiError& error) {
  res.status = error.http_status;
  res.set_content(ErrorBody(error), "application/json");
}

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string FinishReasonName(FinishReason f) { return f == FinishReason::kStop ? "stop" : "length"; }

class Server {
 public:
  Server(const ServerConfig& config, std::unique_ptr<Engine> engine)
      : config_(config), engine_(std::move(engine)), scheduler_(*engine_, config.max_queue, metrics_) {
    model_id_ = config.alias;
    if (model_id_.empty()) {
      model_id_ = config.model_path;
      while (model_id_.size() > 1 && model_id_.back() == '/') model_id_.pop_back();
      const size_t slash = model_id_.find_last_of('/');
      if (slash != std::string::npos) model_id_ = model_id_.substr(slash + 1);
    }
    created_ = static_cast<int64_t>(std::time(nullptr));
    Routes();
  }

  httplib::Server& http() { return http_; }
  Scheduler& scheduler() { return scheduler_; }
  void BeginShutdown() { shutting_down_.store(true); }

 private:
  void Routes() {
    const size_t threads = static_cast<size_t>(config_.n_slots) + static_cast<size_t>(config_.max_queue) + 16;
    http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http_.set_payload_max_length(config_.max_body_bytes);
    http_.set_keep_alive_timeout(2);
    http_.set_tcp_nodelay(true);

    http_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kChatPageHtml, "text/html; charset=utf-8");
    });
    http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      if (shutting_down_.load()) {
        res.status = 503;
        res.set_content(R"({"status":"shutting down"})", "application/json");
      } else {
        res.set_content(R"({"status":"ok"})", "application/json");
      }
    });
    http_.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorized(req, res)) return;
      res.set_content(ModelsBody(model_id_, created_), "application/json");
    });
    http_.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorized(req, res)) return;
      res.set_content(metrics_.Render(scheduler_.queue_depth(), scheduler_.busy_slots(), scheduler_.n_slots()),
                      "text/plain; version=0.0.4");
    });
    http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      Generate(Endpoint::kChatCompletions, req, res);
    });
    http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      Generate(Endpoint::kCompletions, req, res);
    });
    // Every status without a body of ours (404 route, 413 body, 400 bad framing...) gets
    // an OpenAI-shaped body.
    http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty() || res.is_chunked_content_provider_) return;
      if (res.status == 404) {
        SendError(res, Error(404, "Unknown request URL: " + req.method + " " + req.path + ".",
                             "invalid_request_error", "unknown_url"));
      } else if (res.status == 413) {
        SendError(res, Error(413, "The request body is too large.", "invalid_request_error", "request_too_large"));
      } else if (res.status == 405) {
        SendError(res, Error(405, "Method not allowed.", "invalid_request_error", "method_not_allowed"));
      } else {
        SendError(res, Error(res.status, "The request could not be processed.", "invalid_request_error", ""));
      }
    });
    http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      SendError(res, Error(500, "Internal server error: " + what, "server_error", ""));
    });
    http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics_.CountRequest(RouteLabel(req), res.status);
    });
  }

  static std::string RouteLabel(const httplib::Request& req) {
    for (const char* route : {"/", "/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/completions"}) {
      if (req.path == route) return route;
    }
    return "other";
  }

  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    if (config_.api_key.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (header.empty()) {
      SendError(res, Error(401,
                           "You didn't provide an API key. You need to provide your API key in an Authorization "
                           "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                           "invalid_request_error", "missing_api_key"));
      return false;
    }
    if (header.compare(0, prefix.size(), prefix) != 0 ||
        !ConstantTimeEqual(header.substr(prefix.size()), config_.api_key)) {
      SendError(res, Error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
      return false;
    }
    return true;
  }

  // Request -> job parameters, or an error response.
  bool Prepare(Endpoint endpoint, const httplib::Request& req, GenerationRequest* request, GenerateParams* params,
               httplib::Response& res) {
    ApiError error;
    if (!ParseGenerationRequest(endpoint, req.body, request, &error) ||
        !CheckSupported(*request, engine_->capabilities(), &error)) {
      SendError(res, error);
      return false;
    }
    std::string message;
    bool ok = true;
    if (endpoint == Endpoint::kChatCompletions) {
      ok = engine_->TokenizeChat(request->messages, &params->prompt, &message);
    } else if (request->prompt_is_tokens) {
      params->prompt = request->prompt_tokens;
    } else {
      ok = engine_->TokenizeText(request->prompt, &params->prompt, &message);
    }
    if (!ok) {
      SendError(res, BadRequest(message, endpoint == Endpoint::kChatCompletions ? "messages" : "prompt"));
      return false;
    }
    if (params->prompt.empty()) {
      SendError(res, BadRequest("The prompt is empty.", "prompt"));
      return false;
    }
    const int32_t n_ctx = engine_->n_ctx();
    if (params->prompt.size() >= static_cast<size_t>(n_ctx)) {
      SendError(res, BadRequest("This model's maximum context length is " + std::to_string(n_ctx) +
                                    " tokens. However, your " +
                                    (endpoint == Endpoint::kChatCompletions ? "messages" : "prompt") +
                                    " resulted in " + std::to_string(params->prompt.size()) + " tokens.",
                                endpoint == Endpoint::kChatCompletions ? "messages" : "prompt",
                                "context_length_exceeded"));
      return false;
    }
    // Generation ends at the context's end anyway (finish_reason "length").
    params->max_tokens = request->max_tokens.value_or(n_ctx);
    params->sampling.temperature = request->temperature;
    params->sampling.top_p = request->top_p;
    // Unseeded sampling is random per request, as OpenAI's; greedy needs no seed.
    params->sampling.seed = request->temperature == 0.0f ? 0 : request->seed.value_or(ids_.Seed());
    params->sampling.presence_penalty = request->presence_penalty;
    params->sampling.frequency_penalty = request->frequency_penalty;
    params->sampling.logit_bias = request->logit_bias;
    params->stop = request->stop;
    params->format.kind = request->response_format;
    params->format.json_schema = request->json_schema;
    // A schema the library cannot compile is the request's fault: say what the library says.
    if (!engine_->CheckFormat(params->format, &message)) {
      SendError(res, BadRequest("Invalid response_format: " + message,
                                request->response_format == ResponseFormat::kJsonSchema
                                    ? "response_format.json_schema.schema"
                                    : "response_format",
                                "invalid_value"));
      return false;
    }
    return true;
  }

  enum class WaitOutcome { kReady, kClientGone, kTimedOut };

  // Waits until `ready()` (checked under job->mu) while watching the client and the
  // deadline; cancels the job when either fails.
  template <typename Ready>
  WaitOutcome Wait(const std::shared_ptr<Job>& job, const ConnectionProbe& probe, Clock::time_point deadline,
                   Ready ready) {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(job->mu);
        if (job->cv.wait_for(lock, kPollInterval, [&] { return ready(); })) return WaitOutcome::kReady;
      }
      const bool gone = probe.PeerGone();
      if (gone || Clock::now() >= deadline) {
        CancelAndWait(job);
        return gone ? WaitOutcome::kClientGone : WaitOutcome::kTimedOut;
      }
    }
  }

  void CancelAndWait(const std::shared_ptr<Job>& job) {
    std::unique_lock<std::mutex> lock(job->mu);
    while (!job->finished) {
      lock.unlock();
      scheduler_.Cancel(job);  // again each round: see Scheduler::Cancel
      lock.lock();
      job->cv.wait_for(lock, kPollInterval, [&] { return job->finished; });
    }
  }

  void Generate(Endpoint endpoint, const httplib::Request& req, httplib::Response& res) {
    if (!Authorized(req, res)) return;
    GenerationRequest request;
    GenerateParams params;
    if (!Prepare(endpoint, req, &request, &params, res)) return;

    auto job = std::make_shared<Job>(std::move(params));
    const auto deadline = job->submitted + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(config_.timeout_s));
    switch (scheduler_.Submit(job)) {
      case Scheduler::Admission::kAccepted: break;
      case Scheduler::Admission::kQueueFull:
        res.set_header("Retry-After", "1");
        SendError(res, Error(503, "The server is overloaded: every slot is busy and the queue is full. Retry later.",
                             "server_error", "queue_full"));
        return;
      case Scheduler::Admission::kShuttingDown:
        SendError(res, Error(503, "The server is shutting down.", "server_error", "shutting_down"));
        return;
    }
    auto probe = std::make_shared<ConnectionProbe>(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
    // Wait for a slot here, so that a queue timeout is still a proper 503.
    const WaitOutcome started = Wait(job, *probe, deadline, [&] { return job->started || job->finished; });
    if (started == WaitOutcome::kClientGone) return;
    {
      std::lock_guard<std::mutex> lock(job->mu);
      if (!job->started) {
        SendError(res, Error(503, "Timed out waiting for a free slot.", "server_error", "timeout"));
        return;
      }
    }
    ResponseMeta meta;
    meta.endpoint = endpoint;
    meta.id = ids_.Next(endpoint == Endpoint::kChatCompletions ? "chatcmpl" : "cmpl");
    meta.created = static_cast<int64_t>(std::time(nullptr));
    meta.model = model_id_;
    std::string echo;
    if (endpoint == Endpoint::kCompletions && request.echo) {
      std::string message;
      if (request.prompt_is_tokens) engine_->Detokenize(request.prompt_tokens, &echo, &message);
      else echo = request.prompt;
    }
    if (request.stream) {
      Stream(job, probe, deadline, meta, request.include_usage, echo, res);
    } else {
      Whole(job, *probe, deadline, meta, echo, res);
    }
  }

  void Whole(const std::shared_ptr<Job>& job, const ConnectionProbe& probe, Clock::time_point deadline,
             const ResponseMeta& meta, const std::string& echo, httplib::Response& res) {
    if (Wait(job, probe, deadline, [&] { return job->finished; }) == WaitOutcome::kClientGone) return;
    std::lock_guard<std::mutex> lock(job->mu);
    const GenerateResult& r = job->result;
    if (r.finish == FinishReason::kError) {
      SendError(res, Error(500, "Generation failed: " + r.error, "server_error", ""));
      return;
    }
    // A timeout or a shutdown cuts the answer short, like max_tokens: finish_reason "length".
    res.set_content(CompletionBody(meta, echo + job->pending, FinishReasonName(r.finish),
                                   Usage{r.prompt_tokens, r.completion_tokens, r.reused_tokens}),
                    "application/json");
  }

  void Stream(const std::shared_ptr<Job>& job, const std::shared_ptr<ConnectionProbe>& probe,
              Clock::time_point deadline, const ResponseMeta& meta, bool include_usage, const std::string& echo,
              httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");  // nginx: pass events through at once
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, job, probe, deadline, meta, include_usage, echo](size_t, httplib::DataSink& sink) {
          bool first = true;
          std::string text = echo;
          auto send = [&](const std::string& event) {
            if (sink.write(event.data(), event.size())) return true;
            CancelAndWait(job);
            return false;
          };
          while (true) {
            bool finished = false;
            {
              std::unique_lock<std::mutex> lock(job->mu);
              job->cv.wait_for(lock, kPollInterval, [&] { return !job->pending.empty() || job->finished; });
              text += job->pending;
              job->pending.clear();
              finished = job->finished;
            }
            if (!text.empty() || (first && meta.endpoint == Endpoint::kChatCompletions)) {
              if (!send(ChunkEvent(meta, text, first, ""))) return false;
              first = false;
              text.clear();
            }
            if (finished) break;
            if (probe->PeerGone()) {
              CancelAndWait(job);
              return false;
            }
            if (Clock::now() >= deadline) CancelAndWait(job);  // ends as "length" below
          }
          const GenerateResult r = job->result;  // final: no writer after finished
          if (r.finish == FinishReason::kError) {
            if (!send(ErrorEvent(Error(500, "Generation failed: " + r.error, "server_error", "")))) return false;
          } else {
            if (!send(ChunkEvent(meta, "", false, FinishReasonName(r.finish)))) return false;
            if (include_usage && !send(UsageEvent(meta, Usage{r.prompt_tokens, r.completion_tokens, r.reused_tokens}))) return false;
          }
          if (!send(std::string(kDoneEvent))) return false;
          sink.done();
          return true;
        });
  }

  ServerConfig config_;
  std::unique_ptr<Engine> engine_;
  Metrics metrics_;
  Scheduler scheduler_;
  httplib::Server http_;
  IdSource ids_;
  std::string model_id_;
  int64_t created_ = 0;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace

int RunServer(const ServerConfig& config) {
  // SIGTERM/SIGINT are taken by one thread (sigwait) for a graceful shutdown; every thread
  // created from here on inherits the blocked mask. A vanished client must not kill us.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string error;
  EngineConfig engine_config{config.model_path, config.n_slots, config.n_ctx, config.n_threads};
  std::unique_ptr<Engine> engine = Engine::Load(engine_config, &error);
  if (!engine) {
    std::fprintf(stderr, "ember serve: %s\n", error.c_str());
    return 1;
  }
  const int32_t n_ctx = engine->n_ctx();
  auto server = std::make_unique<Server>(config, std::move(engine));
  int port = config.port;
  if (port == 0) {
    port = server->http().bind_to_any_port(config.host);
    if (port < 0) port = -1;
  } else if (!server->http().bind_to_port(config.host, port)) {
    port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "ember serve: cannot listen on %s:%d\n", config.host.c_str(), config.port);
    return 1;
  }
  std::fprintf(stderr, "ember serve: listening on http://%s:%d (%d slots, %d context tokens each)\n",
               config.host.c_str(), port, config.n_slots, n_ctx);
  std::fflush(stderr);

  std::atomic<bool> stopped_by_signal{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    stopped_by_signal.store(true);
    std::fprintf(stderr, "ember serve: %s: draining\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server->BeginShutdown();
    server->scheduler().Drain(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(config.shutdown_grace_s)));
    server->http().stop();
  });
  server->http().listen_after_bind();
  // listen ends through stop() after a signal; if it ended on its own (an error), wake the
  // signal thread so that it drains and returns.
  const bool failed = !stopped_by_signal.load();
  if (failed) pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  server.reset();
  std::fprintf(stderr, "ember serve: %s\n", failed ? "the listener failed" : "stopped");
  return failed ? 1 : 0;
}

}  // namespace ember::server
