#include "orch/http/server.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "orch/http/problem.hpp"
#include "orch/testing/http_client.hpp"
#include "orch/testing/printers.hpp"

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using orch::http::request;
using orch::http::request_context;
using orch::http::responder;
using orch::http::response;
using orch::http::server_config;
using orch::testing::http_client;
using orch::testing::raw_socket;

namespace {

response text(bhttp::status status, std::string body) {
  response res{status, 11};
  res.set(bhttp::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

/// Answers every request with its target as the body.
void echo_target(request&& req, const request_context&, responder respond) {
  respond(text(bhttp::status::ok, std::string{req.target()}));
}

server_config test_config() {
  server_config cfg;
  cfg.workers = 2;
  cfg.max_body_bytes = 1024;
  cfg.header_timeout = 300ms;
  cfg.body_timeout = 300ms;
  cfg.idle_timeout = 5s;
  return cfg;
}

/// A started server on 127.0.0.1 and an ephemeral port, stopped at the end of the test.
struct running {
  explicit running(orch::http::handler h, server_config cfg = test_config())
    : uut(std::move(cfg), std::move(h)) {
    uut.start();
  }

  ~running() { uut.stop(0ms); }

  orch::http::server uut;
};

std::string get_line(std::string_view target) {
  return "GET " + std::string{target} + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(answers_several_requests_over_one_keep_alive_connection) {
  running srv{echo_target};
  http_client client{"127.0.0.1", srv.uut.port()};
  for (auto target : {"/a", "/b", "/c"}) {
    auto res = client.get(target);
    BOOST_TEST(res.result() == bhttp::status::ok);
    BOOST_TEST(res.body() == target);
    BOOST_TEST(res.keep_alive());
  }
  BOOST_TEST(client.is_open());
}

BOOST_AUTO_TEST_CASE(answers_pipelined_requests_in_order) {
  // The first answer comes late from another thread; the second must still follow it.
  std::vector<std::thread> late;
  std::mutex mtx;
  running srv{[&](request&& req, const request_context&, responder respond) {
    if (req.target() == "/first") {
      std::lock_guard guard{mtx};
      late.emplace_back([respond] { respond(text(bhttp::status::ok, "first-body")); });
      return;
    }
    respond(text(bhttp::status::ok, "second-body"));
  }};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send(get_line("/first") + get_line("/second"));
  auto received = sock.read_until("second-body");
  auto first = received.find("first-body");
  BOOST_TEST(first != std::string::npos);
  BOOST_TEST(first < received.find("second-body"));
  std::lock_guard guard{mtx};
  for (auto& t : late) t.join();
}

BOOST_AUTO_TEST_CASE(answers_a_body_over_the_limit_with_413_and_closes) {
  std::atomic<int> calls = 0;
  running srv{[&](request&& req, const request_context& ctx, responder respond) {
    ++calls;
    echo_target(std::move(req), ctx, std::move(respond));
  }};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto res = client.request(bhttp::verb::post, "/upload", std::string(2048, 'x'));
  BOOST_TEST(res.result() == bhttp::status::payload_too_large);
  BOOST_TEST(!client.is_open());
  BOOST_TEST(calls.load() == 0);
}

BOOST_AUTO_TEST_CASE(accepts_a_body_at_the_limit) {
  running srv{[](request&& req, const request_context&, responder respond) {
    respond(text(bhttp::status::ok, std::to_string(req.body().size())));
  }};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto res = client.request(bhttp::verb::post, "/upload", std::string(1024, 'x'));
  BOOST_TEST(res.result() == bhttp::status::ok);
  BOOST_TEST(res.body() == "1024");
}

BOOST_AUTO_TEST_CASE(answers_garbage_with_400_and_closes) {
  running srv{echo_target};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send("THIS IS NOT HTTP\r\n\r\n");
  auto received = sock.read_until_close();
  BOOST_TEST(received.starts_with("HTTP/1.1 400"), received);
}

BOOST_AUTO_TEST_CASE(uses_the_configured_error_response) {
  auto cfg = test_config();
  cfg.error_response = [](const orch::http::server_error& err) {
    auto res = response{err.status, err.version};
    res.set(bhttp::field::content_type, "application/problem+json");
    res.body() = "{}";
    return res;
  };
  running srv{echo_target, cfg};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto res = client.request(bhttp::verb::post, "/upload", std::string(4096, 'x'));
  BOOST_TEST(res.result() == bhttp::status::payload_too_large);
  BOOST_TEST(res[bhttp::field::content_type] == "application/problem+json");
}

BOOST_AUTO_TEST_CASE(asks_for_the_body_of_an_expect_100_continue_request) {
  running srv{[](request&& req, const request_context&, responder respond) {
    respond(text(bhttp::status::ok, "got " + req.body()));
  }};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  sock.read_until("HTTP/1.1 100 Continue\r\n\r\n");
  sock.send("hi");
  BOOST_TEST(sock.read_until("got hi").find("HTTP/1.1 200 OK") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(closes_an_http_1_0_connection_after_the_answer) {
  running srv{echo_target};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send("GET /old HTTP/1.0\r\n\r\n");
  auto received = sock.read_until_close();
  BOOST_TEST(received.starts_with("HTTP/1.0 200 OK"), received);
  BOOST_TEST(received.ends_with("/old"));
}

BOOST_AUTO_TEST_CASE(drops_a_client_that_trickles_its_header) {
  running srv{echo_target};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  auto line = get_line("/slow");
  auto started = std::chrono::steady_clock::now();
  auto closed = false;
  // One byte per 100 ms would need 2.5 s for this header; the server allows 300 ms.
  for (auto ch : line) {
    try {
      sock.send(std::string_view{&ch, 1});
    } catch (const std::exception&) {
      closed = true;
      break;
    }
    if (sock.wait_closed(100ms)) {
      closed = true;
      break;
    }
  }
  auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(closed);
  BOOST_TEST((elapsed >= 250ms));
  BOOST_TEST((elapsed < 2s));
  BOOST_TEST(sock.received().find("200") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(closes_an_idle_keep_alive_connection) {
  auto cfg = test_config();
  cfg.idle_timeout = 200ms;
  running srv{echo_target, cfg};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send(get_line("/once"));
  sock.read_until("/once");
  BOOST_TEST(sock.wait_closed(3s));
}

BOOST_AUTO_TEST_CASE(keeps_a_slow_handler_connection_open_past_the_idle_timeout) {
  auto cfg = test_config();
  cfg.idle_timeout = 100ms;
  std::promise<responder> pending;
  running srv{[&](request&&, const request_context&, responder respond) {
                pending.set_value(std::move(respond));
              },
              cfg};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto answered = std::async(std::launch::async, [&] { return client.get("/slow"); });
  auto respond = pending.get_future().get();
  BOOST_TEST(srv.uut.in_flight() == 1u);
  std::this_thread::sleep_for(300ms); // longer than idle_timeout: the handler is not idle
  respond(text(bhttp::status::ok, "late"));
  BOOST_TEST(answered.get().body() == "late");
}

BOOST_AUTO_TEST_CASE(turns_a_handler_exception_into_a_bare_500) {
  running srv{[](request&&, const request_context&, responder) {
    throw std::runtime_error{"secret internals"};
  }};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto res = client.get("/boom");
  BOOST_TEST(res.result() == bhttp::status::internal_server_error);
  BOOST_TEST(res.body().find("secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(ignores_a_second_answer_to_the_same_request) {
  running srv{[](request&&, const request_context&, responder respond) {
    respond(text(bhttp::status::ok, "one"));
    respond(text(bhttp::status::ok, "two"));
  }};
  http_client client{"127.0.0.1", srv.uut.port()};
  BOOST_TEST(client.get("/x").body() == "one");
  BOOST_TEST(client.get("/y").body() == "one");
}

BOOST_AUTO_TEST_CASE(an_aborted_exchange_closes_the_connection_without_an_answer) {
  running srv{[](request&& req, const request_context&, responder respond) {
    if (req.target() == "/drop") return respond.abort();
    respond(text(bhttp::status::ok, "fine"));
  }};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send(get_line("/drop"));
  BOOST_TEST(sock.read_until_close().empty());
  // The exchange ends on the server's strand right after the socket closes.
  for (int i = 0; i < 1000 && srv.uut.in_flight() != 0u; ++i) std::this_thread::sleep_for(10ms);
  BOOST_TEST(srv.uut.in_flight() == 0u);
  http_client client{"127.0.0.1", srv.uut.port()};
  BOOST_TEST(client.get("/other").body() == "fine");
}

BOOST_AUTO_TEST_CASE(reports_the_peer_address) {
  running srv{[](request&&, const request_context& ctx, responder respond) {
    respond(text(bhttp::status::ok, ctx.remote_address));
  }};
  http_client client{"127.0.0.1", srv.uut.port()};
  BOOST_TEST(client.get("/").body() == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(answers_head_without_a_body) {
  running srv{echo_target};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto res = client.request(bhttp::verb::head, "/abc");
  BOOST_TEST(res.result() == bhttp::status::ok);
  BOOST_TEST(res[bhttp::field::content_length] == "4");
  BOOST_TEST(client.get("/next").body() == "/next");
}

BOOST_AUTO_TEST_CASE(graceful_stop_lets_an_in_flight_request_finish) {
  std::promise<responder> pending;
  running srv{[&](request&&, const request_context&, responder respond) {
    pending.set_value(std::move(respond));
  }};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto answered = std::async(std::launch::async, [&] { return client.get("/slow"); });
  auto respond = pending.get_future().get();
  auto stopped = std::async(std::launch::async, [&] { srv.uut.stop(10s); });
  BOOST_TEST((stopped.wait_for(100ms) == std::future_status::timeout));
  respond(text(bhttp::status::ok, "finished"));
  auto res = answered.get();
  BOOST_TEST(res.result() == bhttp::status::ok);
  BOOST_TEST(res.body() == "finished");
  BOOST_TEST(!res.keep_alive());
  BOOST_TEST((stopped.wait_for(5s) == std::future_status::ready));
  BOOST_TEST(srv.uut.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(stop_gives_up_on_a_request_after_the_drain_time) {
  std::promise<responder> pending;
  auto srv = std::make_unique<running>([&](request&&, const request_context&, responder respond) {
    pending.set_value(std::move(respond));
  });
  http_client client{"127.0.0.1", srv->uut.port()};
  auto answered = std::async(std::launch::async, [&] { return client.get("/never"); });
  auto respond = pending.get_future().get();
  srv->uut.stop(100ms);
  BOOST_TEST(srv->uut.in_flight() == 0u);
  BOOST_CHECK_THROW(answered.get(), std::exception);
  srv.reset();
  // The server is gone; its connection must still tolerate a late answer.
  respond(text(bhttp::status::ok, "too late"));
}

BOOST_AUTO_TEST_CASE(refuses_connections_after_stop) {
  running srv{echo_target};
  auto port = srv.uut.port();
  srv.uut.stop();
  BOOST_CHECK_THROW((http_client{"127.0.0.1", port}), std::exception);
}

BOOST_AUTO_TEST_CASE(streams_chunks_written_from_another_thread) {
  std::promise<std::shared_ptr<orch::http::stream_writer>> opened;
  running srv{[&](request&&, const request_context&, responder respond) {
    response head{bhttp::status::ok, 11};
    head.set(bhttp::field::content_type, "text/event-stream");
    opened.set_value(respond.stream(std::move(head)));
  }};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send(get_line("/events"));
  auto writer = opened.get_future().get();
  std::thread producer{[writer] { writer->write("data: one\n\n"); }};
  producer.join();
  auto received = sock.read_until("data: one\n\n");
  BOOST_TEST(received.find("Content-Type: text/event-stream") != std::string::npos);
  BOOST_TEST(received.find("Transfer-Encoding: chunked") != std::string::npos);
  BOOST_TEST(writer->write("data: two\n\n"));
  writer->close();
  BOOST_TEST(!writer->write("data: three\n\n"));
  received = sock.read_until_close();
  BOOST_TEST(received.find("data: two\n\n") != std::string::npos);
  BOOST_TEST(received.find("data: three") == std::string::npos);
  BOOST_TEST(received.ends_with("0\r\n\r\n"));
  BOOST_TEST(srv.uut.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(a_stream_reads_as_one_chunked_response) {
  running srv{[&](request&&, const request_context&, responder respond) {
    auto writer = respond.stream(response{bhttp::status::ok, 11});
    std::thread{[writer] {
      for (auto part : {"alpha ", "beta ", "gamma"}) writer->write(part);
      writer->close();
    }}.detach();
  }};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto res = client.get("/stream");
  BOOST_TEST(res.body() == "alpha beta gamma");
}

BOOST_AUTO_TEST_CASE(a_stream_notices_the_peer_going_away) {
  std::promise<std::shared_ptr<orch::http::stream_writer>> opened;
  running srv{[&](request&&, const request_context&, responder respond) {
    opened.set_value(respond.stream(response{bhttp::status::ok, 11}));
  }};
  auto sock = std::make_unique<raw_socket>("127.0.0.1", srv.uut.port());
  sock->send(get_line("/events"));
  auto writer = opened.get_future().get();
  sock->read_until("\r\n\r\n");
  std::promise<void> ended;
  writer->on_close([&] { ended.set_value(); });
  sock.reset();
  BOOST_TEST((ended.get_future().wait_for(5s) == std::future_status::ready));
  BOOST_TEST(!writer->is_open());
  BOOST_TEST(!writer->write("data: x\n\n"));
  BOOST_TEST(srv.uut.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(stop_ends_open_streams) {
  std::promise<std::shared_ptr<orch::http::stream_writer>> opened;
  running srv{[&](request&&, const request_context&, responder respond) {
    opened.set_value(respond.stream(response{bhttp::status::ok, 11}));
  }};
  raw_socket sock{"127.0.0.1", srv.uut.port()};
  sock.send(get_line("/events"));
  auto writer = opened.get_future().get();
  sock.read_until("\r\n\r\n");
  srv.uut.stop(5s);
  BOOST_TEST(!writer->is_open());
  BOOST_TEST(sock.read_until_close().ends_with("0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(a_function_responder_buffers_a_stream) {
  response got;
  responder respond{[&](response res) { got = std::move(res); }};
  auto writer = respond.with_hook([](response& res) { res.set("X-Hooked", "yes"); })
                  .stream(response{bhttp::status::ok, 11});
  writer->write("a");
  writer->write("b");
  writer->close();
  BOOST_TEST(got.body() == "ab");
  BOOST_TEST(got["X-Hooked"] == "yes");
}

BOOST_AUTO_TEST_CASE(hooks_run_innermost_first) {
  std::string order;
  response got;
  responder respond{[&](response res) { got = std::move(res); }};
  auto outer = respond.with_hook([&](response&) { order += "outer "; });
  auto inner = outer.with_hook([&](response&) { order += "inner "; });
  inner(response{bhttp::status::ok, 11});
  BOOST_TEST(order == "inner outer ");
}

BOOST_AUTO_TEST_CASE(answers_a_header_over_the_limit_with_431_and_a_request_id) {
  std::atomic<int> calls = 0;
  auto cfg = test_config();
  cfg.max_header_bytes = 1024;
  cfg.error_response = orch::http::make_server_error_response;
  running srv{[&](request&& req, const request_context& ctx, responder respond) {
                ++calls;
                echo_target(std::move(req), ctx, std::move(respond));
              },
              cfg};
  for (auto head : {"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'b') + "\r\n\r\n",
                    "GET /" + std::string(2000, 'u') + " HTTP/1.1\r\nHost: t\r\n\r\n"}) {
    raw_socket sock{"127.0.0.1", srv.uut.port()};
    sock.send(head);
    auto received = sock.read_until_close();
    BOOST_TEST(received.starts_with("HTTP/1.1 431"), received);
    BOOST_TEST(received.find("X-Request-ID: ") != std::string::npos, received);
    BOOST_TEST(received.find("\"request_id\":\"") != std::string::npos, received);
    BOOST_TEST(received.find("application/problem+json") != std::string::npos, received);
  }
  BOOST_TEST(calls.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_413_carries_the_clients_request_id) {
  auto cfg = test_config();
  cfg.error_response = orch::http::make_server_error_response;
  running srv{echo_target, cfg};
  http_client client{"127.0.0.1", srv.uut.port()};
  auto res = client.request(bhttp::verb::post, "/upload", std::string(2048, 'x'),
                            {{"X-Request-ID", "req-413"}});
  BOOST_TEST(res.result() == bhttp::status::payload_too_large);
  BOOST_TEST(res["X-Request-ID"] == "req-413");
  BOOST_TEST(res.body().find("\"request_id\":\"req-413\"") != std::string::npos, res.body());
  BOOST_TEST(res.body().find("\"instance\":\"/upload\"") != std::string::npos, res.body());
}

BOOST_AUTO_TEST_CASE(refuses_connections_over_the_cap_with_503_and_serves_again_below_it) {
  std::atomic<int> refused = 0;
  auto cfg = test_config();
  cfg.max_connections = 3;
  cfg.on_connection_refused = [&] { ++refused; };
  running srv{echo_target, cfg};
  http_client kept{"127.0.0.1", srv.uut.port()};
  BOOST_TEST(kept.get("/a").result() == bhttp::status::ok);
  std::vector<std::unique_ptr<raw_socket>> idle;
  for (int i = 0; i < 2; ++i)
    idle.push_back(std::make_unique<raw_socket>("127.0.0.1", srv.uut.port()));
  // Waits for the server to have accepted them: seconds on a loaded machine.
  for (int i = 0; i < 1000 && srv.uut.connections() < 3; ++i) std::this_thread::sleep_for(10ms);
  BOOST_TEST_REQUIRE(srv.uut.connections() == 3u);
  for (int i = 0; i < 3; ++i) {
    raw_socket extra{"127.0.0.1", srv.uut.port()};
    // Nothing sent: the refusal does not wait for a request.
    auto received = extra.read_until_close();
    BOOST_TEST(received.starts_with("HTTP/1.1 503"), received);
    BOOST_TEST(received.find("Retry-After: ") != std::string::npos, received);
  }
  BOOST_TEST(refused.load() == 3);
  BOOST_TEST(srv.uut.connections() == 3u);
  // The connections within the cap are unaffected.
  BOOST_TEST(kept.get("/b").body() == "/b");
  idle.clear();
  for (int i = 0; i < 1000 && srv.uut.connections() > 1; ++i) std::this_thread::sleep_for(10ms);
  BOOST_TEST(srv.uut.connections() == 1u);
  http_client next{"127.0.0.1", srv.uut.port()};
  BOOST_TEST(next.get("/c").body() == "/c");
}

BOOST_AUTO_TEST_SUITE_END()
