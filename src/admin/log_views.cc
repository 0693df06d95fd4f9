// A function's logs: GET /functions/{name}/logs, a page or (follow=true) a
// live stream, narrowed by request id, text and time. On a node alone:
// that node's lines. In a cluster, any node answers for all of them: its
// own page plus each up peer's, asked at once (fanout.h) with `local=true`
// and the same filters, merged by time under one cursor (log_merge.h); a
// peer that does not answer in time is named in `unreachable`.
//
// With persistent logs a page is read from the node's log file on the log
// pool, never on an I/O thread (it may wait for the writer to store the
// newest lines, and a text search reads many rows).
#include <algorithm>
#include <boost/asio.hpp>
#include <tuple>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/request_util.h"
#include "common/time_text.h"
#include "dispatch/respond.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;

namespace {

// The most one page of logs may hold: 10000 lines of up to 4 KiB, escaped.
constexpr size_t kMaxPeerLogBytes = 64u << 20;
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
  if (b.contains("scanned_to") && b["scanned_to"].is_number_unsigned()) p.scannedTo = b["scanned_to"].get<uint64_t>();
  for (const auto& e : b["entries"])
    if (e.is_object() && e.contains("seq") && e["seq"].is_number_unsigned() && e.contains("time") &&
        e["time"].is_number())
      p.entries.push_back(e);
  return p;
}

std::string peerLogsTarget(const std::string& name) {
  return "/_fn0/api/v1/functions/" + percentEncode(name) + "/logs?local=true";
}

// A query value as browsers and scripts send it: '+' for a space, then
// percent escapes.
bool queryText(const std::string& query, const std::string& name, std::string& out) {
  std::string raw = queryParam(query, name);
  std::replace(raw.begin(), raw.end(), '+', ' ');
  return percentDecode(raw, out);
}

// The filters of `shape` as query parameters for a peer (times already
// made absolute, so every node cuts at the same instant).
std::string filterParams(const logs::Query& shape) {
  std::string out;
  if (shape.tail) out += "&tail=true";
  if (!shape.requestId.empty()) out += "&request_id=" + percentEncode(shape.requestId);
  if (!shape.text.empty()) out += "&q=" + percentEncode(shape.text);
  if (shape.sinceUs) out += "&since=" + formatUnixMicros(*shape.sinceUs);
  if (shape.untilUs) out += "&until=" + formatUnixMicros(*shape.untilUs);
  return out;
}

int64_t nowMicros() { return logs::toMicros(std::chrono::system_clock::now()); }

}  // namespace

asio::awaitable<Result<logs::Page>> AdminApi::readLog(std::string name, logs::Query q) {
  if (!d_.logs.persistent()) co_return d_.logs.read(name, q);  // memory: quick
  auto home = co_await asio::this_coro::executor;
  co_await asio::post(asio::bind_executor(d_.logPool ? *d_.logPool : d_.registryPool, asio::use_awaitable));
  Result<logs::Page> r = Error{"the log was not read"};
  try {
    r = d_.logs.read(name, q);
  } catch (const std::exception& e) {
    r = Error{std::string("logs: ") + e.what()};
  }
  co_await asio::post(asio::bind_executor(home, asio::use_awaitable));
  co_return r;
}

asio::awaitable<Result<NodeLogPage>> AdminApi::localLogs(const std::string& name, const LogCursor& cursor,
                                                         const logs::Query& shape, bool knownOnly) {
  NodeLogPage p;
  p.node = selfId();
  p.epoch = d_.logs.epoch();
  // A peer may ask about a function this node has not heard of yet: no
  // lines (and nothing made for a name that may never exist).
  if (knownOnly && !d_.registry.catalog()->functions.count(name)) co_return p;
  logs::Query q = shape;
  q.after = startAfter(cursor, p.node, p.epoch);
  auto page = co_await readLog(name, q);
  if (!page) co_return page.error();
  for (const auto& e : page->entries) p.entries.push_back(entryJson(e, p.node));
  p.lastSeq = page->lastSeq;
  p.more = page->more;
  p.scannedTo = page->scannedTo;
  co_return p;
}

asio::awaitable<Result<AdminApi::GatheredLogs>> AdminApi::gatherLogs(const http::Request& req, std::string name,
                                                                     LogCursor cursor, logs::Query shape,
                                                                     bool wholeCluster) {
  GatheredLogs out;
  auto mine = co_await localLogs(name, cursor, shape, d_.cluster && !wholeCluster);
  if (!mine) co_return mine.error();
  out.pages.push_back(std::move(*mine));
  if (!wholeCluster) co_return out;
  std::vector<PeerQuestion> questions;
  for (const auto& id : upPeers(*d_.cluster)) {
    std::string target = peerLogsTarget(name) + "&limit=" + std::to_string(shape.limit) + filterParams(shape);
    if (auto it = cursor.find(id); it != cursor.end()) {
      const LogCursor theirs{{id, it->second}};
      target += "&cursor=" + percentEncode(formatLogCursor(theirs));
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
  logs::Query shape;
  std::string problem;
  try {
    if (!after.empty()) afterSeq = std::stoull(after);
    if (auto l = queryParam(query, "limit"); !l.empty()) shape.limit = std::min<size_t>(std::stoull(l), 10000);
  } catch (...) {
    problem = "after and limit must be numbers";
  }
  const std::string tail = queryParam(query, "tail");
  shape.tail = tail == "true" || tail == "1";
  std::string since, until;
  if (!queryText(query, "request_id", shape.requestId) || !queryText(query, "q", shape.text) ||
      !queryText(query, "since", since) || !queryText(query, "until", until))
    problem = "a query value has a malformed percent escape";
  const int64_t now = nowMicros();
  for (auto [text, field, label] : {std::tuple{&since, &shape.sinceUs, "since"}, {&until, &shape.untilUs, "until"}}) {
    if (text->empty()) continue;
    *field = parseTimeMicros(*text, now);
    if (!*field)
      problem = std::string(label) +
                " must be unix seconds, an RFC 3339 time (2026-12-06T10:00:00Z) or a duration before now (90s, 15m, "
                "1h, 2d)";
  }
  if (shape.text.size() > 1024 || shape.requestId.size() > 256) problem = "q and request_id are too long";
  std::string cursorText;
  std::optional<LogCursor> cursor;
  if (problem.empty() && percentDecode(rawCursor, cursorText)) cursor = parseLogCursor(cursorText);
  if (problem.empty() && !cursor) problem = "cursor is not one this API gave out (pass back an answer's cursor as is)";
  if (!problem.empty()) {
    const std::string reason = "bad-request";
    co_await sendError(ex, 400, reason, problem);
    co_return;
  }
  // `after` is the single-node form: a sequence number of this node's.
  if (!after.empty() && cursorText.empty()) (*cursor)[selfId()] = {d_.logs.epoch(), afterSeq};
  if (follow) {
    co_await followLogs(ex, name, std::move(*cursor), shape, wholeCluster);
    co_return;
  }
  auto got = co_await gatherLogs(req, name, *cursor, shape, wholeCluster);
  if (!got) {
    const std::string reason = "logs-unavailable";
    co_await sendError(ex, 503, reason, got.error().message);
    co_return;
  }
  const uint64_t lastSeq = got->pages.front().lastSeq, scannedTo = got->pages.front().scannedTo;
  json nodes = json::array();
  for (const auto& p : got->pages) nodes.push_back(p.node);
  json unreachable = json::array(), errors = json::object();
  for (const auto& f : got->failed) {
    unreachable.push_back(f.peer);
    errors[f.peer] = f.error;
  }
  auto merged = shape.tail ? mergeLogTail(std::move(got->pages), shape.limit, std::move(*cursor))
                           : mergeLogPages(std::move(got->pages), shape.limit, std::move(*cursor));
  json body = {{"entries", std::move(merged.entries)},
               {"cursor", formatLogCursor(merged.cursor)},
               {"more", merged.more},
               {"last_seq", lastSeq},
               {"scanned_to", scannedTo},
               {"node", selfId()},
               {"epoch", d_.logs.epoch()},
               {"persistent", d_.logs.persistent()},
               {"clustered", d_.cluster != nullptr},
               {"nodes", nodes},
               {"unreachable", unreachable}};
  if (!got->failed.empty()) body["peer_errors"] = errors;
  co_await sendJson(ex, 200, body);
}

asio::awaitable<void> AdminApi::followLogs(http::Exchange& ex, std::string name, LogCursor cursor, logs::Query shape,
                                           bool wholeCluster) {
  // Server-Sent Events: every entry as `data: <json>`, with `id:` its seq
  // (one node) or, on the last entry of each batch, the cursor (a
  // cluster), which is what Last-Event-ID brings back; in a cluster an
  // `unreachable` event whenever the set of peers left out changes; a
  // comment every 15 s to keep proxies from closing the stream. Ends when
  // the client goes away, the node stops or its log cannot be read. With
  // tail=true the first batch is the newest lines, then new ones as they come.
  std::vector<http::Header> headers = {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}};
  const std::optional<uint64_t> noLength;
  const int status = 200;
  if (!co_await ex.writeHead(status, headers, noLength)) co_return;
  const http::Request& req = ex.request();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Peers are asked over the network: less often than the local log.
  const auto pause = std::chrono::milliseconds(wholeCluster ? 500 : 200);
  auto lastWrite = std::chrono::steady_clock::now();
  std::string reported = "[]";  // the peers last said to be out of reach
  shape.limit = std::min(shape.limit, kFollowPage);
  if (!shape.tail) shape.limit = kFollowPage;
  while (!ex.stopping()) {
    auto got = co_await gatherLogs(req, name, cursor, shape, wholeCluster);
    if (!got) break;
    auto merged = shape.tail ? mergeLogTail(std::move(got->pages), shape.limit, std::move(cursor))
                             : mergeLogPages(std::move(got->pages), shape.limit, std::move(cursor));
    shape.tail = false;
    shape.limit = kFollowPage;
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
      for (const auto& f : got->failed) {
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

}  // namespace fn0::admin
