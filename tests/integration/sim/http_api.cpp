// The simulator over a real socket: headers, keep-alive, delays and faults as a client sees them.

#include <chrono>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(http_api, sim_fixture)

BOOST_AUTO_TEST_CASE(the_catalog_points_at_the_bound_port) {
  auto doc = json(verb::get, "/identity/v3/auth/tokens", {}, {{"X-Subject-Token", token}});
  auto url = str_at(doc, "/token/catalog/1/endpoints/0/url");
  BOOST_TEST(url.starts_with("http://127.0.0.1:" + std::to_string(service.port()) + "/"));
  BOOST_TEST(service.url() == "http://127.0.0.1:" + std::to_string(service.port()));
}

BOOST_AUTO_TEST_CASE(one_keep_alive_connection_serves_many_calls) {
  for (int i = 0; i < 50; ++i)
    BOOST_REQUIRE_EQUAL(call(verb::get, "/compute/v2.1/flavors").result_int(), 200u);
  BOOST_TEST(client->is_open());
}

BOOST_AUTO_TEST_CASE(a_missing_token_is_401_with_www_authenticate) {
  auto res = client->get("/networking/v2.0/networks");
  BOOST_TEST(res.result_int() == 401u);
  BOOST_TEST(res["WWW-Authenticate"]
             == "Keystone uri=\"http://127.0.0.1:" + std::to_string(service.port())
                  + "/identity\"");
  BOOST_TEST(str_at(parse_json(res.body()), "/error/title") == "Unauthorized");
}

BOOST_AUTO_TEST_CASE(nova_answers_carry_request_ids_and_microversion_headers) {
  auto res = call(verb::get, "/compute/v2.1/servers");
  BOOST_TEST(std::string{res["x-openstack-request-id"]}.starts_with("req-"));
  BOOST_TEST(res["x-compute-request-id"] == res["x-openstack-request-id"]);
  BOOST_TEST(res["OpenStack-API-Version"] == "compute 2.90");
  BOOST_TEST(res["X-OpenStack-Nova-API-Version"] == "2.90");
}

BOOST_AUTO_TEST_CASE(head_validates_a_token_without_a_body) {
  auto res = call(verb::head, "/identity/v3/auth/tokens", {}, {{"X-Subject-Token", token}});
  BOOST_TEST(res.result_int() == 200u);
  BOOST_TEST(res.body().empty());
}

BOOST_AUTO_TEST_CASE(a_429_fault_reaches_the_client_with_retry_after) {
  json(verb::post, "/_sim/faults",
       R"({"route":"/image/v2/images","status":429,"retry_after":7,"count":1})");
  auto limited = call(verb::get, "/image/v2/images");
  BOOST_TEST(limited.result_int() == 429u);
  BOOST_TEST(limited["Retry-After"] == "7");
  BOOST_TEST(call(verb::get, "/image/v2/images").result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(latency_faults_delay_the_answer_but_not_other_connections) {
  json(verb::post, "/_sim/faults", R"({"route":"/compute/v2.1/flavors","latency_ms":300})");
  orch::testing::http_client other{"127.0.0.1", service.port()};
  auto start = std::chrono::steady_clock::now();
  auto res = call(verb::get, "/compute/v2.1/flavors");
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(res.result_int() == 200u);
  BOOST_TEST((took >= 300ms));
  auto quick_start = std::chrono::steady_clock::now();
  BOOST_TEST(other.get("/compute/").result_int() == 200u);
  BOOST_TEST((std::chrono::steady_clock::now() - quick_start < 300ms));
}

BOOST_AUTO_TEST_CASE(a_drop_fault_closes_the_connection_without_an_answer) {
  json(verb::post, "/_sim/faults", R"({"route":"/image/v2/images","drop":true,"count":1})");
  orch::testing::raw_socket sock{"127.0.0.1", service.port()};
  sock.send("GET /image/v2/images HTTP/1.1\r\nHost: sim\r\nX-Auth-Token: " + token + "\r\n\r\n");
  BOOST_TEST(sock.read_until_close().empty());
  // Only the one call was dropped.
  BOOST_TEST(call(verb::get, "/image/v2/images").result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(delete_is_204_then_404_over_http) {
  auto net = str_at(json(verb::post, "/networking/v2.0/networks", R"({"network":{"name":"n"}})"),
                    "/network/id");
  json(verb::post, "/networking/v2.0/subnets",
       R"({"subnet":{"network_id":")" + net + R"(","ip_version":4,"cidr":"10.9.0.0/24"}})");
  auto img = str_at(json(verb::get, "/image/v2/images?name=cirros"), "/images/0/id");
  auto created = call(verb::post, "/compute/v2.1/servers",
                      R"({"server":{"name":"x","flavorRef":"1","imageRef":")" + img
                        + R"(","networks":[{"uuid":")" + net + R"("}]}})");
  BOOST_REQUIRE_EQUAL(created.result_int(), 202u);
  BOOST_TEST(std::string{created["Location"]}.find("/compute/v2.1/servers/") != std::string::npos);
  auto id = str_at(parse_json(created.body()), "/server/id");
  BOOST_TEST(call(verb::delete_, "/compute/v2.1/servers/" + id).result_int() == 204u);
  BOOST_TEST(call(verb::get, "/compute/v2.1/servers/" + id).result_int() == 404u);
}

// Nested so that ctest's --run_test=http_api runs it too.
BOOST_AUTO_TEST_SUITE(state_file)

BOOST_AUTO_TEST_CASE(the_state_survives_a_restart) {
  auto path = std::filesystem::temp_directory_path()
              / ("orch-sim-state-" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(path);
  service_options opts;
  opts.state_file = path.string();
  std::string saved_token;
  std::string net_id;
  {
    http_service first{http_test_config(), orch::http::server_config{}, opts};
    first.start();
    orch::testing::http_client c{"127.0.0.1", first.port()};
    auto res = c.request(
      verb::post, "/identity/v3/auth/tokens",
      R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"secret"}}}}})");
    saved_token = std::string{res["X-Subject-Token"]};
    net_id = str_at(
      parse_json(c.request(verb::post, "/networking/v2.0/networks",
                           R"({"network":{"name":"kept"}})", {{"X-Auth-Token", saved_token}})
                   .body()),
      "/network/id");
    first.stop();
  }
  BOOST_REQUIRE(std::filesystem::exists(path));
  http_service second{http_test_config(), orch::http::server_config{}, opts};
  second.start();
  orch::testing::http_client c{"127.0.0.1", second.port()};
  auto res = c.get("/networking/v2.0/networks/" + net_id, {{"X-Auth-Token", saved_token}});
  BOOST_TEST(res.result_int() == 200u);
  BOOST_TEST(str_at(parse_json(res.body()), "/network/name") == "kept");
  second.stop();
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(an_unreadable_state_file_stops_the_start) {
  auto path = std::filesystem::temp_directory_path()
              / ("orch-sim-bad-state-" + std::to_string(::getpid()) + ".json");
  std::ofstream{path} << "garbage";
  service_options opts;
  opts.state_file = path.string();
  http_service svc{http_test_config(), orch::http::server_config{}, opts};
  BOOST_CHECK_THROW(svc.start(), std::runtime_error);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()
