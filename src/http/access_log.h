// Structured access log: one JSON object per line per request.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace fn0::http {

struct AccessRecord {
  std::string requestId, remote, method, target, host;
  int status = 0;
  uint64_t bytesIn = 0, bytesOut = 0;
  double durationMs = 0;
  std::map<std::string, std::string> notes;  // function, version, error, ...
};

class AccessLog {
 public:
  // JSON lines to `out` (none: nullptr); `sink`, when set, gets each record too.
  explicit AccessLog(std::FILE* out, std::function<void(const AccessRecord&)> sink = {})
      : out_(out), sink_(std::move(sink)) {}
  void write(const AccessRecord& r);

 private:
  std::FILE* out_;
  std::function<void(const AccessRecord&)> sink_;
  std::mutex mu_;
};

}  // namespace fn0::http
