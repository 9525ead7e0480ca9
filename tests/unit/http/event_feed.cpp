#include "orch/http/event_feed.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>

#include "orch/errc.hpp"
#include "orch/persistence/memory_deployment_repository.hpp"
#include "orch/testing/printers.hpp"

using namespace std::chrono_literals;

namespace {

// A stream's socket as the feed sees it: what was written, whether it is open, and how much it
// has not sent yet (set by the test to play a client that stopped reading).
class fake_writer : public orch::http::stream_writer {
public:
  bool write(std::string data) override {
    std::lock_guard guard{mtx_};
    if (!open_) return false;
    text_ += data;
    return true;
  }

  void close() override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard guard{mtx_};
      if (!open_) return;
      open_ = false;
      callbacks.swap(on_close_);
    }
    for (auto& f : callbacks) f();
  }

  bool is_open() const noexcept override {
    std::lock_guard guard{mtx_};
    return open_;
  }

  std::size_t queued_bytes() const noexcept override { return queued; }

  void on_close(std::function<void()> f) override {
    {
      std::lock_guard guard{mtx_};
      if (open_) return on_close_.push_back(std::move(f));
    }
    f();
  }

  std::string text() const {
    std::lock_guard guard{mtx_};
    return text_;
  }

  // How often `needle` occurs in the body.
  int count(const std::string& needle) const {
    auto body = text();
    int n = 0;
    for (auto at = body.find(needle); at != std::string::npos; at = body.find(needle, at + 1)) ++n;
    return n;
  }

  std::size_t queued = 0;

private:
  mutable std::mutex mtx_;
  std::string text_;
  bool open_ = true;
  std::vector<std::function<void()>> on_close_;
};

// Counts event reads; `during_events` runs inside the next read, after the store answered.
class counting_repository : public orch::persistence::memory_deployment_repository {
public:
  caf::expected<std::vector<orch::deployment_event>> events(const orch::uuid& id, int64_t after_seq,
                                                            int limit) override {
    ++reads;
    if (unavailable)
      return orch::make_error(orch::errc::store_unavailable, "database events: no connection");
    auto result = memory_deployment_repository::events(id, after_seq, limit);
    if (during_events) std::exchange(during_events, nullptr)();
    return result;
  }

  int reads = 0;
  bool unavailable = false;
  std::function<void()> during_events;
};

struct fixture {
  fixture() : metrics(registry) {
    // nop
  }

  // A feed whose blocking work waits in `jobs` until the test runs it.
  orch::http::event_feed& make_feed(orch::http::event_feed_config cfg = {}) {
    uut = std::make_unique<orch::http::event_feed>(
      cfg, repo, [this](std::function<void()> job) { jobs.push_back(std::move(job)); }, metrics);
    return *uut;
  }

  void run_jobs() {
    while (!jobs.empty()) {
      auto job = std::move(jobs.front());
      jobs.pop_front();
      job();
    }
  }

  orch::uuid create_deployment(const std::string& name) {
    orch::deployment_record rec;
    rec.id = orch::uuid::random();
    rec.name = name;
    rec.status = orch::deployment_status::pending;
    rec.cloud_region = "RegionOne";
    BOOST_REQUIRE(repo.create(rec, std::nullopt));
    return rec.id;
  }

  // Appends a status change as an engine would.
  void move_to(const orch::uuid& id, orch::deployment_status to) {
    auto rec = repo.get(id);
    BOOST_REQUIRE(rec);
    orch::persistence::event_batch batch;
    batch.events.push_back({0, rec->updated_at, orch::status_changed{rec->status, to}});
    rec->status = to;
    if (to == orch::deployment_status::deleted) rec->deleted_at = rec->updated_at;
    batch.state = *rec;
    BOOST_REQUIRE(repo.append_events(id, rec->epoch, batch));
  }

  std::shared_ptr<fake_writer> subscribe(const orch::uuid& id, int64_t after = 0,
                                         bool deleted = false) {
    auto place = uut->reserve();
    BOOST_REQUIRE(place.has_value());
    auto writer = std::make_shared<fake_writer>();
    uut->subscribe(std::move(*place), id, after, deleted, writer, "req");
    return writer;
  }

  prometheus::Registry registry;
  orch::http::event_feed_metrics metrics;
  counting_repository repo;
  std::deque<std::function<void()>> jobs;
  // Declared last: destroyed first, while what it uses is still there.
  std::unique_ptr<orch::http::event_feed> uut;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_feed, fixture)

BOOST_AUTO_TEST_CASE(one_read_per_notification_serves_every_subscriber_of_a_deployment) {
  make_feed();
  auto id = create_deployment("fan-out");
  move_to(id, orch::deployment_status::in_progress);
  std::vector<std::shared_ptr<fake_writer>> writers;
  for (int i = 0; i < 50; ++i) writers.push_back(subscribe(id));
  // The subscriptions queued reads; run together they catch every subscriber up.
  run_jobs();
  for (auto& w : writers) BOOST_TEST(w->count("id: 1\n") == 1);
  repo.reads = 0;
  auto fetches_before = metrics.fetches.Value();
  move_to(id, orch::deployment_status::completed);
  uut->notify(id);
  uut->notify(id); // a second notification while the first read waits folds into it
  run_jobs();
  BOOST_TEST(repo.reads == 1);
  BOOST_TEST(metrics.fetches.Value() - fetches_before == 1.0);
  for (auto& w : writers) {
    BOOST_TEST(w->count("id: 2\nevent: status_changed\n") == 1);
    BOOST_TEST(w->count("id: 1\n") == 1);
    BOOST_TEST(w->is_open());
  }
  BOOST_TEST(uut->subscribers() == 50u);
  BOOST_TEST(metrics.subscribers.Value() == 50.0);
}

BOOST_AUTO_TEST_CASE(a_deployment_without_subscribers_is_not_read) {
  make_feed();
  auto id = create_deployment("unwatched");
  move_to(id, orch::deployment_status::in_progress);
  uut->notify(id);
  uut->notify_all();
  uut->tick(std::chrono::steady_clock::now());
  run_jobs();
  BOOST_TEST(repo.reads == 0);
}

BOOST_AUTO_TEST_CASE(a_slow_subscriber_is_closed_and_the_others_still_get_every_event) {
  orch::http::event_feed_config cfg;
  cfg.max_queued_bytes = 4096;
  make_feed(cfg);
  auto id = create_deployment("slow");
  auto fast = subscribe(id);
  auto slow = subscribe(id);
  auto other = subscribe(id);
  run_jobs();
  // The slow client's socket holds almost the whole allowance: the next event overflows it.
  slow->queued = 4000;
  move_to(id, orch::deployment_status::in_progress);
  uut->notify(id);
  run_jobs();
  BOOST_TEST(!slow->is_open());
  BOOST_TEST(slow->count("id: 1\n") == 0);
  BOOST_TEST(metrics.dropped.Value() == 1.0);
  for (auto& w : {fast, other}) {
    BOOST_TEST(w->count("id: 1\n") == 1);
    BOOST_TEST(w->is_open());
  }
  BOOST_TEST(uut->subscribers() == 2u);
  move_to(id, orch::deployment_status::completed);
  uut->notify(id);
  run_jobs();
  for (auto& w : {fast, other}) BOOST_TEST(w->count("id: 2\n") == 1);
}

BOOST_AUTO_TEST_CASE(the_cap_refuses_one_more_until_a_place_frees_up) {
  orch::http::event_feed_config cfg;
  cfg.max_subscribers = 2;
  make_feed(cfg);
  auto id = create_deployment("capped");
  auto first = subscribe(id);
  auto place = uut->reserve();
  BOOST_REQUIRE(place.has_value());
  BOOST_TEST(!uut->reserve().has_value());
  BOOST_TEST(metrics.refused.Value() == 1.0);
  BOOST_TEST(uut->subscribers() == 2u);
  // A place reserved and not used comes back; so does the place of a stream that closed.
  place.reset();
  BOOST_TEST(uut->subscribers() == 1u);
  first->close();
  BOOST_TEST(uut->subscribers() == 0u);
  BOOST_TEST(metrics.subscribers.Value() == 0.0);
  BOOST_TEST(uut->reserve().has_value());
}

BOOST_AUTO_TEST_CASE(a_subscriber_that_joins_during_a_read_gets_no_gap_and_no_duplicate) {
  make_feed();
  auto id = create_deployment("joined");
  auto early = subscribe(id);
  run_jobs();
  move_to(id, orch::deployment_status::in_progress);
  move_to(id, orch::deployment_status::completed);
  uut->notify(id);
  run_jobs();
  BOOST_REQUIRE(early->count("id: 2\n") == 1);
  move_to(id, orch::deployment_status::updating);
  std::shared_ptr<fake_writer> late;
  // Joins from seq 0 while a read from seq 2 is under way.
  repo.during_events = [&] { late = subscribe(id); };
  uut->notify(id);
  run_jobs();
  BOOST_REQUIRE(late != nullptr);
  auto text = late->text();
  auto one = text.find("id: 1\n");
  auto two = text.find("id: 2\n");
  auto three = text.find("id: 3\n");
  BOOST_TEST((one != std::string::npos && one < two && two < three && three != std::string::npos));
  for (auto seq : {"id: 1\n", "id: 2\n", "id: 3\n"}) {
    BOOST_TEST(late->count(seq) == 1);
    BOOST_TEST(early->count(seq) == 1);
  }
}

BOOST_AUTO_TEST_CASE(the_stream_ends_after_the_deleted_event_and_a_deleted_one_after_its_trail) {
  make_feed();
  auto id = create_deployment("ending");
  auto live = subscribe(id);
  run_jobs();
  move_to(id, orch::deployment_status::deleting);
  move_to(id, orch::deployment_status::deleted);
  uut->notify(id);
  run_jobs();
  BOOST_TEST(!live->is_open());
  BOOST_TEST(live->count("\"to\":\"DELETED\"") == 1);
  auto late = subscribe(id, 1, true);
  run_jobs();
  BOOST_TEST(!late->is_open());
  BOOST_TEST(late->count("id: 1\n") == 0);
  BOOST_TEST(late->count("id: 2\n") == 1);
  BOOST_TEST(uut->subscribers() == 0u);
}

BOOST_AUTO_TEST_CASE(a_tick_sends_heartbeats_to_idle_streams_and_reads_as_a_safety_net) {
  orch::http::event_feed_config cfg;
  cfg.heartbeat_interval = 15s;
  make_feed(cfg);
  auto id = create_deployment("quiet");
  auto writer = subscribe(id);
  run_jobs();
  auto start = std::chrono::steady_clock::now();
  uut->tick(start);
  run_jobs();
  BOOST_TEST(writer->count(": keep-alive\n") == 0);
  // A notification lost: the tick reads anyway.
  move_to(id, orch::deployment_status::in_progress);
  uut->tick(start + 16s);
  run_jobs();
  BOOST_TEST(writer->count(": keep-alive\n") == 1);
  BOOST_TEST(writer->count("id: 1\n") == 1);
}

BOOST_AUTO_TEST_CASE(a_closed_stream_leaves_and_its_deployment_is_no_longer_read) {
  make_feed();
  auto id = create_deployment("left");
  auto writer = subscribe(id);
  run_jobs();
  writer->close();
  repo.reads = 0;
  move_to(id, orch::deployment_status::in_progress);
  uut->notify(id);
  uut->tick(std::chrono::steady_clock::now() + 1h);
  run_jobs();
  BOOST_TEST(repo.reads == 0);
  BOOST_TEST(uut->subscribers() == 0u);
}

BOOST_AUTO_TEST_CASE(destroying_the_feed_closes_its_streams) {
  make_feed();
  auto id = create_deployment("shutdown");
  auto writer = subscribe(id);
  run_jobs();
  move_to(id, orch::deployment_status::in_progress);
  uut->notify(id);
  repo.reads = 0;
  uut.reset();
  BOOST_TEST(!writer->is_open());
  // A read queued before does nothing once the feed is gone.
  run_jobs();
  BOOST_TEST(repo.reads == 0);
}

BOOST_AUTO_TEST_CASE(streams_stay_open_while_the_database_is_away_and_carry_on_after) {
  make_feed();
  auto id = create_deployment("outage");
  auto writer = subscribe(id);
  run_jobs();
  move_to(id, orch::deployment_status::in_progress);
  repo.unavailable = true;
  uut->notify(id);
  uut->tick(std::chrono::steady_clock::now());
  run_jobs();
  BOOST_TEST(writer->is_open());
  BOOST_TEST(writer->count("id: 1\n") == 0);
  repo.unavailable = false;
  uut->notify_all(); // the listener is back
  run_jobs();
  BOOST_TEST(writer->count("id: 1\n") == 1);
  BOOST_TEST(writer->is_open());
}

BOOST_AUTO_TEST_SUITE_END()
