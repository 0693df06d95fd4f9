#include "cli/dev.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fmt/core.h>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli/client.h"
#include "node/node.h"

namespace fn0::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Modification times of the project's files (build/ excluded).
std::map<std::string, fs::file_time_type> snapshot(const fs::path& dir) {
  std::map<std::string, fs::file_time_type> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->path().filename() == "build" || it->path().filename() == "node_modules") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out[it->path().string()] = it->last_write_time(ec);
  }
  return out;
}

std::string randomToken() {
  std::random_device rd;
  return fmt::format("dev-{:016x}{:016x}", (uint64_t(rd()) << 32) | rd(), (uint64_t(rd()) << 32) | rd());
}

bool deploy(const Client& client, const Project& p, const fs::path& wasm) {
  std::ifstream in(wasm, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), {}};
  auto r = client.call("POST", "/functions/" + p.name + "/versions", bytes, "application/wasm");
  if (!r) {
    fmt::print(stderr, "fn0 dev: deploy failed: {}\n", r.error().message);
    return false;
  }
  auto j = json::parse(r->body, nullptr, false);
  if (r->status >= 300) {
    fmt::print(stderr, "fn0 dev: deploy failed: {}\n", j.is_object() ? j.value("message", r->body) : r->body);
    return false;
  }
  fmt::print(stderr, "fn0 dev: {} {} is live\n", p.name, j.value("version", "?"));
  return true;
}

}  // namespace

int runDev(const Project& p, uint16_t port) {
  const std::string token = randomToken();
  ::setenv("FN0_ADMIN_TOKEN", token.c_str(), 1);
  node::NodeConfig cfg;
  cfg.listen = "127.0.0.1:" + std::to_string(port);
  cfg.dataDir = p.dir / "build" / ".fn0" / "dev-data";
  cfg.accessLog = false;
  std::atomic<bool> nodeDone{false};
  std::atomic<int> nodeExit{0};
  std::thread nodeThread([&] {
    nodeExit = node::serve(cfg);
    nodeDone = true;
  });

  Target target{"127.0.0.1", port, ""};
  Client client(target, token);
  bool up = false;
  for (int i = 0; i < 200 && !nodeDone; i++) {
    if (auto r = client.call("GET", "/status"); r && r->status == 200) {
      up = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!up) {
    nodeThread.join();
    fmt::print(stderr, "fn0 dev: the local node did not start (is port {} free? use --port)\n", port);
    return 1;
  }

  auto buildAndDeploy = [&] {
    fmt::print(stderr, "fn0 dev: building {} ({})...\n", p.name, p.language);
    auto built = buildProject(p);
    if (!built) {
      fmt::print(stderr, "fn0 dev: build failed: {}\n", built.error().message);
      return;
    }
    deploy(client, p, *built);
  };
  buildAndDeploy();
  fmt::print(stderr, "fn0 dev: serving {} at http://127.0.0.1:{}/{}/ and http://{}.fn0.localhost:{}/ (Ctrl-C stops)\n",
             p.name, port, p.name, p.name, port);

  // The guest's output, live, on stdout.
  std::thread logThread([&] {
    std::string pending;
    (void)client.stream("/functions/" + p.name + "/logs?follow=true", [&](std::string_view data) {
      pending.append(data);
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (line.rfind("data: ", 0) != 0) continue;
        auto e = json::parse(line.substr(6), nullptr, false);
        if (!e.is_object()) continue;
        fmt::print("[{}] {}\n", e.value("request_id", ""), e.value("line", ""));
        std::fflush(stdout);
      }
      return !nodeDone;
    });
  });

  auto seen = snapshot(p.dir);
  while (!nodeDone) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto now = snapshot(p.dir);
    if (now != seen) {
      seen = now;
      buildAndDeploy();
    }
  }
  nodeThread.join();
  logThread.join();
  return nodeExit;
}

}  // namespace fn0::cli
