// The node's function logs, whichever way they are kept: on disk
// (log_writer.h, log_store.h: the default) or in memory only (log_buffer.h,
// --log-retention-mb 0). The invoker writes through a FunctionLog; the
// admin API reads pages through the hub.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "logs/log_buffer.h"
#include "logs/log_writer.h"

namespace fn0::logs {

// One function's log as its writers see it (the invoker holds one per
// request). Keeps what it writes to alive: a guest thread that outlives
// the request still writes somewhere valid.
class FunctionLog {
 public:
  FunctionLog(std::string function, std::shared_ptr<LogBuffer> memory, std::shared_ptr<LogWriter> writer)
      : function_(std::move(function)), memory_(std::move(memory)), writer_(std::move(writer)) {}
  // Thread-safe; never waits on the disk.
  void append(std::string_view requestId, int stream, std::string_view line, int64_t version = 0) {
    if (writer_)
      writer_->append(function_, requestId, stream, line, version);
    else
      memory_->append(requestId, stream, line, version);
  }

 private:
  const std::string function_;
  const std::shared_ptr<LogBuffer> memory_;
  const std::shared_ptr<LogWriter> writer_;
};

class LogHub {
 public:
  // In memory: the newest `bytesPerFunction` of each function's lines.
  explicit LogHub(size_t bytesPerFunction);
  // On disk, through `writer`.
  explicit LogHub(std::shared_ptr<LogWriter> writer);

  std::shared_ptr<FunctionLog> get(const std::string& function);
  // A page of a function's lines (log_entry.h). On disk this waits for the
  // lines written before the call to be stored (a second at most) and
  // reads the file: call it off the I/O threads.
  Result<Page> read(const std::string& function, const Query& q);
  // Forgets a function's lines (it was deleted).
  void drop(const std::string& function);

  // What log cursors carry to tell this log from another: the log file's
  // creation, or this process's start when the lines live in memory.
  int64_t epoch() const { return epoch_; }
  bool persistent() const { return writer_ != nullptr; }
  LogWriter* writer() { return writer_.get(); }

 private:
  const size_t bytesPerFunction_ = 0;
  const std::shared_ptr<LogWriter> writer_;
  const int64_t epoch_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<LogBuffer>> buffers_;  // in memory
  std::unordered_map<std::string, std::shared_ptr<FunctionLog>> logs_;
};

}  // namespace fn0::logs
