#pragma once

// Drives an orch::sim::cloud directly: no sockets, time moves only through `advance`.

#include <chrono>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <boost/test/unit_test.hpp>

#include "orch/sim/cloud.hpp"

namespace orch::sim::testing {

struct answer {
  response res;
  rapidjson::Document json;

  int status() const { return res.status; }
  /// The string at JSON pointer `ptr` (e.g. `/server/status`), or "<missing>".
  std::string str(const char* ptr) const {
    auto v = rapidjson::Pointer(ptr).Get(json);
    return v != nullptr && v->IsString() ? v->GetString() : "<missing>";
  }
  const rapidjson::Value* at(const char* ptr) const { return rapidjson::Pointer(ptr).Get(json); }
};

inline cloud_config test_config() {
  cloud_config cfg;
  cfg.base_url = "http://sim.test:5000";
  cfg.seed = 42;
  cfg.boot_time = *duration_dist::parse("fixed:2s");
  cfg.delete_time = *duration_dist::parse("fixed:1s");
  cfg.token_ttl = std::chrono::seconds{3600};
  return cfg;
}

struct cloud_fixture {
  cloud uut;
  time_point now = time_point{std::chrono::seconds{1'800'000'000}};
  std::string token;
  std::string project_id;
  /// Microversion header sent to Nova ("" sends none).
  std::string nova_version = "2.90";

  explicit cloud_fixture(cloud_config cfg = test_config()) : uut(std::move(cfg)) {
    auto res = issue_token("admin", "secret");
    BOOST_REQUIRE_EQUAL(res.status(), 201);
    token = std::string{res.res.header("X-Subject-Token")};
    project_id = res.str("/token/project/id");
  }

  void advance(std::chrono::milliseconds d) { now += d; }

  answer send(std::string method, std::string target, std::string body = {},
              std::vector<std::pair<std::string, std::string>> headers = {},
              bool with_token = true) {
    request req;
    req.method = std::move(method);
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.headers = std::move(headers);
    if (with_token) req.headers.emplace_back("X-Auth-Token", token);
    if (req.path.starts_with("/compute") && !nova_version.empty())
      req.headers.emplace_back("OpenStack-API-Version", "compute " + nova_version);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    req.body = std::move(body);
    answer a{uut.handle(req, now), {}};
    if (!a.res.body.empty()) a.json.Parse(a.res.body.c_str());
    return a;
  }

  answer issue_token(const std::string& user, const std::string& password) {
    return send("POST", "/identity/v3/auth/tokens",
                R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":")" + user
                  + R"(","domain":{"name":"Default"},"password":")" + password
                  + R"("}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}})",
                {}, false);
  }

  // Shorthands that create resources and return their ids.
  std::string create_network(const std::string& name) {
    auto a = send("POST", "/networking/v2.0/networks", R"({"network":{"name":")" + name + "\"}}");
    BOOST_REQUIRE_EQUAL(a.status(), 201);
    return a.str("/network/id");
  }

  std::string create_subnet(const std::string& net, const std::string& cidr, int version = 4,
                            const std::string& extra = {}) {
    auto a = send("POST", "/networking/v2.0/subnets",
                  R"({"subnet":{"network_id":")" + net + R"(","cidr":")" + cidr
                    + R"(","ip_version":)" + std::to_string(version) + extra + "}}");
    BOOST_REQUIRE_EQUAL(a.status(), 201);
    return a.str("/subnet/id");
  }

  std::string image_id(const std::string& name) {
    auto a = send("GET", "/image/v2/images?name=" + name);
    BOOST_REQUIRE_EQUAL(a.status(), 200);
    return a.str("/images/0/id");
  }

  answer boot(const std::string& name, const std::string& net, const std::string& flavor = "1",
              const std::string& extra = {}) {
    return send("POST", "/compute/v2.1/servers",
                R"({"server":{"name":")" + name + R"(","flavorRef":")" + flavor
                  + R"(","imageRef":")" + image_id("cirros") + R"(","networks":[{"uuid":")" + net
                  + "\"}]" + extra + "}}");
  }

  std::string boot_active(const std::string& name, const std::string& net,
                          const std::string& flavor = "1") {
    auto a = boot(name, net, flavor);
    BOOST_REQUIRE_EQUAL(a.status(), 202);
    advance(std::chrono::seconds{2});
    return a.str("/server/id");
  }

  std::string server_status(const std::string& id) {
    return send("GET", "/compute/v2.1/servers/" + id).str("/server/status");
  }
};

} // namespace orch::sim::testing
