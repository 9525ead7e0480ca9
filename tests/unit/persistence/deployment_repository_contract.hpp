#pragma once

// One set of checks every `deployment_repository` must pass. Unit tests run them on
// `memory_deployment_repository`, integration tests on the PostgreSQL one: a fixture derives
// from `deployment_repository_harness` and `ORCH_DEPLOYMENT_REPOSITORY_CONTRACT(fixture)`
// expands to one Boost.Test case per check. Printers for the enums come with `fsm_driver.hpp`.

#include <algorithm>
#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "fsm_driver.hpp"
#include "orch/deployment/deployment_fsm.hpp"
#include "orch/deployment/events.hpp"
#include "orch/errc.hpp"
#include "orch/persistence/deployment_repository.hpp"
#include "repository_contract.hpp"

namespace orch::testing {

/// What a contract run needs from the store under test.
class deployment_repository_harness {
public:
  virtual ~deployment_repository_harness() = default;

  /// The repository under test, empty at the start of each case.
  virtual persistence::deployment_repository& uut() = 0;

  /// Makes every stored idempotency key older than `idempotency_ttl`.
  virtual void expire_idempotency_keys() = 0;

  /// Makes every deployment lease run out.
  virtual void expire_leases() = 0;
};

/// The lease terms of node `name` in the contract.
inline persistence::lease_terms node_lease(const std::string& name) {
  return persistence::lease_terms{name, std::chrono::milliseconds{10'000}};
}

/// Second `n` of the contract's timeline.
inline timestamp contract_time(int n) {
  return timestamp{std::chrono::seconds{1'750'000'000 + n}};
}

/// A PENDING deployment named `name`, created at `contract_time(n)`.
inline deployment_record sample_deployment(std::string name, int n = 0) {
  deployment_record rec;
  rec.id = uuid::random();
  rec.name = std::move(name);
  rec.spec = sample_template("web-app-stack");
  rec.parameters = {{"web_count", int64_t{2}}, {"app_image", std::string{"debian-12"}}};
  rec.cloud_region = "RegionOne";
  rec.created_at = contract_time(n) + std::chrono::microseconds{123};
  rec.updated_at = rec.created_at;
  return rec;
}

/// An event at `contract_time(n)`.
inline deployment_event contract_event(int n, event_data data) {
  return deployment_event{0, contract_time(n), std::move(data)};
}

/// Folds `events` into `state` and returns the batch that records them.
inline persistence::event_batch contract_batch(deployment_record& state,
                                               std::vector<deployment_event> events,
                                               bool snapshot = false) {
  for (const auto& ev : events) apply(state, ev);
  return persistence::event_batch{std::move(events), state, snapshot, std::nullopt};
}

/// The events that start a deploy and announce the network.
inline std::vector<deployment_event> deploy_start_events(int n) {
  return {
    contract_event(n, operation_started{operation_type::deploy}),
    contract_event(n, status_changed{deployment_status::pending, deployment_status::in_progress}),
    contract_event(n, intent_recorded{intent_action::create,
                                      resource_kind::network,
                                      "network",
                                      "app-net",
                                      {"orch-resource=network"}})};
}

/// The event that records the network.
inline deployment_event network_created(int n) {
  resource_created ev;
  ev.kind = resource_kind::network;
  ev.logical_name = "network";
  ev.cloud_name = "app-net";
  ev.id = "net-1";
  return contract_event(n, ev);
}

/// The events that move a deployment to DELETED.
inline std::vector<deployment_event> deleted_events(deployment_status from, int n) {
  return {
    contract_event(n, operation_started{operation_type::remove}),
    contract_event(n, status_changed{from, deployment_status::deleting}),
    contract_event(n, operation_finished{operation_status::succeeded, std::nullopt}),
    contract_event(n, status_changed{deployment_status::deleting, deployment_status::deleted})};
}

/// Whether two JSON texts hold equal values; PostgreSQL's jsonb keeps the value, not the text.
inline bool same_json(const std::string& x, const std::string& y) {
  rapidjson::Document a;
  rapidjson::Document b;
  a.Parse(x.c_str());
  b.Parse(y.c_str());
  return !a.HasParseError() && !b.HasParseError() && a == b;
}

inline std::vector<std::string> names_of(const persistence::page<deployment_record>& p) {
  std::vector<std::string> out;
  for (const auto& rec : p.items) out.push_back(rec.name);
  return out;
}

} // namespace orch::testing

// One test case per check; `fixture` derives from `deployment_repository_harness`.
#define ORCH_DEPLOYMENT_REPOSITORY_CONTRACT(fixture)                                               \
  BOOST_FIXTURE_TEST_CASE(created_deployments_read_back_unchanged, fixture) {                      \
    orch::testing::check_round_trip(uut());                                                        \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(live_names_are_unique_and_deleted_names_free, fixture) {                 \
    orch::testing::check_unique_names(uut());                                                      \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(idempotency_keys_replay_the_first_answer, fixture) {                     \
    orch::testing::check_idempotency(uut());                                                       \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(idempotency_keys_expire, fixture) {                                      \
    orch::testing::check_idempotency_expiry(*this);                                                \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(listings_filter_and_page_newest_first, fixture) {                        \
    orch::testing::check_listing(uut());                                                           \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(appends_number_events_and_update_the_row, fixture) {                     \
    orch::testing::check_append(uut());                                                            \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(an_append_sent_again_after_it_was_stored_is_stored_once, fixture) {      \
    orch::testing::check_idempotent_append(uut());                                                 \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(stale_epochs_write_nothing, fixture) {                                   \
    orch::testing::check_fencing(uut());                                                           \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(load_returns_the_snapshot_and_the_tail, fixture) {                       \
    orch::testing::check_load(uut());                                                              \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(unfinished_deployments_are_listed_oldest_first, fixture) {               \
    orch::testing::check_unfinished(uut());                                                        \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(a_live_lease_of_another_node_is_never_taken, fixture) {                  \
    orch::testing::check_leases(*this);                                                            \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(a_state_machine_run_reads_back_as_its_final_state, fixture) {            \
    orch::testing::check_machine_run(uut());                                                       \
  }                                                                                                \
  BOOST_FIXTURE_TEST_CASE(the_summary_counts_statuses_and_finds_the_stillest_busy_one, fixture) {  \
    orch::testing::check_summary(uut());                                                           \
  }

namespace orch::testing {

template <class T>
T must(caf::expected<T> x) {
  if (!x) BOOST_FAIL("unexpected error: " << error_detail(x.error()));
  return std::move(*x);
}

template <class T>
void expect_error(const caf::expected<T>& x, errc code) {
  BOOST_REQUIRE(!x);
  BOOST_TEST(is(x.error(), code), error_detail(x.error()));
}

inline void check_round_trip(persistence::deployment_repository& uut) {
  auto rec = sample_deployment("my-app");
  auto out = must(uut.create(rec, std::nullopt));
  BOOST_TEST(!out.replayed);
  BOOST_TEST((out.deployment_id == rec.id));
  auto got = must(uut.get(rec.id));
  BOOST_TEST((got == rec));
  BOOST_TEST(got.spec.vm_config.front().first == "web");
  expect_error(uut.get(uuid::random()), errc::not_found);
  auto history = must(uut.load(rec.id));
  BOOST_TEST((history.snapshot == rec));
  BOOST_TEST(history.snapshot_seq == 0);
  BOOST_TEST(history.tail.empty());
}

inline void check_unique_names(persistence::deployment_repository& uut) {
  auto first = sample_deployment("my-app");
  must(uut.create(first, std::nullopt));
  expect_error(uut.create(sample_deployment("my-app"), std::nullopt), errc::conflict);
  auto state = first;
  must(uut.append_events(first.id, 0,
                         contract_batch(state, deleted_events(deployment_status::pending, 5))));
  BOOST_TEST(must(uut.get(first.id)).status == deployment_status::deleted);
  auto second = sample_deployment("my-app", 1);
  must(uut.create(second, std::nullopt));
  BOOST_TEST(must(uut.get(first.id)).deleted_at.has_value());
}

inline void check_idempotency(persistence::deployment_repository& uut) {
  persistence::idempotency_claim claim{"key-1", "owner-a", "hash-1", 202, R"({"id":"x"})"};
  auto first = sample_deployment("one", 1);
  auto a = must(uut.create(first, claim));
  BOOST_TEST(!a.replayed);
  BOOST_TEST(a.response_body == R"({"id":"x"})");
  auto again = must(uut.create(sample_deployment("two"), claim));
  BOOST_TEST(again.replayed);
  BOOST_TEST((again.deployment_id == first.id));
  BOOST_TEST(again.response_status == 202);
  BOOST_TEST(same_json(again.response_body, R"({"id":"x"})"), again.response_body);
  auto other_body = claim;
  other_body.request_hash = "hash-2";
  expect_error(uut.create(sample_deployment("three"), other_body), errc::conflict);
  auto other_owner = claim;
  other_owner.owner = "owner-b";
  BOOST_TEST(!must(uut.create(sample_deployment("four", 2), other_owner)).replayed);
  persistence::deployment_filter all;
  BOOST_TEST(names_of(must(uut.list(all))) == (std::vector<std::string>{"four", "one"}));
}

inline void check_idempotency_expiry(deployment_repository_harness& h) {
  persistence::idempotency_claim claim{"key-1", "owner-a", "hash-1", 202, R"({"id":"x"})"};
  must(h.uut().create(sample_deployment("one"), claim));
  h.expire_idempotency_keys();
  auto other_body = claim;
  other_body.request_hash = "hash-2";
  BOOST_TEST(!must(h.uut().create(sample_deployment("two"), other_body)).replayed);
}

inline void check_listing(persistence::deployment_repository& uut) {
  std::vector<deployment_record> recs;
  for (auto [name, n] : std::vector<std::pair<std::string, int>>{
         {"web-1", 1}, {"web-2", 2}, {"db-1", 3}, {"web%x", 4}, {"web-3", 5}}) {
    recs.push_back(sample_deployment(name, n));
    must(uut.create(recs.back(), std::nullopt));
  }
  auto state = recs[1];
  must(uut.append_events(state.id, 0,
                         contract_batch(state, deleted_events(deployment_status::pending, 9))));
  state = recs[2];
  must(uut.append_events(state.id, 0, contract_batch(state, deploy_start_events(9))));
  persistence::deployment_filter f;
  auto all = must(uut.list(f));
  BOOST_TEST(names_of(all) == (std::vector<std::string>{"web-3", "web%x", "db-1", "web-1"}));
  BOOST_TEST(all.total == 4);
  f.include_deleted = true;
  BOOST_TEST(must(uut.list(f)).total == 5);
  f.name_prefix = "web%";
  BOOST_TEST(names_of(must(uut.list(f))) == std::vector<std::string>{"web%x"});
  f.name_prefix = "web";
  f.limit = 2;
  f.offset = 1;
  auto paged = must(uut.list(f));
  BOOST_TEST(names_of(paged) == (std::vector<std::string>{"web%x", "web-2"}));
  BOOST_TEST(paged.total == 4);
  f.after = recs[3].id;
  auto keyset = must(uut.list(f));
  BOOST_TEST(names_of(keyset) == (std::vector<std::string>{"web-2", "web-1"}));
  f = {};
  f.status = deployment_status::in_progress;
  BOOST_TEST(names_of(must(uut.list(f))) == std::vector<std::string>{"db-1"});
  f = {};
  f.after = uuid::random();
  expect_error(uut.list(f), errc::not_found);
  f = {};
  f.limit = 0;
  expect_error(uut.list(f), errc::invalid_spec);
  f.limit = 501;
  expect_error(uut.list(f), errc::invalid_spec);
  f.limit = 10;
  f.offset = -1;
  expect_error(uut.list(f), errc::invalid_spec);
}

inline void check_append(persistence::deployment_repository& uut) {
  auto state = sample_deployment("my-app");
  must(uut.create(state, std::nullopt));
  BOOST_TEST(must(uut.append_events(state.id, 0, contract_batch(state, deploy_start_events(1))))
             == 3);
  BOOST_TEST(must(uut.append_events(state.id, 0, contract_batch(state, {network_created(2)})))
             == 4);
  auto row = must(uut.get(state.id));
  BOOST_TEST(row.status == deployment_status::in_progress);
  BOOST_TEST(row.resources.network_id == "net-1");
  BOOST_TEST(row.operation->type == operation_type::deploy);
  BOOST_TEST((row.updated_at == contract_time(2)));
  BOOST_TEST(row.intents.empty());
  auto evs = must(uut.events(state.id, 0, 100));
  BOOST_REQUIRE_EQUAL(evs.size(), 4u);
  for (size_t i = 0; i < evs.size(); ++i) BOOST_TEST(evs[i].seq == static_cast<int64_t>(i + 1));
  BOOST_TEST((evs[2].data == event_data{deploy_start_events(1)[2].data}));
  BOOST_TEST((evs[3] == deployment_event{4, contract_time(2), network_created(2).data}));
  auto page = must(uut.events(state.id, 1, 2));
  BOOST_REQUIRE_EQUAL(page.size(), 2u);
  BOOST_TEST(page[0].seq == 2);
  expect_error(uut.events(uuid::random(), 0, 10), errc::not_found);
  expect_error(uut.append_events(uuid::random(), 0, contract_batch(state, {})), errc::not_found);
}

inline void check_idempotent_append(persistence::deployment_repository& uut) {
  auto state = sample_deployment("my-app");
  must(uut.create(state, std::nullopt));
  auto first = contract_batch(state, deploy_start_events(1));
  first.after_seq = 0;
  BOOST_TEST(must(uut.append_events(state.id, 0, first)) == 3);
  // The answer of the first attempt was lost: the same batch comes again.
  BOOST_TEST(must(uut.append_events(state.id, 0, first)) == 3);
  BOOST_TEST(must(uut.events(state.id, 0, 100)).size() == 3u);
  auto next = contract_batch(state, {network_created(2)});
  next.after_seq = 3;
  BOOST_TEST(must(uut.append_events(state.id, 0, next)) == 4);
  // A batch that follows a seq the log has moved past, and is not the last one stored, is not
  // ours to repeat.
  auto stale = contract_batch(state, {network_created(3)});
  stale.after_seq = 1;
  expect_error(uut.append_events(state.id, 0, stale), errc::conflict);
  stale.after_seq = 9;
  expect_error(uut.append_events(state.id, 0, stale), errc::conflict);
  BOOST_TEST(must(uut.events(state.id, 0, 100)).size() == 4u);
  BOOST_TEST(must(uut.get(state.id)).resources.network_id == "net-1");
}

inline void check_fencing(persistence::deployment_repository& uut) {
  auto state = sample_deployment("my-app");
  must(uut.create(state, std::nullopt));
  auto epoch = must(uut.claim(state.id, node_lease("a"))).epoch;
  BOOST_TEST(epoch == 1);
  auto before = must(uut.get(state.id));
  BOOST_TEST(before.epoch == 1);
  auto stale = state;
  expect_error(uut.append_events(state.id, 0, contract_batch(stale, deploy_start_events(1), true)),
               errc::conflict);
  BOOST_TEST(must(uut.events(state.id, 0, 10)).empty());
  BOOST_TEST((must(uut.get(state.id)) == before));
  BOOST_TEST(must(uut.load(state.id)).snapshot_seq == 0);
  BOOST_TEST(must(uut.append_events(state.id, 1, contract_batch(state, deploy_start_events(1))))
             == 3);
  expect_error(uut.claim(uuid::random(), node_lease("a")), errc::not_found);
}

inline void check_load(persistence::deployment_repository& uut) {
  auto state = sample_deployment("my-app");
  must(uut.create(state, std::nullopt));
  must(uut.append_events(state.id, 0, contract_batch(state, deploy_start_events(1), true)));
  BOOST_REQUIRE_EQUAL(state.intents.size(), 1u);
  auto mid = must(uut.load(state.id));
  BOOST_TEST(mid.snapshot_seq == 3);
  BOOST_TEST(mid.tail.empty());
  BOOST_TEST((mid.snapshot == state));
  must(uut.append_events(state.id, 0, contract_batch(state, {network_created(2)})));
  auto later = must(uut.load(state.id));
  BOOST_TEST(later.snapshot_seq == 3);
  BOOST_REQUIRE_EQUAL(later.tail.size(), 1u);
  BOOST_TEST(later.tail[0].seq == 4);
  BOOST_TEST((fold(later.snapshot, later.tail) == state));
  BOOST_TEST(later.epoch == 0);
  expect_error(uut.load(uuid::random()), errc::not_found);
}

inline void check_unfinished(persistence::deployment_repository& uut) {
  auto pending = sample_deployment("pending", 1);
  auto running = sample_deployment("running", 2);
  auto deleted = sample_deployment("deleted", 3);
  for (auto* rec : {&pending, &running, &deleted}) must(uut.create(*rec, std::nullopt));
  must(uut.append_events(running.id, 0, contract_batch(running, deploy_start_events(4))));
  must(uut.append_events(deleted.id, 0,
                         contract_batch(deleted, deleted_events(deployment_status::pending, 4))));
  auto ids = must(uut.list_unfinished("a"));
  BOOST_REQUIRE_EQUAL(ids.size(), 2u);
  BOOST_TEST((ids[0] == pending.id));
  BOOST_TEST((ids[1] == running.id));
}

inline void check_leases(deployment_repository_harness& h) {
  auto& uut = h.uut();
  auto state = sample_deployment("leased");
  must(uut.create(state, std::nullopt));
  auto first = must(uut.claim(state.id, node_lease("a")));
  BOOST_TEST(first.epoch == 1);
  BOOST_TEST(first.taken_from.empty());
  // Node b neither takes a's live lease nor lists the deployment as one to resume.
  expect_error(uut.claim(state.id, node_lease("b")), errc::conflict);
  BOOST_TEST(must(uut.get(state.id)).epoch == 1);
  BOOST_TEST(must(uut.list_unfinished("b")).empty());
  BOOST_TEST(must(uut.list_unfinished("a")).size() == 1u);
  // The holder claims again (a restarted node of the same name): a new epoch fences the old.
  auto again = must(uut.claim(state.id, node_lease("a")));
  BOOST_TEST(again.epoch == 2);
  BOOST_TEST(again.taken_from.empty());
  // Once the lease runs out, b takes it over, and from then on a is the one refused.
  h.expire_leases();
  BOOST_TEST(must(uut.list_unfinished("b")).size() == 1u);
  auto taken = must(uut.claim(state.id, node_lease("b")));
  BOOST_TEST(taken.epoch == 3);
  BOOST_TEST(taken.taken_from == "a");
  expect_error(uut.claim(state.id, node_lease("a")), errc::conflict);
  expect_error(uut.append_events(state.id, 2, contract_batch(state, deploy_start_events(1))),
               errc::conflict);
}

inline void check_summary(persistence::deployment_repository& uut) {
  auto empty = must(uut.summary());
  BOOST_TEST(empty.by_status.size() == all_deployment_statuses.size());
  BOOST_TEST(empty.by_status[deployment_status::pending] == 0);
  BOOST_TEST(!empty.stillest_busy_update.has_value());
  auto pending = sample_deployment("pending", 1);
  auto running = sample_deployment("running", 2);
  auto other_running = sample_deployment("other-running", 3);
  auto deleted = sample_deployment("deleted", 4);
  for (auto* rec : {&pending, &running, &other_running, &deleted})
    must(uut.create(*rec, std::nullopt));
  must(uut.append_events(running.id, 0, contract_batch(running, deploy_start_events(10))));
  must(
    uut.append_events(other_running.id, 0, contract_batch(other_running, deploy_start_events(8))));
  must(uut.append_events(deleted.id, 0,
                         contract_batch(deleted, deleted_events(deployment_status::pending, 9))));
  auto sum = must(uut.summary());
  BOOST_TEST(sum.by_status[deployment_status::pending] == 1);
  BOOST_TEST(sum.by_status[deployment_status::in_progress] == 2);
  BOOST_TEST(sum.by_status[deployment_status::deleted] == 1);
  BOOST_TEST(sum.by_status[deployment_status::completed] == 0);
  // The PENDING one has not changed since it was created; DELETED ones are not busy.
  BOOST_REQUIRE(sum.stillest_busy_update.has_value());
  BOOST_TEST((*sum.stillest_busy_update == pending.updated_at));
  must(uut.append_events(pending.id, 0,
                         contract_batch(pending, deleted_events(deployment_status::pending, 11))));
  sum = must(uut.summary());
  BOOST_REQUIRE(sum.stillest_busy_update.has_value());
  BOOST_TEST((*sum.stillest_busy_update == other_running.updated_at));
}

// Persists a whole deploy and delete step by step, as the actor will: one batch per answer,
// a snapshot at each status change; a restart at any point must rebuild the same state.
inline void check_machine_run(persistence::deployment_repository& uut) {
  fsm_driver drv{pending_record()};
  must(uut.create(drv.initial, std::nullopt));
  size_t flushed = 0;
  int batches = 0;
  auto flush = [&] {
    std::vector<deployment_event> fresh(drv.events.begin() + static_cast<long>(flushed),
                                        drv.events.end());
    flushed = drv.events.size();
    auto snapshot = std::any_of(fresh.begin(), fresh.end(), [](const deployment_event& ev) {
      return std::holds_alternative<status_changed>(ev.data);
    });
    must(uut.append_events(drv.initial.id, 0,
                           {std::move(fresh), drv.uut.state(), snapshot, std::nullopt}));
    auto history = must(uut.load(drv.initial.id));
    if (++batches % 7 == 0) // spot checks keep the PostgreSQL run short
      BOOST_TEST((fold(history.snapshot, history.tail) == drv.uut.state()));
  };
  auto drive = [&](const input_event& ev) {
    drv.feed(ev);
    flush();
    while (!drv.queue.empty()) {
      drv.run(1);
      flush();
    }
  };
  drive(start_deploy{tick(0)});
  BOOST_TEST(must(uut.get(drv.initial.id)).status == deployment_status::completed);
  drive(start_delete{tick(1000)});
  auto history = must(uut.load(drv.initial.id));
  auto final_state = fold(history.snapshot, history.tail);
  BOOST_TEST((final_state == drv.uut.state()));
  BOOST_TEST(final_state.status == deployment_status::deleted);
  auto row = must(uut.get(drv.initial.id));
  BOOST_TEST((row.resources == drv.uut.state().resources));
  BOOST_TEST(row.deleted_at.has_value());
  auto log = must(uut.events(drv.initial.id, 0, 100000));
  BOOST_TEST(log.size() == drv.events.size());
}

} // namespace orch::testing
