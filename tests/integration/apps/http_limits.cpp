#include <chrono>
#include <string>

#include <boost/test/unit_test.hpp>

#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::verb;

BOOST_AUTO_TEST_SUITE(http_limits)

BOOST_AUTO_TEST_CASE(a_body_over_max_body_bytes_is_413) {
  orchestrator_fixture orch{{{"MAX_BODY_BYTES", "4096"}}};
  std::string big = R"({"name":"big","description":")" + std::string(8000, 'x') + R"("})";
  auto res = orch.call(verb::post, "/templates", big);
  BOOST_TEST(res.result_int() == 413);
  // The server is still fine afterwards.
  BOOST_TEST(orch.call(verb::get, "/health", {}, "").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(a_client_that_trickles_its_header_is_dropped) {
  orchestrator_fixture orch{{{"API_HEADER_TIMEOUT_MS", "1500"}}};
  raw_socket slow{"127.0.0.1", orch.port()};
  slow.send("GET /health HTTP/1.1\r\n");
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 300 ms: never a complete header.
  for (int i = 0; i < 40 && !closed; ++i) {
    try {
      slow.send("X");
    } catch (const std::exception&) {
      closed = true;
      break;
    }
    closed = slow.wait_closed(std::chrono::milliseconds{300});
  }
  auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(closed);
  BOOST_TEST(waited < std::chrono::seconds{10});
  BOOST_TEST(orch.call(verb::get, "/health", {}, "").result_int() == 200);
}

BOOST_AUTO_TEST_SUITE_END()
