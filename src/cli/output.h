// How a client command reports. Its result goes to stdout: text for people,
// or with --json one JSON document (logs: one object per line). A failure is
// a sentence on stderr, or with --json one object {"error": CODE, "message":
// ..., "status": HTTP status if the node answered} on stdout and nothing
// else there. Progress (building, uploading, compiling) goes to stderr only:
// redrawn with its elapsed time on a terminal, a line per phase otherwise.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace fn0::cli {

// Exit codes (README, `fn0 --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the node refused, could not be reached, a build failed...
inline constexpr int kExitUsage = 2;    // the command line is wrong

struct Failure {
  std::string code;     // machine-readable: "unreachable", "unauthorized", "not-found", "usage", ...
  std::string message;  // a sentence for a person
  int status = 0;       // the HTTP status, when the node answered
  int exit = kExitFailure;
  nlohmann::json extra = nlohmann::json::object();  // more fields for --json (e.g. "suggestion")
};

// Prints `f` the way the mode asks and returns its exit code.
int report(const Failure& f, bool json);

// A phase of a long command on stderr, e.g. "building hello (js)…": with
// `live`, the line is redrawn every second with the time so far (and an
// upload's bar); otherwise it is printed once when it starts and once when
// it ends. Thread-safe: the redraw runs on its own thread.
class Progress {
 public:
  explicit Progress(bool live);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void begin(std::string what);
  // Bytes of an upload so far (live: a bar; otherwise silent).
  void bytes(uint64_t done, uint64_t total);
  // Ends the phase: "<done> in 1.2 s".
  void end(const std::string& done);
  // Ends the phase without a verdict (a failure is printed next).
  void abandon();
  double seconds() const;

 private:
  void draw();  // with mu_ held
  void tick();
  const bool live_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread ticker_;
  bool active_ = false, stop_ = false;
  std::string what_, bar_;
  std::chrono::steady_clock::time_point started_;
};

// "1.2 s", "14 s", "2 min 5 s".
std::string elapsedText(double seconds);
// "12.3 KiB" and so on.
std::string sizeText(uint64_t bytes);

}  // namespace fn0::cli
