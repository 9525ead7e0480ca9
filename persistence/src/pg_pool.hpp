#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <pqxx/connection>

#include "orch/persistence/pool.hpp"

namespace orch::persistence {

/// The libpqxx side of `pool`: a free list of open connections bounded by `size`.
class pool::impl {
public:
  /// One borrowed connection. Goes back to the pool on destruction unless it broke.
  class lease {
  public:
    lease(impl* owner, std::unique_ptr<pqxx::connection> conn) noexcept;

    lease(lease&& other) noexcept;

    lease& operator=(lease&&) = delete;

    ~lease();

    pqxx::connection& conn() noexcept { return *conn_; }

    /// Makes the destructor close the connection instead of returning it.
    void discard() noexcept { reusable_ = false; }

  private:
    impl* owner_;
    std::unique_ptr<pqxx::connection> conn_;
    bool reusable_ = true;
  };

  impl(pool_config cfg, query_observer observer, usage_observer usage);

  ~impl();

  /// Waits up to `acquire_timeout` for a free slot, then hands out an idle connection that is
  /// still alive or opens a new one. `errc::store_unavailable` on timeout or connection failure.
  caf::expected<lease> acquire(std::string_view operation);

  /// Turns the exception being handled (call only inside a `catch`) into an error, and discards
  /// the leased connection if it can no longer be trusted.
  caf::error classify_current_exception(std::string_view operation, lease& borrowed) noexcept;

  /// Reports one finished operation to the observer.
  void observe(std::string_view operation, std::chrono::steady_clock::time_point start) noexcept;

  const pool_config& config() const noexcept { return cfg_; }

  int open_connections() const;

  pool_usage usage() const;

private:
  /// Reports the usage to the observer; call with `mtx_` held.
  void report(bool timed_out) noexcept;

  void give_back(std::unique_ptr<pqxx::connection> conn, bool reusable) noexcept;

  std::unique_ptr<pqxx::connection> open() const;

  pool_config cfg_;
  query_observer observer_;
  usage_observer usage_;
  /// `cfg_.url` plus the connect timeout, as libpq takes it.
  std::string conninfo_;
  mutable std::mutex mtx_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  /// Connections handed out (or being opened for a caller) right now.
  int leased_ = 0;
  /// Callers waiting in `acquire` for a connection to come back.
  int waiting_ = 0;
};

namespace detail {

/// `url` with libpq's `connect_timeout` set from `timeout` (whole seconds, at least 1), unless
/// the URL sets one itself.
std::string with_connect_timeout(const std::string& url, std::chrono::milliseconds timeout);

/// `text` on one line: libpq messages span several, and logs and error details want one.
std::string one_line(std::string_view text);

template <class T>
struct is_expected : std::false_type {};

template <class T>
struct is_expected<caf::expected<T>> : std::true_type {};

} // namespace detail

/// Borrows a connection from `db` and runs `f(pqxx::connection&)` on it. `f` returns
/// `caf::expected<T>` or `caf::error`, and so does this function. Times the call under the name
/// `operation`. Every exception `f` throws becomes an error: connection trouble
/// `errc::store_unavailable` (the connection is then discarded), anything else `errc::internal`.
template <class F>
auto with_connection(pool& db, std::string_view operation, F&& f)
  -> std::invoke_result_t<F, pqxx::connection&> {
  using result = std::invoke_result_t<F, pqxx::connection&>;
  static_assert(detail::is_expected<result>::value || std::is_same_v<result, caf::error>,
                "f must return caf::expected<T> or caf::error");
  auto& self = db.internals();
  auto borrowed = self.acquire(operation);
  if (!borrowed) return result{std::move(borrowed.error())};
  auto start = std::chrono::steady_clock::now();
  try {
    auto res = f(borrowed->conn());
    self.observe(operation, start);
    return res;
  } catch (...) {
    self.observe(operation, start);
    return result{self.classify_current_exception(operation, *borrowed)};
  }
}

} // namespace orch::persistence
