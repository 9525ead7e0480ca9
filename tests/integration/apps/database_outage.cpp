#include <cstdlib>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::field;
using boost::beast::http::verb;

namespace {

void database(const std::string& action) {
  auto ctl = required_env("ORCH_TEST_DB_CTL");
  auto cmd = ctl + " " + action + " >/dev/null 2>&1";
  BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0, "'" << cmd << "' failed");
}

const std::string body
  = R"({"name":"during-outage","vm_config":{"web":{"flavor":"m1.small","image":"x","count":1}},)"
    R"("network_config":{"cidr":"10.0.0.0/16","subnets":{"web":"10.0.1.0/24"}}})";

} // namespace

BOOST_AUTO_TEST_SUITE(database_outage)

BOOST_AUTO_TEST_CASE(requests_get_503_while_postgres_is_down_and_succeed_after_it_returns) {
  orchestrator_fixture orch;
  BOOST_TEST_REQUIRE(orch.call(verb::post, "/templates", example("web-app-stack.json")).result_int()
                     == 201);

  database("stop");
  auto listing = orch.call(verb::get, "/templates", {}, read_key);
  auto create = orch.call(verb::post, "/templates", body);
  auto ready = orch.call(verb::get, "/health/ready", {}, "");
  database("start");

  BOOST_TEST(listing.result_int() == 503);
  BOOST_TEST(std::string{listing[field::content_type]} == "application/problem+json");
  BOOST_TEST(std::stoi(std::string{listing[field::retry_after]}) >= 1);
  BOOST_TEST(create.result_int() == 503);
  BOOST_TEST(ready.result_int() == 503);
  auto rdoc = parse_json(ready.body());
  BOOST_TEST(rdoc["status"].GetString() == std::string{"not_ready"});
  BOOST_TEST(rdoc["checks"]["database"].GetString() != std::string{"ok"});
  BOOST_TEST(listing.body().find("pqxx") == std::string::npos);

  // Recovery without a restart of the orchestrator.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = orch.call(verb::get, "/templates", {}, read_key).result_int();
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  BOOST_TEST_REQUIRE(status == 200);
  auto doc = parse_json(orch.call(verb::get, "/templates", {}, read_key).body());
  BOOST_TEST(doc["total"].GetInt() == 1); // the create during the outage left nothing behind
  BOOST_TEST(orch.call(verb::post, "/templates", body).result_int() == 201);
  BOOST_TEST(orch.call(verb::get, "/health/ready", {}, "").result_int() == 200);
}

BOOST_AUTO_TEST_SUITE_END()
