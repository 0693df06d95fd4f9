// The listener: accept (round robin over the I/O threads), per-client
// connection caps, back-off when out of file descriptors, the I/O threads,
// graceful stop. Connections themselves are in connection.cc.
#include "http/server.h"

#include "http/server_impl.h"

namespace fn0::http {

asio::awaitable<void> Server::Impl::acceptLoop() {
  auto pause = std::chrono::milliseconds(0);
  for (;;) {
    // Round robin over the I/O threads (the accept loop runs on one thread).
    auto& home = *ios[nextContext++ % ios.size()];
    auto [ec, sock] = co_await acceptor.async_accept(home, kTuple);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      // E.g. EMFILE: the listening socket stays readable, so accepting again
      // at once would spin. Keep serving the connections we have and try
      // again after a pause that grows while the error lasts.
      acceptErrorsSeen(pause);
      acceptPause.expires_after(pause);
      co_await acceptPause.async_wait(kTuple);
      continue;
    }
    pause = std::chrono::milliseconds(0);
    beast::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    auto ep = sock.remote_endpoint(ignored);
    std::string client = ignored ? std::string() : ep.address().to_string();
    const bool admitted = admitClient(client);
    auto conn = std::make_shared<Conn>(*this, std::move(sock), std::move(client), admitted);
    {
      std::lock_guard lock(connMu);
      conns.remove_if([](const auto& w) { return w.expired(); });
      conns.push_back(conn);
    }
    active++;
    asio::co_spawn(conn->stream.get_executor(), [conn]() -> asio::awaitable<void> { co_await conn->serve(); },
                   [this](std::exception_ptr e) { connectionEnded(e); });
  }
}

void Server::Impl::acceptErrorsSeen(std::chrono::milliseconds& pause) {
  counters.acceptErrors++;
  pause = std::clamp(pause * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(500));
}

bool Server::Impl::admitClient(const std::string& client) {
  std::lock_guard lock(clientsMu);
  auto& n = clients[client];
  if (cfg.maxConnectionsPerClient && n >= cfg.maxConnectionsPerClient) {
    if (n == 0) clients.erase(client);
    return false;
  }
  n++;
  return true;
}

void Server::Impl::releaseClient(const std::string& client) {
  std::lock_guard lock(clientsMu);
  auto it = clients.find(client);
  if (it != clients.end() && --it->second == 0) clients.erase(it);
}

void Server::Impl::connectionEnded(std::exception_ptr failure) {
  // An exception out of a connection's coroutine ends that connection only
  // (its socket closes with the frame); it is counted, never rethrown.
  if (failure) counters.connectionFailures++;
  if (--active == 0 && stopping) {
    asio::post(io, [this] { drain.cancel(); });
    releaseThreads();
  }
}

void Server::Impl::runContext(asio::io_context& ctx) {
  for (;;) {
    try {
      ctx.run();
      return;
    } catch (...) {
      // A completion handler threw outside any coroutine (a library bug or
      // an input nothing else caught): that operation is lost, the thread
      // and the node go on.
      counters.connectionFailures++;
    }
  }
}

Server::Server(ServerConfig config, Handler handler, AccessLog& log)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler), log)) {}

Server::~Server() = default;

Result<uint16_t> Server::listen() {
  try {
    tcp::endpoint ep(asio::ip::make_address(impl_->cfg.host), impl_->cfg.port);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    return impl_->acceptor.local_endpoint().port();
  } catch (const std::exception& e) {
    return Error{"cannot listen on " + impl_->cfg.host + ":" + std::to_string(impl_->cfg.port) + ": " + e.what()};
  }
}

void Server::setNodeId(std::string id) { impl_->cfg.nodeId = std::move(id); }

void Server::run() {
  asio::co_spawn(impl_->io, impl_->acceptLoop(), asio::detached);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->guardMu);
    for (size_t i = 1; i < impl_->ios.size(); i++) impl_->idleGuards.push_back(asio::make_work_guard(*impl_->ios[i]));
  }
  if (impl_->stopping && impl_->active == 0) impl_->releaseThreads();
  for (size_t i = 1; i < impl_->ios.size(); i++) threads.emplace_back([this, i] { impl_->runContext(*impl_->ios[i]); });
  impl_->runContext(impl_->io);
  for (auto& t : threads) t.join();
}

void Server::stop() {
  asio::post(impl_->io, [this] {
    if (impl_->stopping.exchange(true)) return;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    std::vector<std::shared_ptr<Conn>> live;
    {
      std::lock_guard lock(impl_->connMu);
      for (auto& w : impl_->conns)
        if (auto c = w.lock()) live.push_back(c);
    }
    for (auto& c : live) c->closeIfIdle();
    // In-flight requests get drainTimeout to finish; then everything stops.
    if (impl_->active == 0) {
      impl_->releaseThreads();
      return;
    }
    impl_->drain.expires_after(impl_->cfg.drainTimeout);
    impl_->drain.async_wait([this](beast::error_code e) {
      if (e) return;
      for (auto& io : impl_->ios) io->stop();
    });
  });
}

uint64_t Server::activeConnections() const { return impl_->active; }

ServerStats Server::stats() const {
  const auto& c = impl_->counters;
  ServerStats s;
  s.connectionFailures = c.connectionFailures;
  s.refusedClients = c.refusedClients;
  s.acceptErrors = c.acceptErrors;
  s.headTimeouts = c.headTimeouts;
  s.bodyTimeouts = c.bodyTimeouts;
  s.badRequests = c.badRequests;
  return s;
}
asio::any_io_executor Server::executor() { return impl_->io.get_executor(); }

}  // namespace fn0::http
