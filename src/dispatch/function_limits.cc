#include "dispatch/function_limits.h"

#include <algorithm>

namespace fn0::dispatch {

namespace {

// min(ms, node) without converting an unbounded `ms` to nanoseconds first.
std::chrono::nanoseconds tighter(uint64_t ms, std::chrono::nanoseconds node) {
  const auto nodeMs = static_cast<uint64_t>(std::max<int64_t>(node.count(), 0) / 1'000'000);
  return ms >= nodeMs ? node : std::chrono::nanoseconds(std::chrono::milliseconds(ms));
}

template <typename T>
T tighter(uint64_t v, T node) {
  return v >= node ? node : static_cast<T>(v);
}

}  // namespace

runtime::Limits functionLimits(const registry::FunctionSettings& st, const runtime::Limits& node) {
  // Node values are the defaults and the maxima; instance reuse is off
  // unless the function asks for it.
  runtime::Limits l = node;
  l.reuseInstanceRequests = 0;
  l.instanceConcurrency = 0;
  if (st.cpuMs) l.cpuTime = tighter(*st.cpuMs, node.cpuTime);
  if (st.durationMs) l.duration = tighter(*st.durationMs, node.duration);
  if (st.memoryMb) l.maxMemoryBytes = *st.memoryMb >= (node.maxMemoryBytes >> 20) ? node.maxMemoryBytes : *st.memoryMb << 20;
  if (st.maxSubrequests) l.maxSubrequests = tighter(*st.maxSubrequests, node.maxSubrequests);
  if (st.reuseInstanceRequests) l.reuseInstanceRequests = tighter(*st.reuseInstanceRequests, node.reuseInstanceRequests);
  if (st.instanceConcurrency) l.instanceConcurrency = tighter(*st.instanceConcurrency, node.instanceConcurrency);
  // Already within the node's limits; clampTo stays the one rule the
  // runtime applies.
  return runtime::clampTo(l, node);
}

}  // namespace fn0::dispatch
