#include "orch/persistence/listener.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <pqxx/nontransaction>

#include "test_database.hpp"

using namespace orch;
using namespace std::chrono_literals;
using orch::testing::global_database;

namespace {

// What a listener heard, for a test thread to wait on.
struct heard {
  void payload(std::string_view text) {
    std::lock_guard guard{mtx};
    payloads.emplace_back(text);
    cv.notify_all();
  }

  void listening() {
    std::lock_guard guard{mtx};
    ++sessions;
    cv.notify_all();
  }

  bool wait_payloads(std::size_t n) {
    std::unique_lock lock{mtx};
    return cv.wait_for(lock, 10s, [&] { return payloads.size() >= n; });
  }

  bool wait_sessions(int n) {
    std::unique_lock lock{mtx};
    return cv.wait_for(lock, 20s, [&] { return sessions >= n; });
  }

  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::string> payloads;
  int sessions = 0;
};

persistence::listener_config config(const std::string& channel) {
  persistence::listener_config cfg;
  cfg.url = global_database::get().url();
  cfg.channel = channel;
  cfg.connect_timeout = 2s;
  cfg.min_backoff = 50ms;
  cfg.max_backoff = 400ms;
  return cfg;
}

// A stored deployment with one event, written as the repository would (0001/0004 schema).
std::string insert_event() {
  auto id = to_string(uuid::random());
  auto& db = global_database::get();
  db.exec("INSERT INTO deployments (id, name, template, cloud_region) VALUES ('" + id
          + "', 'listened-" + id.substr(0, 8) + "', '{}', 'RegionOne')");
  db.exec("INSERT INTO deployment_events (deployment_id, seq, type, data) VALUES ('" + id
          + "', 1, 'status_changed', '{}'), ('" + id + "', 2, 'status_changed', '{}')");
  return id;
}

} // namespace

BOOST_AUTO_TEST_SUITE(listener)

BOOST_AUTO_TEST_CASE(stored_events_notify_their_deployment_id_once_per_transaction) {
  heard h;
  persistence::listener uut{config("deployment_events"), [&](std::string_view p) { h.payload(p); },
                            [&] { h.listening(); }};
  BOOST_REQUIRE(h.wait_sessions(1));
  BOOST_TEST(uut.is_listening());
  auto id = insert_event();
  BOOST_REQUIRE(h.wait_payloads(1));
  auto other = insert_event();
  BOOST_REQUIRE(h.wait_payloads(2));
  std::lock_guard guard{h.mtx};
  // Two events in one statement: one notification each time.
  BOOST_TEST(h.payloads == (std::vector<std::string>{id, other}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_generic_channel_is_heard_and_a_lost_session_comes_back) {
  heard h;
  persistence::listener uut{config("orch_test_channel"), [&](std::string_view p) { h.payload(p); },
                            [&] { h.listening(); }};
  BOOST_REQUIRE(h.wait_sessions(1));
  global_database::get().exec("SELECT pg_notify('orch_test_channel', 'first')");
  BOOST_REQUIRE(h.wait_payloads(1));
  // The server ends the listening session, as a restart would.
  global_database::get().exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE query LIKE 'LISTEN%orch_test_channel%'");
  BOOST_REQUIRE(h.wait_sessions(2));
  global_database::get().exec("SELECT pg_notify('orch_test_channel', 'second')");
  BOOST_REQUIRE(h.wait_payloads(2));
  std::lock_guard guard{h.mtx};
  BOOST_TEST(h.payloads.back() == "second");
}

BOOST_AUTO_TEST_CASE(a_server_that_is_not_there_is_retried_until_the_listener_stops) {
  heard h;
  auto cfg = config("deployment_events");
  cfg.url = "postgresql://nobody@127.0.0.1:1/none";
  {
    persistence::listener uut{cfg, [&](std::string_view p) { h.payload(p); },
                              [&] { h.listening(); }};
    BOOST_TEST(!uut.is_listening());
  }
  BOOST_TEST(h.sessions == 0);
}

BOOST_AUTO_TEST_SUITE_END()
