#include "logs/log_writer.h"

namespace fn0::logs {

namespace {

// What a queued line costs against queueBytes beyond its text: the item,
// its strings' headers and the queue's slot, roughly.
constexpr size_t kQueuedOverhead = 160;

std::string markerText(uint64_t n) {
  return "fn0: " + std::to_string(n) + (n == 1 ? " log line" : " log lines") +
         " dropped here: the node's log writer fell behind (counted in fn0_log_lines_dropped_total)";
}

}  // namespace

LogWriter::LogWriter(std::unique_ptr<LogStore> store, WriterOptions options)
    : store_(std::move(store)), o_(std::move(options)) {
  lastSeq_ = storedSeq_ = store_->lastSeqAtOpen();
  thread_ = std::thread([this] { run(); });
}

LogWriter::~LogWriter() { close(); }

void LogWriter::close() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void LogWriter::append(const std::string& function, std::string_view requestId, int stream, std::string_view line,
                       int64_t version) {
  // Copies made before the lock: the critical section is a few stores.
  const size_t cost = function.size() + requestId.size() + line.size() + kQueuedOverhead;
  LogItem item{LogItem::Kind::Line, function,
               Entry{0, o_.now(), std::string(requestId), stream, std::string(line), version}};
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queuedBytes_ + cost > o_.queueBytes || stopping_) {
      droppedBy_[function]++;
      stats_.dropped++;
      return;
    }
    item.entry.seq = ++lastSeq_;
    queuedBytes_ += cost;
    queue_.push_back(std::move(item));
    wake = idle_;
    idle_ = false;
  }
  if (wake) wake_.notify_one();
}

void LogWriter::drop(const std::string& function) {
  {
    std::lock_guard lock(mu_);
    // It takes a number too, so that a reader's flush waits for it: a page
    // read after the delete never shows the deleted lines.
    LogItem item{LogItem::Kind::Drop, function, {}};
    item.entry.seq = ++lastSeq_;
    queue_.push_back(std::move(item));
    droppedBy_.erase(function);
    enforceSoon_ = true;
    idle_ = false;
  }
  wake_.notify_one();
}

void LogWriter::enforceSoon() {
  {
    std::lock_guard lock(mu_);
    enforceSoon_ = true;
    idle_ = false;
  }
  wake_.notify_one();
}

bool LogWriter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = lastSeq_;
  if (storedSeq_ >= target) return true;
  return stored_.wait_for(lock, timeout, [&] { return storedSeq_ >= target; });
}

LogWriter::Stats LogWriter::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queuedBytes = queuedBytes_;
  return s;
}

// A batch that could not be stored: its lines count as dropped, and the
// next batch says so in each function's log.
void LogWriter::lose(std::vector<LogItem>& batch) {
  std::lock_guard lock(mu_);
  stats_.writeErrors++;
  for (const auto& item : batch) {
    if (item.kind != LogItem::Kind::Line) continue;
    droppedBy_[item.function]++;
    stats_.dropped++;
  }
}

void LogWriter::run() {
  using Clock = std::chrono::steady_clock;
  auto nextPass = Clock::now();
  std::vector<LogItem> batch;
  const auto keepAll = [](const std::string&) { return std::optional<Retention>(Retention{}); };
  for (;;) {
    uint64_t upTo = 0;
    size_t lines = 0;
    {
      std::unique_lock lock(mu_);
      while (queue_.empty() && droppedBy_.empty() && !stopping_ && !enforceSoon_ && Clock::now() < nextPass) {
        idle_ = true;
        wake_.wait_until(lock, nextPass);
      }
      idle_ = false;
      if (stopping_ && queue_.empty() && droppedBy_.empty()) break;
      batch.swap(queue_);
      queuedBytes_ = 0;
      // Each function that lost lines since the last batch gets a marker
      // after what was queued: "this many are missing before here".
      for (const auto& [function, n] : droppedBy_)
        batch.push_back(LogItem{LogItem::Kind::Line, function, Entry{++lastSeq_, o_.now(), "", 2, markerText(n), 0}});
      droppedBy_.clear();
      upTo = lastSeq_;
    }
    for (const auto& item : batch) lines += item.kind == LogItem::Kind::Line;
    bool failed = false;
    if (!batch.empty()) {
      if (auto r = store_->write(batch, upTo); !r) {
        lose(batch);
        failed = true;
        if (o_.onError) o_.onError(r.error());
      }
    }
    {
      std::lock_guard lock(mu_);
      if (!failed) stats_.written += lines;
      storedSeq_ = upTo;
    }
    stored_.notify_all();
    batch.clear();
    if (failed) {
      // A broken disk: try again in a second, dropping (and counting) what
      // the guests write meanwhile rather than spinning.
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      continue;
    }
    bool due;
    {
      std::lock_guard lock(mu_);
      due = (enforceSoon_ || Clock::now() >= nextPass) && !stopping_;
      enforceSoon_ = false;
    }
    if (!due) continue;
    auto pass = store_->enforce(o_.retentionOf ? o_.retentionOf : LogStore::RetentionOf(keepAll), o_.now(),
                                o_.retentionBudget);
    if (!pass) {
      if (o_.onError) o_.onError(pass.error());
      nextPass = Clock::now() + o_.retentionEvery;
      continue;
    }
    {
      std::lock_guard lock(mu_);
      stats_.deleted += pass->deletedLines;
    }
    // More to delete: the next pass right after the next batch.
    nextPass = pass->more ? Clock::now() : Clock::now() + o_.retentionEvery;
  }
}

}  // namespace fn0::logs
