#include "logs/log_buffer.h"

#include <algorithm>

namespace fn0::logs {

LogBuffer::LogBuffer(size_t maxBytes) : maxBytes_(maxBytes) {}

void LogBuffer::append(std::string_view requestId, int stream, std::string_view line, int64_t version) {
  Entry e{0, std::chrono::system_clock::now(), std::string(requestId), stream, std::string(line), version};
  std::lock_guard lock(mu_);
  e.seq = ++lastSeq_;
  bytes_ += cost(e);
  entries_.push_back(std::move(e));
  while (bytes_ > maxBytes_ && entries_.size() > 1) {
    bytes_ -= cost(entries_.front());
    entries_.pop_front();
  }
}

std::vector<Entry> LogBuffer::after(uint64_t seq, size_t limit) const {
  std::lock_guard lock(mu_);
  auto it = std::upper_bound(entries_.begin(), entries_.end(), seq,
                             [](uint64_t s, const Entry& e) { return s < e.seq; });
  std::vector<Entry> out;
  for (; it != entries_.end() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

Page LogBuffer::read(const Query& q) const {
  std::lock_guard lock(mu_);
  PageScan scan(q, lastSeq_);
  auto first = std::upper_bound(entries_.begin(), entries_.end(), q.after,
                                [](uint64_t s, const Entry& e) { return s < e.seq; });
  auto offer = [&](const Entry& e) {
    return scan.offer(e.seq, toMicros(e.time), e.requestId, e.line, [&] { return e; });
  };
  if (q.tail) {
    for (auto it = entries_.end(); it != first;)
      if (!offer(*--it)) break;
  } else {
    for (auto it = first; it != entries_.end(); ++it)
      if (!offer(*it)) break;
  }
  return scan.finish(lastSeq_);
}

uint64_t LogBuffer::lastSeq() const {
  std::lock_guard lock(mu_);
  return lastSeq_;
}

size_t LogBuffer::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace fn0::logs
