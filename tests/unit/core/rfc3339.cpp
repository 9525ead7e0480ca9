#include "orch/time.hpp"

#include <boost/test/unit_test.hpp>

using namespace std::chrono;

namespace {

orch::timestamp at(int y, unsigned m, unsigned d, int hh, int mm, int ss, long long us = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss}
         + microseconds{us};
}

} // namespace

BOOST_AUTO_TEST_SUITE(rfc3339)

BOOST_AUTO_TEST_CASE(whole_seconds_print_without_a_fraction) {
  BOOST_TEST(orch::to_rfc3339(at(2026, 1, 15, 10, 30, 0)) == "2026-01-15T10:30:00Z");
  BOOST_TEST(orch::to_rfc3339(orch::timestamp{}) == "1970-01-01T00:00:00Z");
}

BOOST_AUTO_TEST_CASE(sub_seconds_print_as_six_digits) {
  BOOST_TEST(orch::to_rfc3339(at(2026, 1, 15, 10, 30, 0, 123456)) == "2026-01-15T10:30:00.123456Z");
  BOOST_TEST(orch::to_rfc3339(at(2024, 2, 29, 23, 59, 59, 1000)) == "2024-02-29T23:59:59.001000Z");
}

BOOST_AUTO_TEST_CASE(parse_reads_utc_and_offsets) {
  BOOST_TEST((orch::parse_rfc3339("2026-01-15T10:30:00Z") == at(2026, 1, 15, 10, 30, 0)));
  BOOST_TEST((orch::parse_rfc3339("2026-01-15t10:30:00z") == at(2026, 1, 15, 10, 30, 0)));
  BOOST_TEST((orch::parse_rfc3339("2026-01-15 10:30:00Z") == at(2026, 1, 15, 10, 30, 0)));
  BOOST_TEST((orch::parse_rfc3339("2026-01-15T12:30:00+02:00") == at(2026, 1, 15, 10, 30, 0)));
  BOOST_TEST((orch::parse_rfc3339("2026-01-15T00:15:00-01:30") == at(2026, 1, 15, 1, 45, 0)));
}

BOOST_AUTO_TEST_CASE(parse_reads_fractions_and_truncates_past_microseconds) {
  BOOST_TEST((orch::parse_rfc3339("2026-01-15T10:30:00.5Z") == at(2026, 1, 15, 10, 30, 0, 500000)));
  BOOST_TEST(
    (orch::parse_rfc3339("2026-01-15T10:30:00.123456789Z") == at(2026, 1, 15, 10, 30, 0, 123456)));
}

BOOST_AUTO_TEST_CASE(parse_round_trips_to_rfc3339) {
  auto t = at(2031, 12, 31, 23, 59, 59, 999999);
  BOOST_TEST((orch::parse_rfc3339(orch::to_rfc3339(t)) == t));
}

BOOST_AUTO_TEST_CASE(parse_rejects_malformed_text) {
  for (auto bad : {"", "2026-01-15", "2026-01-15T10:30:00", "2026-13-15T10:30:00Z",
                   "2026-02-30T10:30:00Z", "2026-01-15T24:00:00Z", "2026-01-15T10:60:00Z",
                   "2026-01-15T10:30:60Z", "2026-01-15X10:30:00Z", "2026/01/15T10:30:00Z",
                   "2026-01-15T10:30:00.Z", "2026-01-15T10:30:00+0200", "2026-01-15T10:30:00+25:00",
                   "2026-01-15T10:30:00Zjunk", "2026-01-15T10:30:00 Z", "20a6-01-15T10:30:00Z",
                   "2026-01-15T10:30:00+02:00x", "2026-01-15T10:30:00.123"})
    BOOST_TEST(!orch::parse_rfc3339(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
