#include "orch/openstack/retry.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>

namespace orch::openstack {

namespace {

using std::chrono::milliseconds;

int month_number(const char* name) {
  static constexpr std::array<const char*, 12> names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t i = 0; i < names.size(); ++i)
    if (std::strcmp(names[i], name) == 0) return static_cast<int>(i) + 1;
  return 0;
}

std::optional<timestamp> make_time(int year, const char* month_name, int day, int hour, int minute,
                                   int second) {
  auto month = month_number(month_name);
  if (month == 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60)
    return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{year},
                                  std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (day < 1 || !ymd.ok()) return std::nullopt;
  return timestamp{std::chrono::sys_days{ymd} + std::chrono::hours{hour}
                   + std::chrono::minutes{minute} + std::chrono::seconds{second}};
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

} // namespace

milliseconds backoff_delay(const retry_policy& policy, int attempt, double unit) {
  auto ceiling = std::max(policy.base_delay, milliseconds{0});
  for (int i = 1; i < attempt && ceiling < policy.max_delay; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, policy.max_delay);
  unit = std::clamp(unit, 0.0, 1.0);
  return milliseconds{static_cast<milliseconds::rep>(unit * static_cast<double>(ceiling.count()))};
}

std::optional<timestamp> parse_http_date(std::string_view value) {
  std::string text{trim(value)};
  if (text.empty() || text.size() > 64) return std::nullopt;
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  char month[4] = {};
  char zone[4] = {};
  auto comma = text.find(',');
  if (comma != std::string::npos) {
    auto rest = text.substr(comma + 1);
    int consumed = 0;
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (std::sscanf(rest.c_str(), " %2d %3s %4d %2d:%2d:%2d %3s%n", &day, month, &year, &hour,
                    &minute, &second, zone, &consumed)
          == 7
        && std::strcmp(zone, "GMT") == 0 && static_cast<size_t>(consumed) == rest.size())
      return make_time(year, month, day, hour, minute, second);
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years before 70 are 20xx.
    if (std::sscanf(rest.c_str(), " %2d-%3s-%2d %2d:%2d:%2d %3s%n", &day, month, &year, &hour,
                    &minute, &second, zone, &consumed)
          == 7
        && std::strcmp(zone, "GMT") == 0 && static_cast<size_t>(consumed) == rest.size())
      return make_time(year < 70 ? 2000 + year : 1900 + year, month, day, hour, minute, second);
    return std::nullopt;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  char weekday[4] = {};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%3s %3s %2d %2d:%2d:%2d %4d%n", weekday, month, &day, &hour,
                  &minute, &second, &year, &consumed)
        == 7
      && static_cast<size_t>(consumed) == text.size())
    return make_time(year, month, day, hour, minute, second);
  return std::nullopt;
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::optional<timestamp> now) {
  auto text = trim(value);
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    long long seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    // A day is more than any sane rate limit; larger values are clamped, not rejected.
    if (ec == std::errc::result_out_of_range || seconds > 86'400)
      seconds = 86'400;
    else if (ec != std::errc{} || end != text.data() + text.size())
      return std::nullopt;
    return milliseconds{seconds * 1000};
  }
  auto date = parse_http_date(text);
  if (!date || !now) return std::nullopt;
  if (*date <= *now) return milliseconds{0};
  return std::chrono::ceil<milliseconds>(*date - *now);
}

bool is_idempotent(std::string_view method, std::string_view action) {
  if (action == "add_router_interface" || action == "remove_router_interface") return false;
  if (method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE"
      || method == "OPTIONS")
    return true;
  return method == "POST" && action == "authenticate";
}

retry_decision decide_retry(const retry_policy& policy, const os_error& error,
                            bool may_have_executed, bool idempotent, int attempts,
                            milliseconds elapsed, double unit) {
  retry_decision result;
  result.error = error;
  if (error.kind != os_error_kind::transient && error.kind != os_error_kind::rate_limited)
    return result;
  if (!idempotent && may_have_executed) {
    result.error.kind = os_error_kind::outcome_unknown;
    result.error.message = "the request may have been executed but its answer was lost ("
                           + error.message + "); not repeated: reconcile by tag";
    return result;
  }
  if (attempts >= policy.max_attempts) return result;
  auto delay = backoff_delay(policy, attempts, unit) + error.retry_after.value_or(milliseconds{0});
  if (elapsed + delay > policy.deadline) return result;
  result.retry = true;
  result.delay = delay;
  return result;
}

} // namespace orch::openstack
