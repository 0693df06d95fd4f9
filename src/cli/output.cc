#include "cli/output.h"

#include <unistd.h>

#include <cstdio>
#include <fmt/core.h>

namespace fn0::cli {

using nlohmann::json;

int report(const Failure& f, bool jsonMode) {
  if (jsonMode) {
    json j = {{"error", f.code.empty() ? "failed" : f.code}, {"message", f.message}};
    if (f.status) j["status"] = f.status;
    for (const auto& [k, v] : f.extra.items()) j[k] = v;
    fmt::print("{}\n", j.dump(-1, ' ', false, json::error_handler_t::replace));
    std::fflush(stdout);
  } else {
    const bool colour = ::isatty(2) != 0;
    fmt::print(stderr, "{}error:{} {}\n", colour ? "\033[31m" : "", colour ? "\033[0m" : "", f.message);
  }
  return f.exit;
}

std::string elapsedText(double s) {
  if (s < 10) return fmt::format("{:.1f} s", s);
  if (s < 120) return fmt::format("{:.0f} s", s);
  const auto whole = static_cast<int64_t>(s);
  return fmt::format("{} min {} s", whole / 60, whole % 60);
}

std::string sizeText(uint64_t b) {
  if (b < 1024) return fmt::format("{} B", b);
  if (b < (1u << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(b) / 1024);
  if (b < (1u << 30)) return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20));
  return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1 << 30));
}

Progress::Progress(bool live) : live_(live) {
  if (live_) ticker_ = std::thread([this] { tick(); });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  std::lock_guard lock(mu_);
  if (active_ && live_) fmt::print(stderr, "\n");
}

void Progress::begin(std::string what) {
  std::lock_guard lock(mu_);
  if (active_ && live_) fmt::print(stderr, "\n");
  what_ = std::move(what);
  bar_.clear();
  active_ = true;
  started_ = std::chrono::steady_clock::now();
  if (live_)
    draw();
  else
    fmt::print(stderr, "{}…\n", what_);
  std::fflush(stderr);
}

void Progress::bytes(uint64_t done, uint64_t total) {
  if (!live_) return;
  std::lock_guard lock(mu_);
  const int width = 24;
  const int filled = total ? static_cast<int>(width * done / total) : width;
  bar_ = fmt::format("[{}{}] {}% of {}", std::string(filled, '#'), std::string(width - filled, '.'),
                     total ? 100 * done / total : 100, sizeText(total));
  draw();
}

void Progress::end(const std::string& done) {
  std::lock_guard lock(mu_);
  if (!active_) return;
  active_ = false;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  fmt::print(stderr, "{}{} in {}\n", live_ ? "\r\033[K" : "", done, elapsedText(s));
  std::fflush(stderr);
}

void Progress::abandon() {
  std::lock_guard lock(mu_);
  if (active_ && live_) fmt::print(stderr, "\n");
  active_ = false;
}

double Progress::seconds() const {
  std::lock_guard lock(mu_);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void Progress::draw() {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  // Clears the line first: a tool's output may have moved the cursor.
  fmt::print(stderr, "\r\033[K{}… {}{}{}", what_, static_cast<int64_t>(s), "s", bar_.empty() ? "" : "  " + bar_);
  std::fflush(stderr);
}

void Progress::tick() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    if (!stop_ && active_) draw();
  }
}

}  // namespace fn0::cli
