// Asking every up peer the same kind of question at once: the admin API's
// cluster-wide views (logs, a function's metrics) are this node's answer
// plus each peer's own (`?local=true`, so a peer never asks further). A
// peer that has not answered within the deadline, or answered something
// other than 200 with JSON, is left out and named; the others' answers are
// used. All the GETs run at the same time, so the whole question takes as
// long as the slowest peer, at most the deadline.
#pragma once

#include "common/percent_encode.h"

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/cluster.h"
#include "http/exchange.h"

namespace fn0::admin {

inline constexpr std::chrono::milliseconds kPeerDeadline{2000};

struct PeerQuestion {
  std::string peer;    // HOST:PORT
  std::string target;  // e.g. /_fn0/api/v1/functions/hello/logs?local=true
  std::string method = "GET";  // or POST (no body)
};

struct PeerAnswer {
  std::string peer;
  std::optional<nlohmann::json> body;  // its 200 answer
  std::string error;                   // else why not
};

// The up members of the view other than this node.
std::vector<std::string> upPeers(cluster::Cluster& cluster);

// The caller's Authorization goes along (every node knows the same admin
// tokens, from the shared registry). Answers in the order of `questions`.
boost::asio::awaitable<std::vector<PeerAnswer>> askPeers(cluster::Peers& peers, std::vector<PeerQuestion> questions,
                                                        std::vector<http::Header> headers, size_t maxBody,
                                                        std::chrono::milliseconds deadline = kPeerDeadline);

}  // namespace fn0::admin
