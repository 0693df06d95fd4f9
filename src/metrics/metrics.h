// The node's metrics in Prometheus' text format: per function (requests by
// status class, latency histogram, CPU time, cold starts, limit hits,
// overloads, in-flight instances) and per node (values read at scrape time);
// and the last hour of both as 10 s steps (series.h), for the dashboard.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "metrics/series.h"

namespace fn0::metrics {

class Metrics {
 public:
  // `nowSeconds`: the wall clock in unix seconds (tests give their own).
  using Clock = std::function<int64_t()>;
  Metrics();
  explicit Metrics(Clock nowSeconds);

  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};

  struct Request {
    int status = 0;
    std::chrono::nanoseconds duration{0};
    std::chrono::nanoseconds cpu{0};
    std::string limitHit;  // fn0-error reason of a limit, or ""
    bool coldStart = false;
    bool overloaded = false;
  };

  void record(const std::string& function, const Request& r);
  void instanceStarted(const std::string& function);
  void instanceEnded(const std::string& function);
  void forget(const std::string& function);

  // Node-level gauges computed when scraped: name, help, value.
  using Gauge = std::function<std::vector<std::pair<std::string, double>>()>;
  void addNodeGauges(Gauge g) { gauges_.push_back(std::move(g)); }

  // A node-wide counter (`name` ends in _total), rendered with the rest.
  void count(const std::string& name, uint64_t n = 1);

  std::string render() const;

  // One function's counters on this node, for the admin API (which sums
  // them over a cluster's nodes); zeros for a function it has not served.
  struct Counters {
    std::array<uint64_t, 6> byClass{};  // 1xx..5xx, index 1..5
    uint64_t requests = 0, coldStarts = 0, overloads = 0;
    double cpuSeconds = 0, durationSeconds = 0;
    int64_t inFlight = 0;
    std::map<std::string, uint64_t> limitHits;
  };
  Counters counters(const std::string& function) const;

  // The history (series.h): a function's points since `fromSeconds`, or
  // the node's (all functions together) with `function` null. Sparse,
  // oldest first, the step in progress last.
  std::vector<Point> series(const std::string* function, int64_t fromSeconds);
  // Every function's figures since `fromSeconds`, each summed into one
  // point (functions with nothing in the window are absent).
  std::map<std::string, Point> window(int64_t fromSeconds);
  int64_t nowSeconds() const { return now_(); }

 private:
  struct Fn {
    std::array<uint64_t, 6> byClass{};  // 1xx..5xx, index 1..5
    std::array<uint64_t, kBuckets.size() + 1> buckets{};
    double durationSum = 0;
    uint64_t count = 0;
    double cpuSeconds = 0;
    uint64_t coldStarts = 0, overloads = 0;
    int64_t inFlight = 0;
    std::map<std::string, uint64_t> limitHits;
    Series series;
  };
  Clock now_;
  mutable std::mutex mu_;
  std::map<std::string, Fn> fns_;
  Series node_;          // every function's requests together
  std::map<std::string, uint64_t> counters_;
  int64_t nodeInFlight_ = 0;
  std::vector<Gauge> gauges_;
};

}  // namespace fn0::metrics
