#include "orch/ansible/output_buffer.hpp"

#include <boost/test/unit_test.hpp>

using orch::ansible::output_buffer;

BOOST_AUTO_TEST_SUITE(ansible_output_buffer)

BOOST_AUTO_TEST_CASE(output_within_the_bound_is_kept_whole) {
  output_buffer uut{8, 8};
  uut.append("hello ");
  uut.append("world!");
  BOOST_TEST(uut.str() == "hello world!");
  BOOST_TEST(!uut.is_truncated());
  BOOST_TEST(uut.total() == 12u);
}

BOOST_AUTO_TEST_CASE(longer_output_keeps_head_and_tail_and_says_what_was_left_out) {
  output_buffer uut{4, 4};
  for (char c = 'a'; c <= 'z'; ++c) uut.append(std::string(1, c));
  BOOST_TEST(uut.is_truncated());
  BOOST_TEST(uut.total() == 26u);
  BOOST_TEST(uut.str() == "abcd\n[... 18 bytes of output left out ...]\nwxyz");
}

BOOST_AUTO_TEST_CASE(one_big_chunk_is_bounded_too) {
  output_buffer uut{3, 3};
  uut.append(std::string(1000, 'x') + "end");
  BOOST_TEST(uut.str() == "xxx\n[... 997 bytes of output left out ...]\nend");
}

BOOST_AUTO_TEST_SUITE_END()
