#include "orch/schemas/json_writer.hpp"

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(json_writer)

BOOST_AUTO_TEST_CASE(writes_nested_values_compactly) {
  orch::schemas::json_writer uut;
  BOOST_TEST(!uut.is_complete());
  uut.begin_object()
    .member("s", "text")
    .member("i", 42)
    .member("l", int64_t{1} << 40)
    .member("b", true)
    .member("str", std::string{"x"});
  uut.key("n").null();
  uut.key("a").begin_array().value(1).value(false).end_array();
  uut.key("r").raw(R"({"k":[1,2]})");
  uut.end_object();
  BOOST_TEST(uut.is_complete());
  BOOST_TEST(
    uut.str()
    == R"({"s":"text","i":42,"l":1099511627776,"b":true,"str":"x","n":null,"a":[1,false],"r":{"k":[1,2]}})");
}

BOOST_AUTO_TEST_CASE(escapes_strings) {
  orch::schemas::json_writer uut;
  uut.value(std::string_view{"q\"b\\\n\x01", 6});
  BOOST_TEST(uut.str() == R"("q\"b\\\n\u0001")");
}

BOOST_AUTO_TEST_SUITE_END()
