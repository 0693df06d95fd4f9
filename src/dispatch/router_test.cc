#include "dispatch/router.h"

#include <gtest/gtest.h>

namespace fn0::dispatch {
namespace {

TEST(Router, HostRoutingPicksTheFunctionAndKeepsThePath) {
  Router r("fn0.localhost");
  auto a = r.route("hello.fn0.localhost:8080", "/x/y?z=1");
  EXPECT_EQ(a.kind, Route::Function);
  EXPECT_EQ(a.function, "hello");
  EXPECT_EQ(a.selector, "");
  EXPECT_EQ(a.path, "/x/y?z=1");
  EXPECT_EQ(a.originalPath, "");
  auto b = r.route("V3.Hello.FN0.localhost", "/");
  EXPECT_EQ(b.function, "hello");
  EXPECT_EQ(b.selector, "v3");
  EXPECT_EQ(r.route("a.b.c.fn0.localhost", "/").kind, Route::NotFound);
}

TEST(Router, PathRoutingStripsTheFunctionSegment) {
  Router r("fn0.localhost");
  auto a = r.route("127.0.0.1:8080", "/hello/api/items?page=2");
  EXPECT_EQ(a.kind, Route::Function);
  EXPECT_EQ(a.function, "hello");
  EXPECT_EQ(a.path, "/api/items?page=2");
  EXPECT_EQ(a.originalPath, "/hello/api/items?page=2");
  EXPECT_EQ(r.route("localhost", "/hello").path, "/");
  EXPECT_EQ(r.route("localhost", "/hello?x=1").path, "/?x=1");
  auto v = r.route("localhost", "/hello@staging/a");
  EXPECT_EQ(v.selector, "staging");
  EXPECT_EQ(v.path, "/a");
}

TEST(Router, ThePlatformPrefixCannotBeShadowed) {
  Router r("fn0.localhost");
  EXPECT_EQ(r.route("hello.fn0.localhost", "/_fn0/healthz").kind, Route::Platform);
  EXPECT_EQ(r.route("localhost", "/_fn0/api/v1/functions").kind, Route::Platform);
  EXPECT_EQ(r.route("localhost", "/_fn0x/").kind, Route::NotFound);  // not a DNS label
}

TEST(Router, InvalidNamesAreNotFound) {
  Router r("fn0.localhost");
  EXPECT_EQ(r.route("localhost", "/").kind, Route::NotFound);
  EXPECT_EQ(r.route("localhost", "/Bad_Name/x").kind, Route::NotFound);
  EXPECT_EQ(r.route("localhost", "/ok@BAD!/x").kind, Route::NotFound);
  EXPECT_EQ(r.route("localhost", "*").kind, Route::NotFound);
}

}  // namespace
}  // namespace fn0::dispatch
