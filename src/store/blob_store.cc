#include "store/blob_store.h"

#include "common/files.h"
#include "common/sha256.h"

namespace fn0::store {

bool isSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

BlobStore::BlobStore(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_ / "sha256");
}

std::filesystem::path BlobStore::pathOf(const std::string& hash) const {
  return dir_ / "sha256" / hash.substr(0, 2) / hash;
}

bool BlobStore::has(const std::string& hash) const {
  std::error_code ec;
  return isSha256Hex(hash) && std::filesystem::is_regular_file(pathOf(hash), ec);
}

Result<std::string> BlobStore::put(std::span<const uint8_t> bytes) {
  std::string hash = sha256Hex(bytes);
  if (auto r = putWithHash(hash, bytes); !r) return r.error();
  return hash;
}

Result<void> BlobStore::putWithHash(const std::string& hash, std::span<const uint8_t> bytes) {
  if (!isSha256Hex(hash)) return Error{"not a sha256 hash: " + hash};
  if (has(hash)) return {};
  std::error_code ec;
  std::filesystem::create_directories(pathOf(hash).parent_path(), ec);
  if (ec) return Error{"cannot create blob directory: " + ec.message()};
  return writeFileAtomically(pathOf(hash), bytes);
}

Result<std::vector<uint8_t>> BlobStore::get(const std::string& hash) const {
  if (!isSha256Hex(hash)) return Error{"not a sha256 hash: " + hash};
  return readFile(pathOf(hash));
}

}  // namespace fn0::store
