// The node's persistent function logs: one SQLite file in its data
// directory (<data-dir>/logs.db, WAL), each line a row keyed by the node's
// sequence number. Why SQLite rather than segment files: the node already
// embeds it; a page by request id, by time or after a position is an index
// lookup; deleting a function's oldest lines is one statement; and a crash
// leaves the file consistent (a batch is one transaction).
//
// One thread writes (LogWriter, log_writer.h, in batches); any thread reads,
// each read on its own connection and snapshot, so readers never wait on the
// writer nor it on them. Each node of a cluster keeps its own file; the admin
// API merges the nodes' pages.
//
// Sequence numbers survive restarts: the file remembers the last one given
// out, and its `epoch` (when the file was made) is what log cursors carry,
// so a cursor from before a restart still means the same place. A new file
// (deleted, or another data directory) has another epoch: cursors start over.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "logs/log_entry.h"

namespace SQLite {
class Database;
}

namespace fn0::logs {

// How much of a function's log the node keeps: the oldest lines go first
// when either bound is passed. Zero: no bound of that kind.
struct Retention {
  uint64_t maxBytes = 0;  // the lines' bytes plus kLineOverhead each
  std::chrono::seconds maxAge{0};
};

// What one stored line counts against maxBytes beyond its text and request
// id: the row's other columns and its share of the indexes, roughly.
inline constexpr uint64_t kLineOverhead = 64;

// One thing for the writer to do, in order with the others.
struct LogItem {
  enum class Kind { Line, Drop };  // Drop: the function's lines so far are deleted
  Kind kind = Kind::Line;
  std::string function;
  Entry entry;  // a Line's, with its seq
};

class LogStore {
 public:
  // Opens (or creates) the file. Errors name the file and the cause.
  static Result<std::unique_ptr<LogStore>> open(const std::filesystem::path& file);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // When the file was made, ms since 1970: the log cursors' epoch.
  int64_t epoch() const { return epoch_; }
  // The last sequence number given out when the file was opened; the
  // writer goes on from there.
  uint64_t lastSeqAtOpen() const { return lastSeqAtOpen_; }

  // The writer's side: one thread at a time.
  // Stores `items` in one transaction and records `lastSeq` as given out
  // (lines dropped before they reached the file used numbers too).
  Result<void> write(const std::vector<LogItem>& items, uint64_t lastSeq);
  struct Pass {
    uint64_t deletedLines = 0;
    bool more = false;  // the budget ran out before every function was within its retention
  };
  // Deletes lines past their function's retention, oldest first, at most
  // `budget` of them (bounded work between two batches). `retentionOf`
  // gives a function's retention, or nullopt for a function that no longer
  // exists (all its lines go, over as many passes as it takes).
  using RetentionOf = std::function<std::optional<Retention>(const std::string&)>;
  Result<Pass> enforce(const RetentionOf& retentionOf, std::chrono::system_clock::time_point now, size_t budget);

  // Any thread.
  Result<Page> read(const std::string& function, const Query& q);
  // Bytes kept per function, as retention counts them.
  Result<std::vector<std::pair<std::string, uint64_t>>> usage();

 private:
  explicit LogStore(std::filesystem::path file);
  int64_t functionId(const std::string& name, bool create);
  // ids_ from the table (at open, and after a rolled-back write made ids
  // that are gone); throws what SQLite throws.
  void loadIds();
  std::unique_ptr<SQLite::Database> reader();
  void giveBack(std::unique_ptr<SQLite::Database> db);

  const std::filesystem::path file_;
  std::unique_ptr<SQLite::Database> db_;  // the writer's connection
  int64_t epoch_ = 0;
  uint64_t lastSeqAtOpen_ = 0;
  std::unordered_map<std::string, int64_t> ids_;  // live functions' ids (writer thread)
  std::mutex readersMu_;
  std::vector<std::unique_ptr<SQLite::Database>> readers_;  // idle read connections
};

}  // namespace fn0::logs
