#pragma once

// Runs an openstack-sim service on 127.0.0.1:0 and talks to it over real HTTP.

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <boost/beast/http/verb.hpp>
#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include "orch/sim/http_service.hpp"
#include "orch/testing/http_client.hpp"

namespace orch::sim::testing {

using verb = boost::beast::http::verb;

inline rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  return doc;
}

inline std::string str_at(const rapidjson::Value& doc, const char* ptr) {
  auto v = rapidjson::Pointer(ptr).Get(doc);
  return v != nullptr && v->IsString() ? v->GetString() : "<missing>";
}

inline cloud_config http_test_config() {
  cloud_config cfg;
  cfg.seed = 7;
  return cfg; // boot and delete times fixed:0: transitions land on the next call
}

struct sim_fixture {
  http_service service;
  std::optional<orch::testing::http_client> client;
  std::string token;
  std::string project_id;
  std::string nova_version = "2.90";

  explicit sim_fixture(cloud_config cfg = http_test_config(), service_options opts = {})
    : service(std::move(cfg), http::server_config{}, std::move(opts)) {
    service.start();
    client.emplace("127.0.0.1", service.port());
    auto res = client->request(
      verb::post, "/identity/v3/auth/tokens",
      R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"secret"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}})");
    BOOST_REQUIRE_EQUAL(res.result_int(), 201u);
    token = std::string{res["X-Subject-Token"]};
    project_id = str_at(parse_json(res.body()), "/token/project/id");
  }

  ~sim_fixture() { service.stop(); }

  orch::testing::http_response call(verb method, const std::string& target, std::string body = {},
                                    orch::testing::header_list headers = {}) {
    headers.emplace_back("X-Auth-Token", token);
    headers.emplace_back("Accept", "application/json");
    if (target.starts_with("/compute") && !nova_version.empty())
      headers.emplace_back("OpenStack-API-Version", "compute " + nova_version);
    return client->request(method, target, std::move(body), headers);
  }

  rapidjson::Document json(verb method, const std::string& target, std::string body = {},
                           orch::testing::header_list headers = {}) {
    return parse_json(call(method, target, std::move(body), std::move(headers)).body());
  }
};

} // namespace orch::sim::testing
