// The API route matcher: the same answers the regex gave on ordinary paths,
// and bounded work (no recursion, no crash) on hostile ones.
#include "admin/route_match.h"

#include <gtest/gtest.h>

namespace fn0::admin {
namespace {

TEST(RouteMatch, FindsTheRouteAndItsParameters) {
  auto m = matchRoute(apiRoutes(), "PUT", "/functions/hello/env/API_KEY");
  EXPECT_TRUE(m.found && m.methodOk && !m.malformed);
  EXPECT_EQ(m.route, "/functions/{name}/env/{key}");
  EXPECT_EQ(m.params, (std::vector<std::string>{"hello", "API_KEY"}));

  m = matchRoute(apiRoutes(), "GET", "/functions");
  EXPECT_TRUE(m.found && m.methodOk);
  EXPECT_EQ(m.route, "/functions");
  EXPECT_TRUE(m.params.empty());

  m = matchRoute(apiRoutes(), "GET", "/functions/f/versions/v3/component");
  EXPECT_EQ(m.route, "/functions/{name}/versions/{version}/component");
  EXPECT_EQ(m.params, (std::vector<std::string>{"f", "v3"}));
}

TEST(RouteMatch, TellsAWrongMethodFromAnUnknownPath) {
  auto m = matchRoute(apiRoutes(), "PATCH", "/functions/hello");
  EXPECT_TRUE(m.found);
  EXPECT_FALSE(m.methodOk);
  for (const char* p : {"/nope", "/functions/hello/nope", "/functions/a/env/b/c", "functions", "", "/",
                        "/functions/hello/versions/v1", "/status/"}) {
    m = matchRoute(apiRoutes(), "GET", p);
    EXPECT_FALSE(m.found) << p;
  }
}

TEST(RouteMatch, DecodesParametersAndRefusesBrokenEscapes) {
  auto m = matchRoute(apiRoutes(), "PUT", "/functions/f/env/%41%00%ff");
  ASSERT_TRUE(m.methodOk && !m.malformed);
  EXPECT_EQ(m.params[1], std::string("A\0\xff", 3));
  for (const char* bad : {"/functions/f/env/%", "/functions/f/env/a%4", "/functions/f/env/%zz"}) {
    m = matchRoute(apiRoutes(), "PUT", bad);
    EXPECT_TRUE(m.malformed) << bad;
    EXPECT_TRUE(m.params.empty());
  }
  // An empty segment is a parameter (the handler refuses the empty name).
  m = matchRoute(apiRoutes(), "PUT", "/functions/f/env/");
  EXPECT_TRUE(m.methodOk);
  EXPECT_EQ(m.params[1], "");
}

TEST(RouteMatch, HostilePathsAreBounded) {
  // A megabyte-long segment overflowed the stack of the recursive regex.
  const std::string huge = "/functions/" + std::string(1 << 20, 'a');
  EXPECT_FALSE(matchRoute(apiRoutes(), "GET", huge).found);  // over kMaxApiPathBytes
  const std::string longest = "/functions/" + std::string(kMaxApiPathBytes - 11, 'a');
  auto m = matchRoute(apiRoutes(), "GET", longest);
  EXPECT_TRUE(m.methodOk);
  EXPECT_EQ(m.params[0].size(), kMaxApiPathBytes - 11);
  std::string slashes(kMaxApiPathBytes, '/');
  EXPECT_FALSE(matchRoute(apiRoutes(), "GET", slashes).found);
  std::string percents = "/functions/" + std::string(kMaxApiPathBytes - 11, '%');
  EXPECT_TRUE(matchRoute(apiRoutes(), "GET", percents).malformed);
}

TEST(RouteMatch, AnyTableWorks) {
  const std::vector<std::string> table = {"GET /a/{x}", "POST /a/{x}", "bogus", "GET nope", "GET /{y}"};
  auto m = matchRoute(table, "POST", "/a/1");
  EXPECT_EQ(m.route, "/a/{x}");
  m = matchRoute(table, "GET", "/zz");
  EXPECT_EQ(m.route, "/{y}");
  EXPECT_EQ(m.params, (std::vector<std::string>{"zz"}));
}

}  // namespace
}  // namespace fn0::admin
