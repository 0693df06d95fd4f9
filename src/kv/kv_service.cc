#include "kv/kv_service.h"

#include <future>

namespace fn0::kv {

using registry::SqlConnection;
using registry::SqlError;

namespace {

Error storeFailed(const std::exception& e) {
  const auto* sql = dynamic_cast<const SqlError*>(&e);
  if (sql && sql->unavailable()) return Error{std::string("the key-value store is unavailable: ") + e.what(), "kv-unavailable"};
  return Error{std::string("the key-value store failed: ") + e.what(), "kv-unavailable"};
}

}  // namespace

Result<std::unique_ptr<KvService>> KvService::openSqlite(const std::string& file) {
  try {
    auto w = std::make_unique<Worker>();
    w->reconnect = [file] { return registry::openSqlite(file); };
    w->store = std::make_unique<KvStore>(w->reconnect());
    std::unique_ptr<KvService> s(new KvService(/*batch=*/256));
    std::vector<std::unique_ptr<Worker>> ws;
    ws.push_back(std::move(w));
    s->start(std::move(ws));
    return s;
  } catch (const std::exception& e) {
    return Error{"cannot open the key-value store " + file + ": " + e.what()};
  }
}

Result<std::unique_ptr<KvService>> KvService::openPostgres(const std::string& url, int workers) {
  try {
    std::vector<std::unique_ptr<Worker>> ws;
    for (int i = 0; i < workers; i++) {
      auto w = std::make_unique<Worker>();
      w->reconnect = [url] { return registry::openPostgres(url); };
      w->store = std::make_unique<KvStore>(w->reconnect());
      ws.push_back(std::move(w));
    }
    std::unique_ptr<KvService> s(new KvService(/*batch=*/1));
    s->start(std::move(ws));
    return s;
  } catch (const std::exception& e) {
    return Error{std::string("cannot open the key-value store on PostgreSQL: ") + e.what()};
  }
}

void KvService::start(std::vector<std::unique_ptr<Worker>> workers) {
  workers_ = std::move(workers);
  for (auto& w : workers_) w->thread = std::thread([this, raw = w.get()] { loop(*raw); });
}

KvService::~KvService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void KvService::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  job.fail(Error{"the key-value store is shutting down", "kv-unavailable"});
}

size_t KvService::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

Result<void> KvService::runAndWait(bool write, std::function<void(KvStore&)> run) {
  auto done = std::make_shared<std::promise<Result<void>>>();
  auto future = done->get_future();
  submit(Job{write,
             [run = std::move(run), done](KvStore& s) -> Deliver {
               run(s);
               return [done] { done->set_value(Result<void>()); };
             },
             [done](const Error& e) { done->set_value(e); }});
  return future.get();
}

void KvService::loop(Worker& w) {
  for (;;) {
    std::vector<Job> jobs;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      while (!queue_.empty() && jobs.size() < batch_) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    runBatch(w, jobs);
  }
}

void KvService::runBatch(Worker& w, std::vector<Job>& jobs) {
  auto failAll = [&](const Error& e) {
    for (auto& j : jobs) j.fail(e);
  };
  try {
    if (!w.store) w.store = std::make_unique<KvStore>(w.reconnect());
    w.store->connection().ensureConnected();
  } catch (const std::exception& e) {
    w.store.reset();  // reconnect (and recheck the schema) next time
    return failAll(storeFailed(e));
  }
  KvStore& store = *w.store;
  SqlConnection& c = store.connection();

  // A lone read needs no transaction.
  if (jobs.size() == 1 && !jobs[0].write) {
    try {
      auto deliver = jobs[0].run(store);
      deliver();
    } catch (const KvRejected& e) {
      jobs[0].fail(Error{e.what(), e.code()});
    } catch (const std::exception& e) {
      jobs[0].fail(storeFailed(e));
    }
    return;
  }

  // Each job under its own savepoint when there are several, so a refused
  // one leaves the others' writes in place.
  const bool several = jobs.size() > 1;
  std::vector<Deliver> delivers(jobs.size());
  std::vector<std::optional<Error>> refused(jobs.size());
  size_t done = 0;
  try {
    registry::SqlTransaction tx(c, SqlConnection::Tx::Write);
    for (size_t i = 0; i < jobs.size(); i++) {
      if (several) c.script("SAVEPOINT kv_job");
      try {
        delivers[i] = jobs[i].run(store);
        if (several) c.script("RELEASE SAVEPOINT kv_job");
      } catch (const KvRejected& e) {
        refused[i] = Error{e.what(), e.code()};
        if (several) c.script("ROLLBACK TO SAVEPOINT kv_job; RELEASE SAVEPOINT kv_job");
      }
      done = i + 1;
    }
    // A lone refused job: nothing to commit (the transaction rolls back).
    if (several || !refused[0]) tx.commit();
  } catch (const std::exception& e) {
    const Error err = storeFailed(e);
    for (size_t i = 0; i < jobs.size(); i++) jobs[i].fail(i < done && refused[i] ? *refused[i] : err);
    return;
  }
  for (size_t i = 0; i < jobs.size(); i++) {
    if (refused[i])
      jobs[i].fail(*refused[i]);
    else
      delivers[i]();
  }
}

}  // namespace fn0::kv
