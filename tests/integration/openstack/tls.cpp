// TLS of the Beast transport against a server whose self-signed certificate the test makes.

#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"
#include "orch/http/client_transport.hpp"
#include "test_servers.hpp"

using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;
using orch::http::client_transport;
using orch::http::client_transport_config;

namespace {

/// Sends one GET to `url` with `cfg`; the outcome.
transport_outcome fetch(const std::string& url, client_transport_config cfg) {
  boost::asio::io_context ioc;
  auto made = client_transport::make(ioc.get_executor(), std::move(cfg));
  BOOST_REQUIRE(static_cast<bool>(made));
  std::optional<transport_outcome> out;
  http_call call;
  call.method = "GET";
  call.url = url;
  call.timeout = 5s;
  (*made)->send(call, [&](transport_outcome o) { out.emplace(std::move(o)); });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!out && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(50ms);
  BOOST_REQUIRE(out.has_value());
  return std::move(*out);
}

std::string describe(const transport_outcome& out) {
  if (auto* res = std::get_if<http_result>(&out)) return "status " + std::to_string(res->status);
  auto& f = std::get<transport_failure>(out);
  return to_string(f.error) + ": " + f.detail;
}

struct tls_fixture {
  test_certificate cert = make_certificate({"localhost"}, {"127.0.0.1"});
  std::string ca_file = write_temp_file("tls-ca.pem", cert.cert_pem);
  tls_server server{cert};

  std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(server.port()) + "/identity/v3";
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(tls, tls_fixture)

BOOST_AUTO_TEST_CASE(self_signed_certificate_is_refused_without_its_ca) {
  auto out = fetch(url(), {});
  BOOST_TEST(describe(out).starts_with("connect_failed"), describe(out));
  BOOST_TEST(describe(out).find("certificate verify failed") != std::string::npos, describe(out));
}

BOOST_AUTO_TEST_CASE(certificate_is_accepted_with_its_ca_file) {
  client_transport_config cfg;
  cfg.ca_file = ca_file;
  BOOST_TEST(describe(fetch(url(), cfg)) == "status 200");
  BOOST_TEST(describe(fetch(url("localhost"), cfg)) == "status 200");
}

BOOST_AUTO_TEST_CASE(certificate_is_accepted_with_its_ca_as_pem_text) {
  client_transport_config cfg;
  cfg.ca_pem = cert.cert_pem;
  BOOST_TEST(describe(fetch(url(), cfg)) == "status 200");
}

BOOST_AUTO_TEST_CASE(malformed_ca_pem_is_a_configuration_error) {
  boost::asio::io_context ioc;
  client_transport_config cfg;
  cfg.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  auto made = client_transport::make(ioc.get_executor(), cfg);
  BOOST_REQUIRE(!made);
  BOOST_TEST(orch::is(made.error(), orch::errc::invalid_config));
  BOOST_TEST(orch::error_detail(made.error()).find("stored CA certificate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tls_connection_is_kept_alive_between_calls) {
  boost::asio::io_context ioc;
  client_transport_config cfg;
  cfg.ca_file = ca_file;
  auto made = client_transport::make(ioc.get_executor(), cfg);
  BOOST_REQUIRE(static_cast<bool>(made));
  for (int i = 0; i < 3; ++i) {
    std::optional<transport_outcome> out;
    http_call call;
    call.method = "GET";
    call.url = url("localhost");
    (*made)->send(call, [&](transport_outcome o) { out.emplace(std::move(o)); });
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!out && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(50ms);
    BOOST_REQUIRE(out.has_value());
    BOOST_TEST(describe(*out) == "status 200");
  }
  BOOST_TEST((*made)->connections_opened() == 1u);
}

BOOST_AUTO_TEST_CASE(certificate_for_another_host_is_refused_even_with_its_ca) {
  auto other = make_certificate({"other.test"}, {});
  tls_server impostor{other};
  client_transport_config cfg;
  cfg.ca_file = write_temp_file("tls-other-ca.pem", other.cert_pem);
  auto out = fetch("https://127.0.0.1:" + std::to_string(impostor.port()) + "/", cfg);
  BOOST_TEST(describe(out).starts_with("connect_failed"), describe(out));
}

BOOST_AUTO_TEST_CASE(insecure_mode_accepts_any_certificate) {
  client_transport_config cfg;
  cfg.insecure = true;
  BOOST_TEST(describe(fetch(url(), cfg)) == "status 200");
}

BOOST_AUTO_TEST_CASE(unreadable_ca_file_is_a_configuration_error) {
  boost::asio::io_context ioc;
  client_transport_config cfg;
  cfg.ca_file = "/nonexistent/ca.pem";
  auto made = client_transport::make(ioc.get_executor(), cfg);
  BOOST_REQUIRE(!made);
  BOOST_TEST(orch::error_detail(made.error()).find("OPENSTACK_CA_FILE") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
