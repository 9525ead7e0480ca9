#include "orch/sim/cloud.hpp"

#include <set>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(keystone, cloud_fixture)

BOOST_AUTO_TEST_CASE(password_auth_by_names_returns_subject_token_and_scoped_body) {
  auto a = issue_token("admin", "secret");
  BOOST_TEST(a.status() == 201);
  BOOST_TEST(!a.res.header("X-Subject-Token").empty());
  BOOST_TEST(a.str("/token/project/name") == "admin");
  BOOST_TEST(a.str("/token/project/domain/id") == "default");
  BOOST_TEST(a.str("/token/user/name") == "admin");
  BOOST_TEST(a.str("/token/issued_at") == "2027-01-15T08:00:00.000000Z");
  BOOST_TEST(a.str("/token/expires_at") == "2027-01-15T09:00:00.000000Z");
}

BOOST_AUTO_TEST_CASE(password_auth_by_ids_works_too) {
  auto first = issue_token("admin", "secret");
  auto user_id = first.str("/token/user/id");
  auto body = R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"id":")" + user_id
              + R"(","password":"secret"}}},"scope":{"project":{"id":")" + project_id + R"("}}}})";
  auto a = send("POST", "/identity/v3/auth/tokens", body, {}, false);
  BOOST_TEST(a.status() == 201);
  BOOST_TEST(a.str("/token/project/id") == project_id);
}

BOOST_AUTO_TEST_CASE(wrong_password_is_a_generic_401) {
  auto a = issue_token("admin", "wrong");
  BOOST_TEST(a.status() == 401);
  BOOST_TEST(a.at("/error/code")->GetInt() == 401);
  BOOST_TEST(a.str("/error/title") == "Unauthorized");
  BOOST_TEST(a.str("/error/message") == "The request you have made requires authentication.");
  BOOST_TEST(issue_token("nobody", "secret").status() == 401);
}

BOOST_AUTO_TEST_CASE(application_credential_auth_is_bound_to_the_users_project) {
  auto body = [](const std::string& id, const std::string& secret) {
    return R"({"auth":{"identity":{"methods":["application_credential"],)"
           R"("application_credential":{"id":")"
           + id + R"(","secret":")" + secret + R"("}}}})";
  };
  auto a = send("POST", "/identity/v3/auth/tokens", body("admin", "secret"), {}, false);
  BOOST_TEST(a.status() == 201);
  BOOST_TEST(!a.res.header("X-Subject-Token").empty());
  BOOST_TEST(a.str("/token/project/id") == project_id);
  auto wrong = send("POST", "/identity/v3/auth/tokens", body("admin", "wrong"), {}, false);
  BOOST_TEST(wrong.status() == 401);
  auto unknown = send("POST", "/identity/v3/auth/tokens", body("nobody", "secret"), {}, false);
  BOOST_TEST(unknown.status() == 401);
  auto scoped = send(
    "POST", "/identity/v3/auth/tokens",
    R"({"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"admin","secret":"secret"}},"scope":{"project":{"id":"x"}}}})",
    {}, false);
  BOOST_TEST(scoped.status() == 400);
}

BOOST_AUTO_TEST_CASE(project_name_without_domain_is_a_400) {
  auto a = send(
    "POST", "/identity/v3/auth/tokens",
    R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"secret"}}},"scope":{"project":{"name":"admin"}}}})",
    {}, false);
  BOOST_TEST(a.status() == 400);
}

BOOST_AUTO_TEST_CASE(catalog_lists_every_service_in_two_regions_at_the_simulator) {
  auto a = issue_token("admin", "secret");
  auto& catalog = *a.at("/token/catalog");
  std::set<std::string> types;
  for (auto& entry : catalog.GetArray()) {
    types.insert(entry["type"].GetString());
    BOOST_TEST(entry["endpoints"].Size() == 6u);
    for (auto& ep : entry["endpoints"].GetArray())
      BOOST_TEST(std::string{ep["url"].GetString()}.starts_with("http://sim.test:5000/"));
  }
  BOOST_TEST((types
              == std::set<std::string>{"identity", "compute", "network", "volumev3",
                                       "block-storage", "image"}));
}

BOOST_AUTO_TEST_CASE(nocatalog_drops_the_catalog) {
  auto a = send(
    "POST", "/identity/v3/auth/tokens?nocatalog",
    R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"secret"}}}}})",
    {}, false);
  BOOST_TEST(a.status() == 201);
  BOOST_TEST(a.at("/token/catalog") == nullptr);
}

BOOST_AUTO_TEST_CASE(validation_echoes_the_subject_token_and_404s_unknown_ones) {
  auto a = send("GET", "/identity/v3/auth/tokens", {}, {{"X-Subject-Token", token}});
  BOOST_TEST(a.status() == 200);
  BOOST_TEST(a.res.header("X-Subject-Token") == token);
  auto b = send("GET", "/identity/v3/auth/tokens", {}, {{"X-Subject-Token", "gAAAAAnope"}});
  BOOST_TEST(b.status() == 404);
  BOOST_TEST(b.str("/error/message") == "Failed to validate token");
}

BOOST_AUTO_TEST_CASE(every_service_rejects_missing_unknown_and_expired_tokens) {
  for (std::string path :
       {std::string{"/compute/v2.1/servers"}, std::string{"/networking/v2.0/networks"},
        std::string{"/image/v2/images"}, "/volume/v3/" + project_id + "/volumes"}) {
    auto missing = send("GET", path, {}, {}, false);
    BOOST_TEST(missing.status() == 401);
    BOOST_TEST(missing.res.header("WWW-Authenticate")
               == "Keystone uri=\"http://sim.test:5000/identity\"");
    auto unknown = send("GET", path, {}, {{"X-Auth-Token", "bogus"}}, false);
    BOOST_TEST(unknown.status() == 401);
    BOOST_TEST(unknown.str("/error/title") == "Unauthorized");
  }
  advance(3601s);
  BOOST_TEST(send("GET", "/compute/v2.1/servers").status() == 401);
}

BOOST_AUTO_TEST_CASE(revoked_tokens_stop_working) {
  auto other = std::string{issue_token("admin", "secret").res.header("X-Subject-Token")};
  BOOST_TEST(send("DELETE", "/identity/v3/auth/tokens", {}, {{"X-Subject-Token", other}}).status()
             == 204);
  BOOST_TEST(send("GET", "/compute/v2.1/servers", {}, {{"X-Auth-Token", other}}, false).status()
             == 401);
}

BOOST_AUTO_TEST_CASE(same_seed_gives_same_ids) {
  cloud_fixture twin;
  BOOST_TEST(twin.project_id == project_id);
  BOOST_TEST(twin.token == token);
}

BOOST_AUTO_TEST_CASE(every_answer_carries_a_request_id) {
  auto a = send("GET", "/compute/v2.1/servers");
  auto id = std::string{a.res.header("x-openstack-request-id")};
  BOOST_TEST(id.starts_with("req-"));
  BOOST_TEST(id.size() == 40u);
  BOOST_TEST(a.res.header("x-compute-request-id") == id);
}

BOOST_AUTO_TEST_SUITE_END()
