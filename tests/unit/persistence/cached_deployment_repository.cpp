#include "orch/persistence/cached_deployment_repository.hpp"

#include <functional>
#include <utility>

#include <boost/test/unit_test.hpp>

#include "deployment_repository_contract.hpp"
#include "orch/errc.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"

using namespace orch;
using namespace std::chrono_literals;

namespace {

// Forwards to a memory repository; `during_get` runs between its read and its return, where a
// concurrent writer could slip in.
class racing_store : public persistence::deployment_repository {
public:
  explicit racing_store(persistence::deployment_repository& inner) : inner_(inner) {
    // nop
  }

  caf::expected<persistence::create_outcome>
  create(const deployment_record& rec,
         const std::optional<persistence::idempotency_claim>& claim) override {
    return inner_.create(rec, claim);
  }

  caf::expected<deployment_record> get(const uuid& id) override {
    ++gets;
    auto rec = inner_.get(id);
    if (during_get) std::exchange(during_get, nullptr)();
    return rec;
  }

  caf::expected<persistence::page<deployment_record>>
  list(const persistence::deployment_filter& filter) override {
    return inner_.list(filter);
  }

  caf::expected<int64_t> append_events(const uuid& id, int64_t epoch,
                                       const persistence::event_batch& batch) override {
    return inner_.append_events(id, epoch, batch);
  }

  caf::expected<persistence::stored_history> load(const uuid& id) override {
    return inner_.load(id);
  }

  caf::expected<std::vector<deployment_event>> events(const uuid& id, int64_t after_seq,
                                                      int limit) override {
    return inner_.events(id, after_seq, limit);
  }

  caf::expected<std::vector<uuid>> list_unfinished(const std::string& node_id) override {
    return inner_.list_unfinished(node_id);
  }

  caf::expected<persistence::lease_grant> claim(const uuid& id,
                                                const persistence::lease_terms& lease) override {
    return inner_.claim(id, lease);
  }

  caf::expected<persistence::fleet_summary> summary() override { return inner_.summary(); }

  int gets = 0;
  std::function<void()> during_get;

private:
  persistence::deployment_repository& inner_;
};

struct cached_fixture : testing::deployment_repository_harness {
  cached_fixture()
    : memory([this] { return wall; }), store(memory),
      uut_(persistence::make_cached_deployment_repository(store, config())) {
    // nop
  }

  persistence::deployment_cache_config config() {
    persistence::deployment_cache_config cfg;
    cfg.capacity = 32; // two per shard
    cfg.max_age = 1000ms;
    cfg.now = [this] { return mono; };
    return cfg;
  }

  persistence::deployment_repository& uut() override { return *uut_; }

  void expire_idempotency_keys() override { wall += persistence::idempotency_ttl; }

  void expire_leases() override { wall += std::chrono::hours{1}; }

  // A stored PENDING deployment whose id starts with `first_byte` (which picks its shard).
  deployment_record stored(const std::string& name, uint8_t first_byte = 0) {
    auto rec = testing::sample_deployment(name);
    rec.id.bytes[0] = first_byte;
    BOOST_REQUIRE(uut_->create(rec, std::nullopt));
    return rec;
  }

  // Moves `rec` to IN_PROGRESS through the cache.
  void start(deployment_record& rec) {
    auto batch = testing::contract_batch(rec, testing::deploy_start_events(1));
    BOOST_REQUIRE(uut_->append_events(rec.id, 0, batch));
  }

  timestamp wall = testing::contract_time(0);
  std::chrono::steady_clock::time_point mono{};
  persistence::memory_deployment_repository memory;
  racing_store store;
  std::unique_ptr<persistence::deployment_repository> uut_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(cached_deployment_repository)

ORCH_DEPLOYMENT_REPOSITORY_CONTRACT(cached_fixture)

BOOST_FIXTURE_TEST_CASE(a_read_is_kept_and_answers_the_next_reads, cached_fixture) {
  auto rec = stored("one");
  BOOST_TEST(uut_->cached(rec.id) == nullptr);
  BOOST_REQUIRE(uut_->get(rec.id));
  auto copy = uut_->cached(rec.id);
  BOOST_REQUIRE(copy != nullptr);
  BOOST_TEST(copy->name == "one");
  BOOST_REQUIRE(uut_->get(rec.id));
  BOOST_TEST(store.gets == 1);
}

BOOST_FIXTURE_TEST_CASE(a_write_through_the_cache_drops_the_copy, cached_fixture) {
  auto rec = stored("one");
  BOOST_REQUIRE(uut_->get(rec.id));
  start(rec);
  BOOST_TEST(uut_->cached(rec.id) == nullptr);
  auto fresh = uut_->get(rec.id);
  BOOST_REQUIRE(fresh);
  BOOST_TEST(fresh->status == deployment_status::in_progress);
  BOOST_REQUIRE(uut_->claim(rec.id, {"a", std::chrono::seconds{10}}));
  BOOST_TEST(uut_->cached(rec.id) == nullptr);
  BOOST_TEST(uut_->get(rec.id)->epoch == 1);
}

BOOST_FIXTURE_TEST_CASE(a_read_that_raced_with_a_write_is_not_kept, cached_fixture) {
  auto rec = stored("one");
  store.during_get = [this, &rec] { start(rec); };
  auto old = uut_->get(rec.id);
  BOOST_REQUIRE(old);
  BOOST_TEST(old->status == deployment_status::pending);
  BOOST_TEST(uut_->cached(rec.id) == nullptr);
  BOOST_TEST(uut_->get(rec.id)->status == deployment_status::in_progress);
}

BOOST_FIXTURE_TEST_CASE(copies_older_than_max_age_are_read_again, cached_fixture) {
  auto rec = stored("one");
  BOOST_REQUIRE(uut_->get(rec.id));
  mono += 1000ms;
  BOOST_TEST(uut_->cached(rec.id) != nullptr);
  mono += 1ms;
  BOOST_TEST(uut_->cached(rec.id) == nullptr);
  BOOST_REQUIRE(uut_->get(rec.id));
  BOOST_TEST(store.gets == 2);
}

BOOST_FIXTURE_TEST_CASE(a_full_shard_drops_its_least_recently_read_copy, cached_fixture) {
  // Same first byte modulo 16: one shard, which holds two copies.
  auto a = stored("a", 1);
  auto b = stored("b", 17);
  auto c = stored("c", 33);
  BOOST_REQUIRE(uut_->get(a.id));
  BOOST_REQUIRE(uut_->get(b.id));
  BOOST_REQUIRE(uut_->cached(a.id) != nullptr); // a is now the most recently read
  BOOST_REQUIRE(uut_->get(c.id));
  BOOST_TEST(uut_->cached(a.id) != nullptr);
  BOOST_TEST(uut_->cached(b.id) == nullptr);
  BOOST_TEST(uut_->cached(c.id) != nullptr);
}

BOOST_FIXTURE_TEST_CASE(failed_reads_are_not_kept, cached_fixture) {
  auto missing = uuid::random();
  BOOST_TEST(is(uut_->get(missing).error(), errc::not_found));
  BOOST_TEST(uut_->cached(missing) == nullptr);
  memory.set_failure(make_error(errc::store_unavailable, "down"));
  auto rec = testing::sample_deployment("x");
  BOOST_TEST(is(uut_->get(rec.id).error(), errc::store_unavailable));
  BOOST_TEST(uut_->cached(rec.id) == nullptr);
}

BOOST_FIXTURE_TEST_CASE(a_write_through_another_repository_of_the_same_cache_drops_the_copy,
                        cached_fixture) {
  // Two views over one memory, as the engine's pool and the API's pool see one database.
  auto cache = persistence::make_deployment_cache(config());
  auto reader = persistence::make_cached_deployment_repository(store, cache);
  auto writer = persistence::make_cached_deployment_repository(memory, cache);
  auto rec = testing::sample_deployment("shared");
  BOOST_REQUIRE(writer->create(rec, std::nullopt));
  BOOST_REQUIRE(reader->get(rec.id));
  BOOST_REQUIRE(reader->cached(rec.id) != nullptr);
  BOOST_REQUIRE(writer->cached(rec.id) != nullptr);
  auto batch = testing::contract_batch(rec, testing::deploy_start_events(1));
  BOOST_REQUIRE(writer->append_events(rec.id, 0, batch));
  BOOST_TEST(reader->cached(rec.id) == nullptr);
  BOOST_TEST(reader->get(rec.id)->status == deployment_status::in_progress);
  // A read through one that raced with a write through the other is not kept either.
  mono += 2s; // the copy kept by the read above expires
  store.during_get = [&] {
    auto claimed = writer->claim(rec.id, {"a", std::chrono::seconds{10}});
    BOOST_REQUIRE(claimed);
  };
  BOOST_REQUIRE(reader->get(rec.id));
  BOOST_TEST(reader->cached(rec.id) == nullptr);
  BOOST_TEST(reader->get(rec.id)->epoch == 1);
}

BOOST_AUTO_TEST_SUITE_END()
