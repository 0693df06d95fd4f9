#include "admin/request_util.h"

#include <strings.h>

#include "common/sha256.h"
#include "dispatch/respond.h"
#include "registry/registry.h"
#include "store/code_store.h"

namespace fn0::admin {

std::string bearerToken(const http::Request& r) {
  const std::string auth = requestHeader(r, "authorization");
  if (auth.rfind("Bearer ", 0) != 0 || auth.size() == 7) return "";
  return auth.substr(7);
}

std::string bearerHash(const http::Request& r) {
  const std::string token = bearerToken(r);
  if (token.empty()) return "";
  return sha256Hex({reinterpret_cast<const uint8_t*>(token.data()), token.size()});
}

std::string queryParam(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
    if (kv == name) return "true";
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

std::string requestHeader(const http::Request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

// 503 with the error's code when the registry database or the code store
// is away (the client may retry); otherwise `status`.
boost::asio::awaitable<void> failed(http::Exchange& ex, const Error& e, int status, std::string reason) {
  if (e.code == registry::kRegistryUnavailable || e.code == store::kStoreUnavailable || e.code == "kv-unavailable") {
    const std::string code = e.code;
    co_await dispatch::sendError(ex, 503, code, e.message);
    co_return;
  }
  co_await dispatch::sendError(ex, status, reason, e.message);
}

// Reads the whole request body (admin requests only; bounded).
boost::asio::awaitable<std::optional<std::string>> readAll(http::Exchange& ex, uint64_t limit) {
  std::string body;
  for (;;) {
    auto piece = co_await ex.readBody();
    if (piece.kind == http::BodyPiece::End) co_return body;
    if (piece.kind != http::BodyPiece::Data || body.size() + piece.data.size() > limit) co_return std::nullopt;
    body.append(reinterpret_cast<const char*>(piece.data.data()), piece.data.size());
  }
}

}  // namespace fn0::admin
