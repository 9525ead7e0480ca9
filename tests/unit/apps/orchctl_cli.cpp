#include "cli.hpp"

#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

using namespace orch::ctl;

namespace {

std::variant<invocation, usage_error> parse(std::vector<std::string> argv) {
  return parse_command_line(argv);
}

invocation ok(std::vector<std::string> argv) {
  auto x = parse(argv);
  if (auto err = std::get_if<usage_error>(&x)) BOOST_FAIL("usage error: " << err->message);
  return std::get<invocation>(x);
}

std::string refused(std::vector<std::string> argv) {
  auto x = parse(argv);
  if (std::holds_alternative<invocation>(x)) BOOST_FAIL("accepted");
  return std::get<usage_error>(x).message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(orchctl_cli)

BOOST_AUTO_TEST_CASE(deploy_takes_a_name_a_template_repeated_params_and_wait) {
  auto inv = ok({"deploy", "my-app", "--template", "web", "--param", "web_count=3",
                 "--param=db_count=1", "--wait", "-o", "json"});
  BOOST_TEST(inv.command == "deploy");
  BOOST_TEST(inv.args == std::vector<std::string>{"my-app"});
  BOOST_TEST(*inv.value("template") == "web");
  BOOST_TEST((inv.values("param") == std::vector<std::string>{"web_count=3", "db_count=1"}));
  BOOST_TEST(inv.has("wait"));
  BOOST_TEST(*inv.value("output") == "json");
}

BOOST_AUTO_TEST_CASE(options_may_come_before_the_command_and_short_ones_join_their_value) {
  auto inv = ok({"-ojson", "--url", "http://x:1", "template", "apply", "-f", "t.json"});
  BOOST_TEST(inv.command == "template apply");
  BOOST_TEST(*inv.value("file") == "t.json");
  BOOST_TEST(*inv.value("url") == "http://x:1");
  BOOST_TEST(*inv.value("output") == "json");
}

BOOST_AUTO_TEST_CASE(scale_takes_three_positionals) {
  auto inv = ok({"scale", "my-app", "web", "5", "--wait"});
  BOOST_TEST((inv.args == std::vector<std::string>{"my-app", "web", "5"}));
  BOOST_TEST(refused({"scale", "my-app", "web"}).find("takes 3 arguments") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_usage_is_refused_with_a_reason) {
  BOOST_TEST(refused({"frobnicate"}).find("unknown command 'frobnicate'") != std::string::npos);
  BOOST_TEST(refused({"template", "destroy"}).find("unknown command 'template destroy'")
             != std::string::npos);
  BOOST_TEST(refused({"template"}).find("needs a sub-command") != std::string::npos);
  BOOST_TEST(refused({"deploy", "x"}).find("needs --template") != std::string::npos);
  BOOST_TEST(refused({"deploy", "x", "--template"}).find("needs a value") != std::string::npos);
  BOOST_TEST(refused({"get", "x", "--wait"}).find("unknown option '--wait' for 'get'")
             != std::string::npos);
  BOOST_TEST(refused({"get", "x", "-o", "yaml"}).find("json or table") != std::string::npos);
  BOOST_TEST(refused({"get", "x", "--url", "a", "--url", "b"}).find("given twice")
             != std::string::npos);
  BOOST_TEST(refused({"list", "--include-deleted=yes"}).find("takes no value")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_is_the_default_and_help_flags_skip_argument_checks) {
  BOOST_TEST(ok({}).command == "help");
  auto inv = ok({"scale", "--help"});
  BOOST_TEST(inv.help);
  BOOST_TEST(inv.command == "scale");
  auto h = ok({"help", "deploy"});
  BOOST_TEST(h.command == "help");
  BOOST_TEST(h.args == std::vector<std::string>{"deploy"});
}

BOOST_AUTO_TEST_CASE(a_negative_number_is_an_argument_not_an_option) {
  auto inv = ok({"scale", "my-app", "web", "-1"});
  BOOST_TEST(inv.args[2] == "-1");
}

BOOST_AUTO_TEST_CASE(key_values_become_integers_or_strings) {
  auto parsed = parse_key_values({"web_count=3", "web_flavor=m1.large", "note=a=b"}, "param");
  auto& m = std::get<std::map<std::string, param_value>>(parsed);
  BOOST_TEST(std::get<long long>(m["web_count"]) == 3);
  BOOST_TEST(std::get<std::string>(m["web_flavor"]) == "m1.large");
  BOOST_TEST(std::get<std::string>(m["note"]) == "a=b");
  auto bad = parse_key_values({"web_count"}, "param");
  BOOST_TEST(std::get<usage_error>(bad).message == "--param wants K=V, not 'web_count'");
  BOOST_TEST(std::holds_alternative<usage_error>(parse_key_values({"=3"}, "param")));
}

BOOST_AUTO_TEST_CASE(help_texts_name_every_command_and_option) {
  auto general = general_help();
  for (auto& cmd : commands()) BOOST_TEST(general.find(cmd.name) != std::string::npos);
  auto deploy = command_help(*find_command("deploy"));
  BOOST_TEST(deploy.find("usage: orchctl deploy NAME -t T [--param K=V...]") != std::string::npos);
  BOOST_TEST(deploy.find("--wait") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_installed_completion_script_is_the_generated_one) {
  std::ifstream in{ORCHCTL_COMPLETION_FILE};
  BOOST_REQUIRE_MESSAGE(in, "missing " ORCHCTL_COMPLETION_FILE);
  std::stringstream text;
  text << in.rdbuf();
  BOOST_TEST(text.str() == bash_completion(),
             "apps/orchctl/orchctl.bash-completion is stale: regenerate it with "
             "`orchctl completion bash`");
  auto script = bash_completion();
  BOOST_TEST(script.find("complete -o default -F _orchctl orchctl") != std::string::npos);
  BOOST_TEST(script.find("scale)") != std::string::npos);
  BOOST_TEST(script.find("--param") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
