#include "settings.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::ctl;

namespace {

settings resolved(const std::optional<std::string>& url, const std::optional<std::string>& key,
                  const std::map<std::string, std::string>& env, const config_file& file) {
  auto x = resolve_settings(url, key, env, file);
  if (auto problems = std::get_if<std::vector<std::string>>(&x))
    BOOST_FAIL("refused: " << problems->front());
  return std::get<settings>(x);
}

} // namespace

BOOST_AUTO_TEST_SUITE(orchctl_settings)

BOOST_AUTO_TEST_CASE(config_files_take_url_and_key_with_comments_and_quotes) {
  auto x = parse_config_file("# orch\nurl = http://orch:8080/\n\napi_key = \"k-123\"\n");
  auto& f = std::get<config_file>(x);
  BOOST_TEST(*f.url == "http://orch:8080/");
  BOOST_TEST(*f.api_key == "k-123");
}

BOOST_AUTO_TEST_CASE(config_file_mistakes_name_their_line) {
  BOOST_TEST(std::get<std::string>(parse_config_file("url = x\napikey = y\n"))
             == "line 2: unknown key 'apikey' (known: url, api_key)");
  BOOST_TEST(std::get<std::string>(parse_config_file("just words"))
             == "line 1: expected KEY = VALUE");
}

BOOST_AUTO_TEST_CASE(flags_win_over_variables_and_variables_over_the_file) {
  config_file file{"http://file:1", "file-key"};
  std::map<std::string, std::string> env{{"ORCH_URL", "http://env:2"}, {"ORCH_API_KEY", "env-key"}};
  auto a = resolved("http://flag:3/", "flag-key", env, file);
  BOOST_TEST(a.url == "http://flag:3");
  BOOST_TEST(a.api_key == "flag-key");
  auto b = resolved({}, {}, env, file);
  BOOST_TEST(b.url == "http://env:2");
  BOOST_TEST(b.api_key == "env-key");
  auto c = resolved({}, {}, {}, file);
  BOOST_TEST(c.url == "http://file:1");
  BOOST_TEST(c.api_key == "file-key");
  auto d = resolved({}, {}, {}, {});
  BOOST_TEST(d.url == "http://127.0.0.1:8080");
  BOOST_TEST(d.api_key.empty());
}

BOOST_AUTO_TEST_CASE(bad_settings_are_all_reported_and_the_key_is_never_echoed) {
  auto x = resolve_settings("ftp://x", "sec\nret-key", {}, {});
  auto& problems = std::get<std::vector<std::string>>(x);
  BOOST_TEST(problems.size() == 2u);
  for (auto& p : problems) BOOST_TEST(p.find("ret-key") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_config_path_follows_orch_config_then_xdg_then_home) {
  BOOST_TEST(config_path({{"ORCH_CONFIG", "/a"}, {"HOME", "/h"}}) == "/a");
  BOOST_TEST(config_path({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}) == "/x/orch/config");
  BOOST_TEST(config_path({{"HOME", "/h"}}) == "/h/.config/orch/config");
  BOOST_TEST(config_path({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
