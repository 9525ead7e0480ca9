#include "orch/http/sse.hpp"

#include <boost/test/unit_test.hpp>

#include "orch/testing/printers.hpp"

namespace bhttp = boost::beast::http;

BOOST_AUTO_TEST_SUITE(sse)

BOOST_AUTO_TEST_CASE(formats_an_event_with_id_and_type) {
  BOOST_TEST(orch::http::format_sse_event("7", "status_changed", R"({"to":"COMPLETED"})")
             == "id: 7\nevent: status_changed\ndata: {\"to\":\"COMPLETED\"}\n\n");
}

BOOST_AUTO_TEST_CASE(splits_multi_line_data_into_data_lines) {
  BOOST_TEST(orch::http::format_sse_event("", "", "a\nb\r\nc\rd")
             == "data: a\ndata: b\ndata: c\ndata: d\n\n");
}

BOOST_AUTO_TEST_CASE(keeps_line_breaks_out_of_id_and_event) {
  BOOST_TEST(orch::http::format_sse_event("1\ndata: forged", "x\r\ny", "z")
             == "id: 1data: forged\nevent: xy\ndata: z\n\n");
}

BOOST_AUTO_TEST_CASE(formats_a_comment) {
  BOOST_TEST(orch::http::format_sse_comment("keep-alive") == ": keep-alive\n");
}

BOOST_AUTO_TEST_CASE(builds_a_stream_head) {
  orch::http::request req{bhttp::verb::get, "/deployments/1/events", 11};
  auto head = orch::http::make_sse_head(req);
  BOOST_TEST(head[bhttp::field::content_type] == "text/event-stream");
  BOOST_TEST(head[bhttp::field::cache_control] == "no-cache");
}

BOOST_AUTO_TEST_CASE(recognises_a_request_for_an_event_stream) {
  orch::http::request req{bhttp::verb::get, "/deployments/1/events", 11};
  BOOST_TEST(!orch::http::accepts_event_stream(req));
  req.set(bhttp::field::accept, "application/json, Text/Event-Stream;q=0.9");
  BOOST_TEST(orch::http::accepts_event_stream(req));
  req.set(bhttp::field::accept, "application/json");
  BOOST_TEST(!orch::http::accepts_event_stream(req));
}

BOOST_AUTO_TEST_CASE(reads_the_last_event_id) {
  orch::http::request req{bhttp::verb::get, "/deployments/1/events", 11};
  BOOST_TEST(!orch::http::last_event_id(req));
  req.set("Last-Event-ID", "42");
  BOOST_TEST(orch::http::last_event_id(req).value_or(0) == 42u);
  for (auto bad : {"", "-1", "4x", "x"}) {
    req.set("Last-Event-ID", bad);
    BOOST_TEST(!orch::http::last_event_id(req), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
