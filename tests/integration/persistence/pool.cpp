#include "orch/persistence/pool.hpp"

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <pqxx/nontransaction>
#include <pqxx/result>

#include "orch/errc.hpp"
#include "pg_pool.hpp"
#include "repository_contract.hpp"
#include "test_database.hpp"

using namespace orch;
using orch::testing::describe;
using orch::testing::failed_with;
using namespace std::chrono_literals;
using orch::testing::global_database;

namespace {

// A port nothing listens on: bound once to learn a free number, then closed again. Plain
// sockets, because Asio's fences do not build under -fsanitize=thread.
uint16_t closed_port() {
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

persistence::pool_config config_for(std::string url, int size) {
  persistence::pool_config cfg;
  cfg.url = std::move(url);
  cfg.size = size;
  cfg.connect_timeout = 2s;
  cfg.acquire_timeout = 300ms;
  return cfg;
}

caf::expected<std::string> backend_pid(persistence::pool& db) {
  return persistence::with_connection(
    db, "backend_pid", [](pqxx::connection& conn) -> caf::expected<std::string> {
      pqxx::nontransaction tx{conn};
      return tx.exec("SELECT pg_backend_pid()")[0][0].as<std::string>();
    });
}

// Terminates every session of the test database but the caller's, and waits until they are
// gone, as a server restart would.
void kill_all_backends() {
  auto killed = global_database::get().exec(
    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t");
  BOOST_TEST_MESSAGE("terminated " << killed << " sessions");
}

} // namespace

BOOST_AUTO_TEST_SUITE(pool)

BOOST_AUTO_TEST_CASE(ping_answers_on_a_live_server) {
  persistence::pool uut{config_for(global_database::get().url(), 2)};
  auto err = uut.ping();
  BOOST_TEST(!err, describe(err));
  BOOST_TEST(uut.open_connections() == 1);
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_store_unavailable_not_an_exception) {
  auto url = "postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/postgres";
  persistence::pool uut{config_for(url, 2)};
  auto err = uut.ping();
  BOOST_TEST(failed_with(err, errc::store_unavailable), describe(err));
  BOOST_TEST(uut.open_connections() == 0);
  auto res = backend_pid(uut);
  BOOST_REQUIRE(!res);
  BOOST_TEST(failed_with(res, errc::store_unavailable), describe(res));
}

BOOST_AUTO_TEST_CASE(an_empty_url_is_invalid_config) {
  persistence::pool uut{config_for("", 2)};
  BOOST_TEST(failed_with(uut.ping(), errc::invalid_config));
}

BOOST_AUTO_TEST_CASE(connections_are_reused) {
  persistence::pool uut{config_for(global_database::get().url(), 2)};
  auto first = backend_pid(uut);
  auto second = backend_pid(uut);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  BOOST_TEST(*first == *second);
  BOOST_TEST(uut.open_connections() == 1);
}

BOOST_AUTO_TEST_CASE(idle_connections_killed_by_the_server_are_replaced_before_use) {
  persistence::pool uut{config_for(global_database::get().url(), 2)};
  auto before = backend_pid(uut);
  BOOST_REQUIRE(before);
  kill_all_backends();
  auto after = backend_pid(uut);
  BOOST_REQUIRE_MESSAGE(after, describe(after));
  BOOST_TEST(*after != *before);
}

BOOST_AUTO_TEST_CASE(a_connection_lost_mid_operation_fails_once_then_recovers) {
  persistence::pool uut{config_for(global_database::get().url(), 2)};
  auto res = persistence::with_connection(
    uut, "killed", [](pqxx::connection& conn) -> caf::expected<std::string> {
      kill_all_backends();
      pqxx::nontransaction tx{conn};
      return tx.exec("SELECT 'unreachable'")[0][0].as<std::string>();
    });
  BOOST_REQUIRE(!res);
  BOOST_TEST(failed_with(res, errc::store_unavailable), describe(res));
  BOOST_TEST(uut.open_connections() == 0);
  auto next = backend_pid(uut);
  BOOST_TEST(next.engaged(), describe(next));
}

BOOST_AUTO_TEST_CASE(callers_beyond_the_pool_size_wait_then_fail_with_store_unavailable) {
  persistence::pool uut{config_for(global_database::get().url(), 2)};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::vector<std::promise<void>> acquired(2);
  std::vector<std::future<caf::error>> holders;
  for (auto& signal : acquired)
    holders.push_back(std::async(std::launch::async, [&uut, &signal, released] {
      return persistence::with_connection(uut, "hold", [&](pqxx::connection&) -> caf::error {
        signal.set_value();
        released.wait();
        return caf::none;
      });
    }));
  for (auto& signal : acquired) signal.get_future().wait();
  auto start = std::chrono::steady_clock::now();
  auto err = uut.ping();
  auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(failed_with(err, errc::store_unavailable), describe(err));
  BOOST_TEST(waited >= 300ms);
  BOOST_TEST(waited < 5s);
  release.set_value();
  for (auto& holder : holders) BOOST_TEST(!holder.get());
  BOOST_TEST(!uut.ping());
  BOOST_TEST(uut.open_connections() == 2);
}

BOOST_AUTO_TEST_CASE(a_waiting_caller_gets_the_connection_given_back_in_time) {
  auto cfg = config_for(global_database::get().url(), 1);
  cfg.acquire_timeout = 10s;
  persistence::pool uut{cfg};
  std::promise<void> acquired;
  std::promise<void> release;
  auto holder = std::async(std::launch::async, [&] {
    return persistence::with_connection(uut, "hold", [&](pqxx::connection&) -> caf::error {
      acquired.set_value();
      release.get_future().wait();
      return caf::none;
    });
  });
  acquired.get_future().wait();
  auto waiter = std::async(std::launch::async, [&] { return uut.ping(); });
  BOOST_TEST((waiter.wait_for(50ms) == std::future_status::timeout)); // still blocked
  release.set_value();
  BOOST_TEST(!holder.get());
  auto err = waiter.get();
  BOOST_TEST(!err, describe(err));
  BOOST_TEST(uut.open_connections() == 1);
}

BOOST_AUTO_TEST_CASE(sql_errors_become_internal_and_keep_the_connection) {
  persistence::pool uut{config_for(global_database::get().url(), 1)};
  auto before = backend_pid(uut);
  auto res = persistence::with_connection(uut, "bad_sql", [](pqxx::connection& conn) -> caf::error {
    pqxx::nontransaction tx{conn};
    tx.exec("SELECT * FROM no_such_table");
    return caf::none;
  });
  BOOST_TEST(failed_with(res, errc::internal), describe(res));
  BOOST_TEST(error_detail(res).find("42P01") != std::string::npos, error_detail(res));
  auto after = backend_pid(uut);
  BOOST_REQUIRE(before);
  BOOST_REQUIRE(after);
  BOOST_TEST(*before == *after);
}

BOOST_AUTO_TEST_CASE(the_observer_sees_every_operation_by_name) {
  std::mutex mtx;
  std::vector<std::string> seen;
  persistence::pool uut{config_for(global_database::get().url(), 1),
                        [&](std::string_view operation, double seconds) {
                          std::lock_guard guard{mtx};
                          BOOST_TEST(seconds >= 0.0);
                          seen.emplace_back(operation);
                        }};
  BOOST_REQUIRE(!uut.ping());
  BOOST_REQUIRE(backend_pid(uut));
  persistence::with_connection(uut, "bad_sql", [](pqxx::connection& conn) -> caf::error {
    pqxx::nontransaction tx{conn};
    tx.exec("SELECT * FROM no_such_table");
    return caf::none;
  });
  std::lock_guard guard{mtx};
  BOOST_TEST(seen == (std::vector<std::string>{"ping", "backend_pid", "bad_sql"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_usage_observer_sees_leases_waiters_and_timeouts) {
  std::mutex mtx;
  std::vector<persistence::pool_usage> seen;
  persistence::pool uut{
    config_for(global_database::get().url(), 1), {}, [&](const persistence::pool_usage& u) {
      std::lock_guard guard{mtx};
      seen.push_back(u);
    }};
  std::promise<void> acquired;
  std::promise<void> release;
  auto holder = std::async(std::launch::async, [&] {
    return persistence::with_connection(uut, "hold", [&](pqxx::connection&) -> caf::error {
      acquired.set_value();
      release.get_future().wait();
      return caf::none;
    });
  });
  acquired.get_future().wait();
  BOOST_TEST(uut.usage().in_use == 1);
  auto err = uut.ping(); // waits 300 ms, then gives up
  BOOST_TEST(failed_with(err, errc::store_unavailable), describe(err));
  release.set_value();
  BOOST_TEST(!holder.get());
  BOOST_TEST(uut.usage().in_use == 0);
  BOOST_TEST(uut.usage().waiting == 0);
  std::lock_guard guard{mtx};
  BOOST_REQUIRE(seen.size() == 4u);
  BOOST_TEST((seen[0].in_use == 1 && seen[0].waiting == 0 && !seen[0].timed_out)); // leased
  BOOST_TEST((seen[1].in_use == 1 && seen[1].waiting == 1 && !seen[1].timed_out)); // waits
  BOOST_TEST((seen[2].in_use == 1 && seen[2].waiting == 0 && seen[2].timed_out));  // gives up
  BOOST_TEST((seen[3].in_use == 0 && seen[3].waiting == 0 && !seen[3].timed_out)); // returned
}

BOOST_AUTO_TEST_SUITE_END()
