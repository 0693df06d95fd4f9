// Differential test: the same requests sent to the reference host (wasmtime
// serve, over real HTTP) and to fn0's invoke API give the same status,
// headers (apart from transport ones) and body, for every example.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"
#include "runtime/testing/reference_host.h"

namespace fn0::runtime {
namespace {

struct Case {
  std::string name, method, target;
  std::vector<Header> headers;
  std::string body;
};

std::string randomBytes(size_t n) {
  std::mt19937_64 rng(7);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<Case> cases() {
  return {
      {"get-root", "GET", "/", {}, ""},
      {"get-path-and-query", "GET", "/a/b%20c?x=1&y=two&x=3", {}, ""},
      {"repeated-headers", "GET", "/h", {{"x-rep", "a"}, {"x-rep", "b"}, {"x-single", "v, w"}}, ""},
      {"post-1mb", "POST", "/upload?n=1", {{"content-type", "application/octet-stream"}}, randomBytes(1 << 20)},
      {"put-small", "PUT", "/small", {{"content-type", "text/plain"}}, "hello, body"},
      {"delete", "DELETE", "/thing?id=7", {}, ""},
      {"head", "HEAD", "/", {}, ""},
  };
}

// Headers the transport (not the guest) decides: left out of the comparison.
bool transportHeader(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  return name == "date" || name == "server" || name == "transfer-encoding" || name == "content-length" ||
         name == "connection" || name == "keep-alive";
}

std::vector<Header> comparable(const std::vector<Header>& hs) {
  std::vector<Header> out;
  for (auto [k, v] : hs) {
    std::transform(k.begin(), k.end(), k.begin(), ::tolower);
    if (!transportHeader(k)) out.emplace_back(k, v);
  }
  std::stable_sort(out.begin(), out.end(), [](const Header& a, const Header& b) { return a.first < b.first; });
  return out;
}

class Differential : public testing::RuntimeTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(Differential, SameAnswersAsTheReferenceHost) {
  auto path = testing::example(GetParam());
  auto component = load(path);
  ASSERT_TRUE(component);
  testing::ReferenceHost reference(path);
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    std::vector<Header> headers = {{"host", "fn0.test"}};
    headers.insert(headers.end(), c.headers.begin(), c.headers.end());
    if (!c.body.empty()) headers.emplace_back("content-length", std::to_string(c.body.size()));

    auto want = testing::httpRequest(reference.port(), c.method, c.target, headers, c.body);

    RequestHead head;
    head.method = c.method;
    head.authority = "fn0.test";
    head.pathWithQuery = c.target;
    head.headers = headers;
    testing::ExchangeOptions opts;
    opts.invoke.limits.cpuTime = std::chrono::seconds(5);  // a cold JS guest on a busy CI core
    auto got = testing::exchange(*engine_, component, head, c.body, opts);

    ASSERT_EQ(got.outcome.kind, OutcomeKind::Ok) << got.outcome.message;
    EXPECT_EQ(got.status, want.status);
    EXPECT_EQ(comparable(got.headers), comparable(want.headers));
    // HEAD: the wire carries no body whatever the guest wrote; the HTTP layer
    // drops it, so only the guest-level parts are compared here.
    if (c.method != "HEAD") {
      EXPECT_EQ(got.body.size(), want.body.size());
      EXPECT_TRUE(got.body == want.body);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, Differential,
                         ::testing::Values("hello-c", "echo-c", "hello-js", "echo-js", "hello-ts"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace fn0::runtime
