// One log line, and what a reader asks for and gets back: the same shapes
// for the in-memory buffer (no persistent logs) and the node's log file
// (log_store.h), so the admin API reads either the same way.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

namespace fn0::logs {

struct Entry {
  // The node's sequence number: strictly increasing in the order lines were
  // written, over every function of the node (a function's lines have gaps),
  // and, with persistent logs, across the node's restarts.
  uint64_t seq = 0;
  std::chrono::system_clock::time_point time;
  std::string requestId;
  int stream = 1;  // 1 stdout, 2 stderr
  std::string line;
  int64_t version = 0;  // the function's version that wrote it (0: not known)
};

// Which lines a reader wants. Positions are sequence numbers; filters
// narrow what comes back without changing how the position moves.
struct Query {
  uint64_t after = 0;  // only lines with a larger seq
  size_t limit = 1000;
  // The newest `limit` matching lines after `after` (oldest first), instead
  // of the oldest: what `fn0 logs NAME` shows first.
  bool tail = false;
  std::string requestId;  // exactly this request's lines ("": any)
  std::string text;       // lines containing this, case-sensitive ("": any)
  // Written in [since, until), unix microseconds.
  std::optional<int64_t> sinceUs, untilUs;

  bool filtered() const { return !requestId.empty() || !text.empty() || sinceUs || untilUs; }
  bool matches(const Entry& e) const;
};

// A text search looks at this many lines at most per page, so one query
// never holds the file for long: a page may come back short (even empty)
// with `more` set and `scannedTo` saying how far it looked.
inline constexpr size_t kMaxScannedPerPage = 100'000;

struct Page {
  std::vector<Entry> entries;  // oldest first
  // The function's newest line on this node when the page was read.
  uint64_t lastSeq = 0;
  // Every line up to this seq was looked at: a reader that took every entry
  // of the page may go on after it (lines past the entries up to here did
  // not match). Never past a line that could still appear.
  uint64_t scannedTo = 0;
  bool more = false;  // lines past `scannedTo` may match: ask again from there
};

inline int64_t toMicros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
inline std::chrono::system_clock::time_point fromMicros(int64_t us) {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(us));
}

}  // namespace fn0::logs

namespace fn0::logs {

// Builds one page from lines offered in order (ascending seq, or descending
// for a tail), applying the query's filters, limit and scan bound; both
// readers use it, so a page means the same from memory and from the file.
class PageScan {
 public:
  // Lines in (after, hi] are offered; `hi` is the function's newest line
  // (or the `until` bound) as the reader saw it.
  PageScan(const Query& q, uint64_t hi);
  // One line. `make` builds the entry, called only for a line that is kept.
  // Returns false once the page is complete (offer no more).
  template <typename Make>
  bool offer(uint64_t seq, int64_t timeUs, std::string_view requestId, std::string_view line, Make&& make) {
    const bool match = matches(timeUs, requestId, line);
    scanned_++;
    if (match) {
      if (page_.entries.size() < q_.limit) {
        page_.entries.push_back(make());
      } else {
        // A match past a full page: there is more, from the last entry on.
        page_.more = true;
        page_.scannedTo = page_.entries.empty() ? q_.after : page_.entries.back().seq;
        return stop();
      }
      if (q_.tail && page_.entries.size() == q_.limit) return stop();
    }
    if (scanned_ >= kMaxScannedPerPage) {
      if (!q_.tail) {
        page_.more = true;
        page_.scannedTo = seq;
      }
      return stop();
    }
    return true;
  }
  // The page, once the lines ran out or offer() said it is complete.
  Page finish(uint64_t lastSeq);

 private:
  bool matches(int64_t timeUs, std::string_view requestId, std::string_view line) const;
  bool stop() {
    stopped_ = true;
    return false;
  }
  const Query& q_;
  const uint64_t hi_;
  Page page_;
  size_t scanned_ = 0;
  bool stopped_ = false;
};

}  // namespace fn0::logs
