#include "logs/log_hub.h"

namespace fn0::logs {

namespace {

int64_t processStartMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How long a reader waits for the lines written before it to be stored;
// past it the page has what is stored (a stuck disk never hangs a reader).
constexpr std::chrono::milliseconds kFlushWait{1000};

}  // namespace

LogHub::LogHub(size_t bytesPerFunction) : bytesPerFunction_(bytesPerFunction), epoch_(processStartMs()) {}

LogHub::LogHub(std::shared_ptr<LogWriter> writer) : writer_(std::move(writer)), epoch_(writer_->store().epoch()) {}

std::shared_ptr<FunctionLog> LogHub::get(const std::string& function) {
  std::lock_guard lock(mu_);
  auto& log = logs_[function];
  if (!log) {
    std::shared_ptr<LogBuffer> memory;
    if (!writer_) {
      auto& b = buffers_[function];
      if (!b) b = std::make_shared<LogBuffer>(bytesPerFunction_);
      memory = b;
    }
    log = std::make_shared<FunctionLog>(function, std::move(memory), writer_);
  }
  return log;
}

Result<Page> LogHub::read(const std::string& function, const Query& q) {
  if (writer_) {
    (void)writer_->flush(kFlushWait);
    return writer_->store().read(function, q);
  }
  std::shared_ptr<LogBuffer> b;
  {
    std::lock_guard lock(mu_);
    if (auto it = buffers_.find(function); it != buffers_.end()) b = it->second;
  }
  if (!b) {
    Page empty;
    empty.scannedTo = q.after;
    return empty;
  }
  return b->read(q);
}

void LogHub::drop(const std::string& function) {
  {
    std::lock_guard lock(mu_);
    buffers_.erase(function);
    logs_.erase(function);
  }
  if (writer_) writer_->drop(function);
}

}  // namespace fn0::logs
