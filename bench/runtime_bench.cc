// Engine figures for the notes and docs: per example, compile time and
// artifact size, artifact load time (the restart path), the mapped image and
// the RSS an idle pre-linked copy costs, and per-request times through the
// invoke API (instantiation alone and the whole request). Not a test: it
// prints measurements. Usage: runtime_bench [requests-per-example]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "runtime/component.h"
#include "runtime/component_cache.h"
#include "runtime/testing/exchange.h"

using namespace fn0::runtime;
using Clock = std::chrono::steady_clock;

namespace {

size_t rssBytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * 4096;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double us(std::chrono::nanoseconds d) { return d.count() / 1000.0; }

}  // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 2000;
  auto engine = Engine::create(EngineConfig{});
  if (!engine) {
    std::fprintf(stderr, "engine: %s\n", engine.error().message.c_str());
    return 1;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("fn0-bench-" + std::to_string(::getpid()));
  std::printf("%-9s %10s %12s %9s %10s %12s %14s %12s\n", "example", "compile", "artifact", "load", "image",
              "idle-rss", "instantiate", "request");
  for (const char* name : {"hello-c", "echo-c", "hello-js", "echo-js", "hello-ts"}) {
    std::ifstream in(std::filesystem::path(FN0_EXAMPLES_DIR) / (std::string(name) + ".wasm"), std::ios::binary);
    std::vector<uint8_t> wasm{std::istreambuf_iterator<char>(in), {}};
    auto t0 = Clock::now();
    auto artifact = compile(*engine, wasm);
    auto compileTime = Clock::now() - t0;
    if (!artifact) {
      std::fprintf(stderr, "%s: %s\n", name, artifact.error().message.c_str());
      return 1;
    }
    ComponentCache cache(*engine, dir, 1ull << 30);
    auto hash = cache.prepare(wasm);
    auto path = cache.artifactPath(*hash);

    t0 = Clock::now();
    auto component = Component::load(*engine, path);
    auto loadTime = Clock::now() - t0;

    // Idle footprint: RSS added by 20 more loaded, pre-linked copies.
    const size_t before = rssBytes();
    std::vector<std::shared_ptr<const Component>> copies;
    for (int i = 0; i < 20; i++) copies.push_back(*Component::load(*engine, path));
    const size_t perCopy = (rssBytes() - before) / 20;

    // Requests, sequential, one at a time: instantiation and whole request.
    testing::ExchangeOptions opts;
    opts.invoke.limits.cpuTime = std::chrono::seconds(5);
    RequestHead head;
    std::chrono::nanoseconds inst{0}, wall{0};
    int ok = 0;
    const int n = std::string(name).find("js") != std::string::npos || std::string(name).find("ts") != std::string::npos
                      ? requests / 4
                      : requests;
    for (int i = 0; i < n; i++) {
      auto ex = testing::exchange(*engine, *component, head, {}, opts);
      if (ex.status == 200) ok++;
      if (i >= n / 10) {  // skip warm-up
        inst += ex.outcome.instantiate;
        wall += ex.outcome.wall;
      }
    }
    const int measured = n - n / 10;
    std::printf("%-9s %8.1fms %10zuKB %7.2fms %8zuKB %10zuKB %12.1fus %10.1fus  (%d/%d ok)\n", name, ms(compileTime),
                artifact->bytes().size() / 1024, ms(loadTime), (*component)->imageBytes() / 1024, perCopy / 1024,
                us(inst / measured), us(wall / measured), ok, n);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
