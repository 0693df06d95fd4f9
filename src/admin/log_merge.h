// A function's log lines from several nodes as one stream: each node pages
// its own log by sequence number, so the cursor is one position per node,
// with the epoch of that node's log (its log file's creation; the process's
// start when the node keeps its logs in memory, whose numbers start again
// at 1 with each process), and a page is the nodes' pages merged by time. A line is never given twice and never skipped: a node's position
// moves only past the lines that made it into the merged page. Pure, so the
// rules can be tested without a cluster.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fn0::admin {

struct LogPosition {
  int64_t epoch = 0;  // the node's log's epoch, ms since 1970; another epoch: start over
  uint64_t seq = 0;   // the last sequence number given out
};

// Node id (HOST:PORT) -> position. The text form, "ID=EPOCH-SEQ" joined by
// commas, is what clients pass back as `cursor`; to them it is opaque.
using LogCursor = std::map<std::string, LogPosition>;

inline constexpr size_t kMaxCursorBytes = 16384;

// std::nullopt for a malformed cursor ("" is the empty one).
std::optional<LogCursor> parseLogCursor(std::string_view text);
std::string formatLogCursor(const LogCursor& cursor);

// Where a node's page starts: after the cursor's position if the epochs
// agree, else from its first line.
uint64_t startAfter(const LogCursor& cursor, const std::string& node, int64_t epoch);

struct NodeLogPage {
  std::string node;
  int64_t epoch = 0;
  std::vector<nlohmann::json> entries;  // in `seq` order, each with "seq" and "time"
  bool more = false;                    // the node has lines past this page
  uint64_t lastSeq = 0;                 // the node's newest line
  // The node looked at every line up to here (a filtered page: the lines
  // past its entries did not match): once all its entries are taken, its
  // position moves here. 0 from a node that does not say.
  uint64_t scannedTo = 0;
};

struct MergedLogs {
  std::vector<nlohmann::json> entries;  // oldest first, each with "node"
  LogCursor cursor;
  bool more = false;  // some node has lines past `cursor`
};

// The first `limit` lines of `pages` by time (a node's own lines stay in
// their order), each tagged with its node; `cursor` moved past them.
MergedLogs mergeLogPages(std::vector<NodeLogPage> pages, size_t limit, LogCursor cursor);

// The newest `limit` lines of `pages` (each node's newest lines, a tail),
// oldest first; each node's position moves to the end of what it looked
// at, so a follower goes on from there.
MergedLogs mergeLogTail(std::vector<NodeLogPage> pages, size_t limit, LogCursor cursor);

}  // namespace fn0::admin
