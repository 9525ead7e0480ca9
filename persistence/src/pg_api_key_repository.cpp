#include <chrono>
#include <cstdint>
#include <string>

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

#include "api_key_rules.hpp"
#include "orch/persistence/api_key_repository.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

#define ORCH_API_KEY_COLUMNS                                                                       \
  "id::text, name, scope, key_hash, (extract(epoch FROM created_at) * 1000000)::bigint, "          \
  "(extract(epoch FROM revoked_at) * 1000000)::bigint"

constexpr auto list_sql = "SELECT " ORCH_API_KEY_COLUMNS " FROM api_keys ORDER BY created_at, id";

constexpr auto active_sql = "SELECT " ORCH_API_KEY_COLUMNS
                            " FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id";

// Names are unique among active keys only (a revoked name may be reused), which a plain
// UNIQUE cannot say: writers serialise on this lock instead. Adding keys is rare.
constexpr auto lock_sql = "SELECT pg_advisory_xact_lock(hashtext('orch.api_keys'))";

constexpr auto name_taken_sql
  = "SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL AND name = $1)";

constexpr auto insert_sql = "INSERT INTO api_keys (name, scope, key_hash) VALUES ($1, $2, $3) "
                            "RETURNING " ORCH_API_KEY_COLUMNS;

// $1 is a canonical UUID or '' (the text did not parse as one), $2 the raw text as a name; an
// id match wins over a name match.
constexpr auto revoke_sql
  = "UPDATE api_keys SET revoked_at = now() WHERE id = ("
    "SELECT id FROM api_keys WHERE revoked_at IS NULL AND (id = NULLIF($1, '')::uuid OR name = $2) "
    "ORDER BY (id = NULLIF($1, '')::uuid) IS TRUE DESC LIMIT 1) RETURNING " ORCH_API_KEY_COLUMNS;

#undef ORCH_API_KEY_COLUMNS

timestamp from_micros(int64_t micros) {
  return timestamp{std::chrono::microseconds{micros}};
}

caf::expected<stored_api_key> read_row(const pqxx::row& row) {
  auto id = uuid::parse(row[0].as<std::string>());
  if (!id) return make_error(errc::internal, "stored api key id is not a UUID");
  stored_api_key key;
  key.id = *id;
  key.name = row[1].as<std::string>();
  key.scope = row[2].as<std::string>() == "write" ? api_scope::write : api_scope::read;
  key.key_hash = row[3].as<std::string>();
  key.created_at = from_micros(row[4].as<int64_t>());
  if (!row[5].is_null()) key.revoked_at = from_micros(row[5].as<int64_t>());
  return key;
}

caf::expected<std::vector<stored_api_key>> read_rows(const pqxx::result& res) {
  std::vector<stored_api_key> result;
  for (const auto& row : res) {
    auto key = read_row(row);
    if (!key) return std::move(key.error());
    result.push_back(std::move(*key));
  }
  return result;
}

std::string id_parameter(std::string_view id_or_name) {
  auto id = uuid::parse(id_or_name);
  return id ? to_string(*id) : std::string{};
}

class pg_api_key_repository : public api_key_repository {
public:
  explicit pg_api_key_repository(pool& db) : db_(db) {
    // nop
  }

  caf::expected<stored_api_key> add(std::string_view name, api_scope scope,
                                    std::string_view key_hash) override {
    if (auto err = check_new_api_key(name, key_hash)) return err;
    return with_connection(
      db_, "api_key_add", [&](pqxx::connection& conn) -> caf::expected<stored_api_key> {
        try {
          pqxx::work tx{conn};
          tx.exec(lock_sql);
          if (tx.exec_params(name_taken_sql, std::string{name})[0][0].as<bool>())
            return api_key_name_taken(name);
          auto res = tx.exec_params(insert_sql, std::string{name}, to_string(scope),
                                    std::string{key_hash});
          auto key = read_row(res.at(0));
          if (key) tx.commit();
          return key;
        } catch (const pqxx::unique_violation&) {
          return make_error(errc::conflict, "this key is already stored");
        }
      });
  }

  caf::expected<std::vector<stored_api_key>> list() override {
    return with_connection(
      db_, "api_key_list",
      [&](pqxx::connection& conn) -> caf::expected<std::vector<stored_api_key>> {
        pqxx::read_transaction tx{conn};
        return read_rows(tx.exec(list_sql));
      });
  }

  caf::expected<std::vector<stored_api_key>> active() override {
    return with_connection(
      db_, "api_key_active",
      [&](pqxx::connection& conn) -> caf::expected<std::vector<stored_api_key>> {
        pqxx::read_transaction tx{conn};
        return read_rows(tx.exec(active_sql));
      });
  }

  caf::expected<stored_api_key> revoke(std::string_view id_or_name) override {
    return with_connection(
      db_, "api_key_revoke", [&](pqxx::connection& conn) -> caf::expected<stored_api_key> {
        pqxx::work tx{conn};
        auto res = tx.exec_params(revoke_sql, id_parameter(id_or_name), std::string{id_or_name});
        if (res.empty()) return unknown_api_key(id_or_name);
        auto key = read_row(res[0]);
        if (key) tx.commit();
        return key;
      });
  }

private:
  pool& db_;
};

} // namespace

std::unique_ptr<api_key_repository> make_pg_api_key_repository(pool& db) {
  return std::make_unique<pg_api_key_repository>(db);
}

} // namespace orch::persistence
