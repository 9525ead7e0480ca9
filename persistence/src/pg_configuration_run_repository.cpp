#include <chrono>
#include <cstdint>
#include <string>

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>

#include "orch/errc.hpp"
#include "orch/persistence/configuration_run_repository.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

#define ORCH_RUN_COLUMNS                                                                           \
  "id::text, deployment_id::text, playbook, inventory::text, extra_vars::text, status, "           \
  "hosts::text, failed_task, (extract(epoch FROM started_at) * 1000000)::bigint, "                 \
  "(extract(epoch FROM finished_at) * 1000000)::bigint"

constexpr auto start_sql
  = "INSERT INTO configuration_runs (id, deployment_id, playbook, inventory, extra_vars, "
    "started_at) VALUES ($1::uuid, $2::uuid, $3, $4::jsonb, $5::jsonb, clock_timestamp()) "
    "RETURNING " ORCH_RUN_COLUMNS ", ''";

constexpr auto finish_sql
  = "UPDATE configuration_runs SET status = $2, hosts = $3::jsonb, failed_task = $4, output = $5, "
    "finished_at = clock_timestamp() WHERE id = $1::uuid AND status = 'running' "
    "RETURNING " ORCH_RUN_COLUMNS ", output";

constexpr auto exists_sql = "SELECT EXISTS (SELECT 1 FROM configuration_runs WHERE id = $1::uuid)";

constexpr auto list_sql = "SELECT " ORCH_RUN_COLUMNS ", '', count(*) OVER () "
                          "FROM configuration_runs WHERE deployment_id = $1::uuid "
                          "ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3";

constexpr auto count_sql = "SELECT count(*) FROM configuration_runs WHERE deployment_id = $1::uuid";

constexpr auto get_sql = "SELECT " ORCH_RUN_COLUMNS ", output FROM configuration_runs "
                         "WHERE deployment_id = $1::uuid AND id = $2::uuid";

constexpr auto running_sql = "SELECT " ORCH_RUN_COLUMNS ", output FROM configuration_runs "
                             "WHERE deployment_id = $1::uuid AND status = 'running'";

#undef ORCH_RUN_COLUMNS

timestamp from_micros(int64_t micros) {
  return timestamp{std::chrono::microseconds{micros}};
}

caf::expected<configuration_run> read_row(const pqxx::row& row) {
  auto id = uuid::parse(row[0].as<std::string>());
  auto deployment = uuid::parse(row[1].as<std::string>());
  auto inventory = ansible::parse_inventory(row[3].as<std::string>());
  auto status = parse_operation_status(row[5].as<std::string>());
  auto hosts = ansible::parse_host_summaries(row[6].as<std::string>());
  if (!id || !deployment || !inventory || !status || !hosts)
    return make_error(errc::internal, "stored configuration run has an unreadable column");
  configuration_run run;
  run.id = *id;
  run.deployment_id = *deployment;
  run.playbook = row[2].as<std::string>();
  run.inventory = std::move(*inventory);
  run.extra_vars = row[4].as<std::string>();
  run.status = *status;
  run.hosts = std::move(*hosts);
  run.failed_task = row[7].as<std::string>();
  run.started_at = from_micros(row[8].as<int64_t>());
  if (!row[9].is_null()) run.finished_at = from_micros(row[9].as<int64_t>());
  run.output = row[10].as<std::string>();
  return run;
}

class pg_configuration_run_repository : public configuration_run_repository {
public:
  explicit pg_configuration_run_repository(pool& db) : db_(db) {
    // nop
  }

  caf::expected<configuration_run> start(const configuration_run& run) override {
    return with_connection(
      db_, "configuration_run_start",
      [&](pqxx::connection& conn) -> caf::expected<configuration_run> {
        try {
          pqxx::work tx{conn};
          auto res = tx.exec_params(start_sql, to_string(run.id), to_string(run.deployment_id),
                                    run.playbook, ansible::to_json(run.inventory), run.extra_vars);
          auto stored = read_row(res.at(0));
          if (stored) tx.commit();
          return stored;
        } catch (const pqxx::unique_violation&) {
          return make_error(errc::conflict, "a configuration run is already running");
        } catch (const pqxx::foreign_key_violation&) {
          return make_error(errc::not_found, "no deployment " + to_string(run.deployment_id));
        }
      });
  }

  caf::expected<configuration_run> finish(const configuration_run& run) override {
    if (run.status == operation_status::running)
      return make_error(errc::invalid_spec, "a finished run needs a final status");
    auto output = run.output.substr(0, max_configuration_output);
    return with_connection(
      db_, "configuration_run_finish",
      [&](pqxx::connection& conn) -> caf::expected<configuration_run> {
        pqxx::work tx{conn};
        auto res = tx.exec_params(finish_sql, to_string(run.id), to_string(run.status),
                                  ansible::to_json(run.hosts), run.failed_task, output);
        if (res.empty()) {
          if (tx.exec_params(exists_sql, to_string(run.id))[0][0].as<bool>())
            return make_error(errc::conflict,
                              "configuration run " + to_string(run.id) + " is over");
          return make_error(errc::not_found, "no configuration run " + to_string(run.id));
        }
        auto stored = read_row(res[0]);
        if (stored) tx.commit();
        return stored;
      });
  }

  caf::expected<configuration_run_page> list(const uuid& deployment, int limit,
                                             int offset) override {
    return with_connection(
      db_, "configuration_run_list",
      [&](pqxx::connection& conn) -> caf::expected<configuration_run_page> {
        pqxx::read_transaction tx{conn};
        configuration_run_page page;
        auto res = tx.exec_params(list_sql, to_string(deployment), limit, offset);
        for (const auto& row : res) {
          auto run = read_row(row);
          if (!run) return std::move(run.error());
          page.items.push_back(std::move(*run));
          page.total = row[11].as<int64_t>();
        }
        // An offset past the end returns no rows, and so no window count.
        if (res.empty())
          page.total = tx.exec_params(count_sql, to_string(deployment))[0][0].as<int64_t>();
        return page;
      });
  }

  caf::expected<configuration_run> get(const uuid& deployment, const uuid& id) override {
    return with_connection(
      db_, "configuration_run_get",
      [&](pqxx::connection& conn) -> caf::expected<configuration_run> {
        pqxx::read_transaction tx{conn};
        auto res = tx.exec_params(get_sql, to_string(deployment), to_string(id));
        if (res.empty())
          return make_error(errc::not_found, "no configuration run " + to_string(id));
        return read_row(res[0]);
      });
  }

  caf::expected<std::optional<configuration_run>> running(const uuid& deployment) override {
    return with_connection(
      db_, "configuration_run_running",
      [&](pqxx::connection& conn) -> caf::expected<std::optional<configuration_run>> {
        pqxx::read_transaction tx{conn};
        auto res = tx.exec_params(running_sql, to_string(deployment));
        if (res.empty()) return std::optional<configuration_run>{};
        auto run = read_row(res[0]);
        if (!run) return std::move(run.error());
        return std::optional<configuration_run>{std::move(*run)};
      });
  }

private:
  pool& db_;
};

} // namespace

std::unique_ptr<configuration_run_repository> make_pg_configuration_run_repository(pool& db) {
  return std::make_unique<pg_configuration_run_repository>(db);
}

} // namespace orch::persistence
