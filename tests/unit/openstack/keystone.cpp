#include "orch/openstack/keystone.hpp"

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>

#include "fake_transport.hpp"

using namespace orch::openstack;
using namespace std::chrono_literals;
using orch::openstack::testing::read_sample;

namespace {

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  return doc;
}

password_credentials named_credentials() {
  password_credentials c;
  c.auth_url = "http://182.161.114.101/identity";
  c.username = "admin";
  c.user_domain_name = "Default";
  c.password = "s3cret-pw";
  c.project_name = "admin";
  c.project_domain_id = "default";
  return c;
}

auth_token devstack_token() {
  auto res = parse_token_response({{"X-Subject-Token", "gAAAA-token"}},
                                  read_sample("keystone/auth-token-response-devstack.json"));
  BOOST_REQUIRE(res.ok());
  return *res;
}

} // namespace

BOOST_AUTO_TEST_SUITE(keystone)

BOOST_AUTO_TEST_CASE(password_body_names_user_and_project_by_name_and_domain) {
  auto body = build_password_auth_body(named_credentials());
  BOOST_REQUIRE(body.ok());
  auto doc = parse_json(*body);
  const auto& auth = doc["auth"];
  BOOST_TEST(auth["identity"]["methods"][0].GetString() == std::string{"password"});
  const auto& user = auth["identity"]["password"]["user"];
  BOOST_TEST(user["name"].GetString() == std::string{"admin"});
  BOOST_TEST(user["domain"]["name"].GetString() == std::string{"Default"});
  BOOST_TEST(user["password"].GetString() == std::string{"s3cret-pw"});
  const auto& project = auth["scope"]["project"];
  BOOST_TEST(project["name"].GetString() == std::string{"admin"});
  BOOST_TEST(project["domain"]["id"].GetString() == std::string{"default"});
}

BOOST_AUTO_TEST_CASE(password_body_by_ids_matches_the_sample_shape) {
  password_credentials c;
  c.user_id = "ee4dfb6e5540447cb3741905149d9b6e";
  c.password = "devstacker";
  c.project_id = "a6944d763bf64ee6a275f1263fae0352";
  auto body = build_password_auth_body(c);
  BOOST_REQUIRE(body.ok());
  auto ours = parse_json(*body);
  auto sample = parse_json(read_sample("keystone/auth-password-project-id-request.json"));
  BOOST_TEST((ours == sample));
}

BOOST_AUTO_TEST_CASE(incomplete_credentials_fail_without_revealing_the_password) {
  auto c = named_credentials();
  c.user_domain_name.clear();
  auto res = build_password_auth_body(c);
  BOOST_REQUIRE(!res.ok());
  BOOST_TEST(to_string(res.error().kind) == "bad_request");
  BOOST_TEST(res.error().message.find("user domain") != std::string::npos);
  BOOST_TEST(to_string(res.error()).find("s3cret-pw") == std::string::npos);
  c = named_credentials();
  c.project_domain_id.clear();
  BOOST_TEST(!build_password_auth_body(c).ok());
  c = named_credentials();
  c.password.clear();
  BOOST_TEST(!build_password_auth_body(c).ok());
}

BOOST_AUTO_TEST_CASE(application_credential_body_carries_id_and_secret_without_scope) {
  auto c = named_credentials();
  c.application_credential_id = "423f19a4ac1e4f48bbb4180756e6eb6c";
  c.application_credential_secret = "app-s3cret";
  auto body = build_auth_body(c);
  BOOST_REQUIRE(body.ok());
  auto doc = parse_json(*body);
  const auto& identity = doc["auth"]["identity"];
  BOOST_TEST(identity["methods"].Size() == 1u);
  BOOST_TEST(identity["methods"][0].GetString() == std::string{"application_credential"});
  const auto& cred = identity["application_credential"];
  BOOST_TEST(cred["id"].GetString() == std::string{"423f19a4ac1e4f48bbb4180756e6eb6c"});
  BOOST_TEST(cred["secret"].GetString() == std::string{"app-s3cret"});
  BOOST_TEST(!identity.HasMember("password"));
  BOOST_TEST(!doc["auth"].HasMember("scope"));
  BOOST_TEST(body->find("s3cret-pw") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(auth_body_is_password_without_an_application_credential) {
  auto body = build_auth_body(named_credentials());
  BOOST_REQUIRE(body.ok());
  BOOST_TEST(parse_json(*body)["auth"]["identity"]["methods"][0].GetString()
             == std::string{"password"});
}

BOOST_AUTO_TEST_CASE(application_credential_without_secret_is_refused_by_name) {
  password_credentials c;
  c.application_credential_id = "id-1";
  auto res = build_auth_body(c);
  BOOST_REQUIRE(!res.ok());
  BOOST_TEST(to_string(res.error().kind) == "bad_request");
  BOOST_TEST(res.error().message.find("secret") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(token_url_appends_v3_only_when_missing) {
  BOOST_TEST(token_url("http://h/identity") == "http://h/identity/v3/auth/tokens");
  BOOST_TEST(token_url("http://h:5000/v3/") == "http://h:5000/v3/auth/tokens");
}

BOOST_AUTO_TEST_CASE(devstack_token_response_yields_id_lifetime_and_catalog) {
  auto tok = devstack_token();
  BOOST_TEST(tok.id == "gAAAA-token");
  BOOST_TEST(tok.project_id == "67b814b10c624269b605ea8c571decdc");
  BOOST_TEST((tok.expires_at - tok.issued_at == std::chrono::hours{3}));
  BOOST_TEST(tok.catalog.size() == 10u);
}

BOOST_AUTO_TEST_CASE(token_response_without_subject_header_or_expiry_is_malformed) {
  auto body = read_sample("keystone/auth-token-project-scoped-response.json");
  auto no_header = parse_token_response({}, body);
  BOOST_REQUIRE(!no_header.ok());
  BOOST_TEST(to_string(no_header.error().kind) == "malformed_response");
  auto no_expiry = parse_token_response({{"X-Subject-Token", "t"}}, R"({"token": {}})");
  BOOST_REQUIRE(!no_expiry.ok());
  BOOST_TEST(no_expiry.error().message.find("token.expires_at") != std::string::npos);
  auto wrong_type
    = parse_token_response({{"X-Subject-Token", "t"}}, R"({"token": {"expires_at": 5}})");
  BOOST_TEST(!wrong_type.ok());
  BOOST_TEST(!parse_token_response({{"X-Subject-Token", "t"}}, "not json").ok());
}

BOOST_AUTO_TEST_CASE(endpoints_are_selected_by_type_region_and_interface) {
  auto tok = devstack_token();
  BOOST_TEST(*select_endpoint(tok.catalog, service::compute, "RegionOne", "public")
             == "http://182.161.114.101/compute/v2.1");
  BOOST_TEST(*select_endpoint(tok.catalog, service::network, "RegionOne", "public")
             == "http://182.161.114.101:9696/networking");
  // block-storage comes before volumev3.
  BOOST_TEST(*select_endpoint(tok.catalog, service::block_storage, "RegionOne", "public")
             == "http://182.161.114.101/volume/v3/67b814b10c624269b605ea8c571decdc");
  auto missing = select_endpoint(tok.catalog, service::compute, "RegionTwo", "public");
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(to_string(missing.error().kind) == "endpoint_refused");
  BOOST_TEST(missing.error().message.find("RegionTwo") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(two_region_catalog_gives_each_region_its_own_urls) {
  auto res = parse_token_response({{"X-Subject-Token", "t"}},
                                  read_sample("keystone/auth-token-response-two-regions.json"));
  BOOST_REQUIRE(res.ok());
  BOOST_TEST(*select_endpoint(res->catalog, service::compute, "RegionOne", "public")
             == "http://172.16.2.72:8774/v2.1/a21e39dfc7f542cdb3d350a21165b5ca");
  BOOST_TEST(*select_endpoint(res->catalog, service::compute, "RegionTwo", "internal")
             == "http://172.16.3.72:8774/v2.1");
  BOOST_TEST(*select_endpoint(res->catalog, service::block_storage, "RegionTwo", "public")
             == "http://172.16.3.72:8776/v3/a21e39dfc7f542cdb3d350a21165b5ca");
  BOOST_TEST(*select_endpoint(res->catalog, service::identity, "RegionOne", "public")
             == "http://172.16.2.72:5000/v3");
}

BOOST_AUTO_TEST_CASE(allowlist_accepts_url_prefixes_at_segment_boundaries) {
  auto uut = endpoint_allowlist::parse("https://cloud.example:8774/compute/, net.example:9696",
                                       "https://keystone.example:5000/v3");
  BOOST_TEST(uut.allows("https://cloud.example:8774/compute/v2.1"));
  BOOST_TEST(uut.allows("https://CLOUD.example:8774/compute"));
  BOOST_TEST(!uut.allows("https://cloud.example:8774/computer"));
  BOOST_TEST(!uut.allows("http://cloud.example:8774/compute/v2.1"));
  BOOST_TEST(!uut.allows("https://cloud.example:8775/compute/v2.1"));
  BOOST_TEST(uut.allows("http://net.example:9696/v2.0"));
  BOOST_TEST(!uut.allows("http://net.example:9697/v2.0"));
  BOOST_TEST(!uut.allows("https://keystone.example:5000/v3"));
  BOOST_TEST(!uut.allows("https://cloud.example:8774@evil.example/compute"));
  BOOST_TEST(!uut.allows("not a url"));
}

BOOST_AUTO_TEST_CASE(bare_host_entry_allows_any_port) {
  endpoint_allowlist uut{{"cloud.example"}, "http://other.example/"};
  BOOST_TEST(uut.allows("http://cloud.example:8774/v2.1"));
  BOOST_TEST(uut.allows("https://cloud.example/"));
  BOOST_TEST(!uut.allows("https://cloud.example.evil/"));
}

BOOST_AUTO_TEST_CASE(empty_allowlist_allows_only_the_auth_urls_host) {
  auto uut = endpoint_allowlist::parse("", "http://182.161.114.101/identity");
  auto tok = devstack_token();
  for (const auto& entry : tok.catalog)
    for (const auto& ep : entry.endpoints) BOOST_TEST(uut.allows(ep.url), ep.url);
  BOOST_TEST(!uut.allows("http://169.254.169.254/latest/meta-data"));
}

BOOST_AUTO_TEST_CASE(refresh_happens_margin_before_the_lifetime_ends) {
  auth_token tok;
  tok.issued_at = orch::timestamp{} + 1000h;
  tok.expires_at = tok.issued_at + 1h;
  auto t0 = std::chrono::steady_clock::time_point{} + 5h;
  BOOST_TEST((token_refresh_at(tok, t0, 5min) == t0 + 55min));
  // The margin never eats more than half the lifetime.
  BOOST_TEST((token_refresh_at(tok, t0, 2h) == t0 + 30min));
  tok.expires_at = tok.issued_at;
  BOOST_TEST((token_refresh_at(tok, t0, 5min) == t0));
  // Found by tests/fuzz/openstack_responses: a lifetime of millennia used to overflow
  // steady_clock; it is capped at a year.
  tok.expires_at = tok.issued_at + 24h * 365 * 2000;
  BOOST_TEST((token_refresh_at(tok, t0, 5min) == t0 + 24h * 365 - 5min));
}

BOOST_AUTO_TEST_SUITE_END()
