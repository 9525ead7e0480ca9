#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::sim;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(durations_accept_units_and_bare_zero) {
  BOOST_TEST(parse_duration("0")->count() == 0);
  BOOST_TEST(parse_duration("250ms")->count() == 250);
  BOOST_TEST(parse_duration("1.5s")->count() == 1500);
  BOOST_TEST(parse_duration("2m")->count() == 120'000);
  BOOST_TEST(parse_duration("1h")->count() == 3'600'000);
  BOOST_TEST(!parse_duration("5"));
  BOOST_TEST(!parse_duration("s"));
  BOOST_TEST(!parse_duration("3days"));
}

BOOST_AUTO_TEST_CASE(boot_time_distributions_parse_fixed_uniform_and_never) {
  auto fixed = duration_dist::parse("fixed:0");
  BOOST_REQUIRE(fixed);
  BOOST_TEST(fixed->low.count() == 0);
  BOOST_TEST(fixed->high.count() == 0);
  auto uniform = duration_dist::parse("uniform:1s..3s");
  BOOST_REQUIRE(uniform);
  BOOST_TEST(uniform->low.count() == 1000);
  BOOST_TEST(uniform->high.count() == 3000);
  BOOST_TEST(duration_dist::parse("never")->never);
  BOOST_TEST(!duration_dist::parse("uniform:3s..1s"));
  BOOST_TEST(!duration_dist::parse("uniform:1s"));
  BOOST_TEST(!duration_dist::parse("gauss:1s"));
}

BOOST_AUTO_TEST_CASE(user_accounts_default_project_and_domain) {
  auto u = user_account::parse("alice:pw");
  BOOST_REQUIRE(u);
  BOOST_TEST(u->name == "alice");
  BOOST_TEST(u->password == "pw");
  BOOST_TEST(u->project == "admin");
  BOOST_TEST(u->domain == "Default");
  auto full = user_account::parse("bob:pw:proj:Other");
  BOOST_REQUIRE(full);
  BOOST_TEST(full->project == "proj");
  BOOST_TEST(full->domain == "Other");
  BOOST_TEST(!user_account::parse("alone"));
  BOOST_TEST(!user_account::parse("a::p"));
  BOOST_TEST(!user_account::parse("a:b:c:d:e"));
}

BOOST_AUTO_TEST_SUITE_END()
