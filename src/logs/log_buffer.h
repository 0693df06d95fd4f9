// A function's log stream: guest output lines tagged with the request id
// and the version,
// kept in memory up to a byte budget (oldest dropped first). Readers page by
// sequence number, which is also how a live follower catches up.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fn0::logs {

struct Entry {
  uint64_t seq = 0;  // strictly increasing, from 1
  std::chrono::system_clock::time_point time;
  std::string requestId;
  int stream = 1;  // 1 stdout, 2 stderr
  std::string line;
  int64_t version = 0;  // the function's version that wrote it (0: not known)
};

class LogBuffer {
 public:
  explicit LogBuffer(size_t maxBytes);

  // Thread-safe; called from the adapter's threads as guests write.
  void append(std::string_view requestId, int stream, std::string_view line, int64_t version = 0);

  // Up to `limit` entries with seq > `seq`, oldest first.
  std::vector<Entry> after(uint64_t seq, size_t limit) const;
  // Up to the newest `limit` entries written at or after `t`, oldest first.
  std::vector<Entry> since(std::chrono::system_clock::time_point t, size_t limit) const;

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

namespace fn0::logs {

// The log buffers of all functions, created on first use.
class LogHub {
 public:
  explicit LogHub(size_t bytesPerFunction) : bytesPerFunction_(bytesPerFunction) {}
  std::shared_ptr<LogBuffer> get(const std::string& function);
  void drop(const std::string& function);

 private:
  size_t bytesPerFunction_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<LogBuffer>> buffers_;
};

}  // namespace fn0::logs
