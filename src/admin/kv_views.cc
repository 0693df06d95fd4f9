// The admin API's key-value routes: a function's own bucket for people and
// tools (`fn0 kv NAME ...`): list by prefix, get, set and delete one key,
// export and import as JSON lines. Each runs on the store's threads, waited
// for on the registry pool, never on an I/O thread.
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/request_util.h"
#include "common/base64.h"
#include "common/percent_encode.h"
#include "dispatch/respond.h"
#include "kv/guest_api.h"

namespace fn0::admin {

namespace asio = boost::asio;
using dispatch::sendError;
using dispatch::sendJson;
using nlohmann::json;

namespace {

constexpr size_t kListMax = 1000, kExportPage = 500;

std::string decoded(const std::string& raw) {
  std::string out;
  return percentDecode(raw, out) ? out : raw;
}

}  // namespace

asio::awaitable<void> AdminApi::kvRoute(http::Exchange& ex, const std::string& route,
                                        const std::vector<std::string>& p, const std::string& query) {
  const std::string& m = ex.request().method;
  const std::string name = p.at(0);
  if (!registry::isDnsLabel(name))
    co_return co_await sendError(ex, 400, "bad-request", "'" + name.substr(0, 64) + "' is not a function name");
  if (!d_.kv) co_return co_await sendError(ex, 503, "kv-unavailable", "this node has no key-value store");
  const std::string bucket = kv::functionBucket(name);
  auto run = [&](bool write, std::function<void(kv::KvStore&)> f) { return kvRun(write, std::move(f)); };

  if (route == "/functions/{name}/kv" && m == "GET") {
    const std::string prefix = decoded(queryParam(query, "prefix")), after = decoded(queryParam(query, "after"));
    size_t limit = 100;
    if (auto l = queryParam(query, "limit"); !l.empty()) {
      limit = l.find_first_not_of("0123456789") == std::string::npos && l.size() < 6 ? std::stoul(l) : 0;
      if (limit < 1 || limit > kListMax)
        co_return co_await sendError(ex, 400, "bad-request", "limit must be between 1 and " + std::to_string(kListMax));
    }
    std::vector<kv::KvEntry> entries;
    kv::KvUsage usage;
    auto r = co_await run(false, [&](kv::KvStore& s) {
      entries = s.scan(bucket, prefix, after, limit + 1);
      usage = s.usage(bucket);
    });
    if (!r) co_return co_await failed(ex, r.error());
    json keys = json::array();
    for (size_t i = 0; i < entries.size() && i < limit; i++)
      keys.push_back({{"key", entries[i].key}, {"bytes", entries[i].value.size()}});
    const json next = entries.size() > limit ? json(entries[limit - 1].key) : json(nullptr);
    const json body = {{"function", name}, {"keys", keys}, {"next", next},
                       {"usage", {{"keys", usage.keys}, {"bytes", usage.bytes}}}};
    co_return co_await sendJson(ex, 200, body);
  }

  if (route == "/functions/{name}/kv/{key}") {
    const std::string key = p.at(1);
    if (key.empty() || key.size() > d_.kvLimits.maxKeyBytes || key.find('\0') != std::string::npos)
      co_return co_await sendError(ex, 400, "bad-request",
                                   "a key is 1 to " + std::to_string(d_.kvLimits.maxKeyBytes) + " bytes, without NUL");
    if (m == "GET") {
      std::optional<std::string> value;
      auto r = co_await run(false, [&](kv::KvStore& s) { value = s.get(bucket, key); });
      if (!r) co_return co_await failed(ex, r.error());
      if (!value) co_return co_await sendError(ex, 404, "not-found", "no key '" + key.substr(0, 100) + "' in " + name + "'s bucket");
      std::vector<http::Header> headers = {{"content-type", "application/octet-stream"}};
      co_await http::respond(ex, 200, std::move(headers), std::move(*value));
      co_return;
    }
    if (m == "PUT") {
      auto body = co_await readAll(ex, d_.kvLimits.maxValueBytes);
      if (!body)
        co_return co_await sendError(ex, 413, "value-too-large",
                                     "a value is at most " + std::to_string(d_.kvLimits.maxValueBytes) + " bytes");
      auto r = co_await run(true, [&](kv::KvStore& s) { s.set(bucket, key, *body, d_.kvLimits.maxBytes); });
      if (!r) {
        const std::string reason = r.error().code.empty() ? std::string("bad-request") : r.error().code;
        co_return co_await failed(ex, r.error(), 400, reason);
      }
      const json stored = {{"function", name}, {"key", key}, {"bytes", body->size()}};
      co_return co_await sendJson(ex, 200, stored);
    }
    if (m == "DELETE") {
      bool there = false;
      auto r = co_await run(true, [&](kv::KvStore& s) {
        there = s.exists(bucket, key);
        if (there) s.remove(bucket, key);
      });
      if (!r) co_return co_await failed(ex, r.error());
      if (!there) co_return co_await sendError(ex, 404, "not-found", "no key '" + key.substr(0, 100) + "' in " + name + "'s bucket");
      const json deleted = {{"deleted", key}};
      co_return co_await sendJson(ex, 200, deleted);
    }
  }

  if (route == "/functions/{name}/kv-export" && m == "GET") {
    // Page by page into one body: a bucket is bounded by --kv-max-bytes.
    std::string out;
    std::string after;
    for (;;) {
      std::vector<kv::KvEntry> page;
      auto r = co_await run(false, [&](kv::KvStore& s) { page = s.scan(bucket, "", after, kExportPage); });
      if (!r) co_return co_await failed(ex, r.error());
      for (const auto& e : page) out += json{{"key", e.key}, {"value", base64Encode(e.value)}}.dump() + "\n";
      if (page.size() < kExportPage) break;
      after = page.back().key;
    }
    std::vector<http::Header> headers = {{"content-type", "application/x-ndjson"}};
    co_await http::respond(ex, 200, std::move(headers), std::move(out));
    co_return;
  }

  if (route == "/functions/{name}/kv-import" && m == "POST") {
    auto body = co_await readAll(ex, d_.maxUploadBytes);
    if (!body) co_return co_await sendError(ex, 413, "too-large", "the import is larger than the upload limit");
    // Every line is checked before anything is written.
    std::vector<kv::KvEntry> entries;
    size_t line = 0, pos = 0;
    while (pos < body->size()) {
      const size_t nl = std::min(body->find('\n', pos), body->size());
      const std::string text = body->substr(pos, nl - pos);
      pos = nl + 1;
      line++;
      if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
      const json j = json::parse(text, nullptr, false);
      std::optional<std::string> value;
      if (j.is_object() && j.contains("value") && j["value"].is_string()) value = base64Decode(j["value"].get<std::string>());
      if (!j.is_object() || !j.contains("key") || !j["key"].is_string() || !value)
        co_return co_await sendError(ex, 400, "bad-request",
                                     "line " + std::to_string(line) +
                                         ": expected {\"key\": \"...\", \"value\": \"<base64>\"} (what kv-export writes)");
      const std::string key = j["key"].get<std::string>();
      if (key.empty() || key.size() > d_.kvLimits.maxKeyBytes || key.find('\0') != std::string::npos ||
          value->size() > d_.kvLimits.maxValueBytes)
        co_return co_await sendError(ex, 400, "bad-request",
                                     "line " + std::to_string(line) + ": the key or the value is beyond the node's limits");
      entries.push_back(kv::KvEntry{key, std::move(*value)});
    }
    auto r = co_await run(true, [&](kv::KvStore& s) { s.setMany(bucket, entries, d_.kvLimits.maxBytes); });
    if (!r) {
        const std::string reason = r.error().code.empty() ? std::string("bad-request") : r.error().code;
        co_return co_await failed(ex, r.error(), 400, reason);
      }
    const json imported = {{"function", name}, {"imported", entries.size()}};
    co_return co_await sendJson(ex, 200, imported);
  }
  co_await sendError(ex, 405, "method-not-allowed", m + " is not allowed here");
}

}  // namespace fn0::admin
