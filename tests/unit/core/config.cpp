#include "orch/config.hpp"

#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"

namespace {

orch::env_map minimal_serve() {
  return {{"DATABASE_URL", "postgresql://orch:s3cr3t-pw@db.example:5432/orch"},
          {"API_KEYS", "writer-key-1:write,reader-key-1:read"},
          {"SECRET_KEY", "0123456789abcdef-secret"}};
}

std::string failure(const orch::env_map& env, orch::config_use use = orch::config_use::serve) {
  auto cfg = orch::parse_config(env, use);
  BOOST_REQUIRE_MESSAGE(!cfg, "configuration was accepted");
  BOOST_TEST(orch::is(cfg.error(), orch::errc::invalid_config));
  return orch::error_detail(cfg.error());
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(dotenv_reads_plain_quoted_and_exported_values) {
  std::vector<std::string> errors;
  auto env = orch::parse_dotenv("# comment\n"
                                "\n"
                                "API_PORT=8080\n"
                                "export LOG_LEVEL = debug\n"
                                "A=\"two words # not a comment\" # comment\n"
                                "B='literal \\n $x'\n"
                                "C=\"line\\nbreak \\\"q\\\" \\\\ \\x\"\n"
                                "D=value # trailing comment\n"
                                "E=\n"
                                "F=a#b\r\n"
                                "  G  =  spaced  \n"
                                "API_PORT=9090",
                                errors);
  BOOST_TEST(errors.empty());
  BOOST_TEST(env.at("API_PORT") == "9090");
  BOOST_TEST(env.at("LOG_LEVEL") == "debug");
  BOOST_TEST(env.at("A") == "two words # not a comment");
  BOOST_TEST(env.at("B") == "literal \\n $x");
  BOOST_TEST(env.at("C") == "line\nbreak \"q\" \\ \\x");
  BOOST_TEST(env.at("D") == "value");
  BOOST_TEST(env.at("E") == "");
  BOOST_TEST(env.at("F") == "a#b");
  BOOST_TEST(env.at("G") == "spaced");
  BOOST_TEST(env.size() == 9u);
}

BOOST_AUTO_TEST_CASE(dotenv_double_quotes_know_tab_and_carriage_return_escapes) {
  std::vector<std::string> errors;
  auto env = orch::parse_dotenv(R"(X="a\tb\rc")", errors);
  BOOST_TEST(errors.empty());
  BOOST_TEST(env.at("X") == "a\tb\rc");
}

BOOST_AUTO_TEST_CASE(dotenv_reports_malformed_lines_by_number_without_their_content) {
  std::vector<std::string> errors;
  auto env = orch::parse_dotenv("GOOD=1\n"
                                "just-a-secret-token\n"
                                "1BAD=x\n"
                                "Q=\"unterminated\n"
                                "S='unterminated\n"
                                "T=\"closed\" trailing\n"
                                "U='closed' trailing\n"
                                "=nokey\n"
                                "export\n"
                                "LAST=2\n",
                                errors);
  BOOST_TEST(env.size() == 2u);
  BOOST_TEST(env.at("LAST") == "2");
  BOOST_REQUIRE(errors.size() == 8u);
  BOOST_TEST(errors[0] == "line 2: expected KEY=VALUE");
  BOOST_TEST(errors[1].find("line 3: invalid variable name") == 0u);
  BOOST_TEST(errors[2] == "line 4: unterminated double-quoted value");
  BOOST_TEST(errors[3] == "line 5: unterminated single-quoted value");
  BOOST_TEST(errors[4] == "line 6: unexpected text after the closing quote");
  BOOST_TEST(errors[5] == "line 7: unexpected text after the closing quote");
  BOOST_TEST(errors[6].find("line 8: invalid variable name") == 0u);
  BOOST_TEST(errors[7] == "line 9: expected KEY=VALUE");
  for (const auto& e : errors) BOOST_TEST(e.find("secret-token") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(minimal_serve_configuration_gets_defaults) {
  auto cfg = orch::parse_config(minimal_serve(), orch::config_use::serve);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->database.url == "postgresql://orch:s3cr3t-pw@db.example:5432/orch");
  BOOST_TEST(cfg->database.pool_size == 8);
  BOOST_TEST(cfg->http.host == "0.0.0.0");
  BOOST_TEST(cfg->http.port == 8000);
  BOOST_TEST(cfg->http.workers == 2);
  BOOST_TEST(cfg->http.max_body_bytes == 1048576u);
  BOOST_TEST(cfg->http.rate_limit_per_minute == 100);
  BOOST_TEST(cfg->http.cors_origins.empty());
  BOOST_REQUIRE(cfg->http.api_keys.size() == 2u);
  BOOST_TEST(cfg->http.api_keys[0].key == "writer-key-1");
  BOOST_TEST((cfg->http.api_keys[0].scope == orch::api_scope::write));
  BOOST_TEST(cfg->http.api_keys[1].key == "reader-key-1");
  BOOST_TEST((cfg->http.api_keys[1].scope == orch::api_scope::read));
  BOOST_TEST((cfg->log.level == spdlog::level::info));
  BOOST_TEST((cfg->log.format == orch::log_format::json));
  BOOST_TEST(cfg->openstack.user_domain_name == "Default");
  BOOST_TEST(cfg->openstack.project_domain_name == "Default");
  BOOST_TEST(cfg->openstack.region == "RegionOne");
  BOOST_TEST(cfg->ansible.verbosity == 0);
  BOOST_TEST(cfg->ansible.timeout.count() == 1'800'000);
  BOOST_TEST(cfg->cluster.bind.empty());
  BOOST_TEST(cfg->secret_key == "0123456789abcdef-secret");
  BOOST_TEST(cfg->deployment.vm_boot_timeout.count() == 600'000);
  BOOST_TEST(cfg->deployment.volume_timeout.count() == 300'000);
  BOOST_TEST(cfg->deployment.delete_timeout.count() == 300'000);
  BOOST_TEST(cfg->deployment.idle_timeout.count() == 30'000);
  BOOST_TEST(cfg->deployment.max_active == 1000);
}

BOOST_AUTO_TEST_CASE(installation_id_is_optional_and_checked) {
  auto env = minimal_serve();
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->installation_id.empty());
  env["ORCH_INSTALLATION_ID"] = "prod-eu.1";
  cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->installation_id == "prod-eu.1");
  env["ORCH_INSTALLATION_ID"] = "-bad id";
  BOOST_TEST(failure(env).find("ORCH_INSTALLATION_ID must be 1..64") != std::string::npos);
  env["ORCH_INSTALLATION_ID"] = std::string(65, 'a');
  BOOST_TEST(failure(env).find("ORCH_INSTALLATION_ID") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(step_timeouts_take_a_unit_or_bare_seconds) {
  auto env = minimal_serve();
  env["VM_BOOT_TIMEOUT"] = "15m";
  env["VOLUME_TIMEOUT"] = "90";
  env["DELETE_TIMEOUT"] = " 2h ";
  env["DEPLOYMENT_IDLE_TIMEOUT"] = "250ms";
  env["MAX_ACTIVE_DEPLOYMENTS"] = "20";
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->deployment.vm_boot_timeout.count() == 900'000);
  BOOST_TEST(cfg->deployment.volume_timeout.count() == 90'000);
  BOOST_TEST(cfg->deployment.delete_timeout.count() == 7'200'000);
  BOOST_TEST(cfg->deployment.idle_timeout.count() == 250);
  BOOST_TEST(cfg->deployment.max_active == 20);
  env["VM_BOOT_TIMEOUT"] = "25h";
  env["VOLUME_TIMEOUT"] = "ten minutes";
  env["DELETE_TIMEOUT"] = "500ms";
  env["DEPLOYMENT_IDLE_TIMEOUT"] = "99999999999h";
  BOOST_TEST(failure(env)
             == "VM_BOOT_TIMEOUT must be a duration from 1s to 24h such as 90s, 10m or 1h (got "
                "\"25h\"); "
                "VOLUME_TIMEOUT must be a duration from 1s to 24h such as 90s, 10m or 1h (got "
                "\"ten minutes\"); "
                "DELETE_TIMEOUT must be a duration from 1s to 24h such as 90s, 10m or 1h (got "
                "\"500ms\"); "
                "DEPLOYMENT_IDLE_TIMEOUT must be a duration from 100ms to 24h such as 90s, 10m or "
                "1h (got \"99999999999h\")");
}

BOOST_AUTO_TEST_CASE(every_variable_is_read) {
  auto env = minimal_serve();
  env.insert({{"DATABASE_POOL_SIZE", "16"},
              {"API_HOST", "127.0.0.1"},
              {"API_PORT", "9000"},
              {"API_WORKERS", "4"},
              {"MAX_BODY_BYTES", "2048"},
              {"CORS_ORIGINS", "https://ui.example, http://localhost:3000,,"},
              {"RATE_LIMIT_PER_MINUTE", "5"},
              {"LOG_LEVEL", "WARNING"},
              {"LOG_FORMAT", "Text"},
              {"OPENSTACK_AUTH_URL", "https://keystone.example/v3"},
              {"OPENSTACK_USERNAME", "admin"},
              {"OPENSTACK_PASSWORD", "os-password"},
              {"OPENSTACK_PROJECT_NAME", "demo"},
              {"OPENSTACK_USER_DOMAIN_NAME", "users"},
              {"OPENSTACK_PROJECT_DOMAIN_NAME", "projects"},
              {"OPENSTACK_REGION", "RegionTwo"},
              {"OPENSTACK_ENDPOINT_ALLOWLIST", "https://nova.example,https://neutron.example"},
              {"ANSIBLE_PLAYBOOK_DIR", "/srv/playbooks"},
              {"ANSIBLE_SSH_KEY_PATH", "/srv/key"},
              {"ANSIBLE_VERBOSITY", "3"},
              {"ANSIBLE_TIMEOUT", "90s"},
              {"NODE_ID", "node-1"},
              {"CLUSTER_BIND", "0.0.0.0:4242"},
              {"CLUSTER_SEEDS", "10.0.0.2:4242, [::1]:4243"}});
  auto cfg = orch::parse_config(env);
  if (!cfg) BOOST_FAIL(orch::error_detail(cfg.error()));
  BOOST_TEST(cfg->database.pool_size == 16);
  BOOST_TEST(cfg->http.host == "127.0.0.1");
  BOOST_TEST(cfg->http.port == 9000);
  BOOST_TEST(cfg->http.workers == 4);
  BOOST_TEST(cfg->http.max_body_bytes == 2048u);
  BOOST_TEST(cfg->http.cors_origins
             == (std::vector<std::string>{"https://ui.example", "http://localhost:3000"}));
  BOOST_TEST(cfg->http.rate_limit_per_minute == 5);
  BOOST_TEST((cfg->log.level == spdlog::level::warn));
  BOOST_TEST((cfg->log.format == orch::log_format::text));
  BOOST_TEST(cfg->openstack.auth_url == "https://keystone.example/v3");
  BOOST_TEST(cfg->openstack.username == "admin");
  BOOST_TEST(cfg->openstack.password == "os-password");
  BOOST_TEST(cfg->openstack.project_name == "demo");
  BOOST_TEST(cfg->openstack.user_domain_name == "users");
  BOOST_TEST(cfg->openstack.project_domain_name == "projects");
  BOOST_TEST(cfg->openstack.region == "RegionTwo");
  BOOST_TEST(cfg->openstack.endpoint_allowlist.size() == 2u);
  BOOST_TEST(cfg->ansible.playbook_dir == "/srv/playbooks");
  BOOST_TEST(cfg->ansible.ssh_key_path == "/srv/key");
  BOOST_TEST(cfg->ansible.verbosity == 3);
  BOOST_TEST(cfg->ansible.timeout.count() == 90'000);
  BOOST_TEST(cfg->cluster.node_id == "node-1");
  BOOST_TEST(cfg->cluster.bind == "0.0.0.0:4242");
  BOOST_TEST(cfg->cluster.seeds == (std::vector<std::string>{"10.0.0.2:4242", "[::1]:4243"}));
}

BOOST_AUTO_TEST_CASE(log_levels_and_formats_are_case_insensitive) {
  auto env = minimal_serve();
  for (auto [name, level] : std::vector<std::pair<std::string, spdlog::level::level_enum>>{
         {"trace", spdlog::level::trace},
         {"DEBUG", spdlog::level::debug},
         {"Info", spdlog::level::info},
         {"warn", spdlog::level::warn},
         {"error", spdlog::level::err},
         {"critical", spdlog::level::critical},
         {"off", spdlog::level::off}}) {
    env["LOG_LEVEL"] = name;
    auto cfg = orch::parse_config(env);
    BOOST_REQUIRE(cfg);
    BOOST_TEST((cfg->log.level == level), name);
  }
  env["LOG_FORMAT"] = "JSON";
  BOOST_TEST((orch::parse_config(env)->log.format == orch::log_format::json));
}

BOOST_AUTO_TEST_CASE(missing_required_settings_are_all_named) {
  BOOST_TEST(failure({}) == "missing DATABASE_URL; missing API_KEYS; missing SECRET_KEY");
  BOOST_TEST(failure({{"DATABASE_URL", "  "}}, orch::config_use::migrate)
             == "missing DATABASE_URL");
}

BOOST_AUTO_TEST_CASE(migrate_needs_only_the_database) {
  orch::env_map env{{"DATABASE_URL", "postgres://localhost/orch"},
                    {"API_PORT", "not checked for migrate"}};
  auto cfg = orch::parse_config(env, orch::config_use::migrate);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->database.url == "postgres://localhost/orch");
  env["LOG_FORMAT"] = "xml";
  BOOST_TEST(failure(env, orch::config_use::migrate)
             == "LOG_FORMAT must be json or text (got \"xml\")");
}

BOOST_AUTO_TEST_CASE(every_malformed_value_is_reported_in_one_line) {
  auto env = minimal_serve();
  env["API_PORT"] = "abc";
  env["API_WORKERS"] = "0";
  env["MAX_BODY_BYTES"] = "-5";
  env["RATE_LIMIT_PER_MINUTE"] = "10x";
  env["DATABASE_POOL_SIZE"] = "99999999999999999999";
  env["LOG_LEVEL"] = "loud";
  env["ANSIBLE_VERBOSITY"] = "6";
  auto detail = failure(env);
  BOOST_TEST(detail
             == "DATABASE_POOL_SIZE must be an integer 1..256 (got \"99999999999999999999\"); "
                "API_PORT must be an integer 1..65535 (got \"abc\"); "
                "API_WORKERS must be an integer 1..256 (got \"0\"); "
                "MAX_BODY_BYTES must be an integer 1..1073741824 (got \"-5\"); "
                "RATE_LIMIT_PER_MINUTE must be an integer 1..1000000 (got \"10x\"); "
                "LOG_LEVEL must be one of trace, debug, info, warn, error, critical, off (got "
                "\"loud\"); "
                "ANSIBLE_VERBOSITY must be an integer 0..5 (got \"6\")");
  BOOST_TEST(detail.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(abuse_limits_have_defaults_and_bounds) {
  auto env = minimal_serve();
  auto defaults = orch::parse_config(env);
  BOOST_REQUIRE(defaults);
  BOOST_TEST(defaults->http.max_header_bytes == 16384u);
  BOOST_TEST(defaults->http.max_connections == 10000u);
  BOOST_TEST(defaults->http.auth_failures_per_minute == 20);
  BOOST_TEST(defaults->deployment.limits.max_vm_groups == 50);
  BOOST_TEST(defaults->deployment.limits.max_vms == 1000);
  env["MAX_HEADER_BYTES"] = "4096";
  env["API_MAX_CONNECTIONS"] = "64";
  env["AUTH_FAILURES_PER_MINUTE"] = "3";
  env["MAX_VM_GROUPS_PER_DEPLOYMENT"] = "5";
  env["MAX_VMS_PER_DEPLOYMENT"] = "25";
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->http.max_header_bytes == 4096u);
  BOOST_TEST(cfg->http.max_connections == 64u);
  BOOST_TEST(cfg->http.auth_failures_per_minute == 3);
  BOOST_TEST(cfg->deployment.limits.max_vm_groups == 5);
  BOOST_TEST(cfg->deployment.limits.max_vms == 25);
  env["MAX_HEADER_BYTES"] = "1023";
  env["API_MAX_CONNECTIONS"] = "0";
  env["AUTH_FAILURES_PER_MINUTE"] = "many";
  env["MAX_VM_GROUPS_PER_DEPLOYMENT"] = "10001";
  env["MAX_VMS_PER_DEPLOYMENT"] = "-1";
  BOOST_TEST(failure(env)
             == "MAX_HEADER_BYTES must be an integer 1024..1048576 (got \"1023\"); "
                "API_MAX_CONNECTIONS must be an integer 1..1000000 (got \"0\"); "
                "AUTH_FAILURES_PER_MINUTE must be an integer 1..1000000 (got \"many\"); "
                "MAX_VM_GROUPS_PER_DEPLOYMENT must be an integer 1..10000 (got \"10001\"); "
                "MAX_VMS_PER_DEPLOYMENT must be an integer 1..1000000 (got \"-1\")");
}

BOOST_AUTO_TEST_CASE(api_pool_and_event_stream_cap_have_defaults_and_bounds) {
  auto env = minimal_serve();
  auto defaults = orch::parse_config(env);
  BOOST_REQUIRE(defaults);
  BOOST_TEST(defaults->database.pool_size == 8);
  BOOST_TEST(defaults->database.api_pool_size == 4);
  BOOST_TEST(defaults->http.sse_max_subscribers == 1000u);
  env["DATABASE_API_POOL_SIZE"] = "2";
  env["SSE_MAX_SUBSCRIBERS"] = "50";
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->database.api_pool_size == 2);
  BOOST_TEST(cfg->http.sse_max_subscribers == 50u);
  env["DATABASE_API_POOL_SIZE"] = "0";
  env["SSE_MAX_SUBSCRIBERS"] = "1000001";
  BOOST_TEST(failure(env)
             == "DATABASE_API_POOL_SIZE must be an integer 1..256 (got \"0\"); "
                "SSE_MAX_SUBSCRIBERS must be an integer 1..1000000 (got \"1000001\")");
}

BOOST_AUTO_TEST_CASE(ports_are_bounded) {
  auto env = minimal_serve();
  env["API_PORT"] = "65535";
  BOOST_TEST(orch::parse_config(env)->http.port == 65535);
  env["API_PORT"] = "65536";
  BOOST_TEST(failure(env) == "API_PORT must be an integer 1..65535 (got \"65536\")");
  env["API_PORT"] = "0";
  BOOST_TEST(failure(env) == "API_PORT must be an integer 1..65535 (got \"0\")");
}

BOOST_AUTO_TEST_CASE(shown_values_are_bounded_and_printable) {
  auto env = minimal_serve();
  env["API_HOST"] = "bad host\"\x01" + std::string(100, 'h');
  auto detail = failure(env);
  BOOST_TEST(detail.find("API_HOST must be a host name or address (got \"bad host\\\"?hhh") == 0u);
  BOOST_TEST(detail.find("...\")") != std::string::npos);
  BOOST_TEST(detail.size() < 150u);
}

BOOST_AUTO_TEST_CASE(database_url_must_be_postgresql_and_is_never_echoed) {
  auto env = minimal_serve();
  env["DATABASE_URL"] = "mysql://user:hunter2-pw@host/db";
  auto detail = failure(env);
  BOOST_TEST(detail == "DATABASE_URL must start with postgresql:// or postgres://");
  env["DATABASE_URL"] = "postgresql://user:hunter2-pw@host/db name";
  BOOST_TEST(failure(env) == "DATABASE_URL must not contain whitespace");
}

BOOST_AUTO_TEST_CASE(api_key_entries_are_checked_without_showing_keys) {
  auto env = minimal_serve();
  env["API_KEYS"] = "top-secret-1:admin,top-secret-2,:write,top secret:read,,top-secret-5:read,"
                    "top-secret-5:write";
  auto detail = failure(env);
  BOOST_TEST(detail
             == "API_KEYS entry 1 has scope \"admin\", must be read or write; "
                "API_KEYS entry 2 must be key:scope with scope read or write; "
                "API_KEYS entry 3 must have a non-empty key without whitespace; "
                "API_KEYS entry 4 must have a non-empty key without whitespace; "
                "API_KEYS entry 5 is empty; "
                "API_KEYS entry 7 repeats an earlier key");
  BOOST_TEST(detail.find("top-secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(secret_key_needs_sixteen_characters_and_is_never_echoed) {
  auto env = minimal_serve();
  env["SECRET_KEY"] = "short-key";
  auto detail = failure(env);
  BOOST_TEST(detail == "SECRET_KEY must be at least 16 characters");
  env["SECRET_KEY"] = std::string(16, 'k');
  BOOST_TEST(static_cast<bool>(orch::parse_config(env)));
}

BOOST_AUTO_TEST_CASE(previous_secret_keys_are_listed_checked_and_never_echoed) {
  auto env = minimal_serve();
  env["SECRET_KEY_PREVIOUS"] = "old-key-number-one-0001, ,old-key-number-two-0002";
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->previous_secret_keys
               == (std::vector<std::string>{"old-key-number-one-0001", "old-key-number-two-0002"}),
             boost::test_tools::per_element());
  BOOST_TEST(contains(orch::secrets_of(*cfg), "old-key-number-two-0002"));
  env["SECRET_KEY_PREVIOUS"] = "old-key-number-one-0001,short-old";
  auto detail = failure(env);
  BOOST_TEST(detail == "SECRET_KEY_PREVIOUS entry 2 must be at least 16 characters");
  BOOST_TEST(detail.find("short-old") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(clouds_use_needs_the_database_and_the_secret_key_only) {
  BOOST_TEST(failure({}, orch::config_use::clouds) == "missing DATABASE_URL; missing SECRET_KEY");
  auto cfg = orch::parse_config({{"DATABASE_URL", "postgresql://u@h/db"},
                                 {"SECRET_KEY", "0123456789abcdef-secret"},
                                 {"SECRET_KEY_PREVIOUS", "fedcba9876543210-old"}},
                                orch::config_use::clouds);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->secret_key == "0123456789abcdef-secret");
  BOOST_TEST(cfg->previous_secret_keys.size() == 1u);
}

BOOST_AUTO_TEST_CASE(openstack_settings_are_consistent_when_given) {
  auto env = minimal_serve();
  env["OPENSTACK_AUTH_URL"] = "keystone:5000";
  env["OPENSTACK_PASSWORD"] = "os-secret-pw";
  env["OPENSTACK_ENDPOINT_ALLOWLIST"] = "https://ok.example,ftp://nope";
  auto detail = failure(env);
  BOOST_TEST(detail
             == "OPENSTACK_AUTH_URL must start with http:// or https:// (got \"keystone:5000\"); "
                "OPENSTACK_USERNAME is required when OPENSTACK_AUTH_URL is set; "
                "OPENSTACK_PROJECT_NAME is required when OPENSTACK_AUTH_URL is set; "
                "OPENSTACK_ENDPOINT_ALLOWLIST entries must start with http:// or https:// (got "
                "\"ftp://nope\")");
  BOOST_TEST(detail.find("os-secret-pw") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(openstack_tls_settings_are_read_and_booleans_checked) {
  auto env = minimal_serve();
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(static_cast<bool>(cfg));
  BOOST_TEST(cfg->openstack.ca_file.empty());
  BOOST_TEST(!cfg->openstack.insecure);
  env["OPENSTACK_CA_FILE"] = "/etc/orch/cloud-ca.pem";
  for (auto [text, expected] : std::vector<std::pair<std::string, bool>>{
         {"true", true}, {"TRUE", true}, {"1", true}, {"false", false}, {"0", false}}) {
    env["OPENSTACK_INSECURE"] = text;
    cfg = orch::parse_config(env);
    if (!cfg) BOOST_FAIL(orch::error_detail(cfg.error()));
    BOOST_TEST(cfg->openstack.insecure == expected, "OPENSTACK_INSECURE=" << text);
    BOOST_TEST(cfg->openstack.ca_file == "/etc/orch/cloud-ca.pem");
  }
  env["OPENSTACK_INSECURE"] = "yes";
  BOOST_TEST(failure(env) == "OPENSTACK_INSECURE must be true, false, 1 or 0 (got \"yes\")");
}

BOOST_AUTO_TEST_CASE(cors_and_cluster_values_are_checked) {
  auto env = minimal_serve();
  env["CORS_ORIGINS"] = "*,ui.example";
  env["NODE_ID"] = "node 1";
  env["CLUSTER_BIND"] = "4242";
  env["CLUSTER_SEEDS"] = "host:0,host:x,::1:80,[::1]:80,host:4242";
  auto detail = failure(env);
  BOOST_TEST(detail
             == "CORS_ORIGINS entries must be * or start with http:// or https:// (got "
                "\"ui.example\"); "
                "NODE_ID must be 1..64 letters, digits, '.', '_' or '-' (got \"node 1\"); "
                "CLUSTER_BIND must be host:port with port 0..65535 (got \"4242\"); "
                "CLUSTER_SEEDS entries must be host:port with port 1..65535 (got \"host:0\"); "
                "CLUSTER_SEEDS entries must be host:port with port 1..65535 (got \"host:x\"); "
                "CLUSTER_SEEDS entries must be host:port with port 1..65535 (got \"::1:80\")");
  env.erase("CORS_ORIGINS");
  env.erase("NODE_ID");
  env["CLUSTER_BIND"] = "127.0.0.1:0";
  env["CLUSTER_SEEDS"] = "[::1]:80,host:4242";
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->cluster.bind == "127.0.0.1:0");
  BOOST_TEST(cfg->cluster.seeds.size() == 2u);
}

BOOST_AUTO_TEST_CASE(cluster_heartbeat_and_lease_are_durations_with_room_for_missed_beats) {
  auto env = minimal_serve();
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->cluster.heartbeat.count() == 1000);
  BOOST_TEST(cfg->cluster.lease.count() == 10000);
  env["CLUSTER_HEARTBEAT"] = "200ms";
  env["CLUSTER_LEASE"] = "3s";
  cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->cluster.heartbeat.count() == 200);
  BOOST_TEST(cfg->cluster.lease.count() == 3000);
  env["CLUSTER_LEASE"] = "500ms";
  BOOST_TEST(
    failure(env)
    == "CLUSTER_LEASE must be at least three times CLUSTER_HEARTBEAT (got 500ms and 200ms)");
  env["CLUSTER_HEARTBEAT"] = "10ms";
  env["CLUSTER_LEASE"] = "1h";
  auto detail = failure(env);
  BOOST_TEST(detail.find("CLUSTER_HEARTBEAT") != std::string::npos);
  BOOST_TEST(detail.find("CLUSTER_LEASE") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_of_lists_every_secret_value) {
  auto env = minimal_serve();
  env["DATABASE_URL"] = "postgresql://orch:p%40ss-word@db/orch?sslmode=require&password=other-pw";
  env["OPENSTACK_PASSWORD"] = "os-password";
  auto cfg = orch::parse_config(env);
  BOOST_REQUIRE(cfg);
  auto secrets = orch::secrets_of(*cfg);
  BOOST_TEST(contains(secrets, "writer-key-1"));
  BOOST_TEST(contains(secrets, "reader-key-1"));
  BOOST_TEST(contains(secrets, "0123456789abcdef-secret"));
  BOOST_TEST(contains(secrets, "os-password"));
  BOOST_TEST(contains(secrets, "p%40ss-word"));
  BOOST_TEST(contains(secrets, "p@ss-word"));
  BOOST_TEST(contains(secrets, "other-pw"));
  BOOST_TEST(secrets.size() == 7u);
  BOOST_TEST(
    std::none_of(secrets.begin(), secrets.end(), [](const std::string& s) { return s.empty(); }));
}

BOOST_AUTO_TEST_CASE(database_url_password_handles_every_shape) {
  BOOST_TEST(orch::database_url_password("postgresql://u:pw@h/db") == "pw");
  BOOST_TEST(orch::database_url_password("postgresql://u:p%2Fw%zz@h/db") == "p/w%zz");
  BOOST_TEST(orch::database_url_password("postgresql://u:p@w@h/db") == "p@w");
  BOOST_TEST(orch::database_url_password("postgresql://u@h/db") == "");
  BOOST_TEST(orch::database_url_password("postgresql://h/db") == "");
  BOOST_TEST(orch::database_url_password("postgresql://u:@h/db") == "");
  BOOST_TEST(orch::database_url_password("postgresql://h/db?user=u&password=q") == "q");
  BOOST_TEST(orch::database_url_password("not a url") == "");
}

BOOST_AUTO_TEST_CASE(enums_have_stable_names) {
  BOOST_TEST(to_string(orch::api_scope::read) == "read");
  BOOST_TEST(to_string(orch::api_scope::write) == "write");
  BOOST_TEST(to_string(orch::log_format::json) == "json");
  BOOST_TEST(to_string(orch::log_format::text) == "text");
}

BOOST_AUTO_TEST_SUITE_END()
