#include "orch/actors/orphan_finder.hpp"

#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

// The transport double lives with the client's tests; its sample reader is unused here.
#ifndef ORCH_OPENSTACK_SAMPLES_DIR
#define ORCH_OPENSTACK_SAMPLES_DIR ""
#endif
#include "../openstack/fake_transport.hpp"
#include "fsm_driver.hpp"
#include "orch/errc.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"

using namespace orch;
using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;
using actors::orphan;

namespace {

bool has(const http_call& c, std::string_view method, std::string_view part) {
  return c.method == method && c.url.find(part) != std::string::npos;
}

std::string tagged(const std::string& id, const std::string& owner, const std::string& extra = {}) {
  return R"({"id": ")" + id + R"(", "name": ")" + id + R"(", "status": "ACTIVE", "tags": [)"
         + (owner.empty() ? "" : R"(")" + owner + R"(")") + "]" + extra + "}";
}

/// A repository whose reads fail as an unreachable PostgreSQL does.
class unavailable_repository : public persistence::memory_deployment_repository {
public:
  caf::expected<deployment_record> get(const uuid&) override {
    return make_error(errc::store_unavailable, "connection refused");
  }
};

struct fixture {
  fixture() {
    cfg.client.credentials.auth_url = "http://cloud.test:5000/v3";
    cfg.client.credentials.username = "orch";
    cfg.client.credentials.user_domain_name = "Default";
    cfg.client.credentials.password = "secret-password";
    cfg.client.credentials.project_name = "demo";
    cfg.client.credentials.project_domain_name = "Default";
    cfg.poll_interval = 10ms;
    auto rec = orch::testing::pending_record();
    rec.id = uuid::random();
    rec.name = "live";
    BOOST_REQUIRE(repo.create(rec, std::nullopt));
    live = rec.id;
    rec.id = uuid::random();
    rec.name = "gone";
    BOOST_REQUIRE(repo.create(rec, std::nullopt));
    gone = rec.id;
    auto stored = repo.get(gone);
    persistence::event_batch batch;
    batch.events.push_back(
      {0, stored->updated_at, status_changed{stored->status, deployment_status::deleted}});
    stored->status = deployment_status::deleted;
    stored->deleted_at = stored->updated_at;
    batch.state = *stored;
    BOOST_REQUIRE(repo.append_events(gone, stored->epoch, batch));
    transport.responder = [this](const http_call& c) { return answer(c); };
  }

  std::string owner(const uuid& id) const { return "orch-deployment=" + to_string(id); }

  // A cloud with one resource of each kind owned by an unknown deployment, a server of a
  // DELETED one, and resources of a live deployment or of nobody.
  transport_outcome answer(const http_call& c) {
    if (has(c, "POST", "/auth/tokens")) return token_reply();
    if (c.method == "DELETE") {
      deleted.push_back(c.url);
      return reply(204);
    }
    if (has(c, "GET", "/servers/detail"))
      return reply(200, R"({"servers": [)" + tagged("s-gone", owner(gone)) + ","
                          + tagged("s-unknown", unknown) + "," + tagged("s-live", owner(live)) + ","
                          + tagged("s-none", "") + extra_servers + "]}");
    if (has(c, "GET", "/servers/") || has(c, "GET", "/volumes/v-")) return reply(404);
    if (has(c, "GET", "/volumes/detail"))
      return reply(
        200, R"({"volumes": [{"id": "v-unknown", "name": "v", "status": "available", "size": 1,)"
             R"( "metadata": {"orch-deployment": "not-a-uuid"}}]})");
    if (has(c, "GET", "/v2.0/routers"))
      return reply(200, R"({"routers": [)" + tagged("r-unknown", unknown) + "]}");
    if (has(c, "PUT", "/v2.0/routers/"))
      return reply(200, R"({"router": )" + tagged("r-unknown", unknown) + "}");
    if (has(c, "GET", "/v2.0/ports"))
      return reply(200, c.url.find("device_id=") != std::string::npos
                          ? R"({"ports": []})"
                          : R"({"ports": [)"
                              + tagged("p-unknown", unknown, R"(, "network_id": "n-unknown")")
                              + "]}");
    if (has(c, "GET", "/v2.0/subnets"))
      return reply(
        200, R"({"subnets": [)"
               + tagged("sn-unknown", unknown,
                        R"(, "network_id": "n-unknown", "cidr": "10.0.0.0/24", "ip_version": 4)")
               + "]}");
    if (has(c, "GET", "/v2.0/networks"))
      return reply(200, R"({"networks": [)" + tagged("n-unknown", unknown) + ","
                          + tagged("n-live", owner(live)) + "]}");
    return reply(404);
  }

  std::shared_ptr<actors::orphan_finder> make(persistence::deployment_repository& r) {
    return actors::make_openstack_orphan_finder(
      cfg, transport, tmr, clk, [](std::function<void()> fn) { fn(); },
      [](std::function<void()> fn) { fn(); }, r);
  }

  caf::expected<std::vector<orphan>> list(persistence::deployment_repository& r) {
    std::optional<caf::expected<std::vector<orphan>>> out;
    make(r)->list([&](caf::expected<std::vector<orphan>> x) { out.emplace(std::move(x)); });
    tmr.run_all();
    BOOST_REQUIRE(out.has_value());
    return std::move(*out);
  }

  actors::openstack_orphan_finder_config cfg;
  fake_clock clk;
  fake_timer tmr{clk};
  fake_transport transport;
  persistence::memory_deployment_repository repo;
  uuid live;
  uuid gone;
  std::string unknown = "orch-deployment=" + to_string(uuid::random());
  std::vector<std::string> deleted;
  /// More servers for the listing, each starting with a comma.
  std::string extra_servers;
};

const orphan* find(const std::vector<orphan>& xs, const std::string& id) {
  for (const auto& x : xs)
    if (x.id == id) return &x;
  return nullptr;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(orphan_finder, fixture)

BOOST_AUTO_TEST_CASE(tagged_resources_of_deleted_or_unknown_deployments_are_orphans) {
  auto got = list(repo);
  BOOST_REQUIRE_MESSAGE(got, "list failed: " << (got ? std::string{} : to_string(got.error())));
  BOOST_TEST(got->size() == 7u);
  auto* s = find(*got, "s-gone");
  BOOST_REQUIRE(s != nullptr);
  BOOST_TEST(to_string(s->kind) == "server");
  BOOST_TEST(s->deployment_id == to_string(gone));
  BOOST_TEST(to_string(s->reason) == "deployment_deleted");
  for (auto id : {"s-unknown", "v-unknown", "r-unknown", "p-unknown", "sn-unknown", "n-unknown"}) {
    BOOST_TEST_CONTEXT(id) {
      auto* x = find(*got, id);
      BOOST_REQUIRE(x != nullptr);
      BOOST_TEST(to_string(x->reason) == "deployment_unknown");
    }
  }
  BOOST_TEST(find(*got, "v-unknown")->deployment_id == "not-a-uuid");
  BOOST_TEST(find(*got, "s-live") == nullptr);
  BOOST_TEST(find(*got, "n-live") == nullptr);
  BOOST_TEST(find(*got, "s-none") == nullptr);
}

BOOST_AUTO_TEST_CASE(unreachable_database_fails_the_search_with_store_unavailable) {
  unavailable_repository down;
  auto got = list(down);
  BOOST_REQUIRE(!got);
  BOOST_TEST(is(got.error(), errc::store_unavailable));
}

BOOST_AUTO_TEST_CASE(refusing_cloud_fails_the_search_with_unavailable) {
  transport.responder = [](const http_call& c) {
    if (has(c, "POST", "/auth/tokens")) return token_reply();
    return reply(403, R"({"forbidden": {"code": 403, "message": "Policy forbids"}})");
  };
  auto got = list(repo);
  BOOST_REQUIRE(!got);
  BOOST_TEST(is(got.error(), errc::unavailable));
}

BOOST_AUTO_TEST_CASE(cleanup_deletes_orphans_in_dependency_order_and_spares_live_ones) {
  std::optional<caf::expected<std::vector<orphan>>> started;
  std::optional<actors::orphan_cleanup_report> finished;
  make(repo)->cleanup([&](caf::expected<std::vector<orphan>> x) { started.emplace(std::move(x)); },
                      [&](actors::orphan_cleanup_report r) { finished.emplace(std::move(r)); });
  tmr.run_all();
  BOOST_REQUIRE(started.has_value() && *started);
  BOOST_TEST((*started)->size() == 7u);
  BOOST_REQUIRE(finished.has_value());
  BOOST_TEST(finished->failed.empty());
  BOOST_TEST(finished->deleted.size() == 7u);
  std::vector<std::string> order;
  for (const auto& url : deleted) {
    auto slash = url.rfind('/');
    order.push_back(url.substr(slash + 1));
  }
  std::vector<std::string> expected{"s-gone",    "s-unknown",  "v-unknown", "r-unknown",
                                    "p-unknown", "sn-unknown", "n-unknown"};
  BOOST_TEST(order == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(only_this_installations_resources_are_orphans) {
  cfg.installation_id = "inst-a";
  auto server = [](const std::string& id, const std::string& owner,
                   const std::string& installation) {
    return R"(, {"id": ")" + id + R"(", "name": ")" + id + R"(", "status": "ACTIVE", "tags": [")"
           + owner + R"(", "orch-installation=)" + installation + R"("]})";
  };
  extra_servers = server("s-ours", unknown, "inst-a") + server("s-theirs", unknown, "inst-b")
                  + server("s-theirs-gone", owner(gone), "inst-b");
  auto found = list(repo);
  BOOST_REQUIRE(found);
  // Marked as ours: an orphan like before.
  BOOST_REQUIRE(find(*found, "s-ours") != nullptr);
  BOOST_TEST(to_string(find(*found, "s-ours")->reason) == "deployment_unknown");
  // Marked as another installation's: never ours, whatever our repository says.
  BOOST_TEST(find(*found, "s-theirs") == nullptr);
  BOOST_TEST(find(*found, "s-theirs-gone") == nullptr);
  // Unmarked (made before installation ids): ours only when its deployment is ours.
  BOOST_TEST(find(*found, "s-gone") != nullptr);
  BOOST_TEST(find(*found, "s-unknown") == nullptr);
  BOOST_TEST(find(*found, "n-unknown") == nullptr);
  BOOST_TEST(find(*found, "v-unknown") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
