// A function's log lines in memory, up to a byte budget (oldest dropped
// first): the whole log when the node keeps no persistent logs
// (--log-retention-mb 0). Sequence numbers here count from 1 per function
// and start again when the process does (the admin API's epoch tells).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <vector>

#include "logs/log_entry.h"

namespace fn0::logs {

class LogBuffer {
 public:
  explicit LogBuffer(size_t maxBytes);

  // Thread-safe; called from the adapter's threads as guests write.
  void append(std::string_view requestId, int stream, std::string_view line, int64_t version = 0);

  // Up to `limit` entries with seq > `seq`, oldest first.
  std::vector<Entry> after(uint64_t seq, size_t limit) const;
  // A page as log_entry.h describes it.
  Page read(const Query& q) const;

  uint64_t lastSeq() const;
  size_t bytes() const;

 private:
  static size_t cost(const Entry& e) { return e.line.size() + e.requestId.size() + 64; }
  const size_t maxBytes_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;
  size_t bytes_ = 0;
  uint64_t lastSeq_ = 0;
};

}  // namespace fn0::logs
