#include "test_servers.hpp"

#include <fstream>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace orch::openstack::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

template <class Stream>
std::string read_request_from(Stream& stream, std::string& buffer) {
  boost::system::error_code ec;
  auto end = asio::read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n", ec);
  if (ec) return {};
  auto head = buffer.substr(0, end);
  std::size_t length = 0;
  for (auto name : {"Content-Length: ", "content-length: "})
    if (auto pos = head.find(name); pos != std::string::npos)
      length = std::stoul(head.substr(pos + 16));
  if (buffer.size() < end + length)
    asio::read(stream, asio::dynamic_buffer(buffer),
               asio::transfer_exactly(end + length - buffer.size()), ec);
  auto request = buffer.substr(0, end + length);
  buffer.erase(0, end + length);
  return request;
}

/// Wakes a blocking `accept` so that the server thread can end.
void poke(uint16_t port) {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  boost::system::error_code ec;
  sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
}

} // namespace

std::string read_request(tcp::socket& sock, std::string& buffer) {
  return read_request_from(sock, buffer);
}

std::string ok_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n\r\n" + body;
}

scripted_server::scripted_server(behaviour_fn behaviour)
  : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}), behaviour_(std::move(behaviour)) {
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread{[this] {
    for (int index = 0;; ++index) {
      tcp::socket sock{ioc_};
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stopping_) return;
      ++accepted_;
      behaviour_(sock, index);
    }
  }};
}

scripted_server::~scripted_server() {
  stopping_ = true;
  poke(port_);
  thread_.join();
}

test_certificate make_certificate(const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ip_addresses) {
  auto* key = EVP_RSA_gen(2048);
  auto* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  auto* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("orch test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  std::string san;
  for (auto& d : dns_names) san += (san.empty() ? "" : ",") + std::string{"DNS:"} + d;
  for (auto& ip : ip_addresses) san += (san.empty() ? "" : ",") + std::string{"IP:"} + ip;
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : std::vector<std::pair<int, std::string>>{
         {NID_subject_alt_name, san}, {NID_basic_constraints, "critical,CA:TRUE"}}) {
    auto* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  auto pem = [](auto write) {
    auto* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    auto len = BIO_get_mem_data(bio, &data);
    std::string out{data, static_cast<std::size_t>(len)};
    BIO_free(bio);
    return out;
  };
  test_certificate result;
  result.cert_pem = pem([&](BIO* bio) { PEM_write_bio_X509(bio, cert); });
  result.key_pem = pem(
    [&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return result;
}

std::string write_temp_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/orch-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
  return path;
}

tls_server::tls_server(const test_certificate& cert)
  : ctx_(asio::ssl::context::tls_server),
    acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
  ctx_.use_certificate_chain(asio::buffer(cert.cert_pem));
  ctx_.use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread{[this] {
    for (;;) {
      asio::ssl::stream<tcp::socket> stream{ioc_, ctx_};
      boost::system::error_code ec;
      acceptor_.accept(stream.next_layer(), ec);
      if (ec || stopping_) return;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue; // the client refused our certificate
      std::string buffer;
      while (!read_request_from(stream, buffer).empty()) {
        asio::write(stream, asio::buffer(ok_response("ok")), ec);
        if (ec) break;
      }
    }
  }};
}

tls_server::~tls_server() {
  stopping_ = true;
  poke(port_);
  thread_.join();
}

} // namespace orch::openstack::testing
