#include "orch/logging.hpp"

#include <sstream>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace {

std::string format_with(spdlog::formatter& f, std::string_view payload,
                        spdlog::level::level_enum level = spdlog::level::info,
                        std::string_view logger_name = "orch.http") {
  spdlog::details::log_msg msg{spdlog::string_view_t{logger_name.data(), logger_name.size()}, level,
                               spdlog::string_view_t{payload.data(), payload.size()}};
  msg.time = spdlog::log_clock::time_point{std::chrono::milliseconds{1768473000123}};
  spdlog::memory_buf_t buf;
  f.format(msg, buf);
  return std::string{buf.data(), buf.size()};
}

rapidjson::Document parse_line(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str(), line.size());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError() && doc.IsObject(), "not a JSON object: " + line);
  return doc;
}

std::string escaped(std::string_view text) {
  std::string out;
  orch::append_json_escaped(out, text);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(redactor_masks_configured_secrets) {
  orch::redactor uut{{"sk-live-1234", "hunter22", "", "abc"}};
  BOOST_TEST(uut.secret_count() == 2u);
  BOOST_TEST(uut.redact("key sk-live-1234 and hunter22hunter22 end") == "key *** and ****** end");
  BOOST_TEST(uut.redact("abc is too short to be masked") == "abc is too short to be masked");
}

BOOST_AUTO_TEST_CASE(redactor_masks_the_longest_secret_first) {
  orch::redactor uut{{"pass", "password-long"}};
  BOOST_TEST(uut.redact("x password-long y pass") == "x *** y ***");
}

BOOST_AUTO_TEST_CASE(redactor_masks_credential_patterns) {
  orch::redactor uut;
  BOOST_TEST(uut.redact("Authorization: Bearer abc.def.ghi next")
             == "Authorization: Bearer *** next");
  BOOST_TEST(uut.redact("authorization:basic dXNlcjpwdw==") == "authorization:basic ***");
  BOOST_TEST(uut.redact("authorization: tokenonly") == "authorization: ***");
  BOOST_TEST(uut.redact("X-API-Key: k-123, other") == "X-API-Key: ***, other");
  BOOST_TEST(uut.redact("x-auth-token:gAAAA tail") == "x-auth-token:*** tail");
  BOOST_TEST(uut.redact("X-Subject-Token: gAAAA") == "X-Subject-Token: ***");
  BOOST_TEST(uut.redact("url?user=a&password=p4ss&x=1") == "url?user=a&password=***&x=1");
  BOOST_TEST(uut.redact("PASSWORD=p1 and password=p2") == "PASSWORD=*** and password=***");
  BOOST_TEST(uut.redact(R"({"user":"a","password" : "p\"w","x":1})")
             == R"({"user":"a","password" : "***","x":1})");
  BOOST_TEST(uut.redact(R"({"Password":"pw"} {"password":"pw2"})")
             == R"({"Password":"***"} {"password":"***"})");
  BOOST_TEST(uut.redact(R"("password": 12)") == R"("password": 12)");
  BOOST_TEST(uut.redact(R"("password")") == R"("password")");
  BOOST_TEST(uut.redact(R"("password":"unterminated)") == R"("password":"***)");
  BOOST_TEST(uut.redact("password=") == "password=");
}

BOOST_AUTO_TEST_CASE(json_escaping_handles_control_characters_and_bad_utf8) {
  BOOST_TEST(escaped("a\"b\\c") == "a\\\"b\\\\c");
  BOOST_TEST(escaped("\n\r\t\b\f\x01\x1f") == "\\n\\r\\t\\b\\f\\u0001\\u001f");
  BOOST_TEST(escaped("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")
             == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  const std::string fffd = "\xEF\xBF\xBD";
  BOOST_TEST(escaped("\xFF") == fffd);
  BOOST_TEST(escaped("\xC3") == fffd);
  BOOST_TEST(escaped("\xC0\xAF") == fffd + fffd);
  BOOST_TEST(escaped("\xE0\x80\xAF") == fffd + fffd + fffd);
  BOOST_TEST(escaped("\xED\xA0\x80") == fffd + fffd + fffd);
  BOOST_TEST(escaped("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);
  BOOST_TEST(escaped("\xE2\x82x") == fffd + fffd + "x");
}

BOOST_AUTO_TEST_CASE(json_lines_carry_the_ids_of_the_prefix) {
  orch::json_log_formatter uut;
  auto line = format_with(uut, "[r:req-1] [d:dep-9] vm web-1 ACTIVE \"quoted\"");
  BOOST_TEST(line.back() == '\n');
  BOOST_TEST(std::count(line.begin(), line.end(), '\n') == 1);
  auto doc = parse_line(line);
  BOOST_TEST(doc["time"].GetString() == "2026-01-15T10:30:00.123Z");
  BOOST_TEST(doc["level"].GetString() == "info");
  BOOST_TEST(doc["logger"].GetString() == "orch.http");
  BOOST_TEST(doc["message"].GetString() == "vm web-1 ACTIVE \"quoted\"");
  BOOST_TEST(doc["request_id"].GetString() == "req-1");
  BOOST_TEST(doc["deployment_id"].GetString() == "dep-9");
}

BOOST_AUTO_TEST_CASE(json_lines_accept_ids_in_either_order_or_none) {
  orch::json_log_formatter uut;
  auto doc = parse_line(format_with(uut, "[d:dep-9][r:req-1]x", spdlog::level::warn));
  BOOST_TEST(doc["deployment_id"].GetString() == "dep-9");
  BOOST_TEST(doc["request_id"].GetString() == "req-1");
  BOOST_TEST(doc["message"].GetString() == "x");
  BOOST_TEST(doc["level"].GetString() == "warn");
  auto plain = parse_line(format_with(uut, "no ids [r:late]", spdlog::level::err));
  BOOST_TEST(!plain.HasMember("request_id"));
  BOOST_TEST(!plain.HasMember("deployment_id"));
  BOOST_TEST(plain["message"].GetString() == "no ids [r:late]");
  BOOST_TEST(plain["level"].GetString() == "error");
  for (auto odd :
       {"[r:] empty", "[r:a b] space", "[x:1] other", "[r:unclosed", "[r:1][r:2] twice"}) {
    auto doc_odd = parse_line(format_with(uut, odd, spdlog::level::debug));
    BOOST_TEST(doc_odd["message"].GetString() != std::string{}, odd);
  }
  auto twice = parse_line(format_with(uut, "[r:1][r:2] twice"));
  BOOST_TEST(twice["request_id"].GetString() == "1");
  BOOST_TEST(twice["message"].GetString() == "[r:2] twice");
}

BOOST_AUTO_TEST_CASE(json_lines_stay_valid_with_hostile_text) {
  orch::json_log_formatter uut;
  auto doc = parse_line(format_with(uut, "line1\nline2\t\"q\" \\ \x01 \xFF end"));
  BOOST_TEST(doc["message"].GetString() == "line1\nline2\t\"q\" \\ \x01 \xEF\xBF\xBD end");
}

BOOST_AUTO_TEST_CASE(levels_have_names_in_both_formats) {
  orch::json_log_formatter json;
  orch::text_log_formatter text;
  std::vector<std::tuple<spdlog::level::level_enum, std::string, std::string>> levels{
    {spdlog::level::trace, "trace", "TRACE"}, {spdlog::level::debug, "debug", "DEBUG"},
    {spdlog::level::info, "info", "INFO "},   {spdlog::level::warn, "warn", "WARN "},
    {spdlog::level::err, "error", "ERROR"},   {spdlog::level::critical, "critical", "CRIT "},
    {spdlog::level::off, "off", "OFF  "}};
  for (const auto& [level, json_name, text_name] : levels) {
    BOOST_TEST(parse_line(format_with(json, "m", level))["level"].GetString() == json_name);
    BOOST_TEST(format_with(text, "m", level).substr(25, 5) == text_name);
  }
}

BOOST_AUTO_TEST_CASE(text_lines_are_readable_and_single_line) {
  orch::text_log_formatter uut{
    std::make_shared<const orch::redactor>(std::vector<std::string>{"sekrit-value"})};
  BOOST_TEST(format_with(uut, "[r:abc] got sekrit-value\nfake line\r\x02")
             == "2026-01-15T10:30:00.123Z INFO  orch.http [r:abc] got ***\\nfake line\\r?\n");
}

BOOST_AUTO_TEST_CASE(clones_keep_the_redactor) {
  auto redact = std::make_shared<const orch::redactor>(std::vector<std::string>{"sekrit-value"});
  orch::json_log_formatter json{redact};
  orch::text_log_formatter text{redact};
  auto json_clone = json.clone();
  auto text_clone = text.clone();
  BOOST_TEST(format_with(*json_clone, "a sekrit-value").find("sekrit") == std::string::npos);
  BOOST_TEST(format_with(*text_clone, "a sekrit-value").find("sekrit") == std::string::npos);
  BOOST_TEST(format_with(*json_clone, "a sekrit-value").find("a ***") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(configured_loggers_never_show_secrets) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto early = orch::logger("orch.test.early");
  orch::log_config cfg;
  cfg.level = spdlog::level::debug;
  cfg.format = orch::log_format::json;
  orch::configure_logging(cfg, {"api-key-0123456789", "db-password-xyz"}, sink);
  auto late = orch::logger("orch.test.late");
  BOOST_TEST(orch::logger("orch.test.late") == late);
  early->info("[r:r1] key {} used", "api-key-0123456789");
  late->debug("[d:d1] connecting with password db-password-xyz, Authorization: Bearer tok-1");
  late->trace("below the level");
  auto text = out.str();
  BOOST_TEST(text.find("api-key-0123456789") == std::string::npos);
  BOOST_TEST(text.find("db-password-xyz") == std::string::npos);
  BOOST_TEST(text.find("tok-1") == std::string::npos);
  BOOST_TEST(text.find("below the level") == std::string::npos);
  std::istringstream lines{text};
  std::string line;
  std::vector<std::string> messages;
  while (std::getline(lines, line)) messages.emplace_back(parse_line(line)["message"].GetString());
  BOOST_TEST(messages
             == (std::vector<std::string>{
               "key *** used", "connecting with password ***, Authorization: Bearer ***"}));
}

BOOST_AUTO_TEST_CASE(reconfiguring_switches_format_and_level) {
  std::ostringstream first;
  std::ostringstream second;
  auto lg = orch::logger("orch.test.switch");
  orch::log_config cfg;
  cfg.format = orch::log_format::json;
  orch::configure_logging(cfg, {}, std::make_shared<spdlog::sinks::ostream_sink_mt>(first));
  lg->info("one");
  cfg.format = orch::log_format::text;
  cfg.level = spdlog::level::warn;
  orch::configure_logging(cfg, {"secret-2"},
                          std::make_shared<spdlog::sinks::ostream_sink_mt>(second));
  lg->info("hidden");
  lg->warn("two secret-2");
  BOOST_TEST(first.str().find("\"message\":\"one\"") != std::string::npos);
  BOOST_TEST(first.str().find("two") == std::string::npos);
  BOOST_TEST(second.str().find(" WARN  orch.test.switch two ***\n") != std::string::npos);
  BOOST_TEST(second.str().find("hidden") == std::string::npos);
  BOOST_TEST(spdlog::get("orch.test.switch") == lg);
}

BOOST_AUTO_TEST_CASE(a_name_registered_elsewhere_still_gets_a_working_logger) {
  std::ostringstream out;
  auto foreign = std::make_shared<spdlog::logger>("orch.test.foreign");
  spdlog::register_logger(foreign);
  orch::log_config cfg;
  cfg.format = orch::log_format::text;
  orch::configure_logging(cfg, {}, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  auto ours = orch::logger("orch.test.foreign");
  BOOST_TEST(ours != foreign);
  BOOST_TEST(orch::logger("orch.test.foreign") == ours);
  ours->info("still logged");
  BOOST_TEST(out.str().find("orch.test.foreign still logged") != std::string::npos);
  spdlog::drop("orch.test.foreign");
}

BOOST_AUTO_TEST_SUITE_END()
