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

// The ranges the settings parser enforces are the ones the document states.
TEST(OpenApi, DocumentsTheSettingRangesTheRegistryEnforces) {
  auto doc = nlohmann::json::parse(kOpenApiJson);
  const auto& props = doc["components"]["schemas"]["Settings"]["properties"];
  size_t numbers = 0;
  for (const auto& r : registry::settingRanges()) {
    ASSERT_TRUE(props.contains(r.name)) << r.name;
    EXPECT_EQ(props[r.name]["minimum"], r.min) << r.name;
    EXPECT_EQ(props[r.name]["maximum"], r.max) << r.name;
    numbers++;
  }
  for (const auto& [name, p] : props.items()) {
    if (p["type"] == "integer") {
      EXPECT_GT(numbers, 0u) << "documented but not parsed: " << name;
      numbers--;
    }
  }
  EXPECT_EQ(props["allow"]["maxItems"], registry::kMaxAllowEntries);
  EXPECT_EQ(props["allow"]["items"]["maxLength"], registry::kMaxAllowEntryBytes);
  EXPECT_EQ(props["kv_buckets"]["maxItems"], registry::kMaxKvBuckets);
  const auto& key = doc["components"]["parameters"]["key"]["schema"];
  EXPECT_EQ(key["maxLength"], registry::kMaxVarNameBytes);
  EXPECT_EQ(doc["components"]["schemas"]["Value"]["properties"]["value"]["maxLength"], registry::kMaxVarValueBytes);
}

}  // namespace
}  // namespace fn0::admin
