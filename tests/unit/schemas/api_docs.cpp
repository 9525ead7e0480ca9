// docs/api.md is the contract a user reads; /openapi.json the one a client generator reads. Both
// must name the same operations.

#include "orch/schemas/openapi.hpp"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include <boost/test/unit_test.hpp>

namespace {

using operation = std::pair<std::string, std::string>;

// `{id-or-name}` and `{id_or_name}` name the same parameter: compare path shapes only.
std::string shape(const std::string& path) {
  return std::regex_replace(path, std::regex{R"(\{[^}]*\})"}, "{}");
}

std::set<operation> documented_in_markdown() {
  std::ifstream in{ORCH_DOCS_DIR "/api.md"};
  BOOST_REQUIRE_MESSAGE(in, "cannot read docs/api.md");
  std::stringstream text;
  text << in.rdbuf();
  auto doc = text.str();
  std::set<operation> ops;
  std::regex route{R"(\b(GET|POST|PUT|PATCH|DELETE) (/[A-Za-z0-9{}/_.-]*))"};
  for (auto i = std::sregex_iterator{doc.begin(), doc.end(), route}; i != std::sregex_iterator{};
       ++i)
    ops.emplace((*i)[1].str(), shape((*i)[2].str()));
  return ops;
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_docs)

BOOST_AUTO_TEST_CASE(every_openapi_operation_is_described_in_docs_api_md) {
  auto described = documented_in_markdown();
  for (const auto& [method, path] : orch::schemas::openapi_operations())
    BOOST_TEST(described.count({method, shape(path)}) == 1u,
               method << " " << path << " is in openapi.json but not in docs/api.md");
}

BOOST_AUTO_TEST_CASE(every_route_of_docs_api_md_is_in_openapi) {
  std::set<operation> in_openapi;
  for (const auto& [method, path] : orch::schemas::openapi_operations())
    in_openapi.emplace(method, shape(path));
  for (const auto& [method, path] : documented_in_markdown())
    BOOST_TEST(in_openapi.count({method, path}) == 1u,
               method << " " << path << " is in docs/api.md but not in openapi.json");
}

BOOST_AUTO_TEST_SUITE_END()
