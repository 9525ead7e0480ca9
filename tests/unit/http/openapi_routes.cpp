#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include <boost/beast/http/verb.hpp>
#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>

#include "fake_deployment_engine.hpp"
#include "fake_orphan_finder.hpp"
#include "orch/http/api_routes.hpp"
#include "orch/http/cluster_routes.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"
#include "orch/persistence/memory_template_repository.hpp"
#include "orch/schemas/openapi.hpp"

namespace {

using operation = std::pair<std::string, std::string>;

std::set<operation> served_operations() {
  prometheus::Registry registry;
  orch::http::gateway gw{{}, registry};
  orch::persistence::memory_template_repository templates;
  orch::persistence::memory_deployment_repository deployments;
  orch::testing::fake_deployment_engine engine{deployments};
  orch::http::blocking_pool blocking{1};
  orch::testing::fake_orphan_finder orphans;
  orch::http::event_feed_metrics feed_metrics{registry};
  orch::http::event_feed feed{
    {}, deployments, [&blocking](auto work) { blocking.run(std::move(work)); }, feed_metrics};
  orch::http::api_dependencies deps{templates, blocking, deployments, &engine};
  deps.orphans = &orphans;
  deps.events = &feed;
  auto runs = orch::persistence::make_memory_configuration_run_repository();
  deps.configuration_runs = runs.get();
  orch::http::add_api_routes(gw, deps);
  // The orchestrator adds it next to the API routes (it needs the node's membership).
  orch::http::add_cluster_routes(gw, blocking, [] { return caf::expected<std::string>{"{}"}; });
  std::set<operation> result;
  for (auto& [method, pattern] : gw.routes().routes()) {
    auto name = boost::beast::http::to_string(method);
    result.emplace(std::string{name.data(), name.size()}, pattern);
  }
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(openapi_routes)

BOOST_AUTO_TEST_CASE(every_served_route_is_documented) {
  auto documented = orch::schemas::openapi_operations();
  std::set<operation> doc_set(documented.begin(), documented.end());
  for (auto& op : served_operations())
    BOOST_TEST(doc_set.count(op) == 1u, op.first << " " << op.second << " is not in openapi.json");
}

BOOST_AUTO_TEST_CASE(every_documented_route_is_served) {
  auto served = served_operations();
  for (auto& op : orch::schemas::openapi_operations())
    BOOST_TEST(served.count(op) == 1u,
               op.first << " " << op.second << " is documented but not served");
}

BOOST_AUTO_TEST_SUITE_END()
