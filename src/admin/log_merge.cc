#include "admin/log_merge.h"

#include <algorithm>
#include <charconv>

namespace fn0::admin {

namespace {

template <typename T>
bool number(std::string_view s, T& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return std::from_chars(s.data(), s.data() + s.size(), out).ec == std::errc{};
}

// A node id as membership has it (HOST:PORT, [v6]:PORT): printable, no
// separator of the cursor's own.
bool validId(std::string_view id) {
  if (id.empty() || id.size() > 255) return false;
  for (char c : id)
    if (c <= ' ' || c > '~' || c == ',' || c == '=') return false;
  return true;
}

}  // namespace

std::optional<LogCursor> parseLogCursor(std::string_view text) {
  LogCursor out;
  if (text.empty()) return out;
  if (text.size() > kMaxCursorBytes) return std::nullopt;
  size_t pos = 0;
  for (;;) {
    const size_t comma = text.find(',', pos);
    const std::string_view piece = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    const size_t eq = piece.rfind('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view id = piece.substr(0, eq), at = piece.substr(eq + 1);
    const size_t dash = at.find('-');
    LogPosition p;
    if (!validId(id) || dash == std::string_view::npos || !number(at.substr(0, dash), p.epoch) ||
        !number(at.substr(dash + 1), p.seq))
      return std::nullopt;
    out[std::string(id)] = p;
    if (comma == std::string_view::npos) return out;
    pos = comma + 1;
  }
}

std::string formatLogCursor(const LogCursor& cursor) {
  std::string out;
  for (const auto& [id, p] : cursor) {
    if (!out.empty()) out += ',';
    out += id + "=" + std::to_string(p.epoch) + "-" + std::to_string(p.seq);
  }
  return out;
}

uint64_t startAfter(const LogCursor& cursor, const std::string& node, int64_t epoch) {
  auto it = cursor.find(node);
  return it != cursor.end() && it->second.epoch == epoch ? it->second.seq : 0;
}

MergedLogs mergeLogPages(std::vector<NodeLogPage> pages, size_t limit, LogCursor cursor) {
  MergedLogs out;
  // A node that restarted with nothing to say yet: its old position means
  // nothing now.
  for (const auto& p : pages) {
    auto it = cursor.find(p.node);
    if (it == cursor.end() || it->second.epoch != p.epoch) cursor[p.node] = {p.epoch, 0};
  }
  // A k-way merge over the pages' heads: each node's lines keep their
  // sequence order even where its clock went back a little (lines are
  // stamped before they are numbered), so its position stays a prefix.
  std::vector<size_t> next(pages.size(), 0);
  while (out.entries.size() < limit) {
    size_t best = pages.size();
    double bestTime = 0;
    for (size_t i = 0; i < pages.size(); i++) {
      if (next[i] >= pages[i].entries.size()) continue;
      const double t = pages[i].entries[next[i]].value("time", 0.0);
      if (best == pages.size() || t < bestTime) best = i, bestTime = t;
    }
    if (best == pages.size()) break;
    auto& page = pages[best];
    auto e = std::move(page.entries[next[best]++]);
    e["node"] = page.node;
    cursor[page.node] = {page.epoch, e.value("seq", uint64_t{0})};
    out.entries.push_back(std::move(e));
  }
  for (size_t i = 0; i < pages.size(); i++) {
    out.more = out.more || pages[i].more || next[i] < pages[i].entries.size();
    // Every line of this node's page was taken: what it looked at past
    // them did not match, and need not be looked at again.
    auto& at = cursor[pages[i].node];
    if (next[i] == pages[i].entries.size() && pages[i].scannedTo > at.seq) at.seq = pages[i].scannedTo;
  }
  out.cursor = std::move(cursor);
  return out;
}

MergedLogs mergeLogTail(std::vector<NodeLogPage> pages, size_t limit, LogCursor cursor) {
  size_t total = 0;
  for (const auto& p : pages) total += p.entries.size();
  std::vector<uint64_t> ends;
  for (const auto& p : pages) ends.push_back(std::max(p.scannedTo, p.entries.empty() ? 0 : p.entries.back().value("seq", uint64_t{0})));
  std::vector<std::string> nodes;
  for (const auto& p : pages) nodes.push_back(p.node);
  std::vector<int64_t> epochs;
  for (const auto& p : pages) epochs.push_back(p.epoch);
  auto all = mergeLogPages(std::move(pages), total, std::move(cursor));
  if (all.entries.size() > limit)
    all.entries.erase(all.entries.begin(), all.entries.end() - static_cast<std::ptrdiff_t>(limit));
  for (size_t i = 0; i < nodes.size(); i++) all.cursor[nodes[i]] = {epochs[i], ends[i]};
  all.more = false;
  return all;
}

}  // namespace fn0::admin
