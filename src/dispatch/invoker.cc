#include "dispatch/invoker.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <algorithm>

#include "dispatch/explain.h"
#include "dispatch/function_limits.h"
#include "dispatch/respond.h"

namespace fn0::dispatch {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// Up to this much response body already produced is sent with the head.
constexpr size_t kCoalesceBytes = 256 * 1024;

// A wake-up for a coroutine on one executor: notify() (on that executor) ends a
// pending or the next wait().
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& ex) : timer_(ex) {}
  void notify() {
    set_ = true;
    timer_.cancel();
  }
  asio::awaitable<void> wait() {
    while (!set_) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    set_ = false;
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// Receives the invocation's callbacks on adapter threads and hands them to
// the connection's executor (its I/O thread), where the pumps read the state.
struct Bridge : runtime::InvocationHandler, std::enable_shared_from_this<Bridge> {
  Bridge(asio::any_io_executor ex, std::shared_ptr<logs::FunctionLog> log, std::string requestId, std::string function,
         runtime::Limits limits, runtime::Limits node)
      : exec(std::move(ex)),
        events(exec),
        writable(exec),
        log(std::move(log)),
        requestId(std::move(requestId)),
        function(std::move(function)),
        limits(limits),
        node(node) {}

  void onResponse(uint16_t s, std::vector<runtime::Header> hs) override {
    asio::post(exec, [self = shared_from_this(), s, hs = std::move(hs)]() mutable {
      self->status = s;
      self->headers = std::move(hs);
      self->headArrived = true;
      self->events.notify();
    });
  }
  void onResponseBodyReadable() override {
    asio::post(exec, [self = shared_from_this()] { self->events.notify(); });
  }
  void onRequestBodyWritable() override {
    asio::post(exec, [self = shared_from_this()] { self->writable.notify(); });
  }
  void onLog(int stream, std::string_view line) override { log->append(requestId, stream, line, version); }
  void onDone(const runtime::Outcome& o) override {
    asio::post(exec, [self = shared_from_this(), o] {
      self->outcome = o;
      self->done = true;
      self->events.notify();
      self->writable.notify();
    });
  }

  asio::any_io_executor exec;
  Signal events, writable;
  std::shared_ptr<logs::FunctionLog> log;
  std::string requestId;
  int64_t version = 0;  // tags its log lines
  // What error messages name: the function and the limits of this request
  // (and the node's, to say when a setting made one tighter).
  std::string function;
  runtime::Limits limits, node;
  // State read and written on the connection's thread only.
  bool headArrived = false, done = false, bodyTooLarge = false;
  int sentStatus = 0;
  uint16_t status = 0;
  std::vector<runtime::Header> headers;
  runtime::Outcome outcome;
};

// Not for the guest: the hop's own headers, Expect (the node answers 100
// Continue itself), and every fn0-* one (the platform sets its own; a
// peer's forward token must never reach a guest).
bool hopByHop(const std::string& name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  return n == "connection" || n == "keep-alive" || n == "te" || n == "transfer-encoding" || n == "upgrade" ||
         n == "proxy-connection" || n == "trailer" || n == "expect" || n.rfind("fn0-", 0) == 0;
}

asio::awaitable<void> pumpRequest(http::Exchange& ex, runtime::Invocation& inv, Bridge& b) {
  for (;;) {
    auto piece = co_await ex.readBody();
    if (piece.kind == http::BodyPiece::End) {
      inv.finishBody(false);
      co_return;
    }
    if (piece.kind != http::BodyPiece::Data) {
      if (piece.kind == http::BodyPiece::TooLarge) {
        b.bodyTooLarge = true;
        b.events.notify();
      }
      inv.finishBody(true);
      co_return;
    }
    for (;;) {
      auto w = inv.writeBody(piece.data);
      if (w == runtime::BodyWrite::Accepted) break;
      if (w == runtime::BodyWrite::TooLarge) {
        b.bodyTooLarge = true;
        b.events.notify();
        co_return;
      }
      if (w == runtime::BodyWrite::Closed || b.done) co_return;  // the guest reads no more
      co_await b.writable.wait();
    }
  }
}

// Writes one piece of the response body; true when the body has ended
// (complete, or broken off: then the client must not take it as complete).
asio::awaitable<bool> forwardPiece(http::Exchange& ex, runtime::BodyRead::Status status,
                                   std::span<const uint8_t> data) {
  if (status == runtime::BodyRead::Data) {
    const bool written = co_await ex.writeBody(data);
    if (written) co_return false;
    ex.abort();
    co_return true;
  }
  if (status == runtime::BodyRead::End) {
    co_await ex.finish();
    co_return true;
  }
  ex.abort();
  co_return true;
}

asio::awaitable<void> pumpResponse(http::Exchange& ex, runtime::Invocation& inv, Bridge& b) {
  bool headWritten = false, bodyEnded = false;
  for (;;) {
    if (!headWritten && b.bodyTooLarge) {
      headWritten = bodyEnded = true;
      b.sentStatus = 413;
      const std::string message = explainRefusal(runtime::OutcomeKind::BodyTooLarge, b.function, b.limits);
      co_await sendError(ex, 413, "body-too-large", message);
    }
    if (!headWritten && b.headArrived) {
      headWritten = true;
      std::vector<http::Header> headers;
      std::optional<uint64_t> length;
      for (auto& [k, v] : b.headers) {
        std::string n = k;
        std::transform(n.begin(), n.end(), n.begin(), ::tolower);
        if (n == "content-length") {
          try {
            length = std::stoull(v);
          } catch (...) {
          }
          continue;
        }
        if (n == "transfer-encoding" || n == "connection" || n == "keep-alive") continue;
        headers.emplace_back(std::move(k), std::move(v));
      }
      b.sentStatus = b.status;
      // What the body already holds: a complete small body goes out with
      // the head in one write (with its length), the usual case when the
      // guest ran to the end before the head got here.
      std::vector<uint8_t> ready;
      auto r = inv.readBody();
      while (r.status == runtime::BodyRead::Data && ready.size() < kCoalesceBytes) {
        if (ready.empty())
          ready = std::move(r.data);  // the usual single chunk: no copy
        else
          ready.insert(ready.end(), r.data.begin(), r.data.end());
        r = inv.readBody();
      }
      if (r.status == runtime::BodyRead::End && (!length || *length == ready.size())) {
        co_await ex.writeWhole(b.status, headers, ready);
        bodyEnded = true;
      } else {
        if (!co_await ex.writeHead(b.status, headers, length)) bodyEnded = true;
        const std::span<const uint8_t> first(ready), next(r.data);
        if (!bodyEnded && !ready.empty()) bodyEnded = co_await forwardPiece(ex, runtime::BodyRead::Data, first);
        if (!bodyEnded && r.status != runtime::BodyRead::Pending)
          bodyEnded = co_await forwardPiece(ex, r.status, next);
      }
    }
    while (headWritten && !bodyEnded) {
      auto r = inv.readBody();
      if (r.status == runtime::BodyRead::Pending) break;
      const std::span<const uint8_t> data(r.data);
      bodyEnded = co_await forwardPiece(ex, r.status, data);
    }
    if (!headWritten && b.done) {
      headWritten = bodyEnded = true;
      auto kind = b.outcome.kind == runtime::OutcomeKind::Ok ? runtime::OutcomeKind::InvalidResponse : b.outcome.kind;
      b.sentStatus = runtime::httpStatusFor(kind);
      const std::string message = explainOutcome(b.outcome, b.function, b.limits, b.node).message;
      co_await sendError(ex, runtime::httpStatusFor(kind), std::string(runtime::errorReasonFor(kind)), message);
    }
    if (bodyEnded && b.done) break;
    co_await b.events.wait();
  }
  ex.cancelBody();  // if the guest never read it all, stop reading; the connection closes
}

// Both directions of one request until the response is out and the guest
// is done. Nothing thrown in there leaves: the caller must always get to
// record the outcome and give the instance back. A failure closes this
// connection, with an error response if none had started.
asio::awaitable<void> exchange(http::Exchange& ex, runtime::Invocation& inv, Bridge& b, bool noRequestBody) {
  std::string failure;
  try {
    if (noRequestBody)
      co_await pumpResponse(ex, inv, b);
    else
      co_await (pumpRequest(ex, inv, b) && pumpResponse(ex, inv, b));
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (failure.empty()) co_return;
  ex.annotate("exception", failure);
  ex.cancelBody();
  if (ex.headSent()) {
    ex.abort();
    co_return;
  }
  // The guest's own outcome when it has one (a CPU limit: 503 cpu-limit),
  // else an internal error.
  const bool known = b.done && b.outcome.kind != runtime::OutcomeKind::Ok;
  const int status = known ? runtime::httpStatusFor(b.outcome.kind) : 500;
  const std::string reason = known ? std::string(runtime::errorReasonFor(b.outcome.kind)) : "internal";
  const std::string message =
      known ? explainOutcome(b.outcome, b.function, b.limits, b.node).message : "the request failed inside the node";
  b.sentStatus = status;
  co_await sendError(ex, status, reason, message);
}

// The fn0_instances gauge for one request: up while its invocation
// exists, down on every way out (also an exception or a cancelled
// coroutine unwinding the frame).
class InstanceGauge {
 public:
  InstanceGauge(metrics::Metrics& m, std::string function) : m_(m), function_(std::move(function)) {
    m_.instanceStarted(function_);
  }
  InstanceGauge(const InstanceGauge&) = delete;
  InstanceGauge& operator=(const InstanceGauge&) = delete;
  ~InstanceGauge() { m_.instanceEnded(function_); }

 private:
  metrics::Metrics& m_;
  std::string function_;
};

// "v12" -> 12; 0 (no such version) for a number too long to be one.
int64_t versionNumber(const std::string& sel) {
  if (sel.size() < 2 || sel.size() > 16 || sel[0] != 'v' || sel.find_first_not_of("0123456789", 1) != std::string::npos)
    return 0;
  return std::stoll(sel.substr(1));
}

}  // namespace

Invoker::Invoker(const runtime::Engine& engine, runtime::ComponentCache& cache, registry::Registry& registry,
                 code::Library& library, asio::thread_pool& fetchPool, logs::LogHub& logs, metrics::Metrics& metrics,
                 runtime::Limits limits, uint32_t maxConcurrency, uint32_t functionShare)
    : engine_(engine),
      cache_(cache),
      registry_(registry),
      library_(library),
      fetchPool_(fetchPool),
      logs_(logs),
      metrics_(metrics),
      limits_(limits),
      admission_(maxConcurrency, functionShare) {}

asio::awaitable<void> Invoker::serve(http::Exchange& ex, const Route& route) {
  const auto& req = ex.request();
  auto catalog = registry_.catalog();
  auto fit = catalog->functions.find(route.function);
  if (fit == catalog->functions.end()) {
    co_await sendError(ex, 404, "not-found", "no function named '" + route.function + "'");
    co_return;
  }
  const auto& fn = fit->second;
  ex.annotate("function", fn.name);
  int64_t version = 0;
  const std::string sel = route.selector.empty() ? "live" : route.selector;
  if (auto a = fn.aliases.find(sel); a != fn.aliases.end())
    version = a->second;
  else
    version = versionNumber(sel);
  auto vit = fn.versionHashes.find(version);
  if (vit == fn.versionHashes.end()) {
    // A named value, not a ?: in the co_await: g++ 12 destroys the
    // temporary of a conditional expression there twice (a double free).
    const std::string message = sel == "live" ? "function '" + fn.name + "' has no live version"
                                              : "function '" + fn.name + "' has no version or alias '" + sel + "'";
    co_await sendError(ex, 404, "not-found", message);
    co_return;
  }
  // Sent by a peer of the cluster: runs here whatever this node holds warm,
  // keeps the peer's request id and client address, and the version the
  // peer resolved (a deploy or rollback it saw first is not undone here).
  std::optional<cluster::Origin> origin;
  if (cluster_) origin = cluster_->forwardedIn(req);
  if (origin) {
    ex.adoptOrigin(origin->requestId, origin->client);
    ex.annotate("forwarded_by", origin->by);
    if (auto pinned = fn.versionHashes.find(origin->version); pinned != fn.versionHashes.end()) {
      version = origin->version;
      vit = pinned;
    }
  }
  ex.annotate("version", "v" + std::to_string(version));
  const std::string& hash = vit->second;  // in the catalog held above, alive until the end
  runtime::RequestHead head;
  head.method = req.method;
  head.authority = req.host;
  head.pathWithQuery = route.path;
  for (const auto& [k, v] : req.headers)
    if (!hopByHop(k)) head.headers.emplace_back(k, v);
  head.headers.emplace_back("fn0-request-id", req.requestId);
  if (!route.originalPath.empty()) head.headers.emplace_back("fn0-original-path", route.originalPath);
  runtime::InvokeOptions opts;
  opts.limits = functionLimits(fn.settings, limits_);
  opts.env = envOverlay_ ? envOverlay_->apply(fn.name, fn.env) : fn.env;
  opts.allowedDestinations = fn.settings.allow;
  opts.function = fn.name;
  if (kv_)
    opts.kvSession =
        kv_->session(fn.name, fn.settings.kvBuckets, kv::functionKvLimits(fn.settings, kv_->nodeLimits()));
  if (auto refused = runtime::admit(head, req.contentLength, opts.limits)) {
    const std::string message =
        explainRefusal(*refused, fn.name, opts.limits, runtime::headerBytes(head), req.contentLength);
    co_await sendError(ex, runtime::httpStatusFor(*refused), std::string(runtime::errorReasonFor(*refused)), message);
    co_return;
  }

  // Where it runs: here (a slot is held from now until the invocation is
  // gone; the ticket gives it back on every way out of this coroutine), on
  // a peer (forwarded, done), or nowhere (503, done).
  auto ticket = co_await place(ex, fn, hash, version, origin.has_value());
  if (!ticket) co_return;
  if (origin) cluster_->counters.ranForPeers++;

  bool cold = false;
  Result<std::shared_ptr<const runtime::Component>> component = Error{"not loaded"};
  Result<void> fetched;
  if (cache_.resident(hash)) component = cache_.get(hash, &cold);
  if (!component) {
    // Not in memory: loaded on the fetch pool, since a load reads the
    // artifact from disk (ComponentCache::get) and the I/O thread has
    // other connections to serve. Not on this node at all (deployed through
    // another one, a wiped cache, a new wasmtime): download the shared
    // artifact, or the original and compile it, there too. A cold start,
    // counted as one.
    auto home = co_await asio::this_coro::executor;
    co_await asio::post(asio::bind_executor(fetchPool_, asio::use_awaitable));
    component = cache_.get(hash, &cold);
    if (!component) {
      fetched = library_.fetch(hash);
      if (fetched) component = cache_.get(hash, &cold);
    }
    co_await asio::post(asio::bind_executor(home, asio::use_awaitable));
    if (!fetched && fetched.error().code == store::kStoreUnavailable) {
      const std::string reason = store::kStoreUnavailable;
      const std::string message = "the code of '" + fn.name + "' is not on this node and the code store cannot be " +
                                  "reached to get it (" + fetched.error().message + "); retry shortly";
      co_await sendError(ex, 503, reason, message);
      co_return;
    }
    if (!fetched) {
      const std::string message = "cannot load the function: " + fetched.error().message;
      co_await sendError(ex, 500, "internal", message);
      co_return;
    }
  }
  if (!component) {
    const std::string message = "cannot load the function: " + component.error().message;
    co_await sendError(ex, 500, "internal", message);
    co_return;
  }
  // No body (a GET): the guest runs right here, on this thread, until it
  // first waits; a simple function has answered when start() returns.
  opts.noRequestBody = ex.bodyDone();
  const auto started = std::chrono::steady_clock::now();
  auto exec = co_await asio::this_coro::executor;
  auto bridge = std::make_shared<Bridge>(exec, logs_.get(fn.name), req.requestId, fn.name, opts.limits, limits_);
  bridge->version = version;
  auto inv = runtime::Invocation::start(engine_, *component, head, opts, *bridge);
  if (!inv) {
    metrics::Metrics::Request m;
    m.status = 500;
    metrics_.record(fn.name, m);
    co_await sendError(ex, 500, "internal", inv.error().message);
    co_return;
  }
  std::optional<InstanceGauge> gauge;
  gauge.emplace(metrics_, fn.name);
  co_await exchange(ex, **inv, *bridge, opts.noRequestBody);
  inv->reset();  // no callback runs after this
  gauge.reset();
  ticket.release();
  const auto& o = bridge->outcome;
  metrics::Metrics::Request m;
  m.status = bridge->sentStatus;
  m.duration = std::chrono::steady_clock::now() - started;
  m.cpu = o.cpu;
  m.coldStart = cold;
  const std::string reason(runtime::errorReasonFor(o.kind));
  if (reason == "overloaded")
    m.overloaded = true;  // the engine had no instance slot
  else if (o.kind != runtime::OutcomeKind::Ok && o.kind != runtime::OutcomeKind::Trap &&
           o.kind != runtime::OutcomeKind::InvalidResponse && o.kind != runtime::OutcomeKind::GuestError)
    m.limitHit = reason;
  if (bridge->bodyTooLarge) m.limitHit = "body-too-large";
  metrics_.record(fn.name, m);
  ex.annotate("outcome", o.kind == runtime::OutcomeKind::Ok ? "ok" : reason);
  ex.annotate("cpu_us", std::to_string(o.cpu.count() / 1000));
  ex.annotate("instantiate_us", std::to_string(o.instantiate.count() / 1000));
  if (o.kind != runtime::OutcomeKind::Ok && !o.message.empty()) {
    ex.annotate("detail", o.message);
    // The function's own log stream tells its owner why a request failed,
    // with the backtrace of a trap (never sent to the caller).
    for (const auto& line : explainOutcome(o, fn.name, opts.limits, limits_).logLines)
      bridge->log->append(req.requestId, 2, line, version);
  }
}

asio::awaitable<Admission::Ticket> Invoker::place(http::Exchange& ex, const registry::Catalog::Function& fn,
                                                   const std::string& hash, int64_t version, bool fromPeer) {
  const uint32_t ownLimit =
      static_cast<uint32_t>(std::min<uint64_t>(fn.settings.maxConcurrency.value_or(0), UINT32_MAX));
  Admission::Refusal why = Admission::Refusal::None;
  if (!cluster_ || !cluster_->forwarding() || fromPeer) {
    auto ticket = admission_.admit(fn.name, ownLimit, why);
    if (!ticket) {
      // A peer's request this node cannot take: the peer tries another.
      // (Not counted as the function's overload: it runs elsewhere.)
      if (fromPeer) cluster_->counters.rejectedForPeers++;
      co_await overloaded(ex, fn.name, ownLimit, why, false, !fromPeer);
    }
    co_return ticket;
  }
  // 1. The better of two nodes holding it warm (this one included: no hop).
  const bool warmHere = cache_.resident(hash);
  const auto plan = cluster_->plan(hash, {warmHere, admission_.running(), admission_.nodeLimit()});
  for (const auto& t : plan.warm) {
    if (t.self) {
      auto ticket = admission_.admit(fn.name, ownLimit, why);
      if (ticket) co_return ticket;
      continue;
    }
    if (co_await tryPeer(ex, t.id, version)) co_return Admission::Ticket{};
  }
  // 2. Nobody warm took it: a cold start here, if there is room.
  auto ticket = admission_.admit(fn.name, ownLimit, why);
  if (ticket) {
    if (!warmHere) cluster_->counters.localColdStarts++;
    co_return ticket;
  }
  // 3. Or on a peer with room.
  size_t tried = 0;
  for (const auto& t : plan.spare) {
    if (tried++ == 2) break;
    if (co_await tryPeer(ex, t.id, version)) co_return Admission::Ticket{};
  }
  // 4. The whole cluster is full.
  cluster_->counters.overloaded++;
  co_await overloaded(ex, fn.name, ownLimit, why, true);
  co_return Admission::Ticket{};
}

asio::awaitable<bool> Invoker::tryPeer(http::Exchange& ex, const std::string& id, int64_t version) {
  ex.annotate("forwarded_to", id);
  std::vector<http::Header> extra{{cluster::kVersionHeader, std::to_string(version)}};
  const auto r = co_await cluster_->peers().forward(ex, id, std::move(extra));
  auto& c = cluster_->counters;
  switch (r) {
    case cluster::Forwarded::Done:
      c.forwardedOk++;
      co_return true;
    case cluster::Forwarded::Rejected:
      c.forwardedRejected++;
      co_return false;
    case cluster::Forwarded::Unreachable:
      c.forwardedUnreachable++;
      cluster_->membership().suspect(id);
      co_return false;
    case cluster::Forwarded::Failed:
      break;
  }
  c.forwardedFailed++;
  if (!ex.headSent()) {
    const std::string message = "the node running this request (" + id + ") failed before it answered";
    co_await sendError(ex, 502, "peer-failed", message);
  }
  co_return true;
}

asio::awaitable<void> Invoker::overloaded(http::Exchange& ex, const std::string& function, uint32_t ownLimit,
                                          Admission::Refusal why, bool wholeCluster, bool record) {
  if (record) {
    metrics::Metrics::Request m;
    m.status = 503;
    m.overloaded = true;
    metrics_.record(function, m);
  }
  // The limit and its value: the node's, or the function's share of it
  // (tightened by its max_concurrency setting).
  const uint32_t share = admission_.functionShare();
  const bool bySetting = ownLimit != 0 && ownLimit < share;
  auto atOnce = [](uint32_t n) { return std::to_string(n) + (n == 1 ? " request at once" : " requests at once"); };
  const std::string functionLimit = atOnce(bySetting ? ownLimit : share) +
                                    (bySetting ? " (its max_concurrency setting)" : " (this node's share per function)");
  std::string message;
  if (wholeCluster)
    message = "every node of the cluster is at its concurrency limit for function '" + function +
              "'; retry shortly";
  else if (why == Admission::Refusal::Node)
    message = "this node is at its concurrency limit of " + atOnce(admission_.nodeLimit()) + "; retry shortly";
  else
    message = "function '" + function + "' is at its concurrency limit of " + functionLimit + "; retry shortly";
  ex.annotate("outcome", "overloaded");
  co_await sendError(ex, 503, "overloaded", message);
}

}  // namespace fn0::dispatch
