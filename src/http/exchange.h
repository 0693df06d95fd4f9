// The contract between the HTTP layer and whatever answers requests: one
// Exchange per request, driven by a Handler coroutine. The HTTP layer owns
// parsing, limits on the wire (431/413 before anything runs), timeouts,
// keep-alive and the access log; the handler reads the body and writes the
// response as streams.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fn0::http {

namespace asio = boost::asio;
using Header = std::pair<std::string, std::string>;

struct Request {
  std::string method;
  std::string target;  // path and query as sent
  std::string host;    // Host header, port included
  std::vector<Header> headers;
  std::optional<uint64_t> contentLength;
  bool chunked = false;
  std::string requestId;
  std::string remote;
};

struct BodyPiece {
  enum Kind { Data, End, TooLarge, Failed } kind = End;
  std::span<const uint8_t> data;  // valid until the next readBody
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const Request& request() const = 0;

  // The next piece of the request body.
  virtual asio::awaitable<BodyPiece> readBody() = 0;
  // Stops a readBody in progress (it returns Failed) and any later ones; the
  // connection will not be reused.
  virtual void cancelBody() = 0;
  virtual bool bodyDone() const = 0;

  // Starts the response. Without `contentLength` the body is chunked.
  virtual asio::awaitable<bool> writeHead(int status, const std::vector<Header>& headers,
                                          std::optional<uint64_t> contentLength) = 0;
  virtual asio::awaitable<bool> writeBody(std::span<const uint8_t> data) = 0;
  virtual asio::awaitable<bool> finish() = 0;
  // The whole response at once (head, body with its length, end): one write
  // on the wire instead of three. Instead of writeHead/writeBody/finish.
  virtual asio::awaitable<bool> writeWhole(int status, const std::vector<Header>& headers,
                                           std::span<const uint8_t> body) = 0;
  // The response broke off: close the connection so the client sees it.
  virtual void abort() = 0;
  virtual bool headSent() const = 0;
  // The response's status once its head was sent, else 0.
  virtual int responseStatus() const = 0;

  // For the access log.
  virtual void annotate(std::string key, std::string value) = 0;
  // A request forwarded by a cluster peer: its request id and client
  // address are the ones the peer gave it (see cluster/peers.h).
  virtual void adoptOrigin(std::string requestId, std::string remote) = 0;
  // The server is shutting down: long-lived responses should end.
  virtual bool stopping() const = 0;
};

using Handler = std::function<asio::awaitable<void>(Exchange&)>;

// A complete small response (errors, JSON).
asio::awaitable<bool> respond(Exchange& ex, int status, std::vector<Header> headers, std::string body);

// Whether the same request, sent again a little later, may succeed: the
// node or the cluster was full (`overloaded`, `too-many-connections`), is
// shutting down, or a store it needs was briefly out of reach. Only these
// errors carry `Retry-After`; a limit the request itself overran (CPU,
// memory, duration, sizes) or a crash would happen again, so a client told
// to retry would only add load.
bool retryHelps(std::string_view reason);

}  // namespace fn0::http
