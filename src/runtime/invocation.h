// One request run by a guest: the invoke API the HTTP layer calls. Start it
// with the request head, feed the request body, drain the response body; a
// handler hears about progress. Callbacks arrive on the starting thread
// (during start: the guest runs there until it first waits) or on adapter
// threads, and must only hand work over (post to an executor, signal a
// condition), never block.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "runtime/component.h"
#include "runtime/engine.h"

namespace fn0::runtime {

using Header = std::pair<std::string, std::string>;

struct RequestHead {
  std::string method = "GET";
  std::string scheme = "http";
  std::string authority;
  std::string pathWithQuery = "/";
  std::vector<Header> headers;
};

// Per-request limits (PRODUCT.md §3 defaults).
struct Limits {
  uint64_t maxRequestHeaderBytes = 128 * 1024;  // 431 before the guest runs
  uint64_t maxRequestBodyBytes = 100ull * 1000 * 1000;  // 413, also mid-stream
  std::chrono::nanoseconds cpuTime = std::chrono::milliseconds(10);
  std::chrono::nanoseconds duration = std::chrono::seconds(15);
  uint64_t maxMemoryBytes = 128ull << 20;
  uint64_t maxResponseHeaderBytes = 128 * 1024;
  uint64_t maxLogBytes = 64 * 1024;
  uint32_t maxSubrequests = 50;
  // Instance reuse (a per-function opt-in): one instance serves up to this
  // many requests in turn. 0 or 1: a fresh instance per request.
  uint32_t reuseInstanceRequests = 0;
  // WASI 0.3 components that reuse instances: how many requests one
  // instance serves at once (engine/src/shared.rs). 0 or 1: one at a time.
  uint32_t instanceConcurrency = 0;
};

// A function's limits tightened to the node's maxima: a function may ask for
// less than the node allows, never more.
Limits clampTo(const Limits& function, const Limits& node);

struct InvokeOptions {
  Limits limits;
  std::vector<Header> env;
  std::vector<std::string> allowedDestinations;  // CIDRs reachable despite being private
  // The request has no body: the guest sees it ended, and start() runs the
  // guest on the calling thread until it first waits (often to the end).
  bool noRequestBody = false;
  // The function's name, for the hints the engine writes to its log.
  std::string function;
  // The request's key-value session (kv/guest_api.h), handed to the
  // engine's kv handler with each call and kept alive until the guest is
  // gone; null: the guest has no store.
  std::shared_ptr<void> kvSession;
};

// The adapter's kinds keep the adapter's numbers (FN0_OUTCOME_*).
enum class OutcomeKind : uint32_t {
  Ok = FN0_OUTCOME_OK,
  CpuLimit = FN0_OUTCOME_CPU_LIMIT,
  MemoryLimit = FN0_OUTCOME_MEMORY_LIMIT,
  DurationLimit = FN0_OUTCOME_DURATION_LIMIT,
  Trap = FN0_OUTCOME_TRAP,
  InvalidResponse = FN0_OUTCOME_INVALID_RESPONSE,
  GuestError = FN0_OUTCOME_GUEST_ERROR,
  Overloaded = FN0_OUTCOME_OVERLOADED,  // no free instance slot: 503, retry
  HeadersTooLarge = 100,  // decided in C++ before the guest runs
  BodyTooLarge,           // decided in C++, before or while the body streams
};

// Bytes of a request head as counted against maxRequestHeaderBytes: the
// request line and every header line.
uint64_t headerBytes(const RequestHead& head);

// Whether a request may reach the guest at all: HeadersTooLarge or
// BodyTooLarge (from a declared Content-Length), or nothing.
std::optional<OutcomeKind> admit(const RequestHead& head, std::optional<uint64_t> contentLength,
                                 const Limits& limits);

struct Outcome {
  OutcomeKind kind = OutcomeKind::Ok;
  bool responseStarted = false;
  std::chrono::nanoseconds cpu{0};
  std::chrono::nanoseconds wall{0};
  std::chrono::nanoseconds instantiate{0};  // store creation + instantiation
  std::string message;    // a short cause, never a backtrace
  std::string backtrace;  // a trap's wasm frames, one per line; for the function's log only
};

// The status and `fn0-error` reason a platform-generated response carries
// for an outcome (PRODUCT.md §3). Ok maps to 200/"".
int httpStatusFor(OutcomeKind kind);
std::string_view errorReasonFor(OutcomeKind kind);

class InvocationHandler {
 public:
  virtual ~InvocationHandler() = default;
  virtual void onResponse(uint16_t status, std::vector<Header> headers) = 0;
  virtual void onResponseBodyReadable() = 0;
  virtual void onRequestBodyWritable() = 0;
  virtual void onLog(int stream, std::string_view line) = 0;  // 1 stdout, 2 stderr
  virtual void onDone(const Outcome& outcome) = 0;
};

// TooLarge: the body passed maxRequestBodyBytes; the guest's reads now fail
// and the request should be answered 413 (or cut off if already answering).
enum class BodyWrite { Accepted, Full, Closed, TooLarge };

struct BodyRead {
  enum Status { Data, Pending, End, Failed } status;
  std::vector<uint8_t> data;
};

class Invocation {
 public:
  // Starts the guest; `handler` must outlive the Invocation.
  static Result<std::unique_ptr<Invocation>> start(const Engine& engine,
                                                   std::shared_ptr<const Component> component,
                                                   const RequestHead& head, const InvokeOptions& options,
                                                   InvocationHandler& handler);
  // Cancels the guest if it still runs; no handler call happens afterwards.
  ~Invocation();
  Invocation(const Invocation&) = delete;
  Invocation& operator=(const Invocation&) = delete;

  BodyWrite writeBody(std::span<const uint8_t> data);
  void finishBody(bool aborted = false);
  BodyRead readBody();

 private:
  Invocation(std::shared_ptr<const Component> c, std::shared_ptr<void> kv, fn0_request_t* r, uint64_t maxBody,
             bool bodyFinished)
      : component_(std::move(c)), kv_(std::move(kv)), req_(r), maxBody_(maxBody), bodyFinished_(bodyFinished) {}
  std::shared_ptr<const Component> component_;  // kept alive while the guest runs
  std::shared_ptr<void> kv_;                    // likewise (freed after req_)
  fn0_request_t* req_;
  uint64_t maxBody_;
  bool bodyFinished_;
  uint64_t bodyBytes_ = 0;
};

}  // namespace fn0::runtime
