#include "cli/oidc_login.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace fn0::cli {

using nlohmann::json;

namespace {

// The node's error as an Error: its code and message, or the status.
Error nodeError(const Reply& r, const std::string& what) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return Error{j["message"].get<std::string>(), j.value("error", "failed")};
  return Error{what + ": the node answered HTTP " + std::to_string(r.status), "bad-answer"};
}

}  // namespace

Result<DeviceLogin> deviceLogin(const Client& node,
                                const std::function<void(const std::string&, const std::string&)>& show) {
  auto start = node.callPlatform("POST", "/_fn0/auth/oidc/device");
  if (!start) return start.error();
  if (start->status != 200) return nodeError(*start, "device login");
  json d = json::parse(start->body, nullptr, false);
  if (!d.is_object() || !d.contains("handle") || !d["handle"].is_string())
    return Error{"the node's answer to the device login is not what this fn0 expects", "bad-answer"};
  const std::string handle = d["handle"].get<std::string>();
  const std::string complete =
      d.contains("verification_uri_complete") && d["verification_uri_complete"].is_string()
          ? d["verification_uri_complete"].get<std::string>()
          : "";
  show(complete.empty() ? d.value("verification_uri", "") : complete, d.value("user_code", ""));
  int64_t interval = std::max<int64_t>(1, d.value("interval", 5));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(d.value("expires_in", 600) + 5);
  const std::string body = json{{"handle", handle}}.dump();
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    auto r = node.callPlatform("POST", "/_fn0/auth/oidc/device/poll", body, "application/json");
    if (!r) return r.error();
    if (r->status != 200) return nodeError(*r, "device login");
    json p = json::parse(r->body, nullptr, false);
    if (!p.is_object()) return Error{"the node's answer to a device poll is not JSON", "bad-answer"};
    if (p.value("status", "") == "pending") {
      interval = std::clamp<int64_t>(p.value("interval", interval), 1, 60);
      continue;
    }
    DeviceLogin out;
    out.token = p.value("token", "");
    out.role = p.value("role", "");
    out.subject = p.value("subject", "");
    out.expiresAt = p.value("expires_at", int64_t{0});
    if (out.token.empty()) return Error{"the node's answer to a device poll has no token", "bad-answer"};
    return out;
  }
  return Error{"the code was not entered in time: run fn0 login --oidc again", "expired"};
}

}  // namespace fn0::cli
