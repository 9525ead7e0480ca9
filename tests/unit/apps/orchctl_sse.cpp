#include "sse_reader.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::ctl;

BOOST_AUTO_TEST_SUITE(orchctl_sse)

BOOST_AUTO_TEST_CASE(events_are_dispatched_at_their_blank_line_whatever_the_pieces) {
  std::string stream = "id: 1\nevent: intent\ndata: {\"a\":1}\n\n: keep-alive\n\n"
                       "id: 2\r\nevent: x\r\ndata: l1\r\ndata: l2\r\n\r\n";
  // Every split point, so a line or a CRLF cut in two is handled.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    sse_reader uut;
    auto first = uut.feed(std::string_view{stream}.substr(0, cut));
    auto second = uut.feed(std::string_view{stream}.substr(cut));
    first.insert(first.end(), second.begin(), second.end());
    BOOST_REQUIRE_EQUAL(first.size(), 2u);
    BOOST_TEST(first[0].id == "1");
    BOOST_TEST(first[0].event == "intent");
    BOOST_TEST(first[0].data == "{\"a\":1}");
    BOOST_TEST(first[1].data == "l1\nl2");
    BOOST_TEST(uut.last_event_id() == "2");
  }
}

BOOST_AUTO_TEST_CASE(an_event_cut_off_before_its_blank_line_is_not_dispatched) {
  sse_reader uut;
  auto got = uut.feed("id: 1\ndata: a\n\nid: 2\ndata: b\n");
  BOOST_TEST(got.size() == 1u);
  BOOST_TEST(uut.last_event_id() == "1");
}

BOOST_AUTO_TEST_SUITE_END()
