// The S3 code store: one bucket on an S3-compatible server, through the
// adapter's blocking S3 client (engine/src/store.rs, built on object_store:
// SigV4, retries, conditional put). This file only converts types and maps
// the adapter's error kinds to the store's error codes.
#include "store/s3_store.h"

#include <fn0_engine.h>

#include <cstdlib>

#include "store/key.h"

namespace fn0::store {
namespace {

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Takes ownership of `err` and turns it into an Error with a store code.
Error takeError(fn0_engine_error_t* err) {
  const char* data = nullptr;
  size_t len = 0;
  fn0_engine_error_message(err, &data, &len);
  std::string message(data, len);
  std::string code;
  switch (fn0_s3_error_kind(err)) {
    case FN0_S3_ERROR_UNAVAILABLE: code = kStoreUnavailable; break;
    case FN0_S3_ERROR_DENIED: code = kStoreDenied; break;
    case FN0_S3_ERROR_NO_BUCKET: code = kStoreNoBucket; break;
    default: break;
  }
  fn0_engine_error_delete(err);
  return Error{std::move(message), std::move(code)};
}

struct S3Deleter {
  void operator()(fn0_s3_t* s3) const { fn0_s3_delete(s3); }
};

class S3Store final : public CodeStore {
 public:
  S3Store(fn0_s3_t* s3, std::string describe) : s3_(s3), describe_(std::move(describe)) {}

  std::string describe() const override { return describe_; }

  // Writes, reads back and deletes a small object: reachability, the
  // credentials, the bucket and write permission in one go.
  Result<void> check() override {
    return probeRoundTrip(*this);
  }

  Result<void> put(const std::string& key, std::span<const uint8_t> bytes) override {
    if (auto k = checkKey(key); !k) return k;
    if (auto* err = fn0_s3_put(s3_.get(), u8(key), key.size(), bytes.data(), bytes.size())) return takeError(err);
    return {};
  }

  Result<std::optional<std::vector<uint8_t>>> get(const std::string& key) override {
    if (auto k = checkKey(key); !k) return k.error();
    uint32_t found = 0;
    fn0_bytes_t out{};
    if (auto* err = fn0_s3_get(s3_.get(), u8(key), key.size(), &found, &out)) return takeError(err);
    if (!found) return std::optional<std::vector<uint8_t>>{};
    std::vector<uint8_t> bytes(out.data, out.data + out.len);
    fn0_bytes_delete(&out);
    return std::optional<std::vector<uint8_t>>{std::move(bytes)};
  }

  Result<bool> exists(const std::string& key) override {
    if (auto k = checkKey(key); !k) return k.error();
    uint32_t there = 0;
    if (auto* err = fn0_s3_exists(s3_.get(), u8(key), key.size(), &there)) return takeError(err);
    return there != 0;
  }

  Result<void> remove(const std::string& key) override {
    if (auto k = checkKey(key); !k) return k;
    if (auto* err = fn0_s3_remove(s3_.get(), u8(key), key.size())) return takeError(err);
    return {};
  }

  // The adapter pages through ListObjectsV2 and answers one text: a line
  // "KEY\tSIZE\tLAST_MODIFIED_MS" per object (keys with a tab or a newline,
  // which fn0 never writes, are left out there).
  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    if (auto k = checkKey(prefix); !k) return k.error();
    fn0_bytes_t out{};
    if (auto* err = fn0_s3_list(s3_.get(), u8(prefix), prefix.size(), &out)) return takeError(err);
    std::string text(reinterpret_cast<const char*>(out.data), out.len);
    fn0_bytes_delete(&out);
    std::vector<ObjectInfo> objects;
    size_t at = 0;
    while (at < text.size()) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(at, end - at);
      at = end + 1;
      const size_t t1 = line.find('\t'), t2 = line.rfind('\t');
      if (t1 == std::string::npos || t2 == t1) continue;
      ObjectInfo o;
      o.key = line.substr(0, t1);
      o.size = std::strtoull(line.c_str() + t1 + 1, nullptr, 10);
      o.modifiedMs = std::strtoll(line.c_str() + t2 + 1, nullptr, 10);
      objects.push_back(std::move(o));
    }
    return objects;
  }

 private:
  std::unique_ptr<fn0_s3_t, S3Deleter> s3_;
  std::string describe_;
};

}  // namespace

Result<std::unique_ptr<CodeStore>> openS3Store(const std::string& bucket, const std::string& endpoint) {
  fn0_s3_t* s3 = nullptr;
  if (auto* err = fn0_s3_open(u8(bucket), bucket.size(), endpoint.empty() ? nullptr : u8(endpoint), endpoint.size(), &s3)) {
    return takeError(err);
  }
  std::string describe = "s3://" + bucket + " (" + (endpoint.empty() ? std::string("AWS") : endpoint) + ")";
  return std::unique_ptr<CodeStore>(std::make_unique<S3Store>(s3, std::move(describe)));
}

}  // namespace fn0::store
