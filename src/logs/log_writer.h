// Takes log lines from the request path and stores them on its own thread.
//
// The request path never waits on the disk: append() numbers the line and
// puts it on a queue bounded in bytes, under a mutex held for a few
// instructions; when the queue is full (the disk is slower than the guests
// write, or stuck) the line is dropped and counted, and the writer stores a
// marker line in the function's log ("fn0: N log lines dropped here") so a
// reader sees the gap. The writer takes the whole queue at once and stores
// it in one transaction: the busier the node, the larger the batches.
// Between batches it enforces retention, a bounded number of deletions at a
// time, so neither the deletions nor a huge backlog stall the other.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "logs/log_store.h"

namespace fn0::logs {

struct WriterOptions {
  size_t queueBytes = 8u << 20;  // lines waiting to be stored, at most
  std::chrono::milliseconds retentionEvery{5000};
  size_t retentionBudget = 20000;  // lines deleted per pass, at most
  LogStore::RetentionOf retentionOf;  // unset: keep everything
  // The clock lines are stamped with and retention measures age by (a test
  // moves it).
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
  // Told about a failed write or retention pass (the node prints it).
  std::function<void(const Error&)> onError;
};

class LogWriter {
 public:
  LogWriter(std::unique_ptr<LogStore> store, WriterOptions options);
  // Stores what is queued, then stops.
  ~LogWriter();
  // The same, before the destructor: what the options refer to (the
  // registry retentionOf reads) may go once this returns. Later appends
  // are dropped and counted.
  void close();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // The request path: never blocks on the disk.
  void append(const std::string& function, std::string_view requestId, int stream, std::string_view line,
              int64_t version);
  // The function's lines so far are deleted (in order: after any of its
  // lines appended before this call).
  void drop(const std::string& function);

  // Waits until every line appended before the call is stored (or dropped),
  // at most `timeout`; false on timeout. Readers call it so that a page
  // read right after a request has that request's lines.
  bool flush(std::chrono::milliseconds timeout);
  // A retention pass at the next chance (tests, and `drop` in a hurry).
  void enforceSoon();

  LogStore& store() { return *store_; }

  struct Stats {
    uint64_t written = 0;   // lines stored
    uint64_t dropped = 0;   // lines lost: queue full, or a failed write
    uint64_t deleted = 0;   // lines deleted by retention
    uint64_t queuedBytes = 0;
    uint64_t writeErrors = 0;
  };
  Stats stats() const;

 private:
  void run();
  void lose(std::vector<LogItem>& batch);

  std::unique_ptr<LogStore> store_;
  const WriterOptions o_;
  mutable std::mutex mu_;
  std::condition_variable wake_, stored_;
  std::vector<LogItem> queue_;
  size_t queuedBytes_ = 0;
  std::unordered_map<std::string, uint64_t> droppedBy_;  // lines dropped per function since the last marker
  uint64_t lastSeq_ = 0;      // the last number given out
  uint64_t storedSeq_ = 0;    // every line up to this one is stored or dropped
  bool idle_ = false;         // the writer is waiting for work
  bool stopping_ = false;
  bool enforceSoon_ = true;   // a pass at start: retention may have changed while the node was down
  Stats stats_;
  std::thread thread_;
};

}  // namespace fn0::logs
