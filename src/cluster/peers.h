// Node-to-node HTTP/1.1: forwarding a client's request to the peer that
// will run it, over pooled keep-alive connections, both bodies streamed
// (never held whole), and small GETs for fan-out (logs). A forwarded
// request carries the cluster's forward token, so a peer trusts its request
// id and client address and runs it itself: at most one hop.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "http/exchange.h"

namespace fn0::cluster {

// Request headers of the node-to-node protocol (a client's are dropped).
inline constexpr const char* kForwardedHeader = "fn0-forwarded";     // the forward token
inline constexpr const char* kForwardedByHeader = "fn0-forwarded-by";  // the sending node
inline constexpr const char* kClientHeader = "fn0-client";          // the client's address
inline constexpr const char* kVersionHeader = "fn0-forwarded-version";  // the version the sender resolved
inline constexpr const char* kNodeHeader = "fn0-node";              // response: the node that ran it

// The token peers prove they belong to the cluster with, from its key.
std::string forwardToken(const std::string& clusterKey);

enum class Forwarded {
  Done,         // the peer's response went to the client (complete, or cut off)
  Rejected,     // the peer is full; nothing was sent or consumed: try another
  Unreachable,  // no connection, or it broke before any answer; nothing consumed: try another
  Failed,       // broke after the request body was consumed; nothing more can be tried
};

struct PeerReply {
  int status = 0;
  std::vector<http::Header> headers;
  std::string body;
  std::string header(const std::string& name) const;
};

class Peers {
 public:
  // `waitForAnswer`: how long a peer may take to start its answer, and to
  // move the next piece of a body (its own limits end a guest sooner).
  Peers(std::string selfId, std::string token, std::chrono::milliseconds waitForAnswer);
  ~Peers();
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  // `extra`: more node-to-node headers (kVersionHeader).
  boost::asio::awaitable<Forwarded> forward(http::Exchange& ex, const std::string& address,
                                            std::vector<http::Header> extra = {});
  // A small GET (whole body, at most maxBody bytes), with the forward token.
  // `method` may be another without a request body (POST: the garbage
  // collector asking a peer to sweep its own files).
  boost::asio::awaitable<Result<PeerReply>> get(const std::string& address, const std::string& target,
                                                std::vector<http::Header> headers, size_t maxBody,
                                                const std::string& method = "GET");

  // Forwards this node has in flight to `address`.
  uint32_t inflight(const std::string& address) const;
  // Drops the idle connections (before the I/O contexts go).
  void close();

  struct Stats {
    uint64_t connects = 0, reused = 0;
  };
  Stats stats() const;

  struct Conn;

 private:
  std::unique_ptr<Conn> take(const boost::asio::any_io_executor& ex, const std::string& address);
  void giveBack(const std::string& address, std::unique_ptr<Conn> c);
  boost::asio::awaitable<std::unique_ptr<Conn>> open(const std::string& address, std::string& error);
  class Inflight;

  const std::string self_, token_;
  const std::chrono::milliseconds wait_;
  mutable std::mutex mu_;
  std::map<std::pair<const void*, std::string>, std::vector<std::unique_ptr<Conn>>> idle_;
  std::unordered_map<std::string, uint32_t> inflight_;
  Stats stats_;
};

}  // namespace fn0::cluster
