// Recent history for the dashboard and scripts: per function and for the
// node, one point per 10 s step for the last hour, kept in memory. A point
// holds the step's counts and a latency sketch (log-spaced buckets, kept
// sparse), so quantiles over several steps, or over several nodes, are
// merged from buckets rather than averaged. Steps roll lazily, when the
// next request or a reader arrives: no timer thread, and an idle function
// costs nothing.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace fn0::metrics {

// Latency buckets: bucket i holds durations below kSketchBase * 2^((i+1)/3)
// seconds (about ±12 % around each bucket's middle), from 8 µs up; the last
// bucket also takes everything longer than ~21 s.
class LatencySketch {
 public:
  static constexpr int kBuckets = 64;
  static constexpr double kBase = 8e-6;

  void add(double seconds, uint32_t n = 1);
  void merge(const LatencySketch& o);
  uint64_t count() const { return total_; }
  // The duration (seconds) below which a fraction q of the samples fall:
  // the geometric middle of the bucket holding it. nullopt when empty.
  std::optional<double> quantile(double q) const;
  // Non-empty buckets as (index, count) pairs, and back.
  std::vector<std::pair<uint8_t, uint32_t>> sparse() const;
  void addSparse(uint8_t index, uint32_t n);
  static int bucketOf(double seconds);

 private:
  std::array<uint32_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

// One step's figures.
struct Point {
  int64_t t = 0;  // unix seconds at the step's start (a multiple of kStepSeconds)
  uint32_t requests = 0, errors = 0, clientErrors = 0;  // errors: 5xx, clientErrors: 4xx
  uint32_t limitHits = 0, overloads = 0, coldStarts = 0;
  uint32_t inFlightMax = 0;  // most instances running at once during the step
  double cpuSeconds = 0;
  std::vector<std::pair<uint8_t, uint32_t>> latency;  // the sketch, sparse

  void add(const Point& o);  // same step (or a sum over steps): counts added, sketches merged
  LatencySketch sketch() const;
};

inline constexpr int64_t kStepSeconds = 10;
inline constexpr int64_t kHistorySeconds = 3600;

// A series: the step in progress (a full sketch) and the finished steps
// that had anything in them, the last hour's, oldest first.
class Series {
 public:
  struct Sample {
    int status = 0;
    double seconds = 0, cpuSeconds = 0;
    bool limitHit = false, overloaded = false, coldStart = false;
  };
  void record(int64_t nowSeconds, const Sample& s);
  // The number of instances running changed to `running` (the step keeps the most).
  void running(int64_t nowSeconds, int64_t running);

  // Points with t >= fromSeconds, oldest first, the step in progress last
  // (when it has anything); steps with nothing are absent.
  std::vector<Point> points(int64_t nowSeconds, int64_t fromSeconds);
  bool empty() const { return steps_.empty() && current_.t == 0; }

 private:
  void roll(int64_t nowSeconds);
  Point current_;             // its t is 0 until something is recorded
  LatencySketch currentSketch_;
  int64_t running_ = 0;       // instances running now (carried into the next step)
  std::deque<Point> steps_;
};

// Dense points from `fromSeconds`'s step to `nowSeconds`'s: one per step,
// an empty point where `sparse` has none. `sparse` is oldest first.
std::vector<Point> densify(const std::vector<Point>& sparse, int64_t fromSeconds, int64_t nowSeconds);

}  // namespace fn0::metrics
