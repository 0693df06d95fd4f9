// Settings tighten the node's limits and can never lift them, whatever
// numbers they hold (also ones the settings parser would refuse).
#include "dispatch/function_limits.h"

#include <gtest/gtest.h>

namespace fn0::dispatch {
namespace {

using namespace std::chrono_literals;

runtime::Limits node() {
  runtime::Limits l;
  l.cpuTime = 10ms;
  l.duration = 15s;
  l.maxMemoryBytes = 128ull << 20;
  l.maxSubrequests = 50;
  l.reuseInstanceRequests = 10000;
  return l;
}

TEST(FunctionLimits, TightenOnly) {
  registry::FunctionSettings st;
  st.cpuMs = 5;
  st.durationMs = 100000;
  st.memoryMb = 64;
  st.maxSubrequests = 2;
  auto l = functionLimits(st, node());
  EXPECT_EQ(l.cpuTime, 5ms);
  EXPECT_EQ(l.duration, 15s);
  EXPECT_EQ(l.maxMemoryBytes, 64ull << 20);
  EXPECT_EQ(l.maxSubrequests, 2u);
  EXPECT_EQ(l.reuseInstanceRequests, 0u);  // off unless asked for
  st.reuseInstanceRequests = 5;
  EXPECT_EQ(functionLimits(st, node()).reuseInstanceRequests, 5u);
}

TEST(FunctionLimits, HugeValuesNeitherOverflowNorLiftTheNodeMaxima) {
  registry::FunctionSettings st;
  for (uint64_t v : {UINT64_MAX, UINT64_MAX / 1000, uint64_t{1} << 63, uint64_t{1} << 44, uint64_t{1} << 32,
                     (uint64_t{1} << 32) + 1}) {
    st.cpuMs = st.durationMs = st.memoryMb = st.maxSubrequests = st.reuseInstanceRequests = v;
    auto l = functionLimits(st, node());
    EXPECT_EQ(l.cpuTime, 10ms) << v;
    EXPECT_EQ(l.duration, 15s) << v;
    EXPECT_EQ(l.maxMemoryBytes, 128ull << 20) << v;
    EXPECT_EQ(l.maxSubrequests, 50u) << v;
    EXPECT_EQ(l.reuseInstanceRequests, 10000u) << v;
  }
}

}  // namespace
}  // namespace fn0::dispatch
