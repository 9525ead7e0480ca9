#include "orch/http/fleet_metrics.hpp"

#include <boost/test/unit_test.hpp>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "orch/errc.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"

using namespace orch;
using namespace std::chrono_literals;

namespace {

timestamp at(int second) {
  return timestamp{std::chrono::seconds{1'750'000'000 + second}};
}

struct fleet_fixture {
  fleet_fixture()
    : repo([this] { return wall; }), uut(registry, repo, 0ms, [this] { return wall; }) {
    // nop
  }

  deployment_record add(std::string name, int second) {
    deployment_record rec;
    rec.id = uuid::random();
    rec.name = std::move(name);
    rec.cloud_region = "RegionOne";
    rec.created_at = at(second);
    rec.updated_at = rec.created_at;
    auto created = repo.create(rec, std::nullopt);
    BOOST_REQUIRE(created);
    return rec;
  }

  std::string metrics() { return prometheus::TextSerializer{}.Serialize(registry.Collect()); }

  bool shows(const std::string& line) { return metrics().find(line) != std::string::npos; }

  timestamp wall = at(0);
  prometheus::Registry registry;
  persistence::memory_deployment_repository repo;
  http::fleet_metrics uut;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(fleet_metrics, fleet_fixture)

BOOST_AUTO_TEST_CASE(shows_every_status_and_the_stillest_busy_deployment) {
  add("a", 10);
  add("b", 40);
  wall = at(100);
  BOOST_TEST(uut.refresh());
  BOOST_TEST(shows("deployments{status=\"PENDING\"} 2"), metrics());
  BOOST_TEST(shows("deployments{status=\"COMPLETED\"} 0"));
  BOOST_TEST(shows("deployments{status=\"DELETED\"} 0"));
  // "a" has waited 90 s without an event.
  BOOST_TEST(shows("deployments_busy_stillest_seconds 90"));
  BOOST_TEST(shows("database_up 1"));
}

BOOST_AUTO_TEST_CASE(an_idle_fleet_has_no_stillest_deployment) {
  BOOST_TEST(uut.refresh());
  BOOST_TEST(shows("deployments_busy_stillest_seconds 0"));
}

BOOST_AUTO_TEST_CASE(a_database_outage_keeps_the_counts_and_drops_database_up) {
  add("a", 10);
  BOOST_TEST(uut.refresh());
  repo.set_failure(make_error(errc::store_unavailable, "connection refused"));
  BOOST_TEST(!uut.refresh());
  BOOST_TEST(shows("database_up 0"));
  BOOST_TEST(shows("deployments{status=\"PENDING\"} 1"));
  repo.set_failure(caf::error{});
  BOOST_TEST(uut.refresh());
  BOOST_TEST(shows("database_up 1"));
}

BOOST_AUTO_TEST_CASE(a_sampling_thread_samples_at_once) {
  add("a", 10);
  prometheus::Registry other;
  http::fleet_metrics sampled{other, repo, 1h, [this] { return wall; }};
  auto text = [&] { return prometheus::TextSerializer{}.Serialize(other.Collect()); };
  for (int i = 0; i < 2000 && text().find("\ndatabase_up 1\n") == std::string::npos; ++i)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST(text().find("\ndeployments{status=\"PENDING\"} 1\n") != std::string::npos, text());
}

BOOST_AUTO_TEST_SUITE_END()
