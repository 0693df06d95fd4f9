#include "metrics/series.h"

#include <algorithm>
#include <cmath>

namespace fn0::metrics {

int LatencySketch::bucketOf(double seconds) {
  if (!(seconds > kBase)) return 0;  // also NaN
  // bucket i: [base * 2^(i/3), base * 2^((i+1)/3))
  const int i = static_cast<int>(std::floor(3.0 * std::log2(seconds / kBase)));
  return std::clamp(i, 0, kBuckets - 1);
}

void LatencySketch::add(double seconds, uint32_t n) { addSparse(static_cast<uint8_t>(bucketOf(seconds)), n); }

void LatencySketch::addSparse(uint8_t index, uint32_t n) {
  if (index >= kBuckets) index = kBuckets - 1;
  counts_[index] += n;
  total_ += n;
}

void LatencySketch::merge(const LatencySketch& o) {
  for (int i = 0; i < kBuckets; i++) counts_[i] += o.counts_[i];
  total_ += o.total_;
}

std::optional<double> LatencySketch::quantile(double q) const {
  if (total_ == 0) return std::nullopt;
  // The sample of rank ceil(q * n) (1-based), at least the first.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; i++) {
    seen += counts_[i];
    if (seen >= rank) return kBase * std::exp2((i + 0.5) / 3.0);
  }
  return kBase * std::exp2((kBuckets - 0.5) / 3.0);
}

std::vector<std::pair<uint8_t, uint32_t>> LatencySketch::sparse() const {
  std::vector<std::pair<uint8_t, uint32_t>> out;
  for (int i = 0; i < kBuckets; i++)
    if (counts_[i]) out.emplace_back(static_cast<uint8_t>(i), counts_[i]);
  return out;
}

LatencySketch Point::sketch() const {
  LatencySketch s;
  for (const auto& [i, n] : latency) s.addSparse(i, n);
  return s;
}

void Point::add(const Point& o) {
  requests += o.requests;
  errors += o.errors;
  clientErrors += o.clientErrors;
  limitHits += o.limitHits;
  overloads += o.overloads;
  coldStarts += o.coldStarts;
  inFlightMax += o.inFlightMax;  // nodes or functions side by side run at once
  cpuSeconds += o.cpuSeconds;
  if (o.latency.empty()) return;
  LatencySketch s = sketch();
  s.merge(o.sketch());
  latency = s.sparse();
}

namespace {
int64_t stepOf(int64_t seconds) { return seconds - ((seconds % kStepSeconds) + kStepSeconds) % kStepSeconds; }
}  // namespace

void Series::roll(int64_t now) {
  const int64_t step = stepOf(now);
  if (current_.t != 0 && current_.t < step) {
    current_.latency = currentSketch_.sparse();
    steps_.push_back(std::move(current_));
    current_ = Point{};
    currentSketch_ = LatencySketch{};
  }
  if (current_.t == 0) {
    current_.t = step;
    current_.inFlightMax = static_cast<uint32_t>(std::max<int64_t>(0, running_));
  }
  while (!steps_.empty() && steps_.front().t < step - kHistorySeconds) steps_.pop_front();
}

void Series::record(int64_t now, const Sample& s) {
  roll(now);
  current_.requests++;
  if (s.status >= 500) current_.errors++;
  else if (s.status >= 400) current_.clientErrors++;
  if (s.limitHit) current_.limitHits++;
  if (s.overloaded) current_.overloads++;
  if (s.coldStart) current_.coldStarts++;
  current_.cpuSeconds += s.cpuSeconds;
  currentSketch_.add(s.seconds);
}

void Series::running(int64_t now, int64_t running) {
  roll(now);
  running_ = running;
  current_.inFlightMax = std::max<uint32_t>(current_.inFlightMax, static_cast<uint32_t>(std::max<int64_t>(0, running)));
}

std::vector<Point> Series::points(int64_t now, int64_t from) {
  roll(now);
  std::vector<Point> out;
  for (const auto& p : steps_)
    if (p.t >= stepOf(from)) out.push_back(p);
  // The step in progress, when anything happened in it (a request, or
  // instances running).
  if (current_.requests || current_.inFlightMax) {
    Point p = current_;
    p.latency = currentSketch_.sparse();
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Point> densify(const std::vector<Point>& sparse, int64_t from, int64_t now) {
  std::vector<Point> out;
  size_t i = 0;
  for (int64_t t = stepOf(from); t <= stepOf(now); t += kStepSeconds) {
    Point p;
    p.t = t;
    while (i < sparse.size() && sparse[i].t < t) i++;
    while (i < sparse.size() && sparse[i].t == t) p.add(sparse[i++]);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace fn0::metrics
