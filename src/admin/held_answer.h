// An exchange whose whole-at-once answer is held back until release(): the
// admin API writes a change's audit row before the client sees the answer,
// so a client that waits for each answer finds its changes in the log, in
// the order it made them. A streamed answer (writeHead) is not held.
#pragma once

#include <string>
#include <vector>

#include "http/exchange.h"

namespace fn0::admin {

class HeldAnswer final : public http::Exchange {
 public:
  explicit HeldAnswer(http::Exchange& inner) : in_(inner) {}

  // Sends the held answer, if any; what the inner exchange's write returned.
  boost::asio::awaitable<bool> release() {
    if (!held_) co_return true;
    held_ = false;
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body_.data()), body_.size());
    co_return co_await in_.writeWhole(status_, headers_, bytes);
  }

  const http::Request& request() const override { return in_.request(); }
  boost::asio::awaitable<http::BodyPiece> readBody() override { return in_.readBody(); }
  void cancelBody() override { in_.cancelBody(); }
  bool bodyDone() const override { return in_.bodyDone(); }
  boost::asio::awaitable<bool> writeHead(int status, const std::vector<http::Header>& headers,
                                         std::optional<uint64_t> contentLength) override {
    return in_.writeHead(status, headers, contentLength);
  }
  boost::asio::awaitable<bool> writeBody(std::span<const uint8_t> data) override { return in_.writeBody(data); }
  boost::asio::awaitable<bool> finish() override { return in_.finish(); }
  boost::asio::awaitable<bool> writeWhole(int status, const std::vector<http::Header>& headers,
                                          std::span<const uint8_t> body) override {
    if (held_ || in_.headSent()) co_return false;
    held_ = true;
    status_ = status;
    headers_ = headers;
    body_.assign(body.begin(), body.end());
    co_return true;
  }
  void abort() override { in_.abort(); }
  bool headSent() const override { return held_ || in_.headSent(); }
  int responseStatus() const override { return held_ ? status_ : in_.responseStatus(); }
  void annotate(std::string key, std::string value) override { in_.annotate(std::move(key), std::move(value)); }
  void adoptOrigin(std::string requestId, std::string remote) override {
    in_.adoptOrigin(std::move(requestId), std::move(remote));
  }
  bool stopping() const override { return in_.stopping(); }

 private:
  http::Exchange& in_;
  bool held_ = false;
  int status_ = 0;
  std::vector<http::Header> headers_;
  std::vector<uint8_t> body_;
};

}  // namespace fn0::admin
