// Platform error messages name the limit and its value for the request, and
// keep a trap's backtrace out of what the caller sees.
#include "dispatch/explain.h"

#include <gtest/gtest.h>

namespace fn0::dispatch {
namespace {

using namespace std::chrono_literals;
using runtime::OutcomeKind;

runtime::Outcome outcome(OutcomeKind kind, std::string message, std::string backtrace = "") {
  runtime::Outcome o;
  o.kind = kind;
  o.message = std::move(message);
  o.backtrace = std::move(backtrace);
  return o;
}

TEST(Explain, LimitsAreNamedWithTheirValue) {
  runtime::Limits l;
  EXPECT_EQ(explainOutcome(outcome(OutcomeKind::CpuLimit, "CPU time limit of 10 ms exceeded", "#0 spin +0x3"),
                           "hello", l, l)
                .message,
            "function 'hello' exceeded its CPU time limit of 10 ms");
  EXPECT_EQ(explainOutcome(outcome(OutcomeKind::MemoryLimit, "x"), "hello", l, l).message,
            "function 'hello' exceeded its memory limit of 128 MiB");
  EXPECT_EQ(explainOutcome(outcome(OutcomeKind::DurationLimit, "x"), "hello", l, l).message,
            "function 'hello' exceeded its duration limit of 15 s");
  EXPECT_EQ(explainRefusal(OutcomeKind::BodyTooLarge, "hello", l),
            "the request body exceeds the limit of 100 MB for function 'hello'");
  EXPECT_EQ(explainRefusal(OutcomeKind::BodyTooLarge, "hello", l, 0, 200'000'000),
            "the request body (Content-Length 200000000) exceeds the limit of 100 MB for function 'hello'");
  EXPECT_EQ(explainRefusal(OutcomeKind::HeadersTooLarge, "hello", l, 200 * 1024),
            "the request headers (200 KiB) exceed the limit of 128 KiB for function 'hello'");
}

TEST(Explain, ALimitTightenedBySettingsSaysWhichSetting) {
  runtime::Limits node, fn;
  fn.cpuTime = 2ms;
  fn.maxMemoryBytes = 16ull << 20;
  EXPECT_EQ(explainOutcome(outcome(OutcomeKind::CpuLimit, "x"), "a", fn, node).message,
            "function 'a' exceeded its CPU time limit of 2 ms (its cpu_ms setting; this node allows up to 10 ms)");
  EXPECT_EQ(explainOutcome(outcome(OutcomeKind::MemoryLimit, "x"), "a", fn, node).message,
            "function 'a' exceeded its memory limit of 16 MiB (its memory_mb setting; this node allows up to 128 MiB)");
}

TEST(Explain, ATrapPointsToTheLogsWhereItsBacktraceIs) {
  runtime::Limits l;
  auto e = explainOutcome(outcome(OutcomeKind::Trap, "wasm trap: unreachable", "#0 m!f +0x10\n#1 m!g +0x20"), "x",
                          l, l);
  EXPECT_EQ(e.message, "function 'x' crashed (wasm trap: unreachable); the backtrace is in its logs: fn0 logs x");
  EXPECT_EQ(e.message.find("0x"), std::string::npos);
  ASSERT_EQ(e.logLines.size(), 3u);
  EXPECT_EQ(e.logLines[0],
            "[fn0] trap: function 'x' crashed (wasm trap: unreachable); backtrace (innermost frame first):");
  EXPECT_EQ(e.logLines[1], "[fn0]   #0 m!f +0x10");
  EXPECT_EQ(e.logLines[2], "[fn0]   #1 m!g +0x20");
}

TEST(Explain, TheLogLineOfAMemoryLimitKeepsWhatHappenedNext) {
  runtime::Limits l;
  auto e = explainOutcome(outcome(OutcomeKind::MemoryLimit, "memory limit of 128 MiB reached, then: wasm trap: unreachable"),
                          "x", l, l);
  ASSERT_EQ(e.logLines.size(), 1u);
  EXPECT_EQ(e.logLines[0],
            "[fn0] memory-limit: function 'x' exceeded its memory limit of 128 MiB "
            "[memory limit of 128 MiB reached, then: wasm trap: unreachable]");
}

}  // namespace
}  // namespace fn0::dispatch
