#include "kv/guest_api.h"

#include <string_view>

namespace fn0::kv {

namespace {

constexpr const char* kOpNames[] = {"open",      "get",       "set",      "delete",      "exists",
                                    "list-keys", "increment", "get-many", "set-many",    "delete-many",
                                    "swap",      "increment-signed"};
// Keys per list-keys page.
constexpr size_t kListPage = 1000;

std::string str(fn0_str_t s) { return std::string(reinterpret_cast<const char*>(s.data), s.len); }
fn0_str_t view(const std::string& s) { return fn0_str_t{reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

void answer(fn0_kv_done_t* done, uint32_t status, const std::string& error = {}) {
  fn0_kv_result_t r{};
  r.status = status;
  r.error = view(error);
  fn0_kv_complete(done, &r);
}

// The guest receives `error::other("<code>: <message>")`.
void refuse(fn0_kv_done_t* done, const Error& e) {
  answer(done, FN0_KV_STATUS_OTHER, (e.code.empty() ? "kv-error" : e.code) + ": " + e.message);
}

void answerNumber(fn0_kv_done_t* done, uint64_t n) {
  fn0_kv_result_t r{};
  r.number = n;
  r.has_number = 1;
  fn0_kv_complete(done, &r);
}

void answerItems(fn0_kv_done_t* done, const std::vector<std::optional<std::string>>& items,
                 std::optional<uint64_t> next = std::nullopt) {
  std::vector<fn0_str_t> views;
  std::vector<uint8_t> present;
  views.reserve(items.size());
  for (const auto& i : items) {
    views.push_back(i ? view(*i) : fn0_str_t{nullptr, 0});
    present.push_back(i ? 1 : 0);
  }
  fn0_kv_result_t r{};
  r.items = views.data();
  r.present = present.data();
  r.item_count = views.size();
  r.number = next.value_or(0);
  r.has_number = next ? 1 : 0;
  fn0_kv_complete(done, &r);
}

}  // namespace

KvLimits functionKvLimits(const registry::FunctionSettings& s, const KvLimits& node) {
  auto tighter = [](const std::optional<uint64_t>& v, uint64_t n) { return v ? std::min(*v, n) : n; };
  return KvLimits{tighter(s.kvMaxKeyBytes, node.maxKeyBytes), tighter(s.kvMaxValueBytes, node.maxValueBytes),
                  tighter(s.kvMaxOperations, node.maxOpsPerRequest), tighter(s.kvMaxBytes, node.maxBytes)};
}

std::string functionBucket(const std::string& function) { return "fn/" + function; }
std::string sharedBucket(const std::string& name) { return "shared/" + name; }

void KvMetrics::error(const std::string& code) {
  std::lock_guard lock(mu_);
  errors_[code]++;
}

std::vector<std::pair<std::string, double>> KvMetrics::values() const {
  std::vector<std::pair<std::string, double>> out;
  for (size_t i = 0; i < ops_.size(); i++)
    out.emplace_back(std::string("fn0_kv_operations_total{op=\"") + kOpNames[i] + "\"}",
                     static_cast<double>(ops_[i].load(std::memory_order_relaxed)));
  std::lock_guard lock(mu_);
  for (const auto& [code, n] : errors_)
    out.emplace_back("fn0_kv_errors_total{code=\"" + code + "\"}", static_cast<double>(n));
  return out;
}

std::shared_ptr<KvSession> KvGuestApi::session(const std::string& function, std::vector<std::string> sharedBuckets,
                                               const KvLimits& limits) {
  return std::make_shared<KvSession>(*this, function, std::move(sharedBuckets), limits);
}

void KvGuestApi::handleCall(void* session, const fn0_kv_call_t* call, fn0_kv_done_t* done) {
  static_cast<KvSession*>(session)->call(*call, done);
}

std::optional<std::string> KvSession::resolve(std::string_view id, uint32_t& status, std::string& why) const {
  // "" is wasmtime's name for the default store, "default" Spin's.
  if (id.empty() || id == "default") return functionBucket(function_);
  for (const auto& s : shared_)
    if (id == s) return sharedBucket(s);
  status = FN0_KV_STATUS_ACCESS_DENIED;
  why = "this function may open its own bucket (\"default\") and the shared buckets its settings grant "
        "(kv_buckets), not \"" +
        std::string(id.substr(0, 100)) + "\"";
  return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> KvSession::check(const fn0_kv_call_t& c) {
  for (size_t i = 0; i < c.key_count; i++) {
    const auto k = c.keys[i];
    if (k.len == 0) return std::pair{"kv-invalid-key", "a key must not be empty"};
    if (k.len > limits_.maxKeyBytes)
      return std::pair{"kv-key-too-large", "a key is " + std::to_string(k.len) + " bytes, more than the limit of " +
                                               std::to_string(limits_.maxKeyBytes) + " (kv_max_key_bytes)"};
    if (std::string_view(reinterpret_cast<const char*>(k.data), k.len).find('\0') != std::string_view::npos)
      return std::pair{"kv-invalid-key", "a key must not contain a NUL character"};
  }
  for (size_t i = 0; i < c.value_count; i++)
    if (c.values[i].len > limits_.maxValueBytes)
      return std::pair{"kv-value-too-large", "a value is " + std::to_string(c.values[i].len) +
                                                 " bytes, more than the limit of " +
                                                 std::to_string(limits_.maxValueBytes) + " (kv_max_value_bytes)"};
  const uint64_t cost = std::max<uint64_t>(1, c.key_count);
  const uint64_t before = ops_.fetch_add(cost, std::memory_order_relaxed);
  if (before + cost > limits_.maxOpsPerRequest)
    return std::pair{"kv-too-many-operations",
                     "this request reached its limit of " + std::to_string(limits_.maxOpsPerRequest) +
                         " key-value operations (kv_max_operations; a batch counts one per key)"};
  return std::nullopt;
}

void KvSession::call(const fn0_kv_call_t& c, fn0_kv_done_t* done) {
  auto& metrics = api_.metrics();
  metrics.operation(c.op);
  uint32_t status = FN0_KV_STATUS_OK;
  std::string why;
  auto bucket = resolve(std::string_view(reinterpret_cast<const char*>(c.bucket.data), c.bucket.len), status, why);
  if (!bucket) {
    metrics.error("kv-access-denied");
    return answer(done, status, why);
  }
  if (c.op == FN0_KV_OPEN) return answer(done, FN0_KV_STATUS_OK);
  if (c.op > FN0_KV_INCREMENT_SIGNED) return answer(done, FN0_KV_STATUS_OTHER, "kv-error: unknown operation");
  if (auto bad = check(c)) {
    metrics.error(bad->first);
    return refuse(done, Error{bad->second, bad->first});
  }

  std::vector<std::string> keys;
  keys.reserve(c.key_count);
  for (size_t i = 0; i < c.key_count; i++) keys.push_back(str(c.keys[i]));
  std::vector<std::string> values;
  values.reserve(c.value_count);
  for (size_t i = 0; i < c.value_count; i++) values.push_back(str(c.values[i]));
  const uint64_t number = c.number;
  const std::optional<uint64_t> cursor = c.has_number ? std::optional<uint64_t>(c.number) : std::nullopt;
  const uint64_t maxBytes = limits_.maxBytes;

  using Deliver = KvService::Deliver;
  KvService::Job job;
  job.fail = [self = shared_from_this(), done](const Error& e) {
    self->api_.metrics().error(e.code.empty() ? "kv-error" : e.code);
    refuse(done, e);
  };
  const std::string b = *bucket;
  switch (c.op) {
    case FN0_KV_GET:
      job.run = [b, k = keys.at(0), done](KvStore& s) -> Deliver {
        return [v = s.get(b, k), done] { answerItems(done, {v}); };
      };
      break;
    case FN0_KV_EXISTS:
      job.run = [b, k = keys.at(0), done](KvStore& s) -> Deliver {
        return [e = s.exists(b, k), done] { answerNumber(done, e ? 1 : 0); };
      };
      break;
    case FN0_KV_LIST_KEYS:
      job.run = [b, cursor, done](KvStore& s) -> Deliver {
        auto page = s.listKeys(b, cursor, kListPage);
        return [page = std::move(page), done] {
          std::vector<std::optional<std::string>> items(page.keys.begin(), page.keys.end());
          answerItems(done, items, page.next);
        };
      };
      break;
    case FN0_KV_GET_MANY:
      job.run = [b, keys = std::move(keys), done](KvStore& s) -> Deliver {
        return [v = s.getMany(b, keys), done] { answerItems(done, v); };
      };
      break;
    case FN0_KV_SET:
      job.write = true;
      job.run = [b, k = keys.at(0), v = values.at(0), maxBytes, done](KvStore& s) -> Deliver {
        s.set(b, k, v, maxBytes);
        return [done] { answer(done, FN0_KV_STATUS_OK); };
      };
      break;
    case FN0_KV_DELETE:
      job.write = true;
      job.run = [b, k = keys.at(0), done](KvStore& s) -> Deliver {
        s.remove(b, k);
        return [done] { answer(done, FN0_KV_STATUS_OK); };
      };
      break;
    case FN0_KV_INCREMENT:
      job.write = true;
      job.run = [b, k = keys.at(0), number, maxBytes, done](KvStore& s) -> Deliver {
        return [n = s.increment(b, k, number, maxBytes), done] { answerNumber(done, n); };
      };
      break;
    case FN0_KV_INCREMENT_SIGNED:
      job.write = true;
      job.run = [b, k = keys.at(0), number, maxBytes, done](KvStore& s) -> Deliver {
        const int64_t n = s.incrementSigned(b, k, static_cast<int64_t>(number), maxBytes);
        return [n, done] { answerNumber(done, static_cast<uint64_t>(n)); };
      };
      break;
    case FN0_KV_SWAP: {
      if (keys.size() != 1 || values.size() != (c.has_number ? 2u : 1u))
        return answer(done, FN0_KV_STATUS_OTHER, "kv-error: a swap takes one key, its new value and what it expects");
      std::optional<std::string> expected;
      if (c.has_number) expected = std::move(values[1]);
      job.write = true;
      job.run = [b, k = keys.at(0), v = std::move(values[0]), expected = std::move(expected), maxBytes,
                 done](KvStore& s) -> Deliver {
        auto r = s.swap(b, k, expected, v, maxBytes);
        if (r.swapped) return [done] { answerNumber(done, 1); };
        return [current = std::move(r.current), done] { answerItems(done, {current}, 0); };
      };
      break;
    }
    case FN0_KV_SET_MANY: {
      if (values.size() != keys.size()) return answer(done, FN0_KV_STATUS_OTHER, "kv-error: keys and values differ");
      std::vector<KvEntry> entries;
      for (size_t i = 0; i < keys.size(); i++) entries.push_back(KvEntry{std::move(keys[i]), std::move(values[i])});
      job.write = true;
      job.run = [b, entries = std::move(entries), maxBytes, done](KvStore& s) -> Deliver {
        s.setMany(b, entries, maxBytes);
        return [done] { answer(done, FN0_KV_STATUS_OK); };
      };
      break;
    }
    case FN0_KV_DELETE_MANY:
      job.write = true;
      job.run = [b, keys = std::move(keys), done](KvStore& s) -> Deliver {
        s.removeMany(b, keys);
        return [done] { answer(done, FN0_KV_STATUS_OK); };
      };
      break;
    default:
      return answer(done, FN0_KV_STATUS_OTHER, "kv-error: unknown operation");
  }
  api_.service().submit(std::move(job));
}

}  // namespace fn0::kv
