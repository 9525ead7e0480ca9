#include <string>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::status;
using boost::beast::http::verb;

namespace {

std::string named_template(const std::string& name, int web_count = 2) {
  return R"({"name":")" + name + R"(","description":"d","vm_config":{"web":{"flavor":"m1.small",)"
         + R"("image":"ubuntu-22.04","count":)" + std::to_string(web_count)
         + R"(}},"network_config":{"cidr":"10.0.0.0/16","subnets":{"web":"10.0.1.0/24"}}})";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(templates_api, orchestrator_fixture)

BOOST_AUTO_TEST_CASE(a_template_goes_through_create_read_replace_and_delete) {
  auto created = call(verb::post, "/templates", example("web-app-stack.json"));
  BOOST_TEST_REQUIRE(created.result_int() == 201, created.body());
  auto doc = parse_json(created.body());
  std::string id = doc["id"].GetString();
  BOOST_TEST(std::string{created[boost::beast::http::field::location]} == "/templates/" + id);
  BOOST_TEST(doc["name"].GetString() == std::string{"web-app-stack"});
  BOOST_TEST(doc["vm_config"]["app"]["min_count"].GetInt() == 1);
  BOOST_TEST(doc["network_config"]["router"].GetBool());
  BOOST_TEST(std::string{doc["created_at"].GetString()}.back() == 'Z');

  auto by_id = call(verb::get, "/templates/" + id, {}, read_key);
  BOOST_TEST(by_id.result_int() == 200);
  auto by_name = call(verb::get, "/templates/web-app-stack", {}, read_key);
  BOOST_TEST(by_name.result_int() == 200);
  BOOST_TEST(parse_json(by_name.body())["id"].GetString() == id);

  auto replaced = call(verb::put, "/templates/" + id, named_template("web-app-stack", 5));
  BOOST_TEST_REQUIRE(replaced.result_int() == 200, replaced.body());
  auto rdoc = parse_json(replaced.body());
  BOOST_TEST(rdoc["id"].GetString() == id);
  BOOST_TEST(rdoc["vm_config"]["web"]["count"].GetInt() == 5);
  BOOST_TEST(!rdoc["vm_config"].HasMember("app"));
  BOOST_TEST(rdoc["created_at"].GetString() == std::string{doc["created_at"].GetString()});

  auto deleted = call(verb::delete_, "/templates/web-app-stack");
  BOOST_TEST(deleted.result_int() == 204);
  BOOST_TEST(deleted.body().empty());
  BOOST_TEST(call(verb::get, "/templates/" + id).result_int() == 404);
  BOOST_TEST(call(verb::delete_, "/templates/" + id).result_int() == 404);
  // The row stays for audit, marked deleted.
  BOOST_TEST(db().query_value("SELECT count(*) FROM deployment_templates WHERE deleted_at IS NOT "
                              "NULL")
             == "1");
}

BOOST_AUTO_TEST_CASE(names_are_unique_among_live_templates) {
  BOOST_TEST(call(verb::post, "/templates", named_template("dup")).result_int() == 201);
  auto again = call(verb::post, "/templates", named_template("dup"));
  BOOST_TEST(again.result_int() == 409);
  BOOST_TEST(std::string{again[boost::beast::http::field::content_type]}
             == "application/problem+json");
  BOOST_TEST(call(verb::delete_, "/templates/dup").result_int() == 204);
  BOOST_TEST(call(verb::post, "/templates", named_template("dup")).result_int() == 201);
  // Renaming onto a taken name conflicts too.
  BOOST_TEST(call(verb::post, "/templates", named_template("other")).result_int() == 201);
  BOOST_TEST(call(verb::put, "/templates/other", named_template("dup")).result_int() == 409);
}

BOOST_AUTO_TEST_CASE(the_listing_pages_with_a_total) {
  for (int i = 0; i < 7; ++i)
    BOOST_TEST_REQUIRE(
      call(verb::post, "/templates", named_template("t" + std::to_string(i))).result_int() == 201);
  auto first = call(verb::get, "/templates?limit=3&offset=0", {}, read_key);
  BOOST_TEST_REQUIRE(first.result_int() == 200);
  auto doc = parse_json(first.body());
  BOOST_TEST(doc["total"].GetInt() == 7);
  BOOST_TEST(doc["limit"].GetInt() == 3);
  BOOST_TEST(doc["offset"].GetInt() == 0);
  BOOST_TEST(doc["items"].Size() == 3u);
  BOOST_TEST(doc["items"][0]["name"].GetString() == std::string{"t0"});
  auto last = parse_json(call(verb::get, "/templates?limit=3&offset=6", {}, read_key).body());
  BOOST_TEST(last["items"].Size() == 1u);
  BOOST_TEST(last["items"][0]["name"].GetString() == std::string{"t6"});
  auto defaults = parse_json(call(verb::get, "/templates", {}, read_key).body());
  BOOST_TEST(defaults["limit"].GetInt() == 50);
  BOOST_TEST(call(verb::get, "/templates?limit=0").result_int() == 422);
  BOOST_TEST(call(verb::get, "/templates?limit=501").result_int() == 422);
  BOOST_TEST(call(verb::get, "/templates?offset=-1").result_int() == 422);
  BOOST_TEST(call(verb::get, "/templates?limit=abc").result_int() == 422);
}

BOOST_AUTO_TEST_CASE(an_invalid_template_lists_every_bad_field_and_stores_nothing) {
  auto res = call(verb::post, "/templates",
                  R"({"name":"bad","vm_config":{"Web":{"flavor":"m1.small","image":"x",)"
                  R"("count":2000},"app":{"flavor":"","image":"x","count":1,"min_count":3}},)"
                  R"("network_config":{"cidr":"10.0.0.0/16","subnets":{"a":"10.1.0.0/24",)"
                  R"("b":"10.0.1.0/24","c":"10.0.1.128/25"}}})");
  BOOST_TEST_REQUIRE(res.result_int() == 422);
  auto doc = parse_json(res.body());
  BOOST_TEST(doc["status"].GetInt() == 422);
  BOOST_TEST(doc["instance"].GetString() == std::string{"/templates"});
  std::string fields;
  for (auto& e : doc["errors"].GetArray()) fields += std::string{e["field"].GetString()} + " ";
  BOOST_TEST_MESSAGE(fields);
  for (auto expected : {"vm_config.Web", "vm_config.app.flavor", "vm_config.app.min_count",
                        "network_config.subnets.a", "network_config.subnets.c"})
    BOOST_TEST(fields.find(expected) != std::string::npos, expected << " in " << fields);
  BOOST_TEST(db().query_value("SELECT count(*) FROM deployment_templates") == "0");
}

BOOST_AUTO_TEST_CASE(ipv6_networks_are_accepted) {
  auto res
    = call(verb::post, "/templates",
           R"({"name":"v6","vm_config":{"web":{"flavor":"m1.small","image":"x","count":1}},)"
           R"("network_config":{"cidr":"fd00:1::/48","subnets":{"web":"fd00:1:0:1::/64"}}})");
  BOOST_TEST(res.result_int() == 201, res.body());
}

BOOST_AUTO_TEST_CASE(unknown_templates_are_404_problems) {
  auto res = call(verb::get, "/templates/does-not-exist", {}, read_key);
  BOOST_TEST(res.result_int() == 404);
  auto doc = parse_json(res.body());
  BOOST_TEST(doc["instance"].GetString() == std::string{"/templates/does-not-exist"});
  BOOST_TEST(call(verb::put, "/templates/nope", named_template("nope")).result_int() == 404);
}

BOOST_AUTO_TEST_SUITE_END()
