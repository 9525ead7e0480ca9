#include <string>

#include <boost/test/unit_test.hpp>

#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::field;
using boost::beast::http::verb;

BOOST_AUTO_TEST_SUITE(rate_limit)

BOOST_AUTO_TEST_CASE(a_key_over_its_budget_gets_429_with_retry_after) {
  orchestrator_fixture orch{{{"RATE_LIMIT_PER_MINUTE", "5"}}};
  auto client = orch.client();
  int ok = 0;
  http_response limited;
  for (int i = 0; i < 8; ++i) {
    auto res = client->request(verb::get, "/templates", {}, {{"X-API-Key", read_key}});
    if (res.result_int() == 200)
      ++ok;
    else
      limited = res;
  }
  BOOST_TEST(ok == 5);
  BOOST_TEST(limited.result_int() == 429);
  BOOST_TEST(std::stoi(std::string{limited[field::retry_after]}) >= 1);
  BOOST_TEST(std::string{limited["RateLimit-Remaining"]} == "0");
  // Another key has its own budget.
  auto other = client->request(verb::get, "/templates", {}, {{"X-API-Key", write_key}});
  BOOST_TEST(other.result_int() == 200);
}

BOOST_AUTO_TEST_SUITE_END()
