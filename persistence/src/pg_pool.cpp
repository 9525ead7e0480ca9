#include "pg_pool.hpp"

#include <algorithm>
#include <cassert>
#include <exception>
#include <string>

#include <poll.h>

#include <pqxx/except>
#include <pqxx/nontransaction>

#include "log.hpp"
#include "orch/errc.hpp"

namespace orch::persistence {

using detail::one_line;
using detail::with_connect_timeout;

namespace {

// SQLSTATE classes that say "try again later" rather than "this request is wrong": connection
// exceptions, transaction rollbacks (serialization, deadlock), insufficient resources, operator
// intervention (shutdown, cancel, terminate) and system errors.
bool is_transient(const std::string& sqlstate) {
  if (sqlstate.size() != 5) return false;
  auto cls = sqlstate.substr(0, 2);
  return cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58";
}

// Whether an idle connection still has a live server session. A terminated backend first sends
// a FATAL message and then closes the socket, and libpq notices neither until the next query;
// draining what is pending (no round trip) reaches the EOF, which libpqxx reports as
// broken_connection. An idle session that keeps talking is not trusted either.
bool is_alive(pqxx::connection& conn) {
  if (!conn.is_open()) return false;
  for (int attempt = 0; attempt < 4; ++attempt) {
    pollfd fd{conn.sock(), POLLIN, 0};
    auto ready = ::poll(&fd, 1, 0);
    if (ready == 0) return true;
    if (ready < 0 || (fd.revents & (POLLERR | POLLNVAL)) != 0) return false;
    conn.get_notifs();
  }
  return false;
}

caf::error unavailable(std::string_view operation, std::string_view why) {
  return make_error(errc::store_unavailable,
                    "database " + std::string{operation} + ": " + one_line(why));
}

} // namespace

namespace detail {

// libpq takes whole seconds; 0 would mean "wait forever".
std::string with_connect_timeout(const std::string& url, std::chrono::milliseconds timeout) {
  auto seconds = std::max<long long>(1, (timeout.count() + 999) / 1000);
  if (url.find("connect_timeout") != std::string::npos) return url;
  auto setting = "connect_timeout=" + std::to_string(seconds);
  if (url.find("://") == std::string::npos) return url.empty() ? setting : url + " " + setting;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + setting;
}

// libpq messages span several lines; logs and error details want one.
std::string one_line(std::string_view text) {
  std::string out;
  for (auto ch : text) {
    if (ch == '\n' || ch == '\r' || ch == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += ch;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

} // namespace detail

// -- pool ----------------------------------------------------------------------------------------

pool::pool(pool_config cfg, query_observer observer, usage_observer usage)
  : impl_(std::make_unique<impl>(std::move(cfg), std::move(observer), std::move(usage))) {
  // nop
}

pool::~pool() = default;

caf::error pool::ping() {
  return with_connection(*this, "ping", [](pqxx::connection& conn) -> caf::error {
    pqxx::nontransaction tx{conn};
    tx.exec("SELECT 1");
    return caf::none;
  });
}

const pool_config& pool::config() const noexcept {
  return impl_->config();
}

int pool::open_connections() const {
  return impl_->open_connections();
}

pool_usage pool::usage() const {
  return impl_->usage();
}

// -- pool::impl::lease ---------------------------------------------------------------------------

pool::impl::lease::lease(impl* owner, std::unique_ptr<pqxx::connection> conn) noexcept
  : owner_(owner), conn_(std::move(conn)) {
  // nop
}

pool::impl::lease::lease(lease&& other) noexcept
  : owner_(other.owner_), conn_(std::move(other.conn_)), reusable_(other.reusable_) {
  other.owner_ = nullptr;
}

pool::impl::lease::~lease() {
  if (owner_ != nullptr) owner_->give_back(std::move(conn_), reusable_);
}

// -- pool::impl ----------------------------------------------------------------------------------

pool::impl::impl(pool_config cfg, query_observer observer, usage_observer usage)
  : cfg_(std::move(cfg)), observer_(std::move(observer)), usage_(std::move(usage)),
    conninfo_(with_connect_timeout(cfg_.url, cfg_.connect_timeout)) {
  // nop
}

pool::impl::~impl() {
  std::lock_guard guard{mtx_};
  assert(leased_ == 0);
}

caf::expected<pool::impl::lease> pool::impl::acquire(std::string_view operation) {
  if (cfg_.url.empty()) return make_error(errc::invalid_config, "database URL is empty");
  if (cfg_.size < 1)
    return make_error(errc::invalid_config, "database pool size must be at least 1");
  std::unique_ptr<pqxx::connection> conn;
  {
    std::unique_lock guard{mtx_};
    auto must_wait = leased_ >= cfg_.size;
    if (must_wait) {
      ++waiting_;
      report(false);
    }
    auto got
      = returned_.wait_for(guard, cfg_.acquire_timeout, [this] { return leased_ < cfg_.size; });
    if (must_wait) --waiting_;
    if (!got) {
      report(true);
      log()->warn("database {}: no connection free within {} ms (pool size {})", operation,
                  cfg_.acquire_timeout.count(), cfg_.size);
      return make_error(errc::store_unavailable,
                        "database " + std::string{operation} + ": no connection free within "
                          + std::to_string(cfg_.acquire_timeout.count()) + " ms");
    }
    ++leased_;
    report(false);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn) {
    // A server restart or pg_terminate_backend leaves idle connections dead.
    try {
      if (is_alive(*conn)) return lease{this, std::move(conn)};
      log()->info("database {}: discarding a dead idle connection", operation);
    } catch (const std::exception& ex) {
      log()->info("database {}: discarding a dead idle connection ({})", operation,
                  one_line(ex.what()));
    }
    conn.reset();
  }
  try {
    return lease{this, open()};
  } catch (const std::exception& ex) {
    give_back(nullptr, false);
    log()->warn("database {}: cannot connect ({})", operation, one_line(ex.what()));
    return unavailable(operation, ex.what());
  }
}

caf::error pool::impl::classify_current_exception(std::string_view operation,
                                                  lease& borrowed) noexcept {
  auto broken = [&] {
    try {
      return !borrowed.conn().is_open();
    } catch (...) {
      return true;
    }
  };
  try {
    throw;
  } catch (const pqxx::broken_connection& ex) {
    borrowed.discard();
    log()->warn("database {}: connection lost ({})", operation, one_line(ex.what()));
    return unavailable(operation, ex.what());
  } catch (const pqxx::in_doubt_error& ex) {
    // The commit may or may not have happened; the connection state is unknown too.
    borrowed.discard();
    log()->warn("database {}: commit outcome unknown ({})", operation, one_line(ex.what()));
    return unavailable(operation, ex.what());
  } catch (const pqxx::sql_error& ex) {
    if (broken() || is_transient(ex.sqlstate())) {
      if (broken()) borrowed.discard();
      log()->warn("database {}: transient failure {} ({})", operation, ex.sqlstate(),
                  one_line(ex.what()));
      return unavailable(operation, ex.what());
    }
    log()->error("database {}: SQL error {} ({})", operation, ex.sqlstate(), one_line(ex.what()));
    return make_error(errc::internal, "database " + std::string{operation} + ": SQL error "
                                        + ex.sqlstate() + ": " + one_line(ex.what()));
  } catch (const pqxx::failure& ex) {
    if (broken()) {
      borrowed.discard();
      log()->warn("database {}: connection lost ({})", operation, one_line(ex.what()));
      return unavailable(operation, ex.what());
    }
    log()->error("database {}: {}", operation, one_line(ex.what()));
    return make_error(errc::internal,
                      "database " + std::string{operation} + ": " + one_line(ex.what()));
  } catch (const std::exception& ex) {
    // Conversion and usage errors are bugs in the adapter, but the connection may hold an
    // aborted transaction: start afresh.
    borrowed.discard();
    log()->error("database {}: {}", operation, one_line(ex.what()));
    return make_error(errc::internal,
                      "database " + std::string{operation} + ": " + one_line(ex.what()));
  } catch (...) {
    borrowed.discard();
    log()->error("database {}: unknown exception", operation);
    return make_error(errc::internal, "database " + std::string{operation} + ": unknown exception");
  }
}

void pool::impl::observe(std::string_view operation,
                         std::chrono::steady_clock::time_point start) noexcept {
  if (!observer_) return;
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  try {
    observer_(operation, elapsed.count());
  } catch (...) {
    // A metrics hook must not turn a finished query into a failure.
  }
}

pool_usage pool::impl::usage() const {
  std::lock_guard guard{mtx_};
  return {leased_, waiting_, false};
}

void pool::impl::report(bool timed_out) noexcept {
  if (!usage_) return;
  try {
    usage_(pool_usage{leased_, waiting_, timed_out});
  } catch (...) {
    // A metrics hook must not break the pool.
  }
}

int pool::impl::open_connections() const {
  std::lock_guard guard{mtx_};
  return leased_ + static_cast<int>(idle_.size());
}

void pool::impl::give_back(std::unique_ptr<pqxx::connection> conn, bool reusable) noexcept {
  bool keep = false;
  if (conn && reusable) {
    try {
      keep = conn->is_open();
    } catch (...) {
      keep = false;
    }
  }
  std::unique_ptr<pqxx::connection> closing;
  {
    std::lock_guard guard{mtx_};
    --leased_;
    report(false);
    if (keep)
      idle_.push_back(std::move(conn));
    else
      closing = std::move(conn);
  }
  returned_.notify_one();
  // Closing talks to the server; never do it while holding the lock.
  try {
    closing.reset();
  } catch (...) {
    // nop
  }
}

std::unique_ptr<pqxx::connection> pool::impl::open() const {
  return std::make_unique<pqxx::connection>(conninfo_);
}

} // namespace orch::persistence
