// The registry's rules for names, values and per-function settings, shared
// by every registry backend and by the admin API (which answers 400 with
// these messages).
#include <nlohmann/json.hpp>

#include "registry/registry.h"

namespace fn0::registry {

namespace {

struct NumberField {
  SettingRange range;
  std::optional<uint64_t> FunctionSettings::*field;
};

// Ranges: generous for any real function, small enough that milliseconds
// fit nanoseconds and megabytes fit bytes many times over.
const std::vector<NumberField>& numberFields() {
  static const std::vector<NumberField> fields = {
      {{"cpu_ms", 1, 600'000}, &FunctionSettings::cpuMs},                // 10 min
      {{"duration_ms", 1, 3'600'000}, &FunctionSettings::durationMs},    // 1 h
      {{"memory_mb", 1, 65'536}, &FunctionSettings::memoryMb},           // 64 GiB
      {{"max_subrequests", 0, 100'000}, &FunctionSettings::maxSubrequests},
      {{"reuse_instance_requests", 0, 1'000'000}, &FunctionSettings::reuseInstanceRequests},
      {{"max_concurrency", 1, 1'000'000}, &FunctionSettings::maxConcurrency},
      {{"instance_concurrency", 0, 1'000}, &FunctionSettings::instanceConcurrency},
      {{"kv_max_key_bytes", 1, 65'536}, &FunctionSettings::kvMaxKeyBytes},
      {{"kv_max_value_bytes", 0, 1ull << 30}, &FunctionSettings::kvMaxValueBytes},     // 1 GiB
      {{"kv_max_operations", 0, 1'000'000}, &FunctionSettings::kvMaxOperations},
      {{"kv_max_bytes", 0, 1ull << 40}, &FunctionSettings::kvMaxBytes},                  // 1 TiB
      {{"log_retention_mb", 1, 1u << 20}, &FunctionSettings::logRetentionMb},            // 1 TiB
      {{"log_retention_hours", 1, 87'600}, &FunctionSettings::logRetentionHours},        // 10 years
  };
  return fields;
}

std::string rangeError(const SettingRange& r) {
  return std::string(r.name) + " must be an integer between " + std::to_string(r.min) + " and " +
         std::to_string(r.max) + " (or null for the node's value)";
}

}  // namespace

const std::vector<SettingRange>& settingRanges() {
  static const std::vector<SettingRange> ranges = [] {
    std::vector<SettingRange> v;
    for (const auto& f : numberFields()) v.push_back(f.range);
    return v;
  }();
  return ranges;
}

Result<FunctionSettings> FunctionSettings::fromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Error{"settings must be a JSON object"};
  FunctionSettings s;
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const auto& [range, field] : numberFields()) {
      if (key != range.name) continue;
      known = true;
      if (value.is_null()) continue;
      // Negative numbers are signed integers, floats (also 2^64 and above)
      // are not integers: both fail here, with the range in the message.
      if (!value.is_number_unsigned()) return Error{rangeError(range)};
      const uint64_t n = value.get<uint64_t>();
      if (n < range.min || n > range.max) return Error{rangeError(range)};
      s.*field = n;
    }
    if (key == "allow") {
      known = true;
      if (!value.is_array()) return Error{"allow must be a list of CIDRs, e.g. [\"10.0.0.0/8\"]"};
      if (value.size() > kMaxAllowEntries)
        return Error{"allow takes at most " + std::to_string(kMaxAllowEntries) + " entries"};
      for (const auto& a : value) {
        if (!a.is_string()) return Error{"allow entries must be strings"};
        if (a.get_ref<const std::string&>().size() > kMaxAllowEntryBytes)
          return Error{"allow entries are at most " + std::to_string(kMaxAllowEntryBytes) + " bytes"};
        s.allow.push_back(a.get<std::string>());
      }
    }
    if (key == "kv_buckets") {
      known = true;
      const std::string rule = "kv_buckets must be a list of at most " + std::to_string(kMaxKvBuckets) +
                               " shared bucket names (lowercase letters, digits and '-', at most 63 bytes), e.g. "
                               "[\"sessions\"]";
      if (!value.is_array() || value.size() > kMaxKvBuckets) return Error{rule};
      for (const auto& b : value) {
        if (!b.is_string() || !isDnsLabel(b.get<std::string>())) return Error{rule};
        s.kvBuckets.push_back(b.get<std::string>());
      }
    }
    if (!known) return Error{"unknown setting '" + key.substr(0, 64) + "'"};
  }
  // Requests served at once share one instance, which lives for as many
  // requests as reuse allows: without reuse there is nothing to share.
  if (s.instanceConcurrency.value_or(0) > 1 && s.reuseInstanceRequests.value_or(0) < 2)
    return Error{"instance_concurrency needs reuse_instance_requests of 2 or more (how many requests one instance "
                 "serves in all)"};
  return s;
}

std::string FunctionSettings::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [range, field] : numberFields())
    if (const auto& v = this->*field) j[range.name] = *v;
  if (!allow.empty()) j["allow"] = allow;
  if (!kvBuckets.empty()) j["kv_buckets"] = kvBuckets;
  return j.dump();
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; k++) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and beyond U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += n + 1;
  }
  return true;
}

Result<void> checkVarName(const std::string& name) {
  static const std::string kRule = "names are letters, digits and '_', not starting with a digit, at most " +
                                   std::to_string(kMaxVarNameBytes) + " bytes";
  if (name.empty() || name.size() > kMaxVarNameBytes) return Error{"invalid variable name: " + kRule};
  for (size_t i = 0; i < name.size(); i++) {
    const char c = name[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return Error{"invalid variable name: " + kRule};
  }
  return {};
}

Result<void> checkVarValue(const std::string& value) {
  if (value.size() > kMaxVarValueBytes)
    return Error{"values are at most " + std::to_string(kMaxVarValueBytes) + " bytes"};
  if (value.find('\0') != std::string::npos) return Error{"values must not contain NUL"};
  if (!isValidUtf8(value)) return Error{"values must be UTF-8"};
  return {};
}

bool isDnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool isValidAliasName(const std::string& s) {
  if (!isDnsLabel(s)) return false;
  if (s.size() > 1 && s[0] == 'v' && s.find_first_not_of("0123456789", 1) == std::string::npos) return false;
  return true;
}

}  // namespace fn0::registry
