#include "admin/auth.h"

#include <algorithm>
#include <cctype>

#include "admin/request_util.h"
#include "common/sha256.h"

namespace fn0::admin {

namespace {

bool equalsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string sha256Of(const std::string& s) {
  return sha256Hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool isSafeMethod(std::string_view m) { return m == "GET" || m == "HEAD"; }

std::string cookieValue(const http::Request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (!equalsNoCase(k, "cookie")) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) return std::string(trim(pair.substr(eq + 1)));
    }
  }
  return "";
}

bool sameOrigin(const http::Request& r) {
  const std::string origin = requestHeader(r, "origin");
  if (origin.empty()) return true;  // not a browser's cross-site request: those always say where they come from
  const auto scheme = origin.find("://");
  if (scheme == std::string::npos) return false;  // "null" and the like
  const std::string authority = origin.substr(scheme + 3);
  if (equalsNoCase(authority, r.host)) return true;
  const std::string forwarded = requestHeader(r, "x-forwarded-host");
  return !forwarded.empty() && equalsNoCase(authority, forwarded);
}

bool csrfOk(const http::Request& r, const std::string& csrf) {
  const std::string presented = requestHeader(r, "x-csrf-token");
  return !csrf.empty() && !presented.empty() && constantTimeEqual(presented, csrf) && sameOrigin(r);
}

bool viaTls(const http::Request& r) { return equalsNoCase(requestHeader(r, "x-forwarded-proto"), "https"); }

std::string sessionCookie(const std::string& value, std::chrono::seconds maxAge, bool secure) {
  return std::string(kSessionCookie) + "=" + value + "; Path=/_fn0/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(maxAge.count()) + (secure ? "; Secure" : "");
}

std::string clearedSessionCookie(bool secure) {
  return std::string(kSessionCookie) + "=; Path=/_fn0/; HttpOnly; SameSite=Strict; Max-Age=0" + (secure ? "; Secure" : "");
}

std::string oidcBindingCookie(const std::string& value, std::chrono::seconds maxAge, bool secure) {
  return std::string(kOidcBindingCookie) + "=" + value + "; Path=/_fn0/auth/oidc/; HttpOnly; SameSite=Lax; Max-Age=" +
         std::to_string(value.empty() ? 0 : maxAge.count()) + (secure ? "; Secure" : "");
}

std::string clientAddress(const http::Request& r) {
  const auto colon = r.remote.rfind(':');
  return colon == std::string::npos ? r.remote : r.remote.substr(0, colon);
}

int64_t LoginLimiter::retryAfter(const std::string& client, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return 0;
  const auto end = it->second.start + window_;
  if (now >= end) {
    clients_.erase(it);
    return 0;
  }
  if (it->second.failures < maxFailures_) return 0;
  return std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(end - now).count());
}

void LoginLimiter::failed(const std::string& client, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  if (clients_.size() >= kMaxClients && !clients_.count(client)) {
    // Make room: windows that ended first; if none has, the oldest one.
    std::erase_if(clients_, [&](const auto& kv) { return now >= kv.second.start + window_; });
    if (clients_.size() >= kMaxClients) {
      auto oldest = std::min_element(clients_.begin(), clients_.end(),
                                     [](const auto& a, const auto& b) { return a.second.start < b.second.start; });
      clients_.erase(oldest);
    }
  }
  auto& w = clients_[client];
  if (w.failures == 0 || now >= w.start + window_) w = Window{now, 0};
  w.failures++;
}

void LoginLimiter::succeeded(const std::string& client) {
  std::lock_guard lock(mu_);
  clients_.erase(client);
}

std::optional<registry::Registry::Session> SessionCache::get(const std::string& idHash,
                                                              std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(idHash);
  if (it == entries_.end()) return std::nullopt;
  if (now - it->second.fetched > kTtl) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.session;
}

void SessionCache::put(const registry::Registry::Session& s, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries) entries_.clear();  // a burst of logins: start over, at worst a few reads more
  entries_[s.idHash] = Entry{s, now};
}

void SessionCache::erase(const std::string& idHash) {
  std::lock_guard lock(mu_);
  entries_.erase(idHash);
}

}  // namespace fn0::admin
