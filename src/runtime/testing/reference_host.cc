#include "runtime/testing/reference_host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <regex>
#include <stdexcept>

extern char** environ;

namespace fn0::runtime::testing {

ReferenceHost::ReferenceHost(const std::filesystem::path& component) {
  const std::string wasmtime = std::string(FN0_TOOLS_BIN) + "/wasmtime";
  const std::string path = component.string();
  std::vector<std::string> args = {wasmtime, "serve", "--addr", "127.0.0.1:0", "-O", "pooling-allocator=y",
                                   "-Scli", "-Skeyvalue", path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  int rc = posix_spawn(&pid_, wasmtime.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  out_ = fds[0];
  if (rc != 0) throw std::runtime_error("cannot start " + wasmtime);

  // Wait for "Serving HTTP on http://127.0.0.1:PORT/".
  const std::regex serving(R"(Serving HTTP on http://127\.0\.0\.1:(\d+)/)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::smatch m;
  while (!std::regex_search(log_, m, serving)) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("wasmtime serve: no start\n" + log_);
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("wasmtime serve exited:\n" + log_);
    log_.append(buf, static_cast<size_t>(n));
  }
  port_ = static_cast<uint16_t>(std::stoi(m[1]));
}

ReferenceHost::~ReferenceHost() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  if (out_ >= 0) ::close(out_);
}

WireResponse httpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::vector<Header>& headers, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  for (const auto& [k, v] : headers) req.insert(k, v);
  req.body() = body;
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  if (method == "HEAD") parser.skip(true);
  http::read(socket, buffer, parser);
  WireResponse out;
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = res.body();
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

}  // namespace fn0::runtime::testing
