// Hostile guests (tests/guests/hostile-c) against every limit, and the
// engine serving correctly right after each of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "runtime/invocation.h"
#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"
#include "runtime/testing/tiny_server.h"

namespace fn0::runtime {
namespace {

using namespace std::chrono_literals;
using testing::Exchange;
using testing::ExchangeOptions;
using testing::get;
using testing::rssBytes;

class Limits : public testing::RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    hostile_ = load(testing::guest("hostile-c"));
    hello_ = load(testing::example("hello-c"));
    ASSERT_TRUE(hostile_ && hello_);
  }
  Exchange run(const std::string& path, ExchangeOptions opts = {}) {
    return testing::exchange(*engine_, hostile_, get(path), {}, opts);
  }
  // After any misbehaviour the engine must keep serving other requests.
  void expectHealthy() {
    auto ex = testing::exchange(*engine_, hello_, get("/"));
    EXPECT_EQ(ex.status, 200) << "engine unhealthy after a hostile request: " << ex.outcome.message;
    EXPECT_EQ(ex.body, "Hello from fn0 (C)!\n");
  }
  std::shared_ptr<const Component> hostile_, hello_;
};

TEST_F(Limits, InfiniteLoopIsStoppedByTheCpuLimit) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 50ms;
  auto ex = run("/loop", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::CpuLimit) << ex.outcome.message;
  EXPECT_EQ(ex.status, 0);
  // Busy time counts: the guest was stopped after at least its budget.
  EXPECT_GE(ex.outcome.cpu, 50ms);
  EXPECT_LT(ex.outcome.wall, 5s);
  // The cause names the limit; where the guest was is apart, for its log.
  EXPECT_EQ(ex.outcome.message, "CPU time limit of 50 ms exceeded");
  EXPECT_EQ(ex.outcome.backtrace.rfind("#0 exports_wasi_http_incoming_handler_handle +0x", 0), 0u)
      << ex.outcome.backtrace;
  expectHealthy();
}

TEST_F(Limits, SleepingDoesNotCountAsCpuTime) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 10ms;
  auto ex = run("/sleep?ms=300", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "slept 300 ms\n");
  EXPECT_GE(ex.outcome.wall, 300ms);
  EXPECT_LT(ex.outcome.cpu, 10ms);
}

TEST_F(Limits, SleepingPastTheDurationLimitIsStopped) {
  ExchangeOptions o;
  o.invoke.limits.duration = 300ms;
  auto ex = run("/sleep?ms=10000", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::DurationLimit) << ex.outcome.message;
  EXPECT_EQ(httpStatusFor(ex.outcome.kind), 504);
  EXPECT_LT(ex.outcome.wall, 3s);
  expectHealthy();
}

TEST_F(Limits, MemoryBombHitsTheMemoryLimit) {
  ExchangeOptions o;
  o.invoke.limits.maxMemoryBytes = 32ull << 20;
  o.invoke.limits.cpuTime = 2s;  // so memory, not CPU, is what stops it
  auto ex = run("/alloc", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::MemoryLimit) << ex.outcome.message;
  expectHealthy();
}

TEST_F(Limits, UnboundedRecursionTraps) {
  auto ex = run("/recurse");
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Trap) << ex.outcome.message;
  // C guests overflow their shadow stack in linear memory first (an
  // out-of-bounds access); other languages hit wasm's own stack limit.
  const auto& m = ex.outcome.message;
  EXPECT_TRUE(m.find("stack overflow") != std::string::npos || m.find("out-of-bounds") != std::string::npos) << m;
  EXPECT_EQ(m.find("backtrace"), std::string::npos) << m;
  EXPECT_EQ(m.find("0x"), std::string::npos) << m;
  // The frames, for the log: a run of the same one is folded into one line,
  // and there are at most 20.
  const auto& bt = ex.outcome.backtrace;
  EXPECT_NE(bt.find("recurse +0x"), std::string::npos) << bt;
  EXPECT_NE(bt.find(" times)"), std::string::npos) << bt;
  EXPECT_LT(std::count(bt.begin(), bt.end(), '\n'), 22) << bt;
  expectHealthy();
}

TEST_F(Limits, TrapIsReported) {
  auto ex = run("/trap");
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Trap);
  EXPECT_EQ(ex.outcome.message, "wasm trap: unreachable");
  // Frames named from the name section, innermost first, one per line.
  EXPECT_EQ(ex.outcome.backtrace.rfind("#0 exports_wasi_http_incoming_handler_handle +0x", 0), 0u)
      << ex.outcome.backtrace;
  EXPECT_NE(ex.outcome.backtrace.find("\n#1 __wasm_export_exports_wasi_http_incoming_handler_handle"),
            std::string::npos)
      << ex.outcome.backtrace;
  expectHealthy();
}

TEST_F(Limits, ReturningWithoutAResponseIsInvalid) {
  auto ex = run("/no-response");
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::InvalidResponse) << ex.outcome.message;
  expectHealthy();
}

TEST_F(Limits, OversizedResponseHeadersAreAFunctionError) {
  ExchangeOptions o;
  o.invoke.limits.maxResponseHeaderBytes = 16 * 1024;
  auto ok = run("/big-headers?kb=8", o);
  EXPECT_EQ(ok.status, 200) << ok.outcome.message;
  auto ex = run("/big-headers?kb=32", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::InvalidResponse) << ex.outcome.message;
  EXPECT_EQ(ex.status, 0);
}

TEST_F(Limits, AGigabyteResponseStreamsInBoundedMemory) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 120s;
  o.invoke.limits.duration = 120s;
  o.keepBody = 0;
  const size_t before = rssBytes();
  auto ex = run("/big?mb=1024", o);
  const size_t after = rssBytes();
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_TRUE(ex.bodyComplete);
  EXPECT_EQ(ex.bodyBytes, 1ull << 30);
  EXPECT_LT(after, before + (64ull << 20)) << "RSS grew by " << ((after - before) >> 20) << " MiB";
  expectHealthy();
}

TEST_F(Limits, AHundredMegabyteUploadStreamsInBoundedMemory) {
  auto echo = load(testing::example("echo-c"));
  ASSERT_TRUE(echo);
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 60s;
  o.generatedBodyBytes = 100'000'000;  // exactly the default request body limit
  o.keepBody = 0;
  RequestHead head;
  head.method = "POST";
  const size_t before = rssBytes();
  auto ex = testing::exchange(*engine_, echo, head, {}, o);
  const size_t after = rssBytes();
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_FALSE(ex.requestBodyTooLarge);
  EXPECT_EQ(ex.bodyBytes, 100'000'000u);
  EXPECT_LT(after, before + (48ull << 20)) << "RSS grew by " << ((after - before) >> 20) << " MiB";
}

// Only the guest's own code counts against its CPU budget: echo-c splices
// 100 MB from the request to the response, and the host's copying (most of
// the request's CPU time) is not the guest's. Metering every polled
// nanosecond (FN0_CPU_METER=polls, as before) charged it ~9 ms.
TEST_F(Limits, HostWorkOnTheGuestsBehalfIsNotGuestCpu) {
  auto echo = load(testing::example("echo-c"));
  ASSERT_TRUE(echo);
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 60s;
  o.generatedBodyBytes = 100'000'000;
  o.keepBody = 0;
  RequestHead head;
  head.method = "POST";
  auto ex = testing::exchange(*engine_, echo, head, {}, o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.bodyBytes, 100'000'000u);
  EXPECT_LT(ex.outcome.cpu, 2ms) << std::chrono::duration_cast<std::chrono::microseconds>(ex.outcome.cpu).count()
                                 << " us of guest CPU";
  EXPECT_GT(ex.outcome.cpu, 0ns);  // the guest's own code did run
}

TEST_F(Limits, ASlowClientSlowsTheGuestInsteadOfGrowingABuffer) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 60s;
  o.keepBody = 0;
  o.pauseAfterFirstChunk = 500ms;  // the guest could write ~GBs meanwhile
  auto ex = run("/big?mb=256", o);
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.bodyBytes, 256ull << 20);
  EXPECT_LT(ex.rssGrowthDuringPause, 16ll << 20) << "buffered while the client did not read";
}

TEST_F(Limits, OversizedRequestsAreRefusedBeforeTheGuestRuns) {
  runtime::Limits l;
  l.maxRequestHeaderBytes = 1024;
  l.maxRequestBodyBytes = 1000;
  RequestHead small;
  small.headers = {{"x-a", "b"}};
  EXPECT_EQ(admit(small, 1000, l), std::nullopt);
  EXPECT_EQ(admit(small, 1001, l), OutcomeKind::BodyTooLarge);
  RequestHead big;
  big.headers = {{"x-big", std::string(1024, 'h')}};
  EXPECT_EQ(admit(big, std::nullopt, l), OutcomeKind::HeadersTooLarge);
  EXPECT_EQ(httpStatusFor(OutcomeKind::HeadersTooLarge), 431);
  EXPECT_EQ(errorReasonFor(OutcomeKind::BodyTooLarge), "body-too-large");
  EXPECT_EQ(httpStatusFor(OutcomeKind::BodyTooLarge), 413);
}

TEST_F(Limits, ABodyThatGrowsPastTheLimitMidStreamIsCutOff) {
  auto echo = load(testing::example("echo-c"));
  ASSERT_TRUE(echo);
  ExchangeOptions o;
  o.invoke.limits.maxRequestBodyBytes = 1 << 20;
  o.invoke.limits.cpuTime = 10s;
  o.generatedBodyBytes = 4 << 20;  // chunked: no Content-Length to refuse up front
  o.keepBody = 0;
  RequestHead head;
  head.method = "POST";
  auto ex = testing::exchange(*engine_, echo, head, {}, o);
  EXPECT_TRUE(ex.requestBodyTooLarge);
  EXPECT_LE(ex.bodyBytes, 1u << 20) << "the guest saw more than the limit";
  expectHealthy();
}

TEST(LimitsClamp, AFunctionCanTightenButNotLiftNodeLimits) {
  runtime::Limits node, fn;
  node.cpuTime = 50ms;
  node.maxSubrequests = 10;
  fn.cpuTime = 5s;         // asks for more than the node allows
  fn.maxSubrequests = 3;   // asks for less
  auto l = clampTo(fn, node);
  EXPECT_EQ(l.cpuTime, 50ms);
  EXPECT_EQ(l.maxSubrequests, 3u);
}

TEST_F(Limits, SubrequestsStopAtTheLimit) {
  testing::TinyServer server;
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 2s;
  o.invoke.allowedDestinations = {"127.0.0.1/32"};
  auto url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto ex = run("/subrequests?n=60&url=" + url, o);
  EXPECT_EQ(ex.status, 200) << ex.outcome.message;
  EXPECT_EQ(ex.body, "ok=50 first_error_at=51 error=internal-error");
  EXPECT_EQ(server.connections(), 50);
  // The function's log says which limit, once (not for each of the 10 refused).
  const std::string line = "[fn0] subrequest 51 (to 127.0.0.1:" + std::to_string(server.port()) +
                           ") refused: the limit is 50 subrequests per request (setting max_subrequests); "
                           "later ones are refused too";
  EXPECT_EQ(ex.logs, (std::vector<std::pair<int, std::string>>{{2, line}}));
}

TEST_F(Limits, LoopbackIsDeniedUnlessAllowListed) {
  testing::TinyServer server;
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 1s;
  for (std::string host : {"127.0.0.1", "localhost"}) {
    auto ex = run("/fetch?url=http://" + host + ":" + std::to_string(server.port()) + "/", o);
    EXPECT_EQ(ex.body, "error=destination-ip-prohibited") << host;
    // The guest sees the standard code; the owner reads why and what to do.
    ASSERT_EQ(ex.logs.size(), 1u) << host;
    const auto& line = ex.logs[0].second;
    EXPECT_EQ(line.rfind("[fn0] outbound request to " + host + ":" + std::to_string(server.port()) + " (", 0), 0u)
        << line;
    EXPECT_NE(line.find("refused: loopback address, denied by default; allow it with: fn0 settings NAME allow="),
              std::string::npos)
        << line;
  }
  EXPECT_EQ(server.connections(), 0);
  o.invoke.allowedDestinations = {"127.0.0.0/8", "::1"};
  auto ex = run("/fetch?url=http://localhost:" + std::to_string(server.port()) + "/", o);
  EXPECT_EQ(ex.body, "status=204");
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(Limits, PrivateAndLinkLocalAddressesAreDenied) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 1s;
  o.invoke.function = "f";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"10.1.2.3", "(10.1.2.3:80) refused: private address, denied by default; "
                   "allow it with: fn0 settings f allow=10.1.2.3/32:80 "
                   "(or [settings] allow = [\"10.1.2.3/32:80\"] in fn0.toml)"},
      {"192.168.1.1", "private address"},
      {"172.16.0.1", "private address"},
      {"169.254.169.254", "(169.254.169.254:80) refused: link-local address, denied by default"},
      {"0.0.0.0", "non-public address"},
      {"[::1]", "([::1]:80) refused: loopback address, denied by default; allow it with: fn0 settings f "
                "allow=[::1/128]:80"}};
  for (const auto& [ip, why] : cases) {
    auto ex = run("/fetch?url=http://" + ip + ":80/", o);
    EXPECT_EQ(ex.body, "error=destination-ip-prohibited") << ip;
    ASSERT_EQ(ex.logs.size(), 1u) << ip;
    EXPECT_NE(ex.logs[0].second.find(why), std::string::npos) << ex.logs[0].second;
  }
  // With an allow list, the reason says it is not in it and the hint keeps
  // its entries (the setting is replaced as a whole).
  o.invoke.allowedDestinations = {"10.0.0.0/8"};
  auto ex = run("/fetch?url=http://192.168.1.1:8080/", o);
  ASSERT_EQ(ex.logs.size(), 1u);
  EXPECT_NE(ex.logs[0].second.find("refused: private address, not in the function's allow list; allow it with: "
                                   "fn0 settings f allow=10.0.0.0/8,192.168.1.1/32:8080 (or [settings] allow = "
                                   "[\"10.0.0.0/8\", \"192.168.1.1/32:8080\"] in fn0.toml)"),
            std::string::npos)
      << ex.logs[0].second;
}

TEST_F(Limits, EnvironmentReachesTheGuest) {
  ExchangeOptions o;
  o.invoke.env = {{"GREETING", "hej"}, {"API_KEY", "s3cret"}};
  EXPECT_EQ(run("/env?name=GREETING", o).body, "hej");
  EXPECT_EQ(run("/env?name=API_KEY", o).body, "s3cret");
  EXPECT_EQ(run("/env?name=HOME", o).status, 404);  // nothing of the host's leaks in
}

TEST_F(Limits, GuestOutputIsCapturedPerRequestAndBounded) {
  auto ex = run("/log?lines=3");
  ASSERT_EQ(ex.status, 200);
  // Order across the two streams depends on the guest's buffering; within a
  // stream it is kept.
  std::vector<std::string> out, err;
  for (const auto& [stream, line] : ex.logs) (stream == 1 ? out : err).push_back(line);
  EXPECT_EQ(out, (std::vector<std::string>{"stdout line 0", "stdout line 1", "stdout line 2"}));
  EXPECT_EQ(err, (std::vector<std::string>{"stderr line"}));

  ExchangeOptions o;
  o.invoke.limits.maxLogBytes = 100;
  o.invoke.limits.cpuTime = 1s;
  auto flood = run("/log?lines=10000", o);
  EXPECT_EQ(flood.status, 200);
  ASSERT_FALSE(flood.logs.empty());
  EXPECT_LT(flood.logs.size(), 20u);
  size_t kept = 0;
  bool notice = false;
  for (const auto& [stream, line] : flood.logs) {
    if (line.find("log limit") != std::string::npos) notice = true;
    else kept += line.size();
  }
  EXPECT_TRUE(notice);
  EXPECT_LE(kept, 100u);
}

TEST_F(Limits, FreshInstancePerRequestByDefault) {
  for (int i = 0; i < 3; i++) EXPECT_EQ(run("/count").body, "count=1");
}

TEST_F(Limits, InstanceReuseIsAnOptInThatKeepsState) {
  ExchangeOptions o;
  o.invoke.limits.reuseInstanceRequests = 3;
  EXPECT_EQ(run("/count", o).body, "count=1");
  EXPECT_EQ(run("/count", o).body, "count=2");
  EXPECT_EQ(run("/count", o).body, "count=3");
  EXPECT_EQ(run("/count", o).body, "count=1") << "an instance serves at most 3 requests";
  // A trap poisons the instance: the next request gets a fresh one.
  EXPECT_EQ(run("/count", o).body, "count=2");
  EXPECT_EQ(run("/trap", o).outcome.kind, OutcomeKind::Trap);
  EXPECT_EQ(run("/count", o).body, "count=1");
  // Per-request limits still apply to a reused instance.
  o.invoke.limits.cpuTime = std::chrono::milliseconds(20);
  EXPECT_EQ(run("/loop", o).outcome.kind, OutcomeKind::CpuLimit);
  // A different environment never shares an instance.
  ExchangeOptions other = o;
  other.invoke.env = {{"X", "1"}};
  EXPECT_EQ(run("/count", other).body, "count=1");
}

TEST_F(Limits, ReusedInstanceLogsGoToTheirOwnRequest) {
  ExchangeOptions o;
  o.invoke.limits.reuseInstanceRequests = 10;
  auto first = run("/log?lines=1", o);
  auto second = run("/log?lines=2", o);
  size_t out1 = 0, out2 = 0;
  for (const auto& [s, l] : first.logs) out1 += s == 1;
  for (const auto& [s, l] : second.logs) out2 += s == 1;
  EXPECT_EQ(out1, 1u);
  EXPECT_EQ(out2, 2u);
}

TEST_F(Limits, ThousandHostileRequestsDoNotGrowMemory) {
  ExchangeOptions o;
  o.invoke.limits.cpuTime = 2ms;
  o.invoke.limits.maxMemoryBytes = 16ull << 20;
  const char* paths[] = {"/trap", "/loop", "/alloc", "/recurse", "/no-response"};
  size_t warm = 0;
  for (int i = 0; i < 1000; i++) {
    if (i == 100) warm = rssBytes();
    auto ex = run(paths[i % 5], o);
    ASSERT_NE(ex.outcome.kind, OutcomeKind::Ok) << paths[i % 5];
  }
  const size_t end = rssBytes();
  EXPECT_LT(end, warm + (32ull << 20)) << "RSS grew by " << ((end - warm) >> 20) << " MiB over 900 requests";
  expectHealthy();
}

}  // namespace
}  // namespace fn0::runtime
