#include "orch/errc.hpp"

#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
