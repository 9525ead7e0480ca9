#include "orch/schemas/openapi.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

namespace {

using operation = std::pair<std::string, std::string>;

rapidjson::Document parsed_document() {
  rapidjson::Document doc;
  auto text = orch::schemas::openapi_document();
  doc.Parse(text.data(), text.size());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_REQUIRE(doc.IsObject());
  return doc;
}

/// Every `$ref` value anywhere below `x`.
void collect_refs(const rapidjson::Value& x, std::vector<std::string>& out) {
  if (x.IsObject()) {
    for (const auto& m : x.GetObject()) {
      if (std::string_view{m.name.GetString()} == "$ref" && m.value.IsString())
        out.emplace_back(m.value.GetString());
      else
        collect_refs(m.value, out);
    }
  } else if (x.IsArray()) {
    for (const auto& v : x.GetArray()) collect_refs(v, out);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(openapi)

BOOST_AUTO_TEST_CASE(the_document_is_openapi_3_1_with_both_security_schemes) {
  auto doc = parsed_document();
  BOOST_TEST(doc["openapi"].GetString() == "3.1.0");
  const auto& schemes = doc["components"]["securitySchemes"];
  BOOST_TEST(schemes["api_key"]["type"].GetString() == "apiKey");
  BOOST_TEST(schemes["api_key"]["in"].GetString() == "header");
  BOOST_TEST(schemes["api_key"]["name"].GetString() == "X-API-Key");
  BOOST_TEST(schemes["bearer"]["type"].GetString() == "http");
  BOOST_TEST(schemes["bearer"]["scheme"].GetString() == "bearer");
  BOOST_TEST(doc["security"].Size() == 2u);
}

BOOST_AUTO_TEST_CASE(every_route_of_the_api_is_listed) {
  auto ops = orch::schemas::openapi_operations();
  std::vector<operation> expected{
    {"GET", "/templates"},
    {"POST", "/templates"},
    {"GET", "/templates/{id_or_name}"},
    {"PUT", "/templates/{id_or_name}"},
    {"DELETE", "/templates/{id_or_name}"},
    {"GET", "/deployments"},
    {"POST", "/deployments"},
    {"GET", "/deployments/{id}"},
    {"PATCH", "/deployments/{id}"},
    {"DELETE", "/deployments/{id}"},
    {"POST", "/deployments/{id}/configure"},
    {"GET", "/deployments/{id}/configurations"},
    {"GET", "/deployments/{id}/configurations/{run_id}"},
    {"POST", "/deployments/{id}/scale"},
    {"GET", "/deployments/{id}/events"},
    {"GET", "/orphans"},
    {"POST", "/orphans/cleanup"},
    {"GET", "/cluster"},
    {"GET", "/health"},
    {"GET", "/health/ready"},
    {"GET", "/metrics"},
    {"GET", "/openapi.json"},
  };
  BOOST_TEST(ops.size() == expected.size());
  for (const auto& op : expected)
    BOOST_TEST((std::find(ops.begin(), ops.end(), op) != ops.end()), op.first + " " + op.second);
  std::set<operation> unique{ops.begin(), ops.end()};
  BOOST_TEST(unique.size() == ops.size());
}

BOOST_AUTO_TEST_CASE(open_routes_need_no_key_and_others_do) {
  auto doc = parsed_document();
  std::set<std::string> open{"/health", "/health/ready", "/metrics", "/openapi.json"};
  for (const auto& [method, path] : orch::schemas::openapi_operations()) {
    std::string lower_method;
    for (auto c : method) lower_method += static_cast<char>(c - 'A' + 'a');
    const auto& op = doc["paths"][path.c_str()][lower_method.c_str()];
    auto has_empty_security = op.HasMember("security") && op["security"].Size() == 0;
    BOOST_TEST(has_empty_security == (open.count(path) == 1), method + " " + path);
    BOOST_TEST(op.HasMember("operationId"));
    BOOST_TEST(op.HasMember("responses"));
    if (open.count(path) == 0) {
      BOOST_TEST(op["responses"].HasMember("401"), method + " " + path);
      BOOST_TEST(op["responses"].HasMember("429"), method + " " + path);
      BOOST_TEST(op["responses"].HasMember("403") == (method != "GET"), method + " " + path);
    }
  }
}

BOOST_AUTO_TEST_CASE(errors_are_problem_json) {
  auto doc = parsed_document();
  const auto& responses = doc["components"]["responses"];
  for (const auto& r : responses.GetObject())
    BOOST_TEST(r.value["content"].HasMember("application/problem+json"), r.name.GetString());
  const auto& problem = doc["components"]["schemas"]["Problem"]["properties"];
  for (auto field : {"type", "title", "status", "detail", "instance", "request_id", "errors"})
    BOOST_TEST(problem.HasMember(field), field);
}

BOOST_AUTO_TEST_CASE(events_are_offered_as_json_and_as_server_sent_events) {
  auto doc = parsed_document();
  const auto& content
    = doc["paths"]["/deployments/{id}/events"]["get"]["responses"]["200"]["content"];
  BOOST_TEST(content.HasMember("application/json"));
  BOOST_TEST(content.HasMember("text/event-stream"));
  const auto& patch = doc["paths"]["/deployments/{id}"]["patch"];
  BOOST_TEST(patch["parameters"][0]["name"].GetString() == "dry_run");
  BOOST_TEST(patch["responses"].HasMember("200"));
  BOOST_TEST(patch["responses"].HasMember("202"));
}

BOOST_AUTO_TEST_CASE(every_reference_resolves) {
  auto doc = parsed_document();
  std::vector<std::string> refs;
  collect_refs(doc, refs);
  BOOST_TEST(refs.size() > 50u);
  for (const auto& ref : refs) {
    BOOST_REQUIRE(ref.rfind("#/", 0) == 0);
    rapidjson::Pointer pointer{ref.substr(1).c_str()};
    BOOST_TEST(pointer.IsValid(), ref);
    BOOST_TEST(pointer.Get(doc) != nullptr, ref);
  }
}

BOOST_AUTO_TEST_CASE(the_embedded_document_matches_the_file) {
  std::ifstream in{ORCH_SCHEMAS_JSON_DIR "/openapi.json", std::ios::binary};
  BOOST_REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  BOOST_TEST(text.str() == std::string{orch::schemas::openapi_document()});
}

BOOST_AUTO_TEST_SUITE_END()
