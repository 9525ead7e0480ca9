#include "orch/schemas/template_json.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

namespace {

using orch::field_error;
using orch::schemas::request_error;

const std::string example = R"({
  "name": "web-app-stack",
  "description": "3-tier web application",
  "vm_config": {
    "web": {"flavor": "m1.small",  "image": "ubuntu-22.04", "count": 2},
    "app": {"flavor": "m1.medium", "image": "ubuntu-22.04", "count": 3,
            "volumes": [{"size_gb": 20}], "min_count": 1},
    "db":  {"flavor": "m1.large",  "image": "ubuntu-22.04", "count": 1}
  },
  "network_config": {
    "cidr": "10.0.0.0/16",
    "subnets": {"web": "10.0.1.0/24", "app": "10.0.2.0/24", "db": "10.0.3.0/24"},
    "router": true,
    "external_network": "public"
  }
})";

/// `example` with the text `from` replaced by `to` (which must occur exactly once).
std::string with(std::string_view from, std::string_view to, std::string body = example) {
  auto pos = body.find(from);
  BOOST_REQUIRE_MESSAGE(pos != std::string::npos, std::string{from});
  BOOST_REQUIRE_MESSAGE(body.find(from, pos + 1) == std::string::npos, std::string{from});
  body.replace(pos, from.size(), to);
  return body;
}

orch::template_spec valid(std::string_view body) {
  auto result = orch::schemas::parse_template(body);
  if (auto err = std::get_if<request_error>(&result)) BOOST_FAIL("rejected: " + err->detail);
  return std::get<orch::template_spec>(result);
}

request_error invalid(std::string_view body) {
  auto result = orch::schemas::parse_template(body);
  if (!std::holds_alternative<request_error>(result)) BOOST_FAIL("accepted: " + std::string{body});
  return std::get<request_error>(result);
}

/// The errors of a 422, as "field: message" lines.
std::vector<std::string> problems(std::string_view body) {
  auto err = invalid(body);
  BOOST_TEST(to_string(err.code) == "invalid_spec");
  std::vector<std::string> result;
  for (const auto& e : err.errors) result.push_back(e.field + ": " + e.message);
  return result;
}

using strings = std::vector<std::string>;

std::optional<field_error> schema_error_of(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  BOOST_REQUIRE(!doc.HasParseError());
  return orch::schemas::schema_error(doc);
}

} // namespace

BOOST_AUTO_TEST_SUITE(template_json)

BOOST_AUTO_TEST_CASE(the_api_example_parses_in_document_order) {
  auto spec = valid(example);
  BOOST_TEST(spec.name == "web-app-stack");
  BOOST_TEST(spec.description == "3-tier web application");
  BOOST_REQUIRE(spec.vm_config.size() == 3u);
  BOOST_TEST(spec.vm_config[0].first == "web");
  BOOST_TEST(spec.vm_config[1].first == "app");
  BOOST_TEST(spec.vm_config[2].first == "db");
  const auto& app = spec.vm_config[1].second;
  BOOST_TEST(app.flavor == "m1.medium");
  BOOST_TEST(app.image == "ubuntu-22.04");
  BOOST_TEST(app.count == 3);
  BOOST_TEST(app.min_count.value_or(-1) == 1);
  BOOST_REQUIRE(app.volumes.size() == 1u);
  BOOST_TEST(app.volumes[0].size_gb == 20);
  BOOST_TEST(!spec.vm_config[0].second.min_count.has_value());
  const auto& net = spec.network_config;
  BOOST_TEST(net.cidr == "10.0.0.0/16");
  BOOST_REQUIRE(net.subnets.size() == 3u);
  BOOST_TEST(net.subnets[0].first == "web");
  BOOST_TEST(net.subnets[2].second == "10.0.3.0/24");
  BOOST_TEST(net.router);
  BOOST_TEST(net.external_network == "public");
}

BOOST_AUTO_TEST_CASE(the_shipped_example_file_is_valid) {
  std::ifstream in{ORCH_EXAMPLES_DIR "/web-app-stack.json", std::ios::binary};
  BOOST_REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  BOOST_TEST(valid(text.str()).vm_config.size() == 3u);
}

BOOST_AUTO_TEST_CASE(optional_fields_may_be_left_out) {
  auto spec = valid(R"({"name": "a", "vm_config": {"web": {"flavor": "f", "image": "i",
    "count": 0, "volumes": [{"size_gb": 1, "type": "ssd"}]}}, "network_config": {"cidr": "fd00::/48"}})");
  BOOST_TEST(spec.description.empty());
  BOOST_TEST(spec.vm_config[0].second.volumes[0].type == "ssd");
  BOOST_TEST(spec.network_config.subnets.empty());
  BOOST_TEST(!spec.network_config.router);
  BOOST_TEST(spec.network_config.external_network.empty());
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_json_is_a_400) {
  for (auto body : {"", "{", "{\"name\": }", "{} trailing", "nul", "{'name': 1}"}) {
    auto err = invalid(body);
    BOOST_TEST(to_string(err.code) == "malformed_request", body);
    BOOST_TEST(err.detail.find("body is not valid JSON: ") == 0u, body);
    BOOST_TEST(err.detail.find("(at offset ") != std::string::npos, body);
    BOOST_TEST(err.errors.empty());
  }
}

BOOST_AUTO_TEST_CASE(deeply_nested_bodies_are_refused_before_parsing) {
  constexpr size_t depth = 500000;
  auto body = R"({"name": "a", "x": )" + std::string(depth, '[') + std::string(depth, ']') + "}";
  auto err = invalid(body);
  BOOST_TEST(to_string(err.code) == "malformed_request");
  BOOST_TEST(err.detail == "body nests arrays and objects deeper than 32 levels");
  // At the limit, the body is parsed and judged on its fields.
  auto at_limit = R"({"name": "a", "x": )" + std::string(31, '[') + std::string(31, ']') + "}";
  BOOST_TEST(problems(at_limit).front() == "x: unknown field");
}

BOOST_AUTO_TEST_CASE(depth_counts_brackets_outside_strings_only) {
  using orch::schemas::exceeds_json_depth;
  BOOST_TEST(!exceeds_json_depth(R"({"a":[{"b":[]}]})", 4));
  BOOST_TEST(exceeds_json_depth(R"({"a":[{"b":[[]]}]})", 4));
  BOOST_TEST(!exceeds_json_depth(R"({"a":"[[[[[[{{{{"})", 1));
  BOOST_TEST(!exceeds_json_depth(R"({"a":"\"[[[[\\"})", 1));
  BOOST_TEST(exceeds_json_depth(R"({"a":"\\", "b":[]})", 1));
}

BOOST_AUTO_TEST_CASE(templates_over_the_size_limits_are_422) {
  orch::template_limits limits{2, 4};
  auto result = orch::schemas::parse_template(example, limits);
  BOOST_REQUIRE(std::holds_alternative<request_error>(result));
  const auto& err = std::get<request_error>(result);
  BOOST_TEST(to_string(err.code) == "invalid_spec");
  BOOST_REQUIRE(err.errors.size() == 2u);
  BOOST_TEST(err.errors[0].field == "vm_config");
  BOOST_TEST(err.errors[0].message == "has 3 VM groups; at most 2 are allowed");
  BOOST_TEST(err.errors[1].message == "asks for 6 VMs in total; at most 4 are allowed");
  BOOST_TEST(std::holds_alternative<orch::template_spec>(
    orch::schemas::parse_template(example, orch::template_limits{3, 6})));
}

BOOST_AUTO_TEST_CASE(names_with_every_allowed_character_pass_the_schema_too) {
  auto spec = valid(with(R"("name": "web-app-stack")", R"("name": "A.b_c-9")"));
  BOOST_TEST(spec.name == "A.b_c-9");
  auto long_name = std::string(63, 'n');
  BOOST_TEST(
    valid(with(R"("name": "web-app-stack")", "\"name\": \"" + long_name + "\"")).name.size()
    == 63u);
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_an_object_is_a_400) {
  for (auto body : {"[]", "42", "\"text\"", "null", "true"}) {
    auto err = invalid(body);
    BOOST_TEST(to_string(err.code) == "malformed_request", body);
    BOOST_TEST(err.detail == "body must be a JSON object");
  }
}

BOOST_AUTO_TEST_CASE(missing_required_fields_are_named) {
  BOOST_TEST(
    problems("{}")
    == (strings{"name: is required", "vm_config: is required", "network_config: is required"}));
  BOOST_TEST(
    problems(with(R"("count": 2)", R"("counts": 2)"))
    == (strings{"vm_config.web.counts: unknown field", "vm_config.web.count: is required"}));
  BOOST_TEST(problems(with(R"("cidr": "10.0.0.0/16",)", ""))
             == strings{"network_config.cidr: is required"});
  BOOST_TEST(problems(with(R"({"size_gb": 20})", "{}"))
             == strings{"vm_config.app.volumes.0.size_gb: is required"});
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_refused_at_every_level) {
  BOOST_TEST(problems(with(R"("name": "web-app-stack",)", R"("name": "web-app-stack", "x": 1,)"))
             == strings{"x: unknown field"});
  BOOST_TEST(problems(with(R"("router": true,)", R"("router": true, "dns": [],)"))
             == strings{"network_config.dns: unknown field"});
  BOOST_TEST(problems(with(R"({"size_gb": 20})", R"({"size_gb": 20, "iops": 5})"))
             == strings{"vm_config.app.volumes.0.iops: unknown field"});
}

BOOST_AUTO_TEST_CASE(repeated_members_are_refused) {
  BOOST_TEST(
    problems(with(R"("name": "web-app-stack",)", R"("name": "web-app-stack", "name": "other",)"))
    == strings{"name: is given more than once"});
  BOOST_TEST(problems(with(R"("db":  {)", R"("web":  {)"))
             == strings{"vm_config.web: is given more than once"});
  BOOST_TEST(problems(with(R"("db": "10.0.3.0/24")", R"("web": "10.0.3.0/24")"))
             == strings{"network_config.subnets.web: is given more than once"});
}

BOOST_AUTO_TEST_CASE(wrong_types_are_named) {
  BOOST_TEST(problems(with(R"("name": "web-app-stack")", R"("name": 7)"))
             == strings{"name: must be a string"});
  BOOST_TEST(problems(with(R"("description": "3-tier web application")", R"("description": [])"))
             == strings{"description: must be a string"});
  BOOST_TEST(problems(with(R"("count": 2)", R"("count": "2")"))
             == strings{"vm_config.web.count: must be an integer"});
  BOOST_TEST(problems(with(R"("count": 2)", R"("count": 2.0)"))
             == strings{"vm_config.web.count: must be an integer"});
  BOOST_TEST(problems(with(R"("count": 2)", R"("count": 2.5)"))
             == strings{"vm_config.web.count: must be an integer"});
  BOOST_TEST(problems(with(R"("router": true)", R"("router": "yes")"))
             == strings{"network_config.router: must be a boolean"});
  BOOST_TEST(problems(with(R"("volumes": [{"size_gb": 20}])", R"("volumes": {"size_gb": 20})"))
             == strings{"vm_config.app.volumes: must be an array"});
  BOOST_TEST(problems(with(R"({"size_gb": 20})", "20"))
             == strings{"vm_config.app.volumes.0: must be an object"});
  BOOST_TEST(problems(with(R"({"flavor": "m1.large",  "image": "ubuntu-22.04", "count": 1})", "3"))
             == strings{"vm_config.db: must be an object"});
  BOOST_TEST(problems(with(R"("db": "10.0.3.0/24")", R"("db": 3)"))
             == strings{"network_config.subnets.db: must be a string"});
  BOOST_TEST(problems(R"({"name": "a", "vm_config": [], "network_config": "x"})")
             == (strings{"vm_config: must be an object", "network_config: must be an object"}));
  BOOST_TEST(
    problems(with(R"("subnets": {)", R"("subnets": 1, "x": {)"))
    == (strings{"network_config.x: unknown field", "network_config.subnets: must be an object"}));
}

BOOST_AUTO_TEST_CASE(ranges_are_stated_in_the_message) {
  BOOST_TEST(problems(with(R"("count": 2)", R"("count": 1001)"))
             == strings{"vm_config.web.count: must be an integer <= 1000"});
  BOOST_TEST(problems(with(R"("count": 2)", R"("count": -1)"))
             == strings{"vm_config.web.count: must be an integer >= 0"});
  BOOST_TEST(problems(with(R"("count": 2)", R"("count": 99999999999999999999)"))
             == strings{"vm_config.web.count: must be an integer <= 1000"});
  BOOST_TEST(problems(with(R"("count": 2)", R"("count": -9999999999)"))
             == strings{"vm_config.web.count: must be an integer >= 0"});
  BOOST_TEST(problems(with(R"({"size_gb": 20})", R"({"size_gb": 0})"))
             == strings{"vm_config.app.volumes.0.size_gb: must be an integer >= 1"});
  BOOST_TEST(problems(with(R"({"size_gb": 20})", R"({"size_gb": 16385})"))
             == strings{"vm_config.app.volumes.0.size_gb: must be an integer <= 16384"});
  BOOST_TEST(problems(with(R"("min_count": 1)", R"("min_count": 4)"))
             == strings{"vm_config.app.min_count: must be <= count (3)"});
  BOOST_TEST(problems(with(R"("min_count": 1)", R"("min_count": -4)"))
             == strings{"vm_config.app.min_count: must be an integer >= 0"});
  BOOST_TEST(
    problems(with(R"("name": "web-app-stack")", "\"name\": \"" + std::string(64, 'n') + "\""))
    == strings{"name: must be at most 63 characters"});
  BOOST_TEST(problems(with(R"("description": "3-tier web application")",
                           "\"description\": \"" + std::string(1025, 'd') + "\""))
             == strings{"description: must be at most 1024 characters"});
}

BOOST_AUTO_TEST_CASE(lengths_count_characters_not_bytes) {
  std::string accented;
  for (int i = 0; i < 1024; ++i) accented += "\xC3\xA9";
  auto spec = valid(
    with(R"("description": "3-tier web application")", "\"description\": \"" + accented + "\""));
  BOOST_TEST(spec.description.size() == 2048u);
}

BOOST_AUTO_TEST_CASE(volumes_are_limited_in_number) {
  std::string many = R"("volumes": [)";
  for (int i = 0; i < 17; ++i) many += std::string{i ? "," : ""} + R"({"size_gb": 1})";
  many += "]";
  BOOST_TEST(problems(with(R"("volumes": [{"size_gb": 20}])", many))
             == strings{"vm_config.app.volumes: must have at most 16 items"});
}

BOOST_AUTO_TEST_CASE(semantic_errors_come_with_dotted_paths) {
  BOOST_TEST(problems(with(R"("name": "web-app-stack")", R"("name": "-web")"))
             == strings{"name: must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ (letter or digit "
                        "first, then letters, digits, '.', '_' or '-', at most 63 characters)"});
  BOOST_TEST(problems(with(R"("cidr": "10.0.0.0/16")", R"("cidr": "10.0.0.1/16")"))
             == strings{"network_config.cidr: host bits set, did you mean 10.0.0.0/16"});
  BOOST_TEST(
    problems(with(R"("app": "10.0.2.0/24")", R"("app": "10.1.2.0/24")"))
    == strings{"network_config.subnets.app: must lie inside network_config.cidr 10.0.0.0/16"});
  BOOST_TEST(problems(with(R"("router": true)", R"("router": false)"))
             == strings{"network_config.external_network: requires router: true"});
  BOOST_TEST(problems(with(R"("flavor": "m1.small")", R"("flavor": "")"))
             == strings{"vm_config.web.flavor: must not be empty"});
  BOOST_TEST(problems(R"({"name": "a", "vm_config": {}, "network_config": {"cidr": "10.0.0.0/8"}})")
             == strings{"vm_config: must define at least one VM group"});
  auto overlap = problems(with(R"("db": "10.0.3.0/24")", R"("db": "10.0.2.128/25")"));
  BOOST_TEST(overlap
             == (strings{"network_config.subnets.app: overlaps subnet db",
                         "network_config.subnets.db: overlaps subnet app"}));
  BOOST_TEST(problems(with(R"("web": {)", R"("Web": {)"))[0].find("vm_config.Web: group name")
             == 0u);
}

BOOST_AUTO_TEST_CASE(every_error_is_reported_at_once_without_duplicates) {
  auto body = R"({
    "name": "bad name",
    "extra": true,
    "vm_config": {
      "web": {"flavor": "", "image": 5, "count": 1001, "min_count": 3},
      "app": {"flavor": "f", "image": "i", "count": 3, "min_count": 9,
              "volumes": [{"size_gb": 0}, {"size_gb": 5, "type": 1}]},
      "db": "nope"
    },
    "network_config": {
      "cidr": "10.0.0.0/33",
      "subnets": {"web": "10.0.1.0/24", "app": "10.0.1.0/25", "Bad": "x"},
      "external_network": "public"
    }
  })";
  auto err = invalid(body);
  BOOST_TEST(to_string(err.code) == "invalid_spec");
  strings got;
  for (const auto& e : err.errors) got.push_back(e.field + ": " + e.message);
  strings expected{
    "extra: unknown field",
    "vm_config.web.image: must be a string",
    "vm_config.web.count: must be an integer <= 1000",
    "vm_config.app.volumes.0.size_gb: must be an integer >= 1",
    "vm_config.app.volumes.1.type: must be a string",
    "vm_config.db: must be an object",
    "name: must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ (letter or digit first, then letters, "
    "digits, '.', '_' or '-', at most 63 characters)",
    "vm_config.web.flavor: must not be empty",
    "vm_config.app.min_count: must be <= count (3)",
    "network_config.cidr: IPv4 prefix must be an integer 0..32",
    "network_config.subnets.web: overlaps subnet app",
    "network_config.subnets.app: overlaps subnet web",
    "network_config.subnets.Bad: subnet name must match ^[a-z][a-z0-9_-]{0,31}$ (lower-case "
    "letter first, then lower-case letters, digits, '_' or '-', at most 32 characters)",
    "network_config.subnets.Bad: must be a CIDR block like 10.0.0.0/16 (address/prefix)",
    "network_config.external_network: requires router: true",
  };
  BOOST_TEST(got == expected, boost::test_tools::per_element());
  std::set<std::string> unique{got.begin(), got.end()};
  BOOST_TEST(unique.size() == got.size());
  BOOST_TEST(err.detail.find("extra unknown field; vm_config.web.image must be a string; ") == 0u);
}

BOOST_AUTO_TEST_CASE(the_schema_agrees_with_the_structural_checks) {
  BOOST_TEST(!schema_error_of(example).has_value());
  struct bad_case {
    std::string body;
    std::string field;
    std::string message;
  };
  std::vector<bad_case> cases{
    {"{}", "(body)", "is missing a required field"},
    {with(R"("count": 2)", R"("count": 1001)"), "vm_config.web.count", "is out of range"},
    {with(R"("count": 2)", R"("count": "2")"), "vm_config.web.count", "has the wrong type"},
    {with(R"("router": true,)", R"("router": true, "dns": [],)"), "network_config.dns",
     "has an unknown field"},
    {with(R"("name": "web-app-stack")", R"("name": "-web")"), "name",
     "does not match the required pattern"},
    {with(R"("flavor": "m1.small")", R"("flavor": "")"), "vm_config.web.flavor",
     "has the wrong length"},
    {R"({"name": "a", "vm_config": {}, "network_config": {"cidr": "10.0.0.0/8"}})", "vm_config",
     "has the wrong number of entries"},
  };
  for (const auto& c : cases) {
    auto e = schema_error_of(c.body);
    BOOST_REQUIRE_MESSAGE(e.has_value(), c.body);
    BOOST_TEST(e->field == c.field);
    BOOST_TEST(e->message == c.message);
  }
}

BOOST_AUTO_TEST_CASE(the_embedded_schema_matches_the_file_and_parses) {
  std::ifstream in{ORCH_SCHEMAS_JSON_DIR "/template.schema.json", std::ios::binary};
  BOOST_REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  BOOST_TEST(text.str() == std::string{orch::schemas::template_schema_document()});
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  BOOST_TEST(!doc.HasParseError());
  BOOST_TEST(doc["$schema"].GetString() == "http://json-schema.org/draft-04/schema#");
}

BOOST_AUTO_TEST_CASE(to_json_writes_the_api_representation) {
  orch::stored_template x;
  x.id = *orch::uuid::parse("0f6c1e2a-9b3d-4c5e-8f70-112233445566");
  x.spec = valid(example);
  x.created_at = orch::timestamp{std::chrono::seconds{1768473000}};
  x.updated_at = x.created_at + std::chrono::microseconds{250000};
  BOOST_TEST(orch::schemas::to_json(x)
             == R"({"id":"0f6c1e2a-9b3d-4c5e-8f70-112233445566","name":"web-app-stack",)"
                R"("description":"3-tier web application","vm_config":{)"
                R"("web":{"flavor":"m1.small","image":"ubuntu-22.04","count":2},)"
                R"("app":{"flavor":"m1.medium","image":"ubuntu-22.04","count":3,"min_count":1,)"
                R"("volumes":[{"size_gb":20}]},)"
                R"("db":{"flavor":"m1.large","image":"ubuntu-22.04","count":1}},)"
                R"("network_config":{"cidr":"10.0.0.0/16","subnets":{"web":"10.0.1.0/24",)"
                R"("app":"10.0.2.0/24","db":"10.0.3.0/24"},"router":true,)"
                R"("external_network":"public"},"created_at":"2026-01-15T10:30:00Z",)"
                R"("updated_at":"2026-01-15T10:30:00.250000Z"})");
}

BOOST_AUTO_TEST_CASE(columns_round_trip) {
  auto spec = valid(with(R"({"size_gb": 20})", R"({"size_gb": 20, "type": "ssd"})"));
  auto vm = orch::schemas::vm_config_json(spec);
  auto net = orch::schemas::network_config_json(spec);
  BOOST_TEST(net
             == R"({"cidr":"10.0.0.0/16","subnets":{"web":"10.0.1.0/24","app":"10.0.2.0/24",)"
                R"("db":"10.0.3.0/24"},"router":true,"external_network":"public"})");
  auto back = orch::schemas::template_from_columns(spec.name, spec.description, vm, net);
  BOOST_REQUIRE(back);
  BOOST_TEST(orch::schemas::vm_config_json(*back) == vm);
  BOOST_TEST(orch::schemas::network_config_json(*back) == net);
  BOOST_TEST(back->name == spec.name);
  BOOST_TEST(back->description == spec.description);
  BOOST_TEST(back->vm_config[1].second.volumes[0].type == "ssd");
  BOOST_TEST(back->vm_config[1].second.min_count.value_or(-1) == 1);
}

BOOST_AUTO_TEST_CASE(empty_subnets_and_no_router_round_trip) {
  auto spec = valid(R"({"name": "a", "vm_config": {"web": {"flavor": "f", "image": "i",
    "count": 1}}, "network_config": {"cidr": "10.0.0.0/8"}})");
  auto net = orch::schemas::network_config_json(spec);
  BOOST_TEST(net == R"({"cidr":"10.0.0.0/8","subnets":{},"router":false})");
  auto back
    = orch::schemas::template_from_columns("a", "", orch::schemas::vm_config_json(spec), net);
  BOOST_REQUIRE(back);
  BOOST_TEST(back->network_config.subnets.empty());
}

BOOST_AUTO_TEST_CASE(corrupt_columns_are_an_internal_error) {
  auto vm = R"({"web":{"flavor":"f","image":"i","count":1}})";
  auto net = R"({"cidr":"10.0.0.0/8"})";
  auto bad_vm = orch::schemas::template_from_columns("a", "", "{", net);
  BOOST_REQUIRE(!bad_vm);
  BOOST_TEST(orch::is(bad_vm.error(), orch::errc::internal));
  BOOST_TEST(orch::error_detail(bad_vm.error()) == "stored vm_config is not valid JSON");
  auto bad_net = orch::schemas::template_from_columns("a", "", vm, "nope");
  BOOST_REQUIRE(!bad_net);
  BOOST_TEST(orch::error_detail(bad_net.error()) == "stored network_config is not valid JSON");
  auto wrong_shape = orch::schemas::template_from_columns("a", "", R"({"web":{"count":"x"}})", net);
  BOOST_REQUIRE(!wrong_shape);
  BOOST_TEST(orch::error_detail(wrong_shape.error())
             == "stored template is invalid: vm_config.web.flavor is required; "
                "vm_config.web.image is required; vm_config.web.count must be an integer");
}

BOOST_AUTO_TEST_SUITE_END()
