// The key-value store's operations over one SQL connection (registry/sql.h):
// SQLite (one node, <data-dir>/kv.db) or PostgreSQL (a cluster, the
// registry's database). Written once in the dialect both take.
//
// A bucket is a name ("fn/<function>" for a function's own, "shared/<name>"
// for a shared one) and its entries: a key (UTF-8 text, no NUL) and a value
// (any bytes). Each bucket's row in kv_buckets counts its keys and bytes
// (key + value lengths); every write first locks that row, so the writes to
// one bucket are serialised, also between nodes on PostgreSQL: increments
// are exact and the byte count never drifts.
//
// Writes expect a transaction to be open (kv_service.cc opens it); reads
// run in one or without. A write the caller is refused (the bucket is full,
// not a number) throws KvRejected; a database failure throws SqlError.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "registry/sql.h"

namespace fn0::kv {

// A refusal the guest (or the admin) receives as an error: `code` is one
// of the documented kv-* codes (docs/kv.md).
class KvRejected : public std::runtime_error {
 public:
  KvRejected(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct KvUsage {
  uint64_t keys = 0, bytes = 0;
};

struct KvEntry {
  std::string key, value;
};

class KvStore {
 public:
  // Creates the tables if they are missing (serialised between nodes).
  explicit KvStore(std::unique_ptr<registry::SqlConnection> connection);

  registry::SqlConnection& connection() { return *c_; }

  std::optional<std::string> get(const std::string& bucket, const std::string& key);
  bool exists(const std::string& bucket, const std::string& key);
  std::vector<std::optional<std::string>> getMany(const std::string& bucket, const std::vector<std::string>& keys);

  // Keys in the order they were first written, `limit` at a time; `next` is
  // the cursor of the following page (absent on the last).
  struct KeyPage {
    std::vector<std::string> keys;
    std::optional<uint64_t> next;
  };
  KeyPage listKeys(const std::string& bucket, std::optional<uint64_t> cursor, size_t limit);

  // Writes; `maxBytes` bounds the bucket's keys + values (a write that
  // would grow it past that is refused, one that shrinks it never is).
  void set(const std::string& bucket, const std::string& key, const std::string& value, uint64_t maxBytes);
  void setMany(const std::string& bucket, const std::vector<KvEntry>& entries, uint64_t maxBytes);
  void remove(const std::string& bucket, const std::string& key);
  void removeMany(const std::string& bucket, const std::vector<std::string>& keys);
  // The value is a decimal number (what this returns is written back as
  // one); a missing key counts from 0. Refused (kv-not-a-number) when the
  // value is something else or the sum does not fit in 64 bits.
  uint64_t increment(const std::string& bucket, const std::string& key, uint64_t delta, uint64_t maxBytes);
  // The same over signed numbers (an optional '-' before the digits), for
  // wasi:keyvalue@0.2.0-draft2's increment; refused past the 64-bit range.
  int64_t incrementSigned(const std::string& bucket, const std::string& key, int64_t delta, uint64_t maxBytes);
  // Compare-and-swap: writes `value` only if the key holds `expected`
  // (none: the key is missing). Otherwise `swapped` is false and `current`
  // is what the key holds now.
  struct SwapResult {
    bool swapped = false;
    std::optional<std::string> current;
  };
  SwapResult swap(const std::string& bucket, const std::string& key, const std::optional<std::string>& expected,
                  const std::string& value, uint64_t maxBytes);

  // For people and tools: entries in key order, those starting with
  // `prefix`, after key `after`.
  std::vector<KvEntry> scan(const std::string& bucket, const std::string& prefix, const std::string& after,
                            size_t limit);
  KvUsage usage(const std::string& bucket);
  // Deletes every entry; returns how many there were.
  uint64_t dropBucket(const std::string& bucket);

 private:
  // Locks the bucket's row (creating it) and returns its usage.
  KvUsage lockBucket(const std::string& bucket);
  void saveUsage(const std::string& bucket, const KvUsage& u);
  // Adds or replaces one entry inside a locked bucket, updating `u`.
  void put(const std::string& bucket, const std::string& key, const std::string& value, KvUsage& u,
           uint64_t maxBytes);
  bool erase(const std::string& bucket, const std::string& key, KvUsage& u);

  std::unique_ptr<registry::SqlConnection> c_;
};

// Parses a stored counter: ASCII digits, no sign, no spaces, fits in 64 bits.
std::optional<uint64_t> parseCounter(const std::string& value);
// The same with an optional '-', within int64_t.
std::optional<int64_t> parseSignedCounter(const std::string& value);

}  // namespace fn0::kv
