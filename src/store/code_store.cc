// Opening a code store from its URL (file:///abs/path or
// s3://BUCKET[?endpoint=…]), and the key layout shared by every store.
#include "store/code_store.h"

#include <random>

#include "store/key.h"
#include "store/s3_store.h"

namespace fn0::store {
namespace {

constexpr const char* kExpected =
    "expected file:///absolute/path or s3://BUCKET (optionally s3://BUCKET?endpoint=http://HOST:PORT)";

Error badUrl(const std::string& url, const std::string& why) {
  return Error{"invalid code store URL '" + url + "': " + why + "; " + kExpected};
}

// S3's bucket naming rules (the subset every S3 server accepts).
bool validBucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return alnum(b.front()) && alnum(b.back()) && b.find("..") == std::string::npos;
}

Result<std::unique_ptr<CodeStore>> openS3(const std::string& url) {
  std::string rest = url.substr(5);  // after "s3://"
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  if (rest.find('/') != std::string::npos && rest.find('/') != rest.size() - 1) {
    return badUrl(url, "a key prefix after the bucket is not supported");
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) return badUrl(url, "no bucket name");
  if (!validBucket(rest)) {
    return badUrl(url, "'" + rest + "' is not a valid bucket name (3-63 characters: a-z, 0-9, '-', '.')");
  }
  std::string endpoint;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string param = query.substr(0, amp);
    query = amp == std::string::npos ? "" : query.substr(amp + 1);
    if (param.rfind("endpoint=", 0) != 0) return badUrl(url, "unknown parameter '" + param + "' (only endpoint=)");
    endpoint = param.substr(9);
    bool http = endpoint.rfind("http://", 0) == 0, https = endpoint.rfind("https://", 0) == 0;
    std::string host = endpoint.substr(http ? 7 : https ? 8 : 0);
    if (!host.empty() && host.back() == '/') host.pop_back();
    if ((!http && !https) || host.empty() || host.find('/') != std::string::npos) {
      return badUrl(url, "the endpoint '" + endpoint + "' is not http://HOST[:PORT] or https://HOST[:PORT]");
    }
  }
  return openS3Store(rest, endpoint);
}

}  // namespace

Result<std::unique_ptr<CodeStore>> openCodeStore(const std::string& url) {
  if (url.rfind("file://", 0) == 0) {
    std::string path = url.substr(7);
    if (path.empty() || path.front() != '/') {
      return badUrl(url, "a file URL needs an absolute path (three slashes: file:///srv/fn0)");
    }
    if (path.find_first_of("?#") != std::string::npos) return badUrl(url, "a file URL takes no query");
    return openDirectoryStore(path);
  }
  if (url.rfind("s3://", 0) == 0) return openS3(url);
  if (!url.empty() && url.front() == '/') return badUrl(url, "a bare path is not a URL (write file://" + url + ")");
  return badUrl(url, "unknown scheme");
}

std::string componentKey(const std::string& hash) { return "sha256/" + hash.substr(0, 2) + "/" + hash; }

std::string artifactKey(const std::string& hash, const std::string& fingerprint) {
  return "artifacts/" + fingerprint + "/" + hash + ".cwasm";
}

Result<void> checkKey(const std::string& key) {
  auto bad = [&](const std::string& why) { return Error{"invalid object key '" + key + "': " + why}; };
  if (key.empty() || key.size() > 512) return bad("must be 1 to 512 bytes");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string segment = key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return bad("empty, '.' or '..' path segment");
    for (char c : segment) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-';
      if (!ok) return bad("only A-Z a-z 0-9 . _ - and '/' are allowed");
    }
    start = end + 1;
  }
  return {};
}

Result<void> probeRoundTrip(CodeStore& store) {
  std::random_device rd;
  const std::string key = "fn0-probe/" + std::to_string(rd()) + std::to_string(rd());
  const std::vector<uint8_t> probe = {'f', 'n', '0'};
  if (auto r = store.put(key, probe); !r) return r;
  auto back = store.get(key);
  if (!back) return back.error();
  auto removed = store.remove(key);
  if (!*back || **back != probe)
    return Error{"the code store " + store.describe() + " did not read back what was written"};
  return removed;
}

}  // namespace fn0::store
