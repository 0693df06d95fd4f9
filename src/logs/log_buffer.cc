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

std::vector<Entry> LogBuffer::since(std::chrono::system_clock::time_point t, size_t limit) const {
  std::lock_guard lock(mu_);
  auto first = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.time >= t; });
  size_t n = static_cast<size_t>(std::distance(first, entries_.end()));
  if (n > limit) first += static_cast<std::ptrdiff_t>(n - limit);
  return {first, entries_.end()};
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

namespace fn0::logs {

std::shared_ptr<LogBuffer> LogHub::get(const std::string& function) {
  std::lock_guard lock(mu_);
  auto& b = buffers_[function];
  if (!b) b = std::make_shared<LogBuffer>(bytesPerFunction_);
  return b;
}

void LogHub::drop(const std::string& function) {
  std::lock_guard lock(mu_);
  buffers_.erase(function);
}

}  // namespace fn0::logs
