// What a guest's wasi:keyvalue calls reach (engine/src/kv/ marshals them,
// fn0_engine.h "key-value store"): which buckets it may open, the limits,
// and the jobs queued on the KvService. Each request gets a KvSession; the
// engine's handler (`handleCall`) runs on a guest thread, checks the call
// against the session at once (no I/O) and queues the operation; the answer
// goes back from the store's thread when the write is durable.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fn0_engine.h"
#include "kv/kv_service.h"
#include "registry/registry.h"

namespace fn0::kv {

// Per node (the defaults and maxima), tightened per function by its
// settings (kv_max_*).
struct KvLimits {
  uint64_t maxKeyBytes = 512;
  uint64_t maxValueBytes = 1 << 20;
  uint64_t maxOpsPerRequest = 1000;  // a batch counts one per key
  uint64_t maxBytes = 64ull << 20;   // keys + values in one bucket
};

// The node's limits, tightened by a function's kv_max_* settings.
KvLimits functionKvLimits(const registry::FunctionSettings& settings, const KvLimits& node);

// Counted for /_fn0/metrics.
class KvMetrics {
 public:
  void operation(uint32_t op) {
    if (op < ops_.size()) ops_[op].fetch_add(1, std::memory_order_relaxed);
  }
  void error(const std::string& code);
  // name{labels} = value, for Metrics::addNodeGauges.
  std::vector<std::pair<std::string, double>> values() const;

 private:
  std::array<std::atomic<uint64_t>, 12> ops_{};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> errors_;
};

// The bucket names in the store.
std::string functionBucket(const std::string& function);
std::string sharedBucket(const std::string& name);

class KvSession;

class KvGuestApi {
 public:
  KvGuestApi(KvService& service, KvLimits nodeLimits) : service_(service), node_(nodeLimits) {}
  // The request's session: `function`'s own bucket, the shared ones it was
  // granted, its limits.
  std::shared_ptr<KvSession> session(const std::string& function, std::vector<std::string> sharedBuckets,
                                     const KvLimits& limits);
  const KvLimits& nodeLimits() const { return node_; }
  KvMetrics& metrics() { return metrics_; }
  KvService& service() { return service_; }

  // The fn0_kv_handler_t to install on the engine.
  static void handleCall(void* session, const fn0_kv_call_t* call, fn0_kv_done_t* done);

 private:
  KvService& service_;
  KvLimits node_;
  KvMetrics metrics_;
};

class KvSession : public std::enable_shared_from_this<KvSession> {
 public:
  KvSession(KvGuestApi& api, std::string function, std::vector<std::string> shared, KvLimits limits)
      : api_(api), function_(std::move(function)), shared_(std::move(shared)), limits_(limits) {}

  void call(const fn0_kv_call_t& call, fn0_kv_done_t* done);
  uint64_t operations() const { return ops_.load(std::memory_order_relaxed); }

 private:
  // The store's bucket for what the guest opened, or why not.
  std::optional<std::string> resolve(std::string_view identifier, uint32_t& status, std::string& why) const;
  // Checks keys, values and the operation budget; an error code + message.
  std::optional<std::pair<std::string, std::string>> check(const fn0_kv_call_t& call);

  KvGuestApi& api_;
  const std::string function_;
  const std::vector<std::string> shared_;
  const KvLimits limits_;
  std::atomic<uint64_t> ops_{0};
};

}  // namespace fn0::kv
