#include "orch/persistence/pg_template_repository.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "orch/errc.hpp"
#include "orch/schemas/template_json.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

// Columns every read returns, in this order; timestamps as integer microseconds (exact,
// unlike a double of epoch seconds).
#define ORCH_TEMPLATE_COLUMNS                                                                      \
  "id::text, name, description, vm_config::text, network_config::text, "                           \
  "(extract(epoch FROM created_at) * 1000000)::bigint, "                                           \
  "(extract(epoch FROM updated_at) * 1000000)::bigint"

// $1 is a canonical UUID or '' (the text did not parse as one), $2 the raw text as a name.
// An id match wins over a name match.
#define ORCH_TEMPLATE_LOOKUP                                                                       \
  "deleted_at IS NULL AND (id = NULLIF($1, '')::uuid OR name = $2) "                               \
  "ORDER BY (id = NULLIF($1, '')::uuid) IS TRUE DESC LIMIT 1"

constexpr auto find_stmt = "template_find";
constexpr auto find_sql
  = "SELECT " ORCH_TEMPLATE_COLUMNS " FROM deployment_templates WHERE " ORCH_TEMPLATE_LOOKUP;

constexpr auto lock_stmt = "template_lock";
constexpr auto lock_sql
  = "SELECT id::text FROM deployment_templates WHERE " ORCH_TEMPLATE_LOOKUP " FOR UPDATE";

constexpr auto insert_stmt = "template_insert";
constexpr auto insert_sql
  = "INSERT INTO deployment_templates (name, description, vm_config, network_config) "
    "VALUES ($1, $2, $3::json, $4::json) RETURNING " ORCH_TEMPLATE_COLUMNS;

// A window count gives the total with the page; past the last page it comes back empty and a
// plain count in the same snapshot fills in.
constexpr auto list_stmt = "template_list";
constexpr auto list_sql = "SELECT " ORCH_TEMPLATE_COLUMNS ", count(*) OVER () "
                          "FROM deployment_templates WHERE deleted_at IS NULL "
                          "ORDER BY name COLLATE \"C\" LIMIT $1 OFFSET $2";

constexpr auto count_stmt = "template_count";
constexpr auto count_sql = "SELECT count(*) FROM deployment_templates WHERE deleted_at IS NULL";

constexpr auto update_stmt = "template_update";
constexpr auto update_sql
  = "UPDATE deployment_templates SET name = $2, description = $3, vm_config = $4::json, "
    "network_config = $5::json, updated_at = now() WHERE id = $1::uuid "
    "RETURNING " ORCH_TEMPLATE_COLUMNS;

constexpr auto in_use_stmt = "template_in_use";
constexpr auto in_use_sql = "SELECT EXISTS (SELECT 1 FROM deployments "
                            "WHERE template_id = $1::uuid AND status <> 'DELETED')";

constexpr auto delete_stmt = "template_delete";
constexpr auto delete_sql
  = "UPDATE deployment_templates SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid";

#undef ORCH_TEMPLATE_COLUMNS
#undef ORCH_TEMPLATE_LOOKUP

/// Prepares `name` on `conn` unless done before; libpqxx keeps the definition per connection.
const char* prepared(pqxx::connection& conn, const char* name, const char* sql) {
  conn.prepare(name, sql);
  return name;
}

timestamp from_micros(int64_t micros) {
  return timestamp{std::chrono::microseconds{micros}};
}

caf::expected<stored_template> read_row(const pqxx::row& row) {
  auto id = uuid::parse(row[0].as<std::string>());
  if (!id) return make_error(errc::internal, "stored template id is not a UUID");
  auto spec = schemas::template_from_columns(row[1].as<std::string>(), row[2].as<std::string>(),
                                             row[3].as<std::string>(), row[4].as<std::string>());
  if (!spec) return std::move(spec.error());
  return stored_template{*id, std::move(*spec), from_micros(row[5].as<int64_t>()),
                         from_micros(row[6].as<int64_t>())};
}

// What a write returns must read back: a spec the converters cannot round-trip came from the
// caller, so it is refused (and the transaction rolled back) rather than stored.
caf::expected<stored_template> read_written_row(const pqxx::row& row) {
  auto stored = read_row(row);
  if (!stored)
    return make_error(errc::invalid_spec,
                      "template cannot be stored as given: " + error_detail(stored.error()));
  return stored;
}

// The two lookup parameters for ORCH_TEMPLATE_LOOKUP.
std::string id_parameter(std::string_view id_or_name) {
  auto id = uuid::parse(id_or_name);
  return id ? to_string(*id) : std::string{};
}

caf::error check_spec(const template_spec& spec) {
  if (spec.name.empty()) return make_error(errc::invalid_spec, "template name must not be empty");
  return caf::none;
}

caf::error name_conflict(const std::string& name) {
  return make_error(errc::conflict, "template name '" + name + "' is already taken");
}

caf::error unknown_template(std::string_view id_or_name) {
  return make_error(errc::not_found, "template '" + std::string{id_or_name} + "' not found");
}

class pg_template_repository : public template_repository {
public:
  explicit pg_template_repository(pool& db) : db_(db) {
    // nop
  }

  caf::expected<stored_template> create(const template_spec& spec) override {
    if (auto err = check_spec(spec)) return err;
    auto vm_config = schemas::vm_config_json(spec);
    auto network_config = schemas::network_config_json(spec);
    return with_connection(
      db_, "template_create", [&](pqxx::connection& conn) -> caf::expected<stored_template> {
        try {
          pqxx::work tx{conn};
          auto res = tx.exec_prepared(prepared(conn, insert_stmt, insert_sql), spec.name,
                                      spec.description, vm_config, network_config);
          auto stored = read_written_row(res.at(0));
          if (stored) tx.commit();
          return stored;
        } catch (const pqxx::unique_violation&) {
          return name_conflict(spec.name);
        }
      });
  }

  caf::expected<stored_template> find(std::string_view id_or_name) override {
    return with_connection(
      db_, "template_find", [&](pqxx::connection& conn) -> caf::expected<stored_template> {
        // One statement is atomic on its own: no BEGIN and COMMIT round trips.
        pqxx::nontransaction tx{conn};
        auto res = tx.exec_prepared(prepared(conn, find_stmt, find_sql), id_parameter(id_or_name),
                                    std::string{id_or_name});
        if (res.empty()) return unknown_template(id_or_name);
        return read_row(res[0]);
      });
  }

  caf::expected<page<stored_template>> list(int limit, int offset) override {
    if (limit < 1 || limit > 500)
      return make_error(errc::invalid_spec, "limit must be between 1 and 500");
    if (offset < 0) return make_error(errc::invalid_spec, "offset must be >= 0");
    return with_connection(
      db_, "template_list", [&](pqxx::connection& conn) -> caf::expected<page<stored_template>> {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
        auto res = tx.exec_prepared(prepared(conn, list_stmt, list_sql), limit, offset);
        page<stored_template> result;
        result.limit = limit;
        result.offset = offset;
        for (const auto& row : res) {
          auto item = read_row(row);
          if (!item) return std::move(item.error());
          result.items.push_back(std::move(*item));
        }
        if (!res.empty())
          result.total = res[0][7].as<int64_t>();
        else if (offset > 0)
          result.total
            = tx.exec_prepared(prepared(conn, count_stmt, count_sql))[0][0].as<int64_t>();
        return result;
      });
  }

  caf::expected<stored_template> replace(std::string_view id_or_name,
                                         const template_spec& spec) override {
    if (auto err = check_spec(spec)) return err;
    auto vm_config = schemas::vm_config_json(spec);
    auto network_config = schemas::network_config_json(spec);
    return with_connection(
      db_, "template_replace", [&](pqxx::connection& conn) -> caf::expected<stored_template> {
        try {
          pqxx::work tx{conn};
          auto target = tx.exec_prepared(prepared(conn, lock_stmt, lock_sql),
                                         id_parameter(id_or_name), std::string{id_or_name});
          if (target.empty()) return unknown_template(id_or_name);
          auto res = tx.exec_prepared(prepared(conn, update_stmt, update_sql),
                                      target[0][0].as<std::string>(), spec.name, spec.description,
                                      vm_config, network_config);
          auto stored = read_written_row(res.at(0));
          if (stored) tx.commit();
          return stored;
        } catch (const pqxx::unique_violation&) {
          return name_conflict(spec.name);
        }
      });
  }

  caf::error remove(std::string_view id_or_name) override {
    return with_connection(db_, "template_remove", [&](pqxx::connection& conn) -> caf::error {
      pqxx::work tx{conn};
      // The row lock makes a concurrent replace or remove of the same template wait for us.
      auto target = tx.exec_prepared(prepared(conn, lock_stmt, lock_sql), id_parameter(id_or_name),
                                     std::string{id_or_name});
      if (target.empty()) return unknown_template(id_or_name);
      auto id = target[0][0].as<std::string>();
      if (tx.exec_prepared(prepared(conn, in_use_stmt, in_use_sql), id)[0][0].as<bool>())
        return make_error(errc::conflict, "template '" + std::string{id_or_name}
                                            + "' is used by a deployment that is not DELETED");
      tx.exec_prepared(prepared(conn, delete_stmt, delete_sql), id);
      tx.commit();
      return caf::none;
    });
  }

private:
  pool& db_;
};

} // namespace

std::unique_ptr<template_repository> make_pg_template_repository(pool& db) {
  return std::make_unique<pg_template_repository>(db);
}

} // namespace orch::persistence
