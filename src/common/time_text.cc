#include "common/time_text.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace fn0 {

namespace {

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; i++) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

// ".123456" (any number of digits, kept to the microsecond) at `pos`.
int64_t fraction(std::string_view s, size_t& pos) {
  if (pos >= s.size() || s[pos] != '.') return 0;
  pos++;
  int64_t us = 0, scale = 100000;
  const size_t start = pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    us += (s[pos] - '0') * scale;
    scale /= 10;
    pos++;
  }
  return pos == start ? -1 : us;
}

std::optional<int64_t> unixSeconds(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') pos++;
  if (pos == 0 || pos > 12) return std::nullopt;  // up to year 33000
  int64_t secs = 0;
  std::from_chars(s.data(), s.data() + pos, secs);
  const int64_t us = fraction(s, pos);
  if (us < 0 || pos != s.size()) return std::nullopt;
  return secs * 1'000'000 + us;
}

std::optional<int64_t> durationMicros(std::string_view s) {
  int64_t total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') pos++;
    if (pos == start || pos - start > 9 || pos >= s.size()) return std::nullopt;
    int64_t n = 0;
    std::from_chars(s.data() + start, s.data() + pos, n);
    int64_t unit = 0;
    switch (s[pos++]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'w': unit = 7 * 86400; break;
      default: return std::nullopt;
    }
    total += n * unit * 1'000'000;
  }
  return total;
}

std::optional<int64_t> rfc3339(std::string_view s) {
  size_t pos = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, mo) || pos >= s.size() ||
      s[pos++] != '-' || !digits(s, pos, 2, d))
    return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                         std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  int64_t us = 0, offsetSeconds = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    pos++;
    if (!digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, mi) || pos >= s.size() ||
        s[pos++] != ':' || !digits(s, pos, 2, sec) || h > 23 || mi > 59 || sec > 60)
      return std::nullopt;
    us = fraction(s, pos);
    if (us < 0 || pos >= s.size()) return std::nullopt;  // a time needs its zone
    if (s[pos] == 'Z' || s[pos] == 'z') {
      pos++;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos++] == '+' ? 1 : -1;
      int oh, om;
      if (!digits(s, pos, 2, oh) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, om) || oh > 23 ||
          om > 59)
        return std::nullopt;
      offsetSeconds = sign * (oh * 3600 + om * 60);
    } else {
      return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
  }
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offsetSeconds;
  return secs * 1'000'000 + us;
}

}  // namespace

std::optional<int64_t> parseTimeMicros(std::string_view text, int64_t nowMicros) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (auto u = unixSeconds(text)) return u;
  if (text.size() >= 10 && text[4] == '-') return rfc3339(text);
  if (auto d = durationMicros(text)) return nowMicros - *d;
  return std::nullopt;
}

std::string formatUnixMicros(int64_t micros) {
  char buf[40];
  const int64_t secs = micros >= 0 ? micros / 1'000'000 : -((-micros + 999'999) / 1'000'000);
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(secs),
                static_cast<long long>(micros - secs * 1'000'000));
  return buf;
}

}  // namespace fn0
