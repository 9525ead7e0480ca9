#include "orch/errc.hpp"

#include <set>

#include <boost/test/unit_test.hpp>
#include <caf/sec.hpp>

BOOST_AUTO_TEST_SUITE(errc)

BOOST_AUTO_TEST_CASE(an_enum_value_converts_to_an_orch_error) {
  caf::error err = orch::errc::conflict;
  BOOST_TEST(orch::is(err, orch::errc::conflict));
  BOOST_TEST(!orch::is(err, orch::errc::not_found));
  BOOST_TEST(orch::error_detail(err).empty());
}

BOOST_AUTO_TEST_CASE(make_error_keeps_the_detail) {
  auto err = orch::make_error(orch::errc::not_found, "template web-app-stack");
  BOOST_TEST(orch::is(err, orch::errc::not_found));
  BOOST_TEST(orch::error_detail(err) == "template web-app-stack");
}

BOOST_AUTO_TEST_CASE(codes_have_stable_names) {
  BOOST_TEST(to_string(orch::errc::invalid_spec) == "invalid_spec");
  BOOST_TEST(to_string(orch::errc::store_unavailable) == "store_unavailable");
  BOOST_TEST(static_cast<int>(orch::errc::invalid_spec) == 1);
}

BOOST_AUTO_TEST_CASE(every_code_has_a_distinct_name) {
  std::set<std::string> names;
  for (int code = 1; code <= static_cast<int>(orch::errc::internal); ++code) {
    auto name = to_string(static_cast<orch::errc>(code));
    BOOST_TEST(name != "unknown");
    names.insert(name);
  }
  BOOST_TEST(names.size() == static_cast<size_t>(orch::errc::internal));
  BOOST_TEST(to_string(static_cast<orch::errc>(200)) == "unknown");
}

BOOST_AUTO_TEST_CASE(errors_of_other_categories_are_not_ours) {
  caf::error other = caf::sec::request_timeout;
  BOOST_TEST(!orch::is(other, orch::errc::not_found));
  BOOST_TEST(orch::error_detail(other).empty());
}

BOOST_AUTO_TEST_CASE(an_empty_error_is_no_orch_error_and_has_no_detail) {
  caf::error none;
  BOOST_TEST(!orch::is(none, orch::errc::internal));
  BOOST_TEST(orch::error_detail(none).empty());
}

BOOST_AUTO_TEST_SUITE_END()
