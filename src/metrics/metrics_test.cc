#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace fn0::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Metrics, CountsRequestsLatencyCpuAndLimits) {
  Metrics m;
  m.record("hello", {200, 3ms, 1ms, "", true, false});
  m.record("hello", {200, 30ms, 2ms, "", false, false});
  m.record("hello", {503, 1s, 10ms, "cpu-limit", false, false});
  m.addNodeGauges([] { return std::vector<std::pair<std::string, double>>{{"fn0_cache_entries", 2}}; });
  auto t = m.render();
  EXPECT_NE(t.find("fn0_requests_total{function=\"hello\",code=\"2xx\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("fn0_requests_total{function=\"hello\",code=\"5xx\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("fn0_request_duration_seconds_bucket{function=\"hello\",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("fn0_request_duration_seconds_bucket{function=\"hello\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("fn0_cold_starts_total{function=\"hello\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("fn0_limit_hits_total{function=\"hello\",reason=\"cpu-limit\"} 1\n"), std::string::npos);
  const std::string cpuKey = "fn0_cpu_seconds_total{function=\"hello\"} ";
  auto at = t.find(cpuKey);
  ASSERT_NE(at, std::string::npos);
  EXPECT_NEAR(std::stod(t.substr(at + cpuKey.size())), 0.013, 1e-9);
  EXPECT_NE(t.find("fn0_cache_entries 2\n"), std::string::npos);
}

TEST(Metrics, TracksInstancesInFlight) {
  Metrics m;
  m.instanceStarted("a");
  m.instanceStarted("a");
  m.instanceEnded("a");
  EXPECT_NE(m.render().find("fn0_instances{function=\"a\"} 1\n"), std::string::npos);
}

TEST(Metrics, GivesOneFunctionsCounters) {
  Metrics m;
  m.record("a", {200, 3ms, 1ms, "", true, false});
  m.record("a", {503, 1s, 10ms, "cpu-limit", false, true});
  m.record("b", {200, 3ms, 1ms, "", false, false});
  const auto c = m.counters("a");
  EXPECT_EQ(c.requests, 2u);
  EXPECT_EQ(c.byClass[2], 1u);
  EXPECT_EQ(c.byClass[5], 1u);
  EXPECT_EQ(c.coldStarts, 1u);
  EXPECT_EQ(c.overloads, 1u);
  EXPECT_EQ(c.limitHits.at("cpu-limit"), 1u);
  EXPECT_NEAR(c.cpuSeconds, 0.011, 1e-9);
  EXPECT_EQ(m.counters("none").requests, 0u);
}

}  // namespace
}  // namespace fn0::metrics
