// Where component originals (and, in a cluster, compiled artifacts) live:
// a directory (the data directory by default, or a shared mount such as
// NFS) or an S3-compatible bucket. Objects are content-addressed and written
// once, so several nodes may write the same key at the same time: every
// writer writes the same bytes, and a reader never sees a partial object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace fn0::store {

// Error codes (Error::code) a store returns.
inline constexpr const char* kStoreUnavailable = "store-unavailable";  // cannot reach the server / directory
inline constexpr const char* kStoreDenied = "store-denied";            // credentials refused, no permission
inline constexpr const char* kStoreNoBucket = "store-no-bucket";       // the bucket (or directory) does not exist

// One object as a listing shows it.
struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // When it was last written, unix milliseconds (a file's mtime, an S3
  // object's LastModified): the garbage collector's grace period is
  // measured from it.
  int64_t modifiedMs = 0;
};

class CodeStore {
 public:
  virtual ~CodeStore() = default;
  // For messages and logs: "file:///srv/fn0" or "s3://bucket (http://host:port)". Never a secret.
  virtual std::string describe() const = 0;
  // Start-up check: reachable, credentials accepted, bucket or directory
  // there and writable. The error names the problem (and has a code above).
  virtual Result<void> check() = 0;
  // Writes `bytes` under `key` unless an object is already there.
  virtual Result<void> put(const std::string& key, std::span<const uint8_t> bytes) = 0;
  // The object's bytes, std::nullopt when there is none.
  virtual Result<std::optional<std::vector<uint8_t>>> get(const std::string& key) = 0;
  virtual Result<bool> exists(const std::string& key) = 0;
  // Removes the object if there (no error when absent).
  virtual Result<void> remove(const std::string& key) = 0;
  // Every object under the folder `prefix` ("sha256", "artifacts"; a
  // missing folder lists nothing), in no particular order.
  virtual Result<std::vector<ObjectInfo>> list(const std::string& prefix) = 0;
};

// "file:///abs/path" or "s3://BUCKET[?endpoint=http://HOST:PORT]" (S3
// credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION,
// region default us-east-1). Only parses and builds: call check() to probe.
Result<std::unique_ptr<CodeStore>> openCodeStore(const std::string& url);
// A directory store at `dir` (created if missing).
std::unique_ptr<CodeStore> openDirectoryStore(const std::filesystem::path& dir);

// Keys. Originals: "sha256/<first two hex>/<hash>" (the data directory's
// blobs/ layout, so an existing node keeps its blobs). Artifacts:
// "artifacts/<engine fingerprint>/<hash>.cwasm".
std::string componentKey(const std::string& hash);
std::string artifactKey(const std::string& hash, const std::string& fingerprint);

}  // namespace fn0::store
