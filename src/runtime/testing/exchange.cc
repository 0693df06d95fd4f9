#include "runtime/testing/exchange.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <thread>

#include <unistd.h>

namespace fn0::runtime::testing {

std::string headerValue(const std::vector<Header>& headers, std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r;
  };
  for (const auto& [k, v] : headers)
    if (lower(k) == lower(name)) return v;
  return {};
}

std::string Exchange::header(std::string_view name) const { return headerValue(headers, name); }

size_t rssBytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

namespace {

class Recorder : public InvocationHandler {
 public:
  explicit Recorder(Exchange& ex) : ex_(ex) {}

  void onResponse(uint16_t status, std::vector<Header> headers) override {
    std::lock_guard l(mu_);
    ex_.status = status;
    ex_.headers = std::move(headers);
    cv_.notify_all();
  }
  void onResponseBodyReadable() override { signal(); }
  void onRequestBodyWritable() override { signal(); }
  void onLog(int stream, std::string_view line) override {
    std::lock_guard l(mu_);
    ex_.logs.emplace_back(stream, std::string(line));
  }
  void onDone(const Outcome& outcome) override {
    std::lock_guard l(mu_);
    ex_.outcome = outcome;
    done_ = true;
    cv_.notify_all();
  }

  // Waits until the body became readable or writable, or the guest is done.
  void waitEvent() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return event_ || done_; });
    event_ = false;
  }
  void waitDone() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return done_; });
  }
  bool done() {
    std::lock_guard l(mu_);
    return done_;
  }

 private:
  void signal() {
    std::lock_guard l(mu_);
    event_ = true;
    cv_.notify_all();
  }
  bool event_ = false;
  Exchange& ex_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace

Exchange exchange(const Engine& engine, std::shared_ptr<const Component> component,
                  const RequestHead& head, std::string_view body, const ExchangeOptions& options) {
  Exchange ex;
  Recorder rec(ex);
  const uint64_t total = options.generatedBodyBytes ? options.generatedBodyBytes : body.size();
  // Like the node: a request without a body says so up front.
  InvokeOptions invoke = options.invoke;
  if (total == 0) invoke.noRequestBody = true;
  auto inv = Invocation::start(engine, std::move(component), head, invoke, rec);
  if (!inv) {
    ex.startError = inv.error().message;
    return ex;
  }
  ex.started = true;
  // Full duplex, like a real connection: offer request bytes and drain the
  // response in the same loop, sleeping only when neither side can move.
  const std::string filler(options.chunk, 'g');
  uint64_t off = 0;
  bool bodyDone = false, readDone = false, paused = false;
  while (!readDone) {
    bool progressed = false;
    while (!bodyDone) {
      if (off == total) {
        (*inv)->finishBody();
        bodyDone = progressed = true;
        break;
      }
      size_t n = static_cast<size_t>(std::min<uint64_t>(options.chunk, total - off));
      const char* src = options.generatedBodyBytes ? filler.data() : body.data() + off;
      auto w = (*inv)->writeBody({reinterpret_cast<const uint8_t*>(src), n});
      if (w == BodyWrite::Full) break;
      progressed = true;
      if (w == BodyWrite::Closed || w == BodyWrite::TooLarge) {
        ex.requestBodyTooLarge = w == BodyWrite::TooLarge;
        bodyDone = true;
        break;
      }
      off += n;
    }
    for (;;) {
      auto r = (*inv)->readBody();
      if (r.status == BodyRead::Pending) break;
      progressed = true;
      if (r.status == BodyRead::Data) {
        ex.bodyBytes += r.data.size();
        size_t room = options.keepBody - std::min(options.keepBody, ex.body.size());
        ex.body.append(reinterpret_cast<const char*>(r.data.data()), std::min(room, r.data.size()));
        if (!paused && options.pauseAfterFirstChunk.count() > 0) {
          paused = true;
          const int64_t before = static_cast<int64_t>(rssBytes());
          std::this_thread::sleep_for(options.pauseAfterFirstChunk);
          ex.rssGrowthDuringPause = static_cast<int64_t>(rssBytes()) - before;
        }
        continue;
      }
      (r.status == BodyRead::End ? ex.bodyComplete : ex.bodyFailed) = true;
      readDone = true;
      break;
    }
    // Without a response head no body ever comes: stop once the guest is done.
    if (!readDone && rec.done() && ex.status == 0) break;
    if (!progressed && !readDone) rec.waitEvent();
  }
  rec.waitDone();
  return ex;
}

}  // namespace fn0::runtime::testing
