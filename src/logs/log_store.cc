#include "logs/log_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>

namespace fn0::logs {

namespace {

// Why these settings:
// - WAL: readers read while the writer appends, neither waits.
// - synchronous=NORMAL: no fsync per batch. WAL keeps the file consistent
//   at any crash; a power cut may lose the last batches' lines, which is
//   the trade every log shipper makes to keep up with its writers.
// - auto_vacuum=INCREMENTAL (before the first table): space freed by
//   retention goes back to the file system a little per pass, so a deleted
//   function's lines do not leave a file that stays at its peak size.
// - journal_size_limit: the WAL file is cut back after a checkpoint.
// - cache_size 16 MiB on the writer (SQLite's default is 2 MiB): the
//   request-id index takes its entries in random order, and its pages
//   staying cached is what keeps a batch's inserts cheap.
// Indexes: lines_fn pages a function's lines by seq (an index entry ends
// with the rowid, the seq); lines_time finds `since`/`until` and the lines
// past their age; lines_request answers `request_id=` without a scan.
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS functions(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  bytes INTEGER NOT NULL DEFAULT 0,
  dropped INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS functions_live ON functions(name) WHERE dropped = 0;
CREATE TABLE IF NOT EXISTS lines(
  id INTEGER PRIMARY KEY,
  fn INTEGER NOT NULL,
  time_us INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  stream INTEGER NOT NULL,
  version INTEGER NOT NULL,
  line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lines_fn ON lines(fn);
CREATE INDEX IF NOT EXISTS lines_time ON lines(fn, time_us);
CREATE INDEX IF NOT EXISTS lines_request ON lines(fn, request_id);
)";

// What a stored line counts against its function's byte budget, in SQL
// (the same as LogWriter counts before it stores it).
constexpr const char* kCostSql = "length(CAST(line AS BLOB)) + length(CAST(request_id AS BLOB)) + 64";

uint64_t costOf(const Entry& e) { return e.line.size() + e.requestId.size() + kLineOverhead; }

Error sqlError(const std::filesystem::path& file, const std::exception& e) {
  return Error{"log file " + file.string() + ": " + e.what()};
}

// A read snapshot or a write transaction, ended on every way out.
class Tx {
 public:
  Tx(SQLite::Database& db, const char* begin) : db_(db) { db_.exec(begin); }
  ~Tx() {
    if (!done_) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  SQLite::Database& db_;
  bool done_ = false;
};

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LogStore::LogStore(std::filesystem::path file) : file_(std::move(file)) {}
LogStore::~LogStore() = default;

Result<std::unique_ptr<LogStore>> LogStore::open(const std::filesystem::path& file) {
  std::unique_ptr<LogStore> s(new LogStore(file));
  try {
    s->db_ = std::make_unique<SQLite::Database>(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    auto& db = *s->db_;
    db.setBusyTimeout(5000);
    db.exec("PRAGMA auto_vacuum=INCREMENTAL");
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA journal_size_limit=67108864");
    db.exec("PRAGMA cache_size=-16384");
    Tx tx(db, "BEGIN IMMEDIATE");
    db.exec(kSchema);
    {
      SQLite::Statement init(db, "INSERT OR IGNORE INTO meta(key, value) VALUES ('epoch', ?1), ('last_seq', 0)");
      init.bind(1, static_cast<int64_t>(nowMs()));
      init.exec();
    }
    s->epoch_ = db.execAndGet("SELECT value FROM meta WHERE key = 'epoch'").getInt64();
    // The larger of the two: a line stored by a writer that died before it
    // recorded last_seq still holds its number.
    const int64_t recorded = db.execAndGet("SELECT value FROM meta WHERE key = 'last_seq'").getInt64();
    const int64_t stored = db.execAndGet("SELECT coalesce(max(id), 0) FROM lines").getInt64();
    s->lastSeqAtOpen_ = static_cast<uint64_t>(std::max(recorded, stored));
    s->loadIds();
    tx.commit();
  } catch (const std::exception& e) {
    return sqlError(file, e);
  }
  return s;
}

void LogStore::loadIds() {
  ids_.clear();
  SQLite::Statement live(*db_, "SELECT id, name FROM functions WHERE dropped = 0");
  while (live.executeStep()) ids_[live.getColumn(1).getString()] = live.getColumn(0).getInt64();
}

int64_t LogStore::functionId(const std::string& name, bool create) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  if (!create) return 0;
  SQLite::Statement ins(*db_, "INSERT INTO functions(name) VALUES (?1)");
  ins.bind(1, name);
  ins.exec();
  const int64_t id = db_->getLastInsertRowid();
  ids_[name] = id;
  return id;
}

Result<void> LogStore::write(const std::vector<LogItem>& items, uint64_t lastSeq) {
  try {
    Tx tx(*db_, "BEGIN IMMEDIATE");
    SQLite::Statement insert(*db_,
                             "INSERT INTO lines(id, fn, time_us, request_id, stream, version, line) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    std::unordered_map<int64_t, uint64_t> added;  // function id -> bytes
    for (const auto& item : items) {
      if (item.kind == LogItem::Kind::Drop) {
        if (const int64_t id = functionId(item.function, false)) {
          SQLite::Statement drop(*db_, "UPDATE functions SET dropped = 1 WHERE id = ?1");
          drop.bind(1, id);
          drop.exec();
          ids_.erase(item.function);
          added.erase(id);
        }
        continue;
      }
      const Entry& e = item.entry;
      const int64_t fn = functionId(item.function, true);
      insert.bind(1, static_cast<int64_t>(e.seq));
      insert.bind(2, fn);
      insert.bind(3, toMicros(e.time));
      insert.bindNoCopy(4, e.requestId);
      insert.bind(5, e.stream);
      insert.bind(6, e.version);
      insert.bindNoCopy(7, e.line);
      insert.exec();
      insert.reset();
      added[fn] += costOf(e);
    }
    SQLite::Statement grow(*db_, "UPDATE functions SET bytes = bytes + ?1 WHERE id = ?2");
    for (const auto& [fn, bytes] : added) {
      grow.bind(1, static_cast<int64_t>(bytes));
      grow.bind(2, fn);
      grow.exec();
      grow.reset();
    }
    SQLite::Statement seq(*db_, "UPDATE meta SET value = max(value, ?1) WHERE key = 'last_seq'");
    seq.bind(1, static_cast<int64_t>(lastSeq));
    seq.exec();
    tx.commit();
  } catch (const std::exception& e) {
    // Ids made in the rolled-back transaction are gone: look them up again.
    try {
      loadIds();
    } catch (...) {
    }
    return sqlError(file_, e);
  }
  return {};
}

Result<LogStore::Pass> LogStore::enforce(const RetentionOf& retentionOf, std::chrono::system_clock::time_point now,
                                         size_t budget) {
  Pass pass;
  try {
    Tx tx(*db_, "BEGIN IMMEDIATE");
    const auto left = [&] { return static_cast<int64_t>(budget - std::min<uint64_t>(budget, pass.deletedLines)); };
    // Deleted functions first: their lines are of no use to anyone.
    std::vector<int64_t> dropped;
    {
      SQLite::Statement q(*db_, "SELECT id FROM functions WHERE dropped = 1");
      while (q.executeStep()) dropped.push_back(q.getColumn(0).getInt64());
    }
    for (int64_t fn : dropped) {
      if (left() == 0) break;
      SQLite::Statement del(*db_,
                            "DELETE FROM lines WHERE id IN (SELECT id FROM lines INDEXED BY lines_fn WHERE fn = ?1 "
                            "ORDER BY id LIMIT ?2)");
      del.bind(1, fn);
      del.bind(2, left());
      const int n = del.exec();
      pass.deletedLines += static_cast<uint64_t>(n);
      if (left() > 0) {  // nothing of it left
        SQLite::Statement gone(*db_, "DELETE FROM functions WHERE id = ?1");
        gone.bind(1, fn);
        gone.exec();
      }
    }
    struct Live {
      int64_t id;
      std::string name;
      int64_t bytes;
    };
    std::vector<Live> live;
    {
      SQLite::Statement q(*db_, "SELECT id, name, bytes FROM functions WHERE dropped = 0");
      while (q.executeStep())
        live.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getInt64()});
    }
    // Sums what a DELETE ... RETURNING <cost> took away.
    auto removed = [&](SQLite::Statement& del) {
      int64_t bytes = 0;
      while (del.executeStep()) {
        bytes += del.getColumn(0).getInt64();
        pass.deletedLines++;
      }
      return bytes;
    };
    for (auto& f : live) {
      if (left() == 0) break;
      const auto r = retentionOf(f.name);
      if (!r) {
        // The function is gone (deleted through another node): drop its
        // lines like a delete here would, from the next pass on.
        SQLite::Statement drop(*db_, "UPDATE functions SET dropped = 1 WHERE id = ?1");
        drop.bind(1, f.id);
        drop.exec();
        ids_.erase(f.name);
        pass.more = true;
        continue;
      }
      int64_t bytes = f.bytes;
      if (r->maxAge.count() > 0) {
        const int64_t cutoff = toMicros(now - r->maxAge);
        SQLite::Statement del(*db_, std::string("DELETE FROM lines WHERE id IN (SELECT id FROM lines INDEXED BY "
                                                "lines_time WHERE fn = ?1 AND time_us < ?2 ORDER BY time_us LIMIT ?3) "
                                                "RETURNING ") + kCostSql);
        del.bind(1, f.id);
        del.bind(2, cutoff);
        del.bind(3, left());
        bytes -= removed(del);
      }
      if (r->maxBytes > 0 && bytes > static_cast<int64_t>(r->maxBytes) && left() > 0) {
        // The oldest lines whose bytes cover the excess (within the budget).
        const int64_t excess = bytes - static_cast<int64_t>(r->maxBytes);
        SQLite::Statement oldest(*db_, std::string("SELECT id, ") + kCostSql +
                                           " FROM lines INDEXED BY lines_fn WHERE fn = ?1 ORDER BY id LIMIT ?2");
        oldest.bind(1, f.id);
        oldest.bind(2, left());
        int64_t upTo = 0, covered = 0;
        while (covered < excess && oldest.executeStep()) {
          upTo = oldest.getColumn(0).getInt64();
          covered += oldest.getColumn(1).getInt64();
        }
        oldest.reset();
        if (upTo > 0) {
          SQLite::Statement del(*db_, std::string("DELETE FROM lines WHERE fn = ?1 AND id <= ?2 RETURNING ") + kCostSql);
          del.bind(1, f.id);
          del.bind(2, upTo);
          bytes -= removed(del);
        }
      }
      if (bytes != f.bytes) {
        SQLite::Statement set(*db_, "UPDATE functions SET bytes = ?1 WHERE id = ?2");
        set.bind(1, std::max<int64_t>(bytes, 0));
        set.bind(2, f.id);
        set.exec();
      }
    }
    if (left() == 0) pass.more = true;
    tx.commit();
    // Hand freed pages back to the file system, a bounded number per pass,
    // once there are many (new lines reuse a few free pages anyway).
    const int64_t freePages = db_->execAndGet("PRAGMA freelist_count").getInt64();
    if (freePages > 4096) db_->exec("PRAGMA incremental_vacuum(4096)");
  } catch (const std::exception& e) {
    try {
      loadIds();
    } catch (...) {
    }
    return sqlError(file_, e);
  }
  return pass;
}

std::unique_ptr<SQLite::Database> LogStore::reader() {
  {
    std::lock_guard lock(readersMu_);
    if (!readers_.empty()) {
      auto db = std::move(readers_.back());
      readers_.pop_back();
      return db;
    }
  }
  auto db = std::make_unique<SQLite::Database>(file_.string(), SQLite::OPEN_READONLY);
  db->setBusyTimeout(5000);
  return db;
}

void LogStore::giveBack(std::unique_ptr<SQLite::Database> db) {
  std::lock_guard lock(readersMu_);
  if (readers_.size() < 4) readers_.push_back(std::move(db));
}

Result<Page> LogStore::read(const std::string& function, const Query& q) {
  std::unique_ptr<SQLite::Database> db;
  try {
    db = reader();
    Page page;
    {
      // One snapshot: the newest seq and the lines agree, so a position
      // moved to the end of what was seen never passes a line that commits
      // later (the writer commits sequence numbers in order).
      Tx tx(*db, "BEGIN");
      int64_t fn = 0;
      {
        SQLite::Statement id(*db, "SELECT id FROM functions WHERE name = ?1 AND dropped = 0");
        id.bind(1, function);
        if (id.executeStep()) fn = id.getColumn(0).getInt64();
      }
      uint64_t last = 0;
      if (fn) {
        SQLite::Statement max(*db, "SELECT coalesce(max(id), 0) FROM lines INDEXED BY lines_fn WHERE fn = ?1");
        max.bind(1, fn);
        if (max.executeStep()) last = static_cast<uint64_t>(max.getColumn(0).getInt64());
      }
      // `since` and `until` become a range of seq (lines are numbered in
      // the order they were stamped, so time and seq go up together but
      // across a step back of the clock); the scan still checks each time.
      uint64_t lo = q.after, hi = last;
      if (fn && q.sinceUs) {
        SQLite::Statement first(*db,
                                "SELECT id FROM lines INDEXED BY lines_time WHERE fn = ?1 AND time_us >= ?2 "
                                "ORDER BY time_us, id LIMIT 1");
        first.bind(1, fn);
        first.bind(2, *q.sinceUs);
        if (first.executeStep())
          lo = std::max<uint64_t>(lo, static_cast<uint64_t>(first.getColumn(0).getInt64()) - 1);
        else
          lo = std::max(lo, hi);
      }
      if (fn && q.untilUs) {
        SQLite::Statement lastBefore(*db,
                                     "SELECT id FROM lines INDEXED BY lines_time WHERE fn = ?1 AND time_us < ?2 "
                                     "ORDER BY time_us DESC, id DESC LIMIT 1");
        lastBefore.bind(1, fn);
        lastBefore.bind(2, *q.untilUs);
        hi = lastBefore.executeStep() ? std::min<uint64_t>(hi, lastBefore.getColumn(0).getInt64()) : lo;
      }
      Query bounded = q;
      bounded.after = lo;
      PageScan scan(bounded, std::max(hi, lo));
      if (fn && hi > lo) {
        const std::string order = q.tail ? " ORDER BY id DESC" : " ORDER BY id";
        const std::string sql =
            q.requestId.empty()
                ? "SELECT id, time_us, request_id, stream, version, line FROM lines INDEXED BY lines_fn "
                  "WHERE fn = ?1 AND id > ?2 AND id <= ?3" + order
                : "SELECT id, time_us, request_id, stream, version, line FROM lines INDEXED BY lines_request "
                  "WHERE fn = ?1 AND request_id = ?4 AND id > ?2 AND id <= ?3" + order;
        SQLite::Statement rows(*db, sql);
        rows.bind(1, fn);
        rows.bind(2, static_cast<int64_t>(lo));
        rows.bind(3, static_cast<int64_t>(hi));
        if (!q.requestId.empty()) rows.bind(4, q.requestId);
        while (rows.executeStep()) {
          const auto seq = static_cast<uint64_t>(rows.getColumn(0).getInt64());
          const int64_t us = rows.getColumn(1).getInt64();
          const auto rid = rows.getColumn(2);
          const auto text = rows.getColumn(5);
          const std::string_view ridView(rid.getText(), static_cast<size_t>(rid.getBytes()));
          const std::string_view lineView(text.getText(), static_cast<size_t>(text.getBytes()));
          const bool go = scan.offer(seq, us, ridView, lineView, [&] {
            return Entry{seq, fromMicros(us), std::string(ridView), rows.getColumn(3).getInt(),
                         std::string(lineView), rows.getColumn(4).getInt64()};
          });
          if (!go) break;
        }
      }
      page = scan.finish(last);
      // A `since` past every line: nothing before it will be asked again.
      page.scannedTo = std::max(page.scannedTo, q.after);
      tx.commit();
    }
    giveBack(std::move(db));
    return page;
  } catch (const std::exception& e) {
    return sqlError(file_, e);
  }
}

Result<std::vector<std::pair<std::string, uint64_t>>> LogStore::usage() {
  try {
    auto db = reader();
    std::vector<std::pair<std::string, uint64_t>> out;
    {
      SQLite::Statement q(*db, "SELECT name, bytes FROM functions WHERE dropped = 0 ORDER BY name");
      while (q.executeStep()) out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getInt64());
    }
    giveBack(std::move(db));
    return out;
  } catch (const std::exception& e) {
    return sqlError(file_, e);
  }
}

}  // namespace fn0::logs
