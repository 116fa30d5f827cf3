#include "domain/timestamp.h"

#include <cstdio>

namespace regulars {
namespace {

// Days from 1970-01-01 to the given civil date (proleptic Gregorian; H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`; false if any is not a digit.
bool ReadDigits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Error Bad(const std::string& message) {
  return Error::BadInput("invalid_timestamp",
                         message + " (expected RFC 3339, like 2026-11-23T10:15:00+01:00)");
}

}  // namespace

Result<int64_t> ParseTimestamp(std::string_view s) {
  int64_t year, month, day, hour, minute, second;
  if (!ReadDigits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !ReadDigits(s, 5, 2, &month) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !ReadDigits(s, 11, 2, &hour) || s[13] != ':' || !ReadDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &second)) {
    return Bad("timestamp is not a date and time");
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return Bad("timestamp has an out-of-range field");
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return Bad("timestamp has an empty fraction of a second");
    for (size_t i = digits; i < 3; ++i) millis *= 10;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int64_t oh, om;
    if (!ReadDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return Bad("timestamp has a malformed offset");
    }
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return Bad("timestamp has no offset from UTC");
  }
  if (pos != s.size()) return Bad("timestamp has trailing characters");
  int64_t days = DaysFromCivil(year, month, day);
  int64_t local_seconds = days * 86400 + hour * 3600 + minute * 60 + second;
  return (local_seconds - offset_minutes * 60) * 1000 + millis;
}

std::string FormatTimestampUtc(int64_t epoch_ms) {
  int64_t seconds = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
  int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  int64_t rest = seconds - days * 86400;
  // civil_from_days (H. Hinnant).
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rest / 3600), static_cast<long long>(rest % 3600 / 60),
                static_cast<long long>(rest % 60));
  return buf;
}

LocalDay LocalDayOf(std::string_view text, int64_t at_ms) {
  auto digits = [&](size_t at, size_t n) -> int64_t {
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  int64_t h = digits(11, 2), m = digits(14, 2), sec = digits(17, 2);
  if (!ParseTimestamp(text).ok() || h < 0 || m < 0 || sec < 0) {
    std::string utc = FormatTimestampUtc(at_ms);
    int64_t start = at_ms - ((at_ms % 86'400'000) + 86'400'000) % 86'400'000;
    return {utc.substr(0, 10), start, start + 86'400'000};
  }
  int64_t fraction_ms = 0;
  if (text.size() > 19 && text[19] == '.') {
    int64_t scale = 100;
    for (size_t i = 20; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      fraction_ms += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  int64_t start = at_ms - ((h * 60 + m) * 60 + sec) * 1000 - fraction_ms;
  return {std::string(text.substr(0, 10)), start, start + 86'400'000};
}

}  // namespace regulars
