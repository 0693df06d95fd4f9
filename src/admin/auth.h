// Who is calling the admin API: a bearer token (the CLI, scripts) or a
// dashboard session cookie. The pieces that need no database: reading the
// cookie, the CSRF and same-origin checks a cookie-carried write must pass,
// the Set-Cookie values, the limit on failed logins per client address and
// the short-lived cache of sessions looked up. The lookups themselves are
// AdminApi's (session_views.cc), on the registry pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/exchange.h"
#include "registry/registry.h"

namespace fn0::admin {

inline constexpr const char* kSessionCookie = "fn0_session";
inline constexpr std::chrono::seconds kSessionLifetime{12 * 3600};
// A session the CLI holds (`fn0 login --oidc`) is sent as a bearer
// credential that starts with this, never as a cookie.
inline constexpr const char* kSessionBearerPrefix = "fn0s_";
// The browser binding of an OIDC login in progress (oidc_views.cc): only
// the browser that began the login may finish it.
inline constexpr const char* kOidcBindingCookie = "fn0_oidc";

struct Caller {
  enum class Via { Nobody, Token, Session };
  Via via = Via::Nobody;
  std::string role;       // admin, deployer, viewer
  std::string subject;    // a token's name, a person
  registry::TokenInfo token;  // the token used (for a deployer: the functions it covers)
  std::string tokenHash;  // the bearer token, or the one the session was made with
  std::string sessionHash;
  std::string csrf;
  int64_t expiresAt = 0;
  // A session presented in the Authorization header (the CLI's): a
  // browser never sends that on its own, so it needs no CSRF token.
  bool bearer = false;
  explicit operator bool() const { return via != Via::Nobody; }
};

// sha256 hex of a secret (a cookie, a token, an OIDC state): what the
// registry keeps instead of it.
std::string sha256Of(const std::string& secret);
int64_t unixNow();

// GET and HEAD change nothing: they need no CSRF token.
bool isSafeMethod(std::string_view method);

// The value of cookie `name` in the request's Cookie headers, "" if absent.
std::string cookieValue(const http::Request& r, std::string_view name);

// A cookie-carried request that changes something must echo the session's
// CSRF token in X-CSRF-Token, and any Origin it sends must be this node as
// the client reached it (Host, or X-Forwarded-Host behind a proxy): a page
// on another site can make a browser send the cookie, but can neither read
// the token nor forge its Origin.
bool csrfOk(const http::Request& r, const std::string& csrf);
bool sameOrigin(const http::Request& r);

// The request reached a TLS-terminating proxy first (X-Forwarded-Proto:
// https): the cookie is then marked Secure.
bool viaTls(const http::Request& r);
std::string sessionCookie(const std::string& value, std::chrono::seconds maxAge, bool secure);
std::string clearedSessionCookie(bool secure);
// The OIDC binding cookie: SameSite=Lax, since it must come back with the
// provider's redirect (a cross-site top-level navigation), and only to
// /_fn0/auth/oidc/; `value` "" clears it.
std::string oidcBindingCookie(const std::string& value, std::chrono::seconds maxAge, bool secure);

// The client's address without its port ("1.2.3.4:5678" -> "1.2.3.4").
std::string clientAddress(const http::Request& r);

// At most `maxFailures` failed logins per client address within `window`;
// past that, refused until the window ends. Bounded: at most kMaxClients
// addresses are tracked (the oldest windows make room).
class LoginLimiter {
 public:
  static constexpr size_t kMaxClients = 10000;
  explicit LoginLimiter(uint32_t maxFailures = 5, std::chrono::seconds window = std::chrono::seconds(60))
      : maxFailures_(maxFailures), window_(window) {}
  // 0 when `client` may try now, else the seconds until it may.
  int64_t retryAfter(const std::string& client, std::chrono::steady_clock::time_point now);
  void failed(const std::string& client, std::chrono::steady_clock::time_point now);
  void succeeded(const std::string& client);

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    uint32_t failures = 0;
  };
  const uint32_t maxFailures_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> clients_;
};

// Sessions read from the registry in the last few seconds, so a page's
// polling does not read the table on every call. Writes always read it
// afresh; a logout on this node drops the entry at once (another node of
// a cluster may honour a GET with it for up to the TTL).
class SessionCache {
 public:
  static constexpr std::chrono::seconds kTtl{10};
  static constexpr size_t kMaxEntries = 4096;
  std::optional<registry::Registry::Session> get(const std::string& idHash, std::chrono::steady_clock::time_point now);
  void put(const registry::Registry::Session& s, std::chrono::steady_clock::time_point now);
  void erase(const std::string& idHash);

 private:
  struct Entry {
    registry::Registry::Session session;
    std::chrono::steady_clock::time_point fetched;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace fn0::admin
