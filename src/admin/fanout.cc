#include "admin/fanout.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <cctype>
#include <utility>

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using namespace asio::experimental::awaitable_operators;

namespace {

// One GET, its outcome in `out` (never thrown: a failure is an answer too).
asio::awaitable<void> getInto(cluster::Peers& peers, PeerQuestion q, std::vector<http::Header> headers, size_t maxBody,
                              PeerAnswer& out) {
  try {
    auto r = co_await peers.get(q.peer, q.target, std::move(headers), maxBody, q.method);
    if (!r) {
      out.error = r.error().message;
      co_return;
    }
    if (r->status != 200) {
      const std::string reason = r->header("fn0-error");
      out.error = "HTTP " + std::to_string(r->status) + (reason.empty() ? "" : " " + reason);
      co_return;
    }
    auto j = json::parse(r->body, nullptr, false);
    if (!j.is_object()) {
      out.error = "the answer is not a JSON object";
      co_return;
    }
    out.body = std::move(j);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}

asio::awaitable<void> expire(std::chrono::milliseconds after) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(after);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// The GET against the deadline: whichever ends first cancels the other
// (Beast's stream operations honour the cancellation).
asio::awaitable<void> askOne(cluster::Peers& peers, PeerQuestion q, std::vector<http::Header> headers, size_t maxBody,
                             std::chrono::milliseconds deadline, PeerAnswer& out) {
  out.peer = q.peer;
  auto get = getInto(peers, std::move(q), std::move(headers), maxBody, out);
  auto late = expire(deadline);
  const auto first = co_await (std::move(get) || std::move(late));
  if (first.index() == 1) {
    out.body.reset();
    out.error = "no answer within " + std::to_string(deadline.count()) + " ms";
  }
}

}  // namespace

std::vector<std::string> upPeers(cluster::Cluster& cluster) {
  const auto view = cluster.membership().view();
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> out;
  for (const auto& m : view->members)
    if (!m.self && m.id != cluster.self() && cluster.membership().up(m, now)) out.push_back(m.id);
  return out;
}

asio::awaitable<std::vector<PeerAnswer>> askPeers(cluster::Peers& peers, std::vector<PeerQuestion> questions,
                                                 std::vector<http::Header> headers, size_t maxBody,
                                                 std::chrono::milliseconds deadline) {
  std::vector<PeerAnswer> answers(questions.size());
  if (questions.empty()) co_return answers;
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, std::declval<asio::awaitable<void>>(), asio::deferred));
  std::vector<Op> ops;
  ops.reserve(questions.size());
  for (size_t i = 0; i < questions.size(); i++)
    ops.push_back(asio::co_spawn(ex, askOne(peers, std::move(questions[i]), headers, maxBody, deadline, answers[i]),
                                 asio::deferred));
  // Every GET ends by the deadline; `answers` outlives them all.
  auto group = asio::experimental::make_parallel_group(std::move(ops));
  const auto all = asio::experimental::wait_for_all();
  auto [order, errors] = co_await group.async_wait(all, asio::use_awaitable);
  for (size_t i = 0; i < answers.size(); i++)
    if (!answers[i].body && answers[i].error.empty()) answers[i].error = "failed";
  co_return answers;
}

}  // namespace fn0::admin
