#include "metrics/series.h"

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace fn0::metrics {
namespace {

using namespace std::chrono_literals;

TEST(LatencySketch, QuantilesAreWithinABucketOfTheTruth) {
  LatencySketch s;
  // 1..1000 ms: p50 is 500 ms, p99 990 ms.
  for (int i = 1; i <= 1000; i++) s.add(i / 1000.0);
  EXPECT_EQ(s.count(), 1000u);
  EXPECT_NEAR(*s.quantile(0.5), 0.5, 0.5 * 0.13);
  EXPECT_NEAR(*s.quantile(0.99), 0.99, 0.99 * 0.13);
  EXPECT_FALSE(LatencySketch{}.quantile(0.5).has_value());
  // Far outside the range: clamped into the first and last buckets.
  LatencySketch edges;
  edges.add(0);
  edges.add(1e6);
  EXPECT_LT(*edges.quantile(0.5), 2e-5);
  EXPECT_GT(*edges.quantile(1.0), 10);
}

TEST(LatencySketch, SparseRoundTripAndMerge) {
  LatencySketch a, b;
  a.add(0.001, 3);
  b.add(0.1, 1);
  LatencySketch back;
  for (auto [i, n] : a.sparse()) back.addSparse(i, n);
  back.merge(b);
  EXPECT_EQ(back.count(), 4u);
  EXPECT_NEAR(*back.quantile(0.5), 0.001, 0.001 * 0.13);
  EXPECT_NEAR(*back.quantile(1.0), 0.1, 0.1 * 0.13);
}

TEST(Series, StepsRollAndOldOnesExpire) {
  Series s;
  s.record(1000, {200, 0.002, 0.001});
  s.record(1005, {500, 0.004, 0.001});
  s.record(1012, {404, 0.001, 0.0});
  auto p = s.points(1013, 0);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].t, 1000);
  EXPECT_EQ(p[0].requests, 2u);
  EXPECT_EQ(p[0].errors, 1u);
  EXPECT_EQ(p[1].t, 1010);  // the step in progress
  EXPECT_EQ(p[1].clientErrors, 1u);
  // An hour and a step later, both are gone.
  EXPECT_TRUE(s.points(1010 + kHistorySeconds + kStepSeconds, 0).empty());
}

TEST(Series, DensifyFillsEmptySteps) {
  Series s;
  s.record(1000, {200, 0.002, 0});
  s.record(1030, {200, 0.002, 0});
  auto dense = densify(s.points(1031, 990), 990, 1031);
  ASSERT_EQ(dense.size(), 5u);  // 990, 1000, 1010, 1020, 1030
  EXPECT_EQ(dense[0].requests, 0u);
  EXPECT_EQ(dense[1].requests, 1u);
  EXPECT_EQ(dense[2].requests, 0u);
  EXPECT_EQ(dense[4].requests, 1u);
}

TEST(Series, KeepsTheMostInstancesRunningInAStep) {
  Series s;
  s.running(1000, 1);
  s.running(1001, 3);
  s.running(1002, 0);
  s.running(1011, 1);
  auto p = s.points(1012, 0);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].inFlightMax, 3u);
  EXPECT_EQ(p[1].inFlightMax, 1u);
}

TEST(Metrics, SeriesPerFunctionAndForTheNode) {
  int64_t now = 2000;
  Metrics m([&] { return now; });
  m.record("a", {200, 1ms, 1ms, "", false, false});
  m.record("b", {503, 1s, 10ms, "cpu-limit", false, false});
  now = 2011;
  m.record("a", {200, 3ms, 1ms, "", true, false});
  const std::string a = "a";
  auto pa = m.series(&a, 0);
  ASSERT_EQ(pa.size(), 2u);
  EXPECT_EQ(pa[1].coldStarts, 1u);
  auto node = m.series(nullptr, 0);
  ASSERT_EQ(node.size(), 2u);
  EXPECT_EQ(node[0].requests, 2u);
  EXPECT_EQ(node[0].limitHits, 1u);
  EXPECT_NEAR(*node[0].sketch().quantile(0.99), 1.0, 0.13);
  auto w = m.window(2000);
  ASSERT_EQ(w.count("a"), 1u);
  EXPECT_EQ(w["a"].requests, 2u);
  EXPECT_EQ(w["b"].errors, 1u);
  // Only the last step: b is absent.
  auto recent = m.window(2010);
  EXPECT_EQ(recent.count("b"), 0u);
  m.forget("a");
  EXPECT_TRUE(m.series(&a, 0).empty());
}

}  // namespace
}  // namespace fn0::metrics
