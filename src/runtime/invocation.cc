#include "runtime/invocation.h"

#include <algorithm>

namespace fn0::runtime {

namespace {

fn0_str_t str(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
std::string_view view(fn0_str_t s) { return {reinterpret_cast<const char*>(s.data), s.len}; }

std::vector<fn0_header_t> toC(const std::vector<Header>& hs) {
  std::vector<fn0_header_t> out;
  out.reserve(hs.size());
  for (const auto& [k, v] : hs) out.push_back({str(k), str(v)});
  return out;
}

InvocationHandler& handlerOf(void* ctx) { return *static_cast<InvocationHandler*>(ctx); }

extern "C" void onResponseThunk(void* ctx, uint16_t status, const fn0_header_t* hs, size_t n) {
  std::vector<Header> headers;
  headers.reserve(n);
  for (size_t i = 0; i < n; i++) headers.emplace_back(view(hs[i].name), view(hs[i].value));
  handlerOf(ctx).onResponse(status, std::move(headers));
}
extern "C" void onReadableThunk(void* ctx) { handlerOf(ctx).onResponseBodyReadable(); }
extern "C" void onWritableThunk(void* ctx) { handlerOf(ctx).onRequestBodyWritable(); }
extern "C" void onLogThunk(void* ctx, uint32_t stream, fn0_str_t line) {
  handlerOf(ctx).onLog(static_cast<int>(stream), view(line));
}
extern "C" void onDoneThunk(void* ctx, const fn0_outcome_t* o) {
  Outcome out;
  out.kind = static_cast<OutcomeKind>(o->kind);
  out.responseStarted = o->response_started != 0;
  out.cpu = std::chrono::nanoseconds(o->cpu_ns);
  out.wall = std::chrono::nanoseconds(o->wall_ns);
  out.instantiate = std::chrono::nanoseconds(o->instantiate_ns);
  out.message = std::string(view(o->message));
  out.backtrace = std::string(view(o->backtrace));
  handlerOf(ctx).onDone(out);
}

}  // namespace

int httpStatusFor(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::Ok: return 200;
    case OutcomeKind::CpuLimit: return 503;
    case OutcomeKind::MemoryLimit: return 503;
    case OutcomeKind::DurationLimit: return 504;
    case OutcomeKind::Trap: return 500;
    case OutcomeKind::InvalidResponse: return 502;
    case OutcomeKind::GuestError: return 500;
    case OutcomeKind::Overloaded: return 503;
    case OutcomeKind::HeadersTooLarge: return 431;
    case OutcomeKind::BodyTooLarge: return 413;
  }
  return 500;
}

std::string_view errorReasonFor(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::Ok: return "";
    case OutcomeKind::CpuLimit: return "cpu-limit";
    case OutcomeKind::MemoryLimit: return "memory-limit";
    case OutcomeKind::DurationLimit: return "duration-limit";
    case OutcomeKind::Trap: return "trap";
    case OutcomeKind::InvalidResponse: return "invalid-response";
    case OutcomeKind::GuestError: return "guest-error";
    case OutcomeKind::Overloaded: return "overloaded";
    case OutcomeKind::HeadersTooLarge: return "headers-too-large";
    case OutcomeKind::BodyTooLarge: return "body-too-large";
  }
  return "internal";
}

Limits clampTo(const Limits& f, const Limits& node) {
  Limits l;
  l.maxRequestHeaderBytes = std::min(f.maxRequestHeaderBytes, node.maxRequestHeaderBytes);
  l.maxRequestBodyBytes = std::min(f.maxRequestBodyBytes, node.maxRequestBodyBytes);
  l.cpuTime = std::min(f.cpuTime, node.cpuTime);
  l.duration = std::min(f.duration, node.duration);
  l.maxMemoryBytes = std::min(f.maxMemoryBytes, node.maxMemoryBytes);
  l.maxResponseHeaderBytes = std::min(f.maxResponseHeaderBytes, node.maxResponseHeaderBytes);
  l.maxLogBytes = std::min(f.maxLogBytes, node.maxLogBytes);
  l.maxSubrequests = std::min(f.maxSubrequests, node.maxSubrequests);
  l.reuseInstanceRequests = std::min(f.reuseInstanceRequests, node.reuseInstanceRequests);
  l.instanceConcurrency = std::min(f.instanceConcurrency, node.instanceConcurrency);
  return l;
}

uint64_t headerBytes(const RequestHead& head) {
  uint64_t n = head.method.size() + head.pathWithQuery.size() + 12;  // "M P HTTP/1.1\r\n"
  for (const auto& [k, v] : head.headers) n += k.size() + v.size() + 4;  // "k: v\r\n"
  return n;
}

std::optional<OutcomeKind> admit(const RequestHead& head, std::optional<uint64_t> contentLength,
                                 const Limits& limits) {
  if (headerBytes(head) > limits.maxRequestHeaderBytes) return OutcomeKind::HeadersTooLarge;
  if (contentLength && *contentLength > limits.maxRequestBodyBytes) return OutcomeKind::BodyTooLarge;
  return std::nullopt;
}

Result<std::unique_ptr<Invocation>> Invocation::start(const Engine& engine,
                                                      std::shared_ptr<const Component> component,
                                                      const RequestHead& head, const InvokeOptions& options,
                                                      InvocationHandler& handler) {
  auto headers = toC(head.headers);
  fn0_request_head_t h{str(head.method), str(head.scheme), str(head.authority), str(head.pathWithQuery),
                       headers.data(), headers.size()};
  auto env = toC(options.env);
  std::vector<fn0_str_t> allow;
  for (const auto& a : options.allowedDestinations) allow.push_back(str(a));
  const Limits& l = options.limits;
  fn0_invoke_options_t o{};
  o.limits.cpu_time_ns = static_cast<uint64_t>(l.cpuTime.count());
  o.limits.duration_ns = static_cast<uint64_t>(l.duration.count());
  o.limits.max_memory_bytes = l.maxMemoryBytes;
  o.limits.max_response_header_bytes = l.maxResponseHeaderBytes;
  o.limits.max_log_bytes = l.maxLogBytes;
  o.limits.max_subrequests = l.maxSubrequests;
  o.limits.reuse_instance_requests = l.reuseInstanceRequests;
  o.limits.instance_concurrency = l.instanceConcurrency;
  o.env = env.data();
  o.env_count = env.size();
  o.allow = allow.data();
  o.allow_count = allow.size();
  o.no_request_body = options.noRequestBody ? 1 : 0;
  o.function = str(options.function);
  o.kv_session = options.kvSession.get();
  fn0_invoke_callbacks_t cbs{&handler, onResponseThunk, onReadableThunk, onWritableThunk, onLogThunk, onDoneThunk};
  fn0_request_t* req = nullptr;
  if (auto* err = fn0_invoke_start(engine.raw(), component->raw(), &h, &o, &cbs, &req)) return takeError(err);
  return std::unique_ptr<Invocation>(new Invocation(std::move(component), options.kvSession, req, l.maxRequestBodyBytes, options.noRequestBody));
}

Invocation::~Invocation() { fn0_request_delete(req_); }

BodyWrite Invocation::writeBody(std::span<const uint8_t> data) {
  if (bodyBytes_ + data.size() > maxBody_) {
    finishBody(/*aborted=*/true);
    return BodyWrite::TooLarge;
  }
  auto status = fn0_request_body_write(req_, data.data(), data.size());
  if (status == FN0_BODY_ACCEPTED) bodyBytes_ += data.size();
  switch (status) {
    case FN0_BODY_ACCEPTED: return BodyWrite::Accepted;
    case FN0_BODY_FULL: return BodyWrite::Full;
    default: return BodyWrite::Closed;
  }
}

void Invocation::finishBody(bool aborted) {
  if (bodyFinished_) return;
  bodyFinished_ = true;
  fn0_request_body_finish(req_, aborted ? 1 : 0);
}

BodyRead Invocation::readBody() {
  fn0_bytes_t chunk{};
  switch (fn0_response_body_read(req_, &chunk)) {
    case FN0_BODY_DATA: {
      BodyRead r{BodyRead::Data, std::vector<uint8_t>(chunk.data, chunk.data + chunk.len)};
      fn0_bytes_delete(&chunk);
      return r;
    }
    case FN0_BODY_PENDING: return {BodyRead::Pending, {}};
    case FN0_BODY_END: return {BodyRead::End, {}};
    default: return {BodyRead::Failed, {}};
  }
}

}  // namespace fn0::runtime
