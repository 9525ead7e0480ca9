// The Beast transport on its own: pool, timeouts, limits, stale keep-alive connections.

#include "orch/http/client_transport.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_fixture.hpp"
#include "test_servers.hpp"

using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;
using orch::http::client_transport;
using orch::http::client_transport_config;

namespace {

struct transport_env {
  explicit transport_env(client_transport_config cfg = {}) {
    auto made = client_transport::make(ioc.get_executor(), std::move(cfg));
    BOOST_REQUIRE(static_cast<bool>(made));
    uut = std::move(*made);
  }

  transport_outcome send(http_call call) {
    std::optional<transport_outcome> out;
    uut->send(std::move(call), [&](transport_outcome o) { out.emplace(std::move(o)); });
    run_until([&] { return out.has_value(); });
    BOOST_REQUIRE(out.has_value());
    return std::move(*out);
  }

  void run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 30s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      if (ioc.stopped()) ioc.restart();
      ioc.run_one_for(50ms);
    }
  }

  boost::asio::io_context ioc;
  std::unique_ptr<client_transport> uut;
};

http_call get(const std::string& url, std::chrono::milliseconds timeout = 5s) {
  http_call c;
  c.method = "GET";
  c.url = url;
  c.timeout = timeout;
  return c;
}

int status_of(const transport_outcome& out) {
  auto* res = std::get_if<http_result>(&out);
  return res != nullptr ? res->status : 0;
}

std::string error_of(const transport_outcome& out) {
  auto* failure = std::get_if<transport_failure>(&out);
  return failure != nullptr ? to_string(failure->error) : "none";
}

} // namespace

BOOST_AUTO_TEST_SUITE(transport)

BOOST_AUTO_TEST_CASE(sequential_calls_reuse_one_keep_alive_connection) {
  sim_process sim;
  transport_env env;
  for (int i = 0; i < 10; ++i) {
    auto out = env.send(get(sim.base_url() + "/identity/v3"));
    BOOST_TEST(status_of(out) == 200, error_of(out));
  }
  BOOST_TEST(env.uut->connections_opened() == 1u);
  BOOST_TEST(env.uut->open_connections() == 1u);
}

BOOST_AUTO_TEST_CASE(calls_beyond_the_pool_bound_wait_for_a_connection) {
  sim_process sim{{"--latency", "50ms"}};
  client_transport_config cfg;
  cfg.max_connections_per_endpoint = 2;
  transport_env env{cfg};
  int done = 0;
  int ok = 0;
  for (int i = 0; i < 12; ++i)
    env.uut->send(get(sim.base_url() + "/identity/v3"), [&](transport_outcome out) {
      ++done;
      ok += status_of(out) == 200 ? 1 : 0;
    });
  BOOST_TEST(env.uut->queued_calls() == 10u);
  std::size_t most_open = 0;
  env.run_until([&] {
    most_open = std::max(most_open, env.uut->open_connections());
    return done == 12;
  });
  BOOST_TEST(ok == 12);
  BOOST_TEST(most_open == 2u);
  BOOST_TEST(env.uut->connections_opened() == 2u);
  BOOST_TEST(env.uut->queued_calls() == 0u);
}

BOOST_AUTO_TEST_CASE(nobody_listening_is_connect_failed) {
  transport_env env;
  auto port = orch::testing::free_port();
  auto out = env.send(get("http://127.0.0.1:" + std::to_string(port) + "/"));
  BOOST_TEST(error_of(out) == "connect_failed");
}

BOOST_AUTO_TEST_CASE(slow_answer_after_the_request_was_sent_is_timeout) {
  sim_process sim;
  sim.add_fault(R"({"route": "*", "method": "GET", "latency_ms": 2000})");
  transport_env env;
  auto start = std::chrono::steady_clock::now();
  auto out = env.send(get(sim.base_url() + "/identity/v3/auth/tokens", 300ms));
  BOOST_TEST(error_of(out) == "timeout");
  BOOST_TEST((std::chrono::steady_clock::now() - start < 1500ms));
}

BOOST_AUTO_TEST_CASE(handshake_that_never_completes_is_connect_failed) {
  // Accepts, then says nothing: the TLS handshake cannot finish.
  scripted_server silent{[](boost::asio::ip::tcp::socket& sock, int) {
    std::string buffer;
    read_request(sock, buffer);
  }};
  transport_env env;
  auto out = env.send(get("https://127.0.0.1:" + std::to_string(silent.port()) + "/", 300ms));
  BOOST_TEST(error_of(out) == "connect_failed");
}

BOOST_AUTO_TEST_CASE(response_above_the_cap_is_response_too_large) {
  sim_process sim;
  client_transport_config cfg;
  cfg.max_response_bytes = 100;
  transport_env env{cfg};
  auto out = env.send(get(sim.base_url() + "/identity/v3"));
  BOOST_TEST(error_of(out) == "response_too_large");
}

BOOST_AUTO_TEST_CASE(stale_connection_is_replaced_for_an_idempotent_call) {
  // The first connection answers once, then closes as the next request arrives: the race
  // between a server's idle timeout and our reuse.
  scripted_server server{[](boost::asio::ip::tcp::socket& sock, int index) {
    std::string buffer;
    while (!read_request(sock, buffer).empty()) {
      boost::asio::write(sock, boost::asio::buffer(ok_response("hi")));
      if (index == 0) {
        read_request(sock, buffer);
        return;
      }
    }
  }};
  transport_env env;
  auto url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  BOOST_TEST(status_of(env.send(get(url))) == 200);
  auto again = env.send(get(url));
  BOOST_TEST(status_of(again) == 200, error_of(again));
  BOOST_TEST(env.uut->connections_opened() == 2u);
}

BOOST_AUTO_TEST_CASE(stale_connection_is_not_repeated_for_a_post) {
  scripted_server server{[](boost::asio::ip::tcp::socket& sock, int index) {
    std::string buffer;
    while (!read_request(sock, buffer).empty()) {
      boost::asio::write(sock, boost::asio::buffer(ok_response("hi")));
      if (index == 0) {
        read_request(sock, buffer);
        return;
      }
    }
  }};
  transport_env env;
  auto url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  BOOST_TEST(status_of(env.send(get(url))) == 200);
  auto post = get(url);
  post.method = "POST";
  post.body = "{}";
  auto out = env.send(post);
  BOOST_TEST(error_of(out) == "connection_reset");
  BOOST_TEST(server.accepted() == 1);
}

BOOST_AUTO_TEST_CASE(connection_closed_while_idle_is_not_reused) {
  std::atomic<bool> closed{false};
  scripted_server server{[&closed](boost::asio::ip::tcp::socket& sock, int index) {
    std::string buffer;
    while (!read_request(sock, buffer).empty()) {
      boost::asio::write(sock, boost::asio::buffer(ok_response("hi")));
      if (index == 0) {
        sock.close();
        closed = true;
        return;
      }
    }
  }};
  transport_env env;
  auto url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  BOOST_TEST(status_of(env.send(get(url))) == 200);
  env.run_until([&] { return closed.load(); });
  BOOST_REQUIRE(closed.load());
  // Even a POST goes through: the dead connection is noticed before anything is sent on it.
  auto post = get(url);
  post.method = "POST";
  post.body = "{}";
  auto out = env.send(post);
  BOOST_TEST(status_of(out) == 200, error_of(out));
  BOOST_TEST(server.accepted() == 2);
}

BOOST_AUTO_TEST_CASE(timer_runs_functions_after_their_delay_in_order) {
  transport_env env;
  std::vector<int> order;
  auto start = env.uut->now();
  env.uut->after(60ms, [&] { order.push_back(2); });
  env.uut->after(20ms, [&] { order.push_back(1); });
  env.run_until([&] { return order.size() == 2u; });
  BOOST_TEST((order == std::vector<int>{1, 2}));
  BOOST_TEST((env.uut->now() - start >= 60ms));
}

BOOST_AUTO_TEST_SUITE_END()
