// The key-value store's threads: every operation runs here, never on an I/O
// thread or a guest thread. A job is queued, runs on a worker with its own
// connection, and reports once its write is durable (committed).
//
// SQLite: one worker, which takes every queued job at once and runs them in
// one transaction, each under its own savepoint (a refused one is rolled
// back alone): one fsync for the lot, and increments are exact because the
// worker is the only writer. PostgreSQL: a few workers, one transaction per
// job; the bucket row lock (kv_store.h) orders the writes to one bucket
// across workers and nodes.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "kv/kv_store.h"

namespace fn0::kv {

class KvService {
 public:
  // What a job does once its transaction committed.
  using Deliver = std::function<void()>;
  struct Job {
    bool write = false;
    // Runs the operation on a worker's store; returns what to report once
    // it is durable. Throws KvRejected (a refusal, reported to `fail`) or
    // registry::SqlError (the store failed).
    std::function<Deliver(KvStore&)> run;
    // Called instead when the job was refused or could not run: error code
    // kv-* (kv-unavailable when the database failed or is away).
    std::function<void(const Error&)> fail;
  };

  // Opens <file> (created if missing) and starts its worker.
  static Result<std::unique_ptr<KvService>> openSqlite(const std::string& file);
  // Connects `workers` connections to the database at `url`.
  static Result<std::unique_ptr<KvService>> openPostgres(const std::string& url, int workers = 4);

  // Stops the workers after the jobs already queued; later submits fail.
  ~KvService();

  void submit(Job job);
  // Runs `run` and waits for it (for the admin API, off the I/O threads).
  Result<void> runAndWait(bool write, std::function<void(KvStore&)> run);

  // Jobs queued and not yet started (for metrics).
  size_t queued() const;

 private:
  struct Worker {
    std::unique_ptr<KvStore> store;
    std::function<std::unique_ptr<registry::SqlConnection>()> reconnect;
    std::thread thread;
  };
  explicit KvService(size_t batch) : batch_(batch) {}
  void start(std::vector<std::unique_ptr<Worker>> workers);
  void loop(Worker& w);
  void runBatch(Worker& w, std::vector<Job>& jobs);

  const size_t batch_;  // jobs per transaction
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace fn0::kv
