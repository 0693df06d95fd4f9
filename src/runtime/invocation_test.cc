// The examples, run through the C++ invoke API (no HTTP server involved).
#include "runtime/invocation.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"

namespace fn0::runtime {
namespace {

using testing::exchange;
using testing::RuntimeTest;

std::string randomBytes(size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class Invoke : public RuntimeTest {};

TEST_F(Invoke, HelloCAnswers) {
  auto c = load(testing::example("hello-c"));
  ASSERT_TRUE(c);
  auto ex = exchange(*engine_, c, RequestHead{});
  ASSERT_TRUE(ex.started) << ex.startError;
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "Hello from fn0 (C)!\n");
  EXPECT_TRUE(ex.bodyComplete);
  EXPECT_EQ(ex.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_GT(ex.outcome.cpu.count(), 0);
}

TEST_F(Invoke, HelloJsAnswers) {
  auto c = load(testing::example("hello-js"));
  ASSERT_TRUE(c);
  auto ex = exchange(*engine_, c, RequestHead{});
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "Hello from fn0 (JavaScript)!\n");
}

TEST_F(Invoke, EveryRequestGetsAFreshInstance) {
  // StarlingMonkey instances serve one request only; the second and third
  // succeed only if each request gets its own instance.
  auto c = load(testing::example("hello-js"));
  ASSERT_TRUE(c);
  for (int i = 0; i < 3; i++) {
    auto ex = exchange(*engine_, c, RequestHead{});
    EXPECT_EQ(ex.status, 200) << "request " << i << ": " << ex.outcome.message;
  }
}

class Echo : public RuntimeTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(Echo, StreamsA1MbBodyBackUnchanged) {
  auto c = load(testing::example(GetParam()));
  ASSERT_TRUE(c);
  RequestHead head;
  head.method = "POST";
  head.authority = "fn0.test";
  head.pathWithQuery = "/up/load?a=1&b=2";
  head.headers = {{"content-type", "application/octet-stream"}, {"x-rep", "1"}, {"x-rep", "2"}};
  const std::string body = randomBytes(1 << 20);
  auto ex = exchange(*engine_, c, head, body);
  ASSERT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.status, 200);
  EXPECT_TRUE(ex.bodyComplete);
  EXPECT_EQ(ex.body.size(), body.size());
  EXPECT_TRUE(ex.body == body);
  EXPECT_EQ(ex.header("x-echo-method"), "POST");
  EXPECT_EQ(ex.header("x-echo-path"), "/up/load");
  EXPECT_EQ(ex.header("x-echo-query"), "a=1&b=2");
  auto pairs = nlohmann::json::parse(ex.header("x-echo-headers"));
  std::vector<std::string> reps;
  for (const auto& p : pairs)
    if (p[0] == "x-rep") reps.push_back(p[1]);
  EXPECT_FALSE(reps.empty());
}

TEST_P(Echo, EmptyBody) {
  auto c = load(testing::example(GetParam()));
  ASSERT_TRUE(c);
  auto ex = exchange(*engine_, c, RequestHead{});
  EXPECT_EQ(ex.outcome.kind, OutcomeKind::Ok) << ex.outcome.message;
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "");
  EXPECT_EQ(ex.header("x-echo-method"), "GET");
}

INSTANTIATE_TEST_SUITE_P(Examples, Echo, ::testing::Values("echo-c", "echo-js"));

TEST(Outcomes, MapToStatusesAndReasons) {
  EXPECT_EQ(httpStatusFor(OutcomeKind::DurationLimit), 504);
  EXPECT_EQ(errorReasonFor(OutcomeKind::DurationLimit), "duration-limit");
  EXPECT_EQ(errorReasonFor(OutcomeKind::CpuLimit), "cpu-limit");
  EXPECT_EQ(errorReasonFor(OutcomeKind::MemoryLimit), "memory-limit");
  EXPECT_EQ(errorReasonFor(OutcomeKind::Trap), "trap");
  EXPECT_EQ(errorReasonFor(OutcomeKind::InvalidResponse), "invalid-response");
  for (auto k : {OutcomeKind::CpuLimit, OutcomeKind::MemoryLimit, OutcomeKind::DurationLimit, OutcomeKind::Trap,
                 OutcomeKind::InvalidResponse, OutcomeKind::GuestError})
    EXPECT_GE(httpStatusFor(k), 500);
}

}  // namespace
}  // namespace fn0::runtime
