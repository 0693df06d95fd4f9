// WASI 0.3 (wasi:http@0.3, the async component model): tests/guests/p3-rust
// through the invoke API, against the reference host and every limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>

#include "runtime/invocation.h"
#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"
#include "runtime/testing/reference_host.h"
#include "runtime/testing/tiny_server.h"

namespace fn0::runtime {
namespace {

using namespace std::chrono_literals;
using testing::Exchange;
using testing::ExchangeOptions;
using testing::rssBytes;

RequestHead request(std::string method, std::string target, std::vector<Header> headers = {}) {
  RequestHead h;
  h.method = std::move(method);
  h.authority = "fn0.test";
  h.pathWithQuery = std::move(target);
  h.headers = std::move(headers);
  return h;
}

std::vector<std::string> sortedLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  if (start < text.size()) lines.push_back(text.substr(start));
  std::sort(lines.begin(), lines.end());
  return lines;
}

class P3 : public testing::RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    p3_ = load(testing::guest("p3-rust"));
    hello_ = load(testing::example("hello-c"));
    ASSERT_TRUE(p3_ && hello_);
  }
  Exchange run(const std::string& target, ExchangeOptions opts = {}) {
    return testing::exchange(*engine_, p3_, request("GET", target), {}, opts);
  }
  void expectHealthy() {
    auto ex = run("/");
    EXPECT_EQ(ex.status, 200) << "engine unhealthy after a hostile request: " << ex.outcome.message;
    auto c = testing::exchange(*engine_, hello_, request("GET", "/"));
    EXPECT_EQ(c.status, 200) << c.outcome.message;
  }
  std::shared_ptr<const Component> p3_, hello_;
};

TEST_F(P3, Answers) {
  auto ex = run("/");
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "hello from wasi:http@0.3\n");
  EXPECT_EQ(ex.header("content-type"), "text/plain");
  EXPECT_TRUE(ex.bodyComplete);
}

// WASI 0.3 components get the engine with concurrency support; 0.2 ones
// the engine without it (its per-store task tracking cost them ~15% of
// their throughput), and both kinds answer side by side.
TEST_F(P3, OnlyTheAsyncComponentRunsOnTheConcurrentEngine) {
  EXPECT_TRUE(p3_->concurrent());
  EXPECT_FALSE(hello_->concurrent());
  auto js = load(testing::example("hello-js"));
  ASSERT_TRUE(js);
  EXPECT_FALSE(js->concurrent());
  EXPECT_EQ(run("/").status, 200);
  EXPECT_EQ(testing::exchange(*engine_, hello_, request("GET", "/")).status, 200);
  EXPECT_EQ(testing::exchange(*engine_, js, request("GET", "/")).status, 200);
}

TEST_F(P3, SameAnswersAsTheReferenceHost) {
  auto path = testing::guest("p3-rust");
  testing::ReferenceHost reference(path);
  struct Case {
    std::string method, target;
    std::vector<Header> headers;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"GET", "/", {}, ""},
      {"GET", "/headers", {{"x-one", "1"}, {"x-rep", "a"}, {"x-rep", "b"}}, ""},
      {"POST", "/echo", {{"content-type", "application/x-test"}}, std::string(300'000, 'e')},
      {"GET", "/stream?n=50", {}, ""},
      {"GET", "/sleep?ms=20", {}, ""},
      {"GET", "/nowhere", {}, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    std::vector<Header> headers = {{"host", "fn0.test"}};
    headers.insert(headers.end(), c.headers.begin(), c.headers.end());
    if (!c.body.empty()) headers.emplace_back("content-length", std::to_string(c.body.size()));
    auto want = testing::httpRequest(reference.port(), c.method, c.target, headers, c.body);
    auto got = testing::exchange(*engine_, p3_, request(c.method, c.target, headers), c.body);
    EXPECT_EQ(got.outcome.kind, OutcomeKind::Ok) << got.outcome.message;
    EXPECT_EQ(got.status, want.status);
    if (c.target == "/headers") {
      // One `name: value` line per header in the host's field order, which
      // is wasmtime's map order there: compare the sets.
      EXPECT_EQ(sortedLines(got.body), sortedLines(want.body));
    } else {
      EXPECT_EQ(got.body, want.body);
    }
    EXPECT_EQ(got.header("content-type"), testing::headerValue(want.headers, "content-type"));
  }
}

TEST_F(P3, AHundredMegabyteEchoStreamsInBoundedMemory) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 60s;
  o.invoke.limits.duration = 120s;
  o.generatedBodyBytes = 100'000'000;
  o.keepBody = 0;
  const size_t before = rssBytes();
  auto ex = testing::exchange(*engine_, p3_, request("POST", "/echo"), {}, o);
  const size_t after = rssBytes();
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_TRUE(ex.bodyComplete);
  EXPECT_EQ(ex.bodyBytes, 100'000'000u);
  EXPECT_LT(after, before + (48ull << 20)) << "RSS grew by " << ((after - before) >> 20) << " MiB";
}

TEST_F(P3, ABusyLoopIsStoppedByTheCpuLimit) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 50ms;
  auto ex = run("/spin", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::CpuLimit) << ex.outcome.message;
  EXPECT_EQ(ex.outcome.message, "CPU time limit of 50 ms exceeded");
  EXPECT_GE(ex.outcome.cpu, 50ms);
  EXPECT_LT(ex.outcome.wall, 5s);
  expectHealthy();
}

TEST_F(P3, WaitingIsNotCpuTime) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 10ms;
  auto ex = run("/sleep?ms=300", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.body, "slept 300\n");
  EXPECT_GE(ex.outcome.wall, 300ms);
  EXPECT_LT(ex.outcome.cpu, 10ms);
}

TEST_F(P3, WaitingPastTheDurationLimitIsStopped) {
  ExchangeOptions o;
  o.invoke.limits.duration = 300ms;
  auto ex = run("/sleep?ms=10000", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::DurationLimit) << ex.outcome.message;
  EXPECT_LT(ex.outcome.wall, 3s);
  expectHealthy();
}

TEST_F(P3, AllocatingPastTheMemoryLimitIsStopped) {
  ExchangeOptions o;
  o.invoke.limits.maxMemoryBytes = 32ull << 20;
  o.invoke.limits.cpuTime = 2s;
  EXPECT_EQ(run("/alloc?mb=8", o).status, 200);
  auto ex = run("/alloc?mb=64", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::MemoryLimit) << ex.outcome.message;
  expectHealthy();
}

TEST_F(P3, AStreamedResponseArrivesWhole) {
  auto ex = run("/stream?n=1000");
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  std::string want;
  for (int i = 0; i < 1000; ++i) want += "chunk " + std::to_string(i) + "\n";
  EXPECT_EQ(ex.body, want);
  EXPECT_TRUE(ex.bodyComplete);
}

TEST_F(P3, OutboundRequestsFollowTheAllowListAndTheLimit) {
  testing::TinyServer server;
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 2s;
  auto url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto denied = run("/fetch?url=" + url, o);
  EXPECT_EQ(denied.status, 502) << denied.body;
  EXPECT_NE(denied.body.find("DestinationIpProhibited"), std::string::npos) << denied.body;
  EXPECT_EQ(server.connections(), 0);
  o.invoke.allowedDestinations = {"127.0.0.1/32"};
  auto ok = run("/fetch?url=" + url, o);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(server.connections(), 1);
  o.invoke.limits.maxSubrequests = 2;
  auto limited = run("/fetch?n=3&url=" + url, o);
  EXPECT_EQ(server.connections(), 3);
  EXPECT_NE(limited.body.find("subrequest limit"), std::string::npos) << limited.body;
}

TEST_F(P3, GuestOutputGoesToTheRequestsLog) {
  auto ex = run("/log");
  EXPECT_EQ(ex.body, "logged\n") << ex.outcome.message;
  EXPECT_EQ(ex.logs, (std::vector<std::pair<int, std::string>>{{1, "to stdout"}, {2, "to stderr"}}));
}

TEST_F(P3, AFreshInstancePerRequestUnlessReuseIsChosen) {
  EXPECT_EQ(run("/count").body, "count 1\n");
  EXPECT_EQ(run("/count").body, "count 1\n");
  ExchangeOptions o;
  o.invoke.limits.reuseInstanceRequests = 3;
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) bodies.push_back(run("/count", o).body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"count 1\n", "count 2\n", "count 3\n", "count 1\n"}));
  // An instance whose request failed is not reused: the next one is fresh.
  o.invoke.limits.cpuTime = 50ms;
  EXPECT_EQ(run("/count", o).body, "count 2\n");
  EXPECT_EQ(run("/spin", o).outcome.kind, OutcomeKind::CpuLimit);
  EXPECT_EQ(run("/count", o).body, "count 1\n");
}


// Requests at once on one instance (engine/src/shared.rs), /sleep answers
// with how many requests of its instance were sleeping then.
class P3Shared : public P3 {
 protected:
  static ExchangeOptions shared(uint32_t atOnce) {
    ExchangeOptions o;
    o.invoke.limits.reuseInstanceRequests = 100;
    o.invoke.limits.instanceConcurrency = atOnce;
    return o;
  }
  // `n` requests for `target` at once, on threads.
  std::vector<Exchange> together(int n, const std::string& target, const ExchangeOptions& o) {
    std::vector<Exchange> out(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { out[i] = run(target, o); });
    for (auto& t : threads) t.join();
    return out;
  }
  // `first`, and 100 ms later `second` beside it: both exchanges.
  std::pair<Exchange, Exchange> beside(const std::string& first, const std::string& second,
                                       const ExchangeOptions& o) {
    Exchange a;
    std::thread t([&] { a = run(first, o); });
    std::this_thread::sleep_for(100ms);
    Exchange b = run(second, o);
    t.join();
    return {std::move(a), std::move(b)};
  }
  static int mostInFlight(const std::vector<Exchange>& all) {
    int most = 0;
    for (const auto& ex : all) {
      EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
      EXPECT_EQ(ex.body, "slept 400\n");
      most = std::max(most, std::atoi(ex.header("x-in-flight").c_str()));
    }
    return most;
  }
};

TEST_F(P3Shared, RequestsShareAnInstanceUpToTheSetting) {
  // Reuse alone: one request at a time per instance.
  EXPECT_EQ(mostInFlight(together(6, "/sleep?ms=400", shared(0))), 1);
  // Up to 3 at once on one instance: 6 requests need two.
  const int most = mostInFlight(together(6, "/sleep?ms=400", shared(3)));
  EXPECT_GE(most, 2);
  EXPECT_LE(most, 3);
  // The instance keeps its state from one request to the next.
  const auto o = shared(4);
  auto first = run("/count", o).body;
  auto second = run("/count", o).body;
  EXPECT_EQ(first, "count 1\n");
  EXPECT_EQ(second, "count 2\n");
}

// An instance that served its requests in all gives its slot back: more
// instances in turn than the pool holds (1000) all answer.
TEST_F(P3Shared, InstancesThatServedTheirShareGiveTheirSlotBack) {
  auto o = shared(2);
  o.invoke.limits.reuseInstanceRequests = 2;
  for (int i = 0; i < 2100; ++i) {
    auto ex = run("/count", o);
    ASSERT_EQ(ex.body, i % 2 ? "count 2\n" : "count 1\n") << i << ": " << ex.outcome.message;
  }
}

// A worker keeps its first request's budgets: requests with other limits
// (the function's settings changed) get an instance of their own.
TEST_F(P3Shared, RequestsWithOtherLimitsGetAnotherInstance) {
  auto o = shared(4);
  EXPECT_EQ(run("/count", o).body, "count 1\n");
  auto tighter = o;
  tighter.invoke.limits.cpuTime = 20ms;
  EXPECT_EQ(run("/count", tighter).body, "count 1\n");
  tighter.invoke.limits.maxMemoryBytes = 64ull << 20;
  EXPECT_EQ(run("/count", tighter).body, "count 1\n");
  EXPECT_EQ(run("/count", o).body, "count 2\n");
}

TEST_F(P3Shared, EachRequestGetsItsOwnLogsAndAnswer) {
  auto o = shared(4);
  auto [first, second] = beside("/sleep?ms=400", "/log", o);
  EXPECT_EQ(first.body, "slept 400\n") << first.outcome.message;
  EXPECT_TRUE(first.logs.empty());
  EXPECT_EQ(second.body, "logged\n") << second.outcome.message;
  EXPECT_EQ(second.logs, (std::vector<std::pair<int, std::string>>{{1, "to stdout"}, {2, "to stderr"}}));
}

TEST_F(P3Shared, ABusyLoopStopsItsInstanceAndTheNextRequestGetsAFreshOne) {
  auto o = shared(4);
  o.invoke.limits.cpuTime = 50ms;
  EXPECT_EQ(run("/count", o).body, "count 1\n");
  auto [first, second] = beside("/sleep?ms=2000", "/spin", o);
  EXPECT_EQ(second.outcome.kind, OutcomeKind::CpuLimit) << second.outcome.message;
  EXPECT_EQ(second.outcome.message, "CPU time limit of 50 ms exceeded");
  // The sleeping request shared the stopped instance: it ends with it.
  EXPECT_EQ(first.outcome.kind, OutcomeKind::CpuLimit) << first.outcome.message;
  EXPECT_EQ(run("/count", o).body, "count 1\n");
  expectHealthy();
}

TEST_F(P3Shared, ARequestPastItsDurationEndsAloneAndRetiresTheInstance) {
  auto o = shared(4);
  o.invoke.limits.duration = 500ms;
  EXPECT_EQ(run("/count", o).body, "count 1\n");
  auto [first, second] = beside("/sleep?ms=10000", "/sleep?ms=100", o);
  EXPECT_EQ(first.outcome.kind, OutcomeKind::DurationLimit) << first.outcome.message;
  EXPECT_LT(first.outcome.wall, 3s);
  EXPECT_EQ(second.outcome.kind, OutcomeKind::Ok) << second.outcome.message;
  EXPECT_EQ(second.header("x-in-flight"), "2");  // it ran beside the stuck one
  // That instance takes no more requests: the next one is fresh.
  EXPECT_EQ(run("/count", o).body, "count 1\n");
}

}  // namespace
}  // namespace fn0::runtime
