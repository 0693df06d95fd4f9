// A function's logs and metrics. On a node alone: that node's. In a
// cluster, any node answers for all of them: its own part plus each up
// peer's, asked at once (fanout.h) with `local=true` so that a peer
// answers with its own part only; a peer that does not answer in time is
// named in `unreachable` and the rest is still answered.
#include <boost/asio.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/request_util.h"
#include "dispatch/respond.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;

namespace {

// The most one page of logs may hold: 10000 lines of up to 4 KiB, escaped.
constexpr size_t kMaxPeerLogBytes = 64u << 20;
constexpr size_t kMaxPeerMetricsBytes = 1u << 20;
constexpr size_t kFollowPage = 1000;

json entryJson(const logs::Entry& e, const std::string& node) {
  return {{"seq", e.seq},
          {"time", std::chrono::duration<double>(e.time.time_since_epoch()).count()},
          {"request_id", e.requestId},
          {"stream", e.stream == 1 ? "stdout" : "stderr"},
          {"line", e.line},
          {"version", e.version ? json("v" + std::to_string(e.version)) : json(nullptr)},
          {"node", node}};
}

// A peer's page as it sent it, if it has that shape (a line without a
// numeric seq and time is dropped: it could not be placed).
std::optional<NodeLogPage> peerPage(const PeerAnswer& a) {
  const json& b = *a.body;
  if (!b.contains("entries") || !b["entries"].is_array() || !b.contains("epoch") || !b["epoch"].is_number_integer())
    return std::nullopt;
  NodeLogPage p;
  p.node = a.peer;
  p.epoch = b["epoch"].get<int64_t>();
  p.more = b.contains("more") && b["more"].is_boolean() && b["more"].get<bool>();
  if (b.contains("last_seq") && b["last_seq"].is_number_unsigned()) p.lastSeq = b["last_seq"].get<uint64_t>();
  for (const auto& e : b["entries"])
    if (e.is_object() && e.contains("seq") && e["seq"].is_number_unsigned() && e.contains("time") &&
        e["time"].is_number())
      p.entries.push_back(e);
  return p;
}

// Seconds to the microsecond: sums of doubles print as 0.004190246999999999.
double micros(double seconds) { return std::round(seconds * 1e6) / 1e6; }

json countersJson(const metrics::Metrics::Counters& c) {
  json responses = json::object();
  for (int i = 1; i <= 5; i++) responses[std::to_string(i) + "xx"] = c.byClass[i];
  return {{"requests", c.requests},       {"responses", responses},       {"errors", c.byClass[5]},
          {"cold_starts", c.coldStarts},  {"overloads", c.overloads},     {"limit_hits", json(c.limitHits)},
          {"cpu_seconds", micros(c.cpuSeconds)},  {"duration_seconds", micros(c.durationSeconds)},
          {"in_flight", c.inFlight}};
}

// Adds one node's counters into the total, key by key (nested objects
// too: responses, limit_hits).
void addCounters(json& total, const json& node) {
  for (const auto& [k, v] : node.items()) {
    if (k == "node") continue;
    if (v.is_object()) {
      if (!total.contains(k) || !total[k].is_object()) total[k] = json::object();
      addCounters(total[k], v);
    } else if (v.is_number_unsigned() && (!total.contains(k) || total[k].is_number_unsigned())) {
      total[k] = total.value(k, uint64_t{0}) + v.get<uint64_t>();
    } else if (v.is_number_integer() && (!total.contains(k) || total[k].is_number_integer())) {
      total[k] = total.value(k, int64_t{0}) + v.get<int64_t>();
    } else if (v.is_number()) {
      total[k] = (total.contains(k) && total[k].is_number() ? total[k].get<double>() : 0.0) + v.get<double>();
    }
  }
}

std::string peerTarget(const std::string& name, const std::string& what) {
  return "/_fn0/api/v1/functions/" + percentEncode(name) + "/" + what + "?local=true";
}

}  // namespace

std::string AdminApi::selfId() const {
  return d_.cluster ? d_.cluster->self() : "127.0.0.1:" + std::to_string(d_.port);
}

bool AdminApi::localOnly(const http::Request& req, const std::string& query) const {
  if (!d_.cluster) return true;
  return queryParam(query, "local") == "true" || d_.cluster->forwardedIn(req).has_value();
}

NodeLogPage AdminApi::localLogs(const std::string& name, const LogCursor& cursor, size_t limit, bool knownOnly) {
  NodeLogPage p;
  p.node = selfId();
  p.epoch = epoch_;
  // A peer may ask about a function this node has not heard of yet: no
  // lines (and no buffer made for a name that may never exist).
  if (knownOnly && !d_.registry.catalog()->functions.count(name)) return p;
  auto buffer = d_.logs.get(name);
  for (const auto& e : buffer->after(startAfter(cursor, p.node, epoch_), limit)) p.entries.push_back(entryJson(e, p.node));
  p.lastSeq = buffer->lastSeq();
  p.more = !p.entries.empty() && p.entries.back()["seq"].get<uint64_t>() < p.lastSeq;
  return p;
}

asio::awaitable<AdminApi::GatheredLogs> AdminApi::gatherLogs(const http::Request& req, std::string name,
                                                             LogCursor cursor, size_t limit, bool wholeCluster) {
  GatheredLogs out;
  out.pages.push_back(localLogs(name, cursor, limit, d_.cluster && !wholeCluster));
  if (!wholeCluster) co_return out;
  std::vector<PeerQuestion> questions;
  for (const auto& id : upPeers(*d_.cluster)) {
    std::string target = peerTarget(name, "logs") + "&limit=" + std::to_string(limit);
    if (auto it = cursor.find(id); it != cursor.end()) {
      const LogCursor mine{{id, it->second}};
      target += "&cursor=" + percentEncode(formatLogCursor(mine));
    }
    questions.push_back({id, std::move(target)});
  }
  std::vector<http::Header> headers = peerAuth(req);
  auto& peers = d_.cluster->peers();
  const size_t maxBody = kMaxPeerLogBytes;
  const auto deadline = kPeerDeadline;  // named: no temporaries in a co_await (g++ 12)
  auto answers = co_await askPeers(peers, std::move(questions), std::move(headers), maxBody, deadline);
  for (auto& a : answers) {
    std::optional<NodeLogPage> page;
    if (a.body) page = peerPage(a);
    if (page) {
      out.pages.push_back(std::move(*page));
      continue;
    }
    if (a.error.empty()) a.error = "the answer is not a page of logs";
    out.failed.push_back(std::move(a));
  }
  co_return out;
}

asio::awaitable<void> AdminApi::logs(http::Exchange& ex, std::string name, std::string query) {
  const http::Request& req = ex.request();
  const bool wholeCluster = !localOnly(req, query);
  if (!d_.cluster || wholeCluster) {
    auto exists = co_await loadFunction(name);
    if (!exists) {
      const std::string message = "no function named '" + name + "'";
      const std::string reason = "not-found";
      co_await sendError(ex, 404, reason, message);
      co_return;
    }
  }
  const bool follow = queryParam(query, "follow") == "true" || queryParam(query, "follow") == "1";
  std::string after = queryParam(query, "after"), rawCursor = queryParam(query, "cursor");
  // A reconnecting event source says where it was.
  if (follow && after.empty() && rawCursor.empty()) {
    const std::string last = requestHeader(req, "last-event-id");
    (!last.empty() && last.find_first_not_of("0123456789") == std::string::npos ? after : rawCursor) = last;
  }
  uint64_t afterSeq = 0;
  size_t limit = 1000;
  bool badNumber = false;
  try {
    if (!after.empty()) afterSeq = std::stoull(after);
    if (auto l = queryParam(query, "limit"); !l.empty()) limit = std::min<size_t>(std::stoull(l), 10000);
  } catch (...) {
    badNumber = true;
  }
  std::string cursorText;
  std::optional<LogCursor> cursor;
  if (!badNumber && percentDecode(rawCursor, cursorText)) cursor = parseLogCursor(cursorText);
  if (badNumber || !cursor) {
    const std::string message = badNumber ? "after and limit must be numbers"
                                          : "cursor is not one this API gave out (pass back an answer's cursor as is)";
    const std::string reason = "bad-request";
    co_await sendError(ex, 400, reason, message);
    co_return;
  }
  // `after` is the single-node form: a sequence number of this node's.
  if (!after.empty() && cursorText.empty()) (*cursor)[selfId()] = {epoch_, afterSeq};
  if (follow) {
    co_await followLogs(ex, name, std::move(*cursor), wholeCluster);
    co_return;
  }
  auto got = co_await gatherLogs(req, name, *cursor, limit, wholeCluster);
  const uint64_t lastSeq = got.pages.front().lastSeq;
  json nodes = json::array();
  for (const auto& p : got.pages) nodes.push_back(p.node);
  json unreachable = json::array(), errors = json::object();
  for (const auto& f : got.failed) {
    unreachable.push_back(f.peer);
    errors[f.peer] = f.error;
  }
  auto merged = mergeLogPages(std::move(got.pages), limit, std::move(*cursor));
  json body = {{"entries", std::move(merged.entries)},
               {"cursor", formatLogCursor(merged.cursor)},
               {"more", merged.more},
               {"last_seq", lastSeq},
               {"node", selfId()},
               {"epoch", epoch_},
               {"clustered", d_.cluster != nullptr},
               {"nodes", nodes},
               {"unreachable", unreachable}};
  if (!got.failed.empty()) body["peer_errors"] = errors;
  co_await sendJson(ex, 200, body);
}

asio::awaitable<void> AdminApi::followLogs(http::Exchange& ex, std::string name, LogCursor cursor, bool wholeCluster) {
  // Server-Sent Events: every entry as `data: <json>`, with `id:` its seq
  // (one node) or, on the last entry of each batch, the cursor (a
  // cluster), which is what Last-Event-ID brings back; in a cluster an
  // `unreachable` event whenever the set of peers left out changes; a
  // comment every 15 s to keep proxies from closing the stream. Ends when
  // the client goes away or the node stops.
  std::vector<http::Header> headers = {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}};
  const std::optional<uint64_t> noLength;
  const int status = 200;
  if (!co_await ex.writeHead(status, headers, noLength)) co_return;
  const http::Request& req = ex.request();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Peers are asked over the network: less often than the local buffer.
  const auto pause = std::chrono::milliseconds(wholeCluster ? 500 : 200);
  auto lastWrite = std::chrono::steady_clock::now();
  std::string reported = "[]";  // the peers last said to be out of reach
  while (!ex.stopping()) {
    const size_t limit = kFollowPage;
    auto got = co_await gatherLogs(req, name, cursor, limit, wholeCluster);
    auto merged = mergeLogPages(std::move(got.pages), limit, std::move(cursor));
    cursor = std::move(merged.cursor);
    std::string out;
    for (size_t i = 0; i < merged.entries.size(); i++) {
      const auto& e = merged.entries[i];
      if (!wholeCluster) out += "id: " + std::to_string(e["seq"].get<uint64_t>()) + "\n";
      else if (i + 1 == merged.entries.size()) out += "id: " + formatLogCursor(cursor) + "\n";
      out += "data: " + e.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
    }
    if (wholeCluster) {
      json unreachable = json::array(), errors = json::object();
      for (const auto& f : got.failed) {
        unreachable.push_back(f.peer);
        errors[f.peer] = f.error;
      }
      if (unreachable.dump() != reported) {
        reported = unreachable.dump();
        const json event = {{"unreachable", unreachable}, {"peer_errors", errors}};
        out += "event: unreachable\ndata: " + event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
      }
    }
    if (out.empty() && std::chrono::steady_clock::now() - lastWrite > std::chrono::seconds(15)) out = ": keep-alive\n\n";
    if (!out.empty()) {
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(out.data()), out.size());
      if (!co_await ex.writeBody(bytes)) co_return;
      lastWrite = std::chrono::steady_clock::now();
    }
    if (merged.more) continue;  // catching up: the next page at once
    timer.expires_after(pause);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_await ex.finish();
}

asio::awaitable<void> AdminApi::functionMetrics(http::Exchange& ex, std::string name, std::string query) {
  const http::Request& req = ex.request();
  const bool wholeCluster = !localOnly(req, query);
  if (!d_.cluster || wholeCluster) {
    auto exists = co_await loadFunction(name);
    if (!exists) {
      const std::string message = "no function named '" + name + "'";
      const std::string reason = "not-found";
      co_await sendError(ex, 404, reason, message);
      co_return;
    }
  }
  json self = countersJson(d_.metrics.counters(name));
  self["node"] = selfId();
  json nodes = json::array({self});
  json unreachable = json::array(), errors = json::object();
  if (wholeCluster) {
    std::vector<PeerQuestion> questions;
    for (const auto& id : upPeers(*d_.cluster)) questions.push_back({id, peerTarget(name, "metrics")});
    std::vector<http::Header> headers = peerAuth(req);
    auto& peers = d_.cluster->peers();
    const size_t maxBody = kMaxPeerMetricsBytes;
    const auto deadline = kPeerDeadline;
    auto answers = co_await askPeers(peers, std::move(questions), std::move(headers), maxBody, deadline);
    for (const auto& a : answers) {
      // A peer's answer has the same shape, with itself as the one node.
      const bool ok = a.body && a.body->contains("nodes") && (*a.body)["nodes"].is_array() &&
                      (*a.body)["nodes"].size() == 1 && (*a.body)["nodes"][0].is_object();
      if (!ok) {
        unreachable.push_back(a.peer);
        errors[a.peer] = a.error.empty() ? "the answer is not a function's metrics" : a.error;
        continue;
      }
      json n = (*a.body)["nodes"][0];
      n["node"] = a.peer;
      nodes.push_back(std::move(n));
    }
  }
  json total = json::object();
  for (const auto& n : nodes) addCounters(total, n);
  for (const char* k : {"cpu_seconds", "duration_seconds"})
    if (total.contains(k) && total[k].is_number()) total[k] = micros(total[k].get<double>());
  json body = {{"function", name},   {"clustered", d_.cluster != nullptr}, {"total", total},
               {"nodes", nodes},     {"unreachable", unreachable}};
  if (!errors.empty()) body["peer_errors"] = errors;
  co_await sendJson(ex, 200, body);
}

}  // namespace fn0::admin
