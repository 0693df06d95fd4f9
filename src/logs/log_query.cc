#include <algorithm>

#include "logs/log_entry.h"

namespace fn0::logs {

bool Query::matches(const Entry& e) const {
  const int64_t us = toMicros(e.time);
  return (requestId.empty() || e.requestId == requestId) && (text.empty() || e.line.find(text) != std::string::npos) &&
         (!sinceUs || us >= *sinceUs) && (!untilUs || us < *untilUs);
}

PageScan::PageScan(const Query& q, uint64_t hi) : q_(q), hi_(hi) {}

bool PageScan::matches(int64_t timeUs, std::string_view requestId, std::string_view line) const {
  return (q_.requestId.empty() || requestId == q_.requestId) &&
         (q_.text.empty() || line.find(q_.text) != std::string_view::npos) && (!q_.sinceUs || timeUs >= *q_.sinceUs) &&
         (!q_.untilUs || timeUs < *q_.untilUs);
}

Page PageScan::finish(uint64_t lastSeq) {
  page_.lastSeq = lastSeq;
  if (q_.tail) {
    // Offered newest first; a tail says nothing of older lines and moves
    // the position to the end of what it looked at.
    std::reverse(page_.entries.begin(), page_.entries.end());
    page_.scannedTo = std::max(q_.after, hi_);
    page_.more = false;
  } else if (!stopped_) {
    page_.scannedTo = std::max(q_.after, hi_);
    page_.more = false;
  }
  return std::move(page_);
}

}  // namespace fn0::logs
