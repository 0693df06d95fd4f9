// The OpenAPI document and the API's route table describe the same routes:
// every documented operation is routable and every route is documented.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "admin/admin_api.h"

namespace fn0::admin {
namespace {

TEST(OpenApi, DocumentsExactlyTheRoutesTheApiServes) {
  auto doc = nlohmann::json::parse(kOpenApiJson);
  std::set<std::string> documented;
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      documented.insert(m + " " + path);
    }
  std::set<std::string> served(apiRoutes().begin(), apiRoutes().end());
  for (const auto& r : documented) EXPECT_TRUE(served.count(r)) << "documented but not served: " << r;
  for (const auto& r : served) EXPECT_TRUE(documented.count(r)) << "served but not documented: " << r;
  EXPECT_EQ(doc["servers"][0]["url"], "/_fn0/api/v1");
}

}  // namespace
}  // namespace fn0::admin
