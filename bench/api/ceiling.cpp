// The ceiling for the API benchmark: a bare Boost.Beast HTTP/1.1 keep-alive server that answers
// every request with one fixed JSON body, on one io_context run by N threads (as the
// orchestrator's server). No routing, authentication, logging, metrics or database, so
// `orchestrator rps / ceiling rps` is the share of the machine the real request path keeps.
//
// usage: ceiling --body-file PATH [--threads N] [--port N]
// Prints `http://127.0.0.1:<port>` on stdout once it listens; exits on SIGTERM or SIGINT.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "ceiling: %s\n", why.c_str());
  std::exit(2);
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, std::shared_ptr<const std::string> body)
    : stream_(std::move(socket)), body_(std::move(body)) {
    // nop
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

private:
  void do_read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds{60});
    bhttp::async_read(
      stream_, buffer_, req_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return close();
    res_ = {bhttp::status::ok, req_.version()};
    res_.set(bhttp::field::content_type, "application/json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = *body_;
    res_.prepare_payload();
    bhttp::async_write(stream_, res_,
                       [self = shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec || !self->res_.keep_alive()) return self->close();
                         self->do_read();
                       });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
  std::shared_ptr<const std::string> body_;
};

void do_accept(net::io_context& ioc, tcp::acceptor& acceptor,
               std::shared_ptr<const std::string> body) {
  acceptor.async_accept(net::make_strand(ioc),
                        [&ioc, &acceptor, body](beast::error_code ec, tcp::socket socket) {
                          if (ec) return;
                          socket.set_option(tcp::no_delay{true});
                          std::make_shared<session>(std::move(socket), body)->run();
                          do_accept(ioc, acceptor, body);
                        });
}

} // namespace

int main(int argc, char** argv) {
  std::string body_file;
  int threads = 2;
  unsigned short port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--body-file")
      body_file = value();
    else if (arg == "--threads")
      threads = std::max(1, std::atoi(value().c_str()));
    else if (arg == "--port")
      port = static_cast<unsigned short>(std::atoi(value().c_str()));
    else
      die("unknown argument " + arg
          + " (usage: ceiling --body-file PATH [--threads N] [--port N])");
  }
  if (body_file.empty()) die("--body-file is required");
  std::ifstream in{body_file, std::ios::binary};
  if (!in) die("cannot read " + body_file);
  std::stringstream text;
  text << in.rdbuf();
  auto body = std::make_shared<const std::string>(text.str());

  net::io_context ioc{threads};
  tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), port}};
  std::cout << "http://127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
  do_accept(ioc, acceptor, body);
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
