#include "http/access_log.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace fn0::http {

void AccessLog::write(const AccessRecord& r) {
  if (sink_) sink_(r);
  if (!out_) return;
  nlohmann::json j = {
      {"time", std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()},
      {"request_id", r.requestId},
      {"remote", r.remote},
      {"method", r.method},
      {"target", r.target},
      {"host", r.host},
      {"status", r.status},
      {"bytes_in", r.bytesIn},
      {"bytes_out", r.bytesOut},
      {"duration_ms", r.durationMs},
  };
  for (const auto& [k, v] : r.notes) j[k] = v;
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace fn0::http
