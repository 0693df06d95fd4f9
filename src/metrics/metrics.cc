#include "metrics/metrics.h"

#include <fmt/format.h>

namespace fn0::metrics {

Metrics::Metrics()
    : Metrics([] {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
      }) {}

Metrics::Metrics(Clock nowSeconds) : now_(std::move(nowSeconds)) {}

void Metrics::record(const std::string& function, const Request& r) {
  const double seconds = std::chrono::duration<double>(r.duration).count();
  const Series::Sample sample{r.status, seconds, std::chrono::duration<double>(r.cpu).count(), !r.limitHit.empty(),
                              r.overloaded, r.coldStart};
  const int64_t now = now_();
  std::lock_guard lock(mu_);
  Fn& f = fns_[function];
  int cls = r.status / 100;
  if (cls >= 1 && cls <= 5) f.byClass[cls]++;
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) i++;
  f.buckets[i]++;
  f.durationSum += seconds;
  f.count++;
  f.cpuSeconds += std::chrono::duration<double>(r.cpu).count();
  if (r.coldStart) f.coldStarts++;
  if (r.overloaded) f.overloads++;
  if (!r.limitHit.empty()) f.limitHits[r.limitHit]++;
  f.series.record(now, sample);
  node_.record(now, sample);
}

void Metrics::instanceStarted(const std::string& function) {
  const int64_t now = now_();
  std::lock_guard lock(mu_);
  Fn& f = fns_[function];
  f.series.running(now, ++f.inFlight);
  node_.running(now, ++nodeInFlight_);
}

void Metrics::instanceEnded(const std::string& function) {
  const int64_t now = now_();
  std::lock_guard lock(mu_);
  Fn& f = fns_[function];
  f.series.running(now, --f.inFlight);
  node_.running(now, --nodeInFlight_);
}

void Metrics::count(const std::string& name, uint64_t n) {
  std::lock_guard lock(mu_);
  counters_[name] += n;
}

std::vector<Point> Metrics::series(const std::string* function, int64_t from) {
  const int64_t now = now_();
  std::lock_guard lock(mu_);
  if (!function) return node_.points(now, from);
  auto it = fns_.find(*function);
  if (it == fns_.end()) return {};
  return it->second.series.points(now, from);
}

std::map<std::string, Point> Metrics::window(int64_t from) {
  const int64_t now = now_();
  std::map<std::string, Point> out;
  std::lock_guard lock(mu_);
  for (auto& [name, f] : fns_) {
    auto points = f.series.points(now, from);
    if (points.empty()) continue;
    Point sum;
    for (const auto& p : points) sum.add(p);
    sum.t = points.front().t;
    if (sum.requests || sum.inFlightMax) out.emplace(name, std::move(sum));
  }
  return out;
}

void Metrics::forget(const std::string& function) {
  std::lock_guard lock(mu_);
  fns_.erase(function);
}

Metrics::Counters Metrics::counters(const std::string& function) const {
  Counters c;
  std::lock_guard lock(mu_);
  auto it = fns_.find(function);
  if (it == fns_.end()) return c;
  const Fn& f = it->second;
  c.byClass = f.byClass;
  c.requests = f.count;
  c.coldStarts = f.coldStarts;
  c.overloads = f.overloads;
  c.cpuSeconds = f.cpuSeconds;
  c.durationSeconds = f.durationSum;
  c.inFlight = f.inFlight;
  c.limitHits = f.limitHits;
  return c;
}

std::string Metrics::render() const {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  std::lock_guard lock(mu_);
  family("fn0_requests_total", "counter", "Requests answered, by function and status class.");
  for (const auto& [name, f] : fns_)
    for (int c = 1; c <= 5; c++)
      if (f.byClass[c]) out += fmt::format("fn0_requests_total{{function=\"{}\",code=\"{}xx\"}} {}\n", name, c, f.byClass[c]);
  family("fn0_request_duration_seconds", "histogram", "Time from request head to end of response.");
  for (const auto& [name, f] : fns_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); i++) {
      cumulative += f.buckets[i];
      out += fmt::format("fn0_request_duration_seconds_bucket{{function=\"{}\",le=\"{}\"}} {}\n", name, kBuckets[i],
                         cumulative);
    }
    out += fmt::format("fn0_request_duration_seconds_bucket{{function=\"{}\",le=\"+Inf\"}} {}\n", name, f.count);
    out += fmt::format("fn0_request_duration_seconds_sum{{function=\"{}\"}} {}\n", name, f.durationSum);
    out += fmt::format("fn0_request_duration_seconds_count{{function=\"{}\"}} {}\n", name, f.count);
  }
  family("fn0_cpu_seconds_total", "counter", "Guest CPU time.");
  for (const auto& [name, f] : fns_) out += fmt::format("fn0_cpu_seconds_total{{function=\"{}\"}} {}\n", name, f.cpuSeconds);
  family("fn0_cold_starts_total", "counter", "Requests that had to load their component first.");
  for (const auto& [name, f] : fns_) out += fmt::format("fn0_cold_starts_total{{function=\"{}\"}} {}\n", name, f.coldStarts);
  family("fn0_limit_hits_total", "counter", "Requests stopped by a limit, by reason.");
  for (const auto& [name, f] : fns_)
    for (const auto& [reason, n] : f.limitHits)
      out += fmt::format("fn0_limit_hits_total{{function=\"{}\",reason=\"{}\"}} {}\n", name, reason, n);
  family("fn0_overloads_total", "counter", "Requests refused with 503 because the node was saturated.");
  for (const auto& [name, f] : fns_) out += fmt::format("fn0_overloads_total{{function=\"{}\"}} {}\n", name, f.overloads);
  family("fn0_instances", "gauge", "Instances running a request now.");
  for (const auto& [name, f] : fns_) out += fmt::format("fn0_instances{{function=\"{}\"}} {}\n", name, f.inFlight);
  for (const auto& [name, n] : counters_) {
    family(name.c_str(), "counter", "Node event count.");
    out += fmt::format("{} {}\n", name, n);
  }
  for (const auto& g : gauges_)
    for (const auto& [name, value] : g()) {
      family(name.c_str(), "gauge", "Node state.");
      out += fmt::format("{} {}\n", name, value);
    }
  return out;
}

}  // namespace fn0::metrics
