#include <chrono>
#include <cstdint>
#include <string>

#include <pqxx/result>
#include <pqxx/transaction>

#include "cloud_rules.hpp"
#include "orch/persistence/cloud_repository.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

// The sealed secret travels as hex (decode/encode on the server side), the allowlist as lines:
// libpqxx 6.4 binds neither bytea nor arrays as parameters without its own wrappers.
#define ORCH_CLOUD_COLUMNS                                                                         \
  "region, auth_url, username, application_credential_id, project_name, user_domain_name, "        \
  "project_domain_name, key_version, encode(secret_sealed, 'hex'), ca_certificate, "               \
  "array_to_string(endpoint_allowlist, E'\\n'), "                                                  \
  "(extract(epoch FROM created_at) * 1000000)::bigint, "                                           \
  "(extract(epoch FROM updated_at) * 1000000)::bigint"

constexpr auto list_sql = "SELECT " ORCH_CLOUD_COLUMNS " FROM clouds ORDER BY region";

constexpr auto get_sql = "SELECT " ORCH_CLOUD_COLUMNS " FROM clouds WHERE region = $1";

constexpr auto lock_sql = "SELECT " ORCH_CLOUD_COLUMNS " FROM clouds WHERE region = $1 FOR UPDATE";

constexpr auto put_sql
  = "INSERT INTO clouds (region, auth_url, username, application_credential_id, project_name, "
    "user_domain_name, project_domain_name, key_version, secret_sealed, ca_certificate, "
    "endpoint_allowlist) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, decode($9, 'hex'), $10, "
    "string_to_array($11, E'\\n')) "
    "ON CONFLICT (region) DO UPDATE SET auth_url = EXCLUDED.auth_url, "
    "username = EXCLUDED.username, application_credential_id = EXCLUDED.application_credential_id, "
    "project_name = EXCLUDED.project_name, user_domain_name = EXCLUDED.user_domain_name, "
    "project_domain_name = EXCLUDED.project_domain_name, key_version = EXCLUDED.key_version, "
    "secret_sealed = EXCLUDED.secret_sealed, ca_certificate = EXCLUDED.ca_certificate, "
    "endpoint_allowlist = EXCLUDED.endpoint_allowlist, updated_at = now() "
    "RETURNING " ORCH_CLOUD_COLUMNS;

constexpr auto in_use_sql = "SELECT EXISTS (SELECT 1 FROM deployments WHERE cloud_region = $1 "
                            "AND status <> 'DELETED')";

constexpr auto delete_sql = "DELETE FROM clouds WHERE region = $1";

constexpr auto replace_secret_sql
  = "UPDATE clouds SET key_version = $4, secret_sealed = decode($5, 'hex'), updated_at = now() "
    "WHERE region = $1 AND key_version = $2 AND secret_sealed = decode($3, 'hex') "
    "RETURNING " ORCH_CLOUD_COLUMNS;

#undef ORCH_CLOUD_COLUMNS

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(std::string_view bytes) {
  std::string result;
  result.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    result.push_back(hex_digits[c >> 4]);
    result.push_back(hex_digits[c & 0x0f]);
  }
  return result;
}

std::string from_hex(std::string_view hex) {
  auto nibble
    = [](char c) { return c >= 'a' ? c - 'a' + 10 : (c >= 'A' ? c - 'A' + 10 : c - '0'); };
  std::string result;
  result.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    result.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  return result;
}

std::string join_lines(const std::vector<std::string>& xs) {
  std::string result;
  for (const auto& x : xs) result += (result.empty() ? "" : "\n") + x;
  return result;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    result.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

timestamp from_micros(int64_t micros) {
  return timestamp{std::chrono::microseconds{micros}};
}

stored_cloud read_row(const pqxx::row& row) {
  stored_cloud c;
  c.region = row[0].as<std::string>();
  c.auth_url = row[1].as<std::string>();
  c.username = row[2].as<std::string>();
  c.application_credential_id = row[3].as<std::string>();
  c.project_name = row[4].as<std::string>();
  c.user_domain_name = row[5].as<std::string>();
  c.project_domain_name = row[6].as<std::string>();
  c.secret.key_version = row[7].as<std::string>();
  c.secret.bytes = from_hex(row[8].as<std::string>());
  c.ca_certificate = row[9].as<std::string>();
  c.endpoint_allowlist = split_lines(row[10].as<std::string>());
  c.created_at = from_micros(row[11].as<int64_t>());
  c.updated_at = from_micros(row[12].as<int64_t>());
  return c;
}

class pg_cloud_repository : public cloud_repository {
public:
  explicit pg_cloud_repository(pool& db) : db_(db) {
    // nop
  }

  caf::expected<stored_cloud> put(const stored_cloud& c) override {
    if (auto err = check_cloud(c)) return err;
    return with_connection(
      db_, "cloud_put", [&](pqxx::connection& conn) -> caf::expected<stored_cloud> {
        pqxx::work tx{conn};
        auto res = tx.exec_params(
          put_sql, c.region, c.auth_url, c.username, c.application_credential_id, c.project_name,
          c.user_domain_name, c.project_domain_name, c.secret.key_version, to_hex(c.secret.bytes),
          c.ca_certificate, join_lines(c.endpoint_allowlist));
        auto stored = read_row(res.at(0));
        tx.commit();
        return stored;
      });
  }

  caf::expected<std::vector<stored_cloud>> list() override {
    return with_connection(db_, "cloud_list",
                           [&](pqxx::connection& conn) -> caf::expected<std::vector<stored_cloud>> {
                             pqxx::read_transaction tx{conn};
                             std::vector<stored_cloud> result;
                             for (const auto& row : tx.exec(list_sql))
                               result.push_back(read_row(row));
                             return result;
                           });
  }

  caf::expected<stored_cloud> get(std::string_view region) override {
    return with_connection(db_, "cloud_get",
                           [&](pqxx::connection& conn) -> caf::expected<stored_cloud> {
                             pqxx::read_transaction tx{conn};
                             auto res = tx.exec_params(get_sql, std::string{region});
                             if (res.empty()) return unknown_cloud(region);
                             return read_row(res[0]);
                           });
  }

  caf::expected<stored_cloud> remove(std::string_view region) override {
    return with_connection(db_, "cloud_remove",
                           [&](pqxx::connection& conn) -> caf::expected<stored_cloud> {
                             pqxx::work tx{conn};
                             auto res = tx.exec_params(lock_sql, std::string{region});
                             if (res.empty()) return unknown_cloud(region);
                             auto removed = read_row(res[0]);
                             if (tx.exec_params(in_use_sql, std::string{region})[0][0].as<bool>())
                               return cloud_in_use(region);
                             tx.exec_params(delete_sql, std::string{region});
                             tx.commit();
                             return removed;
                           });
  }

  caf::expected<stored_cloud> replace_secret(std::string_view region, const sealed_secret& expected,
                                             const sealed_secret& replacement) override {
    stored_cloud probe;
    probe.region = std::string{region};
    probe.auth_url = "https://";
    probe.username = "-";
    probe.secret = replacement;
    if (auto err = check_cloud(probe)) return err;
    return with_connection(
      db_, "cloud_replace_secret", [&](pqxx::connection& conn) -> caf::expected<stored_cloud> {
        pqxx::work tx{conn};
        auto res = tx.exec_params(replace_secret_sql, std::string{region}, expected.key_version,
                                  to_hex(expected.bytes), replacement.key_version,
                                  to_hex(replacement.bytes));
        if (res.empty()) {
          if (tx.exec_params(get_sql, std::string{region}).empty()) return unknown_cloud(region);
          return cloud_secret_changed(region);
        }
        auto stored = read_row(res[0]);
        tx.commit();
        return stored;
      });
  }

private:
  pool& db_;
};

} // namespace

std::unique_ptr<cloud_repository> make_pg_cloud_repository(pool& db) {
  return std::make_unique<pg_cloud_repository>(db);
}

} // namespace orch::persistence
