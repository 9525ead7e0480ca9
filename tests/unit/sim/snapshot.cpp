#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(snapshot, cloud_fixture)

BOOST_AUTO_TEST_CASE(a_restored_cloud_continues_where_the_saved_one_stopped) {
  auto net = create_network("private");
  create_subnet(net, "10.0.0.0/24");
  auto active = boot_active("web-0", net);
  auto building = boot("web-1", net).str("/server/id");
  send("PUT", "/networking/v2.0/networks/" + net + "/tags", R"({"tags":["orch:c1"]})");
  auto snapshot = uut.save_state();

  cloud restored{test_config()};
  BOOST_REQUIRE(!restored.load_state(snapshot));
  auto ask = [&](const std::string& method, const std::string& path, std::string body = {}) {
    request req;
    req.method = method;
    req.path = path;
    req.body = std::move(body);
    req.headers = {{"X-Auth-Token", token}, {"OpenStack-API-Version", "compute 2.90"}};
    answer a{restored.handle(req, now), {}};
    a.json.Parse(a.res.body.c_str());
    return a;
  };
  auto get = [&](const std::string& path) { return ask("GET", path); };
  // Ids keep coming from the same random stream as in the saved cloud.
  auto body = R"({"network":{"name":"next"}})";
  BOOST_TEST(ask("POST", "/networking/v2.0/networks", body).str("/network/id")
             == send("POST", "/networking/v2.0/networks", body).str("/network/id"));
  // The token survives, the pending build lands on schedule, addresses stay allocated.
  BOOST_TEST(get("/compute/v2.1/servers/" + active).str("/server/status") == "ACTIVE");
  BOOST_TEST(get("/compute/v2.1/servers/" + building).str("/server/status") == "BUILD");
  now += 2s;
  auto built = get("/compute/v2.1/servers/" + building);
  BOOST_TEST(built.str("/server/status") == "ACTIVE");
  BOOST_TEST(built.str("/server/addresses/private/0/addr") == "10.0.0.3");
  BOOST_TEST(get("/networking/v2.0/networks/" + net).str("/network/tags/0") == "orch:c1");
}

BOOST_AUTO_TEST_CASE(a_broken_snapshot_is_refused_and_leaves_a_fresh_cloud) {
  create_network("x");
  BOOST_TEST(uut.load_state("{not json").value_or("") == "not a JSON object");
  BOOST_TEST(uut.load_state(R"({"version":99})").value_or("").starts_with("unsupported"));
  token = std::string{issue_token("admin", "secret").res.header("X-Subject-Token")};
  BOOST_TEST(send("GET", "/networking/v2.0/networks").at("/networks")->Size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
