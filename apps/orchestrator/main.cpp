// The orchestrator executable: reads the environment (and .env), builds loggers and metrics,
// wires the concrete adapters, and serves until SIGTERM or SIGINT.

#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <unistd.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <caf/all.hpp>

#include "orch/actors/engine.hpp"
#include "orch/actors/orphan_finder.hpp"
#include "orch/cluster/membership.hpp"
#include "orch/config.hpp"
#include "orch/errc.hpp"
#include "orch/http/api_routes.hpp"
#include "orch/http/blocking_pool.hpp"
#include "orch/http/client_transport.hpp"
#include "orch/http/cluster_routes.hpp"
#include "orch/http/event_feed.hpp"
#include "orch/http/fleet_metrics.hpp"
#include "orch/http/gateway.hpp"
#include "orch/http/openstack_metrics.hpp"
#include "orch/http/problem.hpp"
#include "orch/http/server.hpp"
#include "orch/http/ui_routes.hpp"
#include "orch/logging.hpp"
#include "orch/persistence/api_key_repository.hpp"
#include "orch/persistence/cached_deployment_repository.hpp"
#include "orch/persistence/cloud_repository.hpp"
#include "orch/persistence/cluster_repository.hpp"
#include "orch/persistence/listener.hpp"
#include "orch/persistence/migrate.hpp"
#include "orch/persistence/pg_deployment_repository.hpp"
#include "orch/persistence/pg_template_repository.hpp"
#include "orch/persistence/pool.hpp"
#include "orch/secret_keyring.hpp"
#include "orch/uuid.hpp"

#include "api_keys.hpp"
#include "clouds.hpp"

extern char** environ;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

constexpr const char* usage_text = R"(usage: orchestrator <command>

commands:
  serve     apply pending database migrations, then serve the REST API until SIGTERM/SIGINT
  migrate   apply pending database migrations and exit
  keys      manage API keys stored in the database (orchestrator keys help)
  clouds    manage OpenStack regions stored in the database (orchestrator clouds help)
  version   print the version
  help      this text

Settings come from the environment and from .env in the working directory (the environment
wins). See README.md, "Configuration".
)";

// The process environment over the settings of ./.env: the environment wins, as with every
// twelve-factor tool.
orch::env_map read_environment(std::vector<std::string>& errors) {
  orch::env_map env;
  if (std::ifstream in{".env"}; in) {
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> dotenv_errors;
    env = orch::parse_dotenv(text.str(), dotenv_errors);
    for (auto& e : dotenv_errors) errors.push_back(".env: " + e);
  }
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv{*e};
    auto eq = kv.find('=');
    if (eq != std::string_view::npos)
      env[std::string{kv.substr(0, eq)}] = std::string{kv.substr(eq + 1)};
  }
  return env;
}

caf::expected<orch::config> load_config(orch::config_use use) {
  std::vector<std::string> errors;
  auto env = read_environment(errors);
  if (!errors.empty()) {
    std::string line;
    for (auto& e : errors) line += (line.empty() ? "" : "; ") + e;
    return orch::make_error(orch::errc::invalid_config, line);
  }
  return orch::parse_config(env, use);
}

void setup_logging(const orch::config& cfg) {
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  orch::configure_logging(cfg.log, orch::secrets_of(cfg), sink);
}

orch::persistence::pool_config pool_settings(const orch::config& cfg) {
  orch::persistence::pool_config result;
  result.url = cfg.database.url;
  result.size = cfg.database.pool_size;
  result.connect_timeout = cfg.database.connect_timeout;
  return result;
}

// Migrates, waiting for the database for a while: at boot, PostgreSQL often comes up after us.
caf::expected<orch::persistence::migration_report>
migrate_when_reachable(orch::persistence::pool& db, std::chrono::seconds patience) {
  auto log = orch::logger("orch.app");
  auto deadline = std::chrono::steady_clock::now() + patience;
  auto delay = std::chrono::milliseconds{250};
  for (;;) {
    auto report = orch::persistence::migrate(db);
    if (report || !orch::is(report.error(), orch::errc::store_unavailable)
        || std::chrono::steady_clock::now() + delay > deadline)
      return report;
    log->warn("database not reachable yet ({}); retrying in {} ms",
              orch::error_detail(report.error()), delay.count());
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds{4'000});
  }
}

int run_migrate() {
  auto cfg = load_config(orch::config_use::migrate);
  if (!cfg) {
    std::cerr << "orchestrator: invalid configuration: " << orch::error_detail(cfg.error()) << '\n';
    return exit_usage;
  }
  setup_logging(*cfg);
  auto log = orch::logger("orch.app");
  orch::persistence::pool db{pool_settings(*cfg)};
  auto report = migrate_when_reachable(db, std::chrono::seconds{30});
  if (!report) {
    log->error("migration failed: {} ({})",
               to_string(static_cast<orch::errc>(report.error().code())),
               orch::error_detail(report.error()));
    return exit_failure;
  }
  log->info("database schema at version {} ({} migration(s) applied)", report->schema_version,
            report->applied.size());
  return exit_ok;
}

int run_keys(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    orch::app::print_keys_usage(std::cout);
    return exit_ok;
  }
  auto cfg = load_config(orch::config_use::migrate);
  if (!cfg) {
    std::cerr << "orchestrator: invalid configuration: " << orch::error_detail(cfg.error()) << '\n';
    return exit_usage;
  }
  // Logs go to stderr: stdout carries the new key alone, for scripts.
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  orch::configure_logging(cfg->log, orch::secrets_of(*cfg), sink);
  orch::persistence::pool db{pool_settings(*cfg)};
  // The table comes with the schema: a fresh database gets it here, as `serve` would.
  auto report = migrate_when_reachable(db, std::chrono::seconds{30});
  if (!report) {
    std::cerr << "orchestrator keys: database not ready: " << orch::error_detail(report.error())
              << '\n';
    return exit_failure;
  }
  auto repo = orch::persistence::make_pg_api_key_repository(db);
  return orch::app::run_keys_command(*repo, args, std::cout, std::cerr);
}

int run_clouds(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    orch::app::print_clouds_usage(std::cout);
    return exit_ok;
  }
  auto cfg = load_config(orch::config_use::clouds);
  if (!cfg) {
    std::cerr << "orchestrator: invalid configuration: " << orch::error_detail(cfg.error()) << '\n';
    return exit_usage;
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  orch::configure_logging(cfg->log, orch::secrets_of(*cfg), sink);
  auto keys = orch::secret_keyring::make(cfg->secret_key, cfg->previous_secret_keys);
  if (!keys) {
    std::cerr << "orchestrator: invalid configuration: " << orch::error_detail(keys.error())
              << '\n';
    return exit_usage;
  }
  orch::persistence::pool db{pool_settings(*cfg)};
  auto report = migrate_when_reachable(db, std::chrono::seconds{30});
  if (!report) {
    std::cerr << "orchestrator clouds: database not ready: " << orch::error_detail(report.error())
              << '\n';
    return exit_failure;
  }
  auto repo = orch::persistence::make_pg_cloud_repository(db);
  return orch::app::run_clouds_command(*repo, *keys, args, std::cin, std::cout, std::cerr);
}

// The regions of the `clouds` table, opened, checked against the region OPENSTACK_* defines.
// The environment's region stays the default; a stored region of the same name is an error,
// unless OPENSTACK_AUTH_URL is unset (the environment then defines no cloud to clash with).
caf::expected<std::vector<orch::app::opened_cloud>> load_stored_clouds(orch::persistence::pool& db,
                                                                       const orch::config& cfg) {
  auto keys = orch::secret_keyring::make(cfg.secret_key, cfg.previous_secret_keys);
  if (!keys) return std::move(keys.error());
  auto repo = orch::persistence::make_pg_cloud_repository(db);
  auto clouds = orch::app::open_stored_clouds(*repo, *keys);
  if (!clouds) return clouds;
  for (const auto& c : *clouds)
    if (c.region == cfg.openstack.region && !cfg.openstack.auth_url.empty())
      return orch::make_error(orch::errc::invalid_config,
                              "cloud region '" + c.region
                                + "' is defined both by OPENSTACK_* and in the clouds table; "
                                  "remove one (orchestrator clouds remove) or rename "
                                  "OPENSTACK_REGION");
  return clouds;
}

// `NODE_ID`, else the host name and the API port: stable across restarts of the same node, so
// that a restarted node takes its own leases back at once, and distinct between nodes of one
// host. Characters NODE_ID does not allow become '-'.
std::string node_id_of(const orch::config& cfg) {
  if (!cfg.cluster.node_id.empty()) return cfg.cluster.node_id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "node");
  std::string id = std::string{host} + "-" + std::to_string(cfg.http.port);
  for (auto& c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '-';
  return id.substr(0, 64);
}

// Blocks SIGINT/SIGTERM in every thread (threads inherit the mask) so that only the main
// thread's sigwait receives them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int run_serve() {
  auto cfg = load_config(orch::config_use::serve);
  if (!cfg) {
    std::cerr << "orchestrator: invalid configuration: " << orch::error_detail(cfg.error()) << '\n';
    return exit_usage;
  }
  auto stop_signals = block_stop_signals();
  setup_logging(*cfg);
  auto log = orch::logger("orch.app");

  auto registry = std::make_shared<prometheus::Registry>();
  auto& db_durations = prometheus::BuildHistogram()
                         .Name("database_query_duration_seconds")
                         .Help("Time spent in PostgreSQL per repository operation")
                         .Register(*registry);
  const prometheus::Histogram::BucketBoundaries db_buckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0};
  std::mutex db_metric_mutex;
  std::map<std::string, prometheus::Histogram*, std::less<>> db_histograms;
  auto observe_query = [&](std::string_view op, double seconds) {
    prometheus::Histogram* h = nullptr;
    {
      std::lock_guard guard{db_metric_mutex};
      auto i = db_histograms.find(op);
      if (i == db_histograms.end())
        i = db_histograms
              .emplace(std::string{op},
                       &db_durations.Add({{"operation", std::string{op}}}, db_buckets))
              .first;
      h = i->second;
    }
    h->Observe(seconds);
  };
  auto& pool_sizes = prometheus::BuildGauge()
                       .Name("database_pool_size")
                       .Help("Connections a database pool may open")
                       .Register(*registry);
  auto& pool_in_use = prometheus::BuildGauge()
                        .Name("database_pool_connections_in_use")
                        .Help("Connections of a database pool leased right now")
                        .Register(*registry);
  auto& pool_waiting = prometheus::BuildGauge()
                         .Name("database_pool_waiting")
                         .Help("Callers waiting for a connection of a database pool")
                         .Register(*registry);
  auto& pool_timeouts = prometheus::BuildCounter()
                          .Name("database_pool_timeouts_total")
                          .Help("Callers that got no connection of a database pool in time")
                          .Register(*registry);
  // Engine writes and API reads have pools of their own, so that no amount of API traffic
  // (slow listings, event streams) makes a commit wait for a connection.
  auto usage_metrics = [&](const std::string& name, int size) -> orch::persistence::usage_observer {
    pool_sizes.Add({{"pool", name}}).Set(size);
    auto& in_use = pool_in_use.Add({{"pool", name}});
    auto& waiting = pool_waiting.Add({{"pool", name}});
    auto& timeouts = pool_timeouts.Add({{"pool", name}});
    return [&in_use, &waiting, &timeouts](const orch::persistence::pool_usage& u) {
      in_use.Set(u.in_use);
      waiting.Set(u.waiting);
      if (u.timed_out) timeouts.Increment();
    };
  };
  orch::persistence::pool db{pool_settings(*cfg), observe_query,
                             usage_metrics("engine", cfg->database.pool_size)};
  auto api_settings = pool_settings(*cfg);
  api_settings.size = cfg->database.api_pool_size;
  orch::persistence::pool api_db{api_settings, observe_query,
                                 usage_metrics("api", cfg->database.api_pool_size)};

  auto report = migrate_when_reachable(db, std::chrono::seconds{60});
  if (!report) {
    log->error("migration failed: {}", orch::error_detail(report.error()));
    return exit_failure;
  }
  log->info("database schema at version {} ({} migration(s) applied)", report->schema_version,
            report->applied.size());
  auto installation = cfg->installation_id;
  if (installation.empty()) {
    auto stored = orch::persistence::installation_id(db);
    if (!stored) {
      log->error("cannot read the installation id: {}", orch::error_detail(stored.error()));
      return exit_failure;
    }
    installation = std::move(*stored);
  }
  log->info("installation {} (resources are tagged orch-installation={})", installation,
            installation);
  auto stored_clouds = load_stored_clouds(db, *cfg);
  if (!stored_clouds) {
    log->error("cannot load the stored cloud regions: {}",
               orch::error_detail(stored_clouds.error()));
    return orch::is(stored_clouds.error(), orch::errc::store_unavailable) ? exit_failure
                                                                          : exit_usage;
  }
  {
    // The opened secrets join the redactor before any thread that could log them exists.
    auto secrets = orch::secrets_of(*cfg);
    for (const auto& c : *stored_clouds) {
      secrets.push_back(c.client.credentials.password);
      secrets.push_back(c.client.credentials.application_credential_secret);
    }
    std::erase_if(secrets, [](const std::string& x) { return x.empty(); });
    orch::configure_logging(cfg->log, std::move(secrets),
                            std::make_shared<spdlog::sinks::stdout_sink_mt>());
  }

  auto templates = orch::persistence::make_pg_template_repository(api_db);
  auto engine_store = orch::persistence::make_pg_deployment_repository(db);
  auto api_store = orch::persistence::make_pg_deployment_repository(api_db);
  // The engine writes through one, the routes and the orphan finder read (and create) through
  // the other; they share one cache, so a copy it keeps never outlives a write made on this
  // node, whichever pool made it.
  auto deployment_cache = orch::persistence::make_deployment_cache();
  auto engine_deployments
    = orch::persistence::make_cached_deployment_repository(*engine_store, deployment_cache);
  auto deployments
    = orch::persistence::make_cached_deployment_repository(*api_store, deployment_cache);
  // The API's repository calls block on libpqxx: they run here, never on an I/O thread. One
  // thread per connection of the API pool keeps every one busy without queueing on the pool.
  orch::http::blocking_pool blocking{static_cast<std::size_t>(cfg->database.api_pool_size)};
  // One source of live events for every SSE stream of this node: a notification per stored
  // batch of events (migration 0007) makes one read for all streams of that deployment.
  orch::http::event_feed_metrics feed_metrics{*registry};
  orch::http::event_feed_config feed_cfg;
  feed_cfg.max_subscribers = cfg->http.sse_max_subscribers;
  orch::http::event_feed feed{
    feed_cfg, *deployments, [&blocking](std::function<void()> fn) { blocking.run(std::move(fn)); },
    feed_metrics};
  feed.start_ticker();
  orch::persistence::listener_config listener_cfg;
  listener_cfg.url = cfg->database.url;
  listener_cfg.channel = "deployment_events";
  listener_cfg.connect_timeout = cfg->database.connect_timeout;
  orch::persistence::listener event_listener{listener_cfg,
                                             [&feed](std::string_view payload) {
                                               if (auto id = orch::uuid::parse(payload))
                                                 feed.notify(*id);
                                             },
                                             [&feed] { feed.notify_all(); }};

  // The actor system outlives everything that sends to it; its scheduler gets one thread per
  // core (caf-0.17 notes, section 12: `sharing` wakes up faster on small machines).
  caf::actor_system_config caf_cfg;
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  caf_cfg.add_error_category(caf::atom("orch"),
                             [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                               return "orch::" + to_string(static_cast<orch::errc>(code))
                                      + (ctx.empty() ? "" : " " + caf::to_string(ctx));
                             });
  caf::actor_system actor_sys{caf_cfg};
  // The OpenStack client is not thread-safe: it and its transport run on one io thread.
  orch::http::openstack_metrics os_metrics{*registry};
  boost::asio::io_context cloud_io{1};
  auto cloud_work = boost::asio::make_work_guard(cloud_io);
  auto transport = orch::http::client_transport::make(
    cloud_io.get_executor(), orch::http::make_transport_config(cfg->openstack));
  if (!transport) {
    log->error("invalid OpenStack transport settings: {}", orch::error_detail(transport.error()));
    return exit_usage;
  }
  orch::actors::openstack_commands_config cloud_cfg;
  cloud_cfg.client = orch::openstack::make_client_config(cfg->openstack);
  cloud_cfg.boot_timeout = cfg->deployment.vm_boot_timeout;
  cloud_cfg.volume_timeout = cfg->deployment.volume_timeout;
  cloud_cfg.delete_timeout = cfg->deployment.delete_timeout;
  // A deployment is a chain of waits (boot, then attach): each may end up to one poll interval
  // late, and with the doubling alone a 2 s step was noticed up to 0.5 s late. Bounded to 5% of
  // each wait's age (at least 100 ms), a 100-VM deployment takes within ~10% of its critical
  // path (bench/README.md, engine.latency) for one or two more listings per second early on.
  cloud_cfg.poller.fast_interval = std::chrono::milliseconds{100};
  cloud_cfg.poller.max_lag_fraction = 0.05;
  auto post_to_cloud_io
    = [&cloud_io](std::function<void()> fn) { boost::asio::post(cloud_io, std::move(fn)); };
  std::map<std::string, std::shared_ptr<orch::actors::cloud_commands>> clouds;
  std::vector<std::string> regions;
  bool env_region_stored = false;
  for (const auto& c : *stored_clouds) env_region_stored |= c.region == cfg->openstack.region;
  if (!env_region_stored) {
    clouds[cfg->openstack.region] = orch::actors::make_openstack_commands(
      cloud_cfg, **transport, **transport, **transport, post_to_cloud_io, &os_metrics);
    regions.push_back(cfg->openstack.region);
  }
  // One client stack per stored region, on the same io thread; the transports live as long as
  // this function, like the default one.
  std::vector<std::unique_ptr<orch::http::client_transport>> region_transports;
  for (auto& c : *stored_clouds) {
    auto region_transport
      = orch::http::client_transport::make(cloud_io.get_executor(), c.transport);
    if (!region_transport) {
      log->error("cloud region '{}': invalid transport settings: {}", c.region,
                 orch::error_detail(region_transport.error()));
      return exit_usage;
    }
    auto region_cfg = cloud_cfg;
    region_cfg.client = c.client;
    auto& t = **region_transport;
    clouds[c.region]
      = orch::actors::make_openstack_commands(region_cfg, t, t, t, post_to_cloud_io, &os_metrics);
    regions.push_back(c.region);
    region_transports.push_back(std::move(*region_transport));
    log->info("cloud region '{}' from the clouds table ({})", c.region,
              c.client.credentials.auth_url);
  }
  // Same io thread as the commands (the client is not thread-safe); repository reads block, so
  // they go to the blocking pool.
  orch::actors::openstack_orphan_finder_config orphans_cfg;
  orphans_cfg.client = cloud_cfg.client;
  orphans_cfg.installation_id = installation;
  auto orphans = orch::actors::make_openstack_orphan_finder(
    orphans_cfg, **transport, **transport, **transport,
    [&cloud_io](std::function<void()> fn) { boost::asio::post(cloud_io, std::move(fn)); },
    [&blocking](std::function<void()> fn) { blocking.run(std::move(fn)); }, *deployments,
    &os_metrics);
  // Every cloud call and callback runs here. A bug in one callback must not take the process
  // down: the exception is logged and the loop goes on; the command whose callback threw never
  // answers, and its deployment's watchdog sends it again.
  std::thread cloud_thread{[&cloud_io] {
    for (;;) {
      try {
        cloud_io.run();
        return;
      } catch (const std::exception& e) {
        orch::logger("orch.app")->error("uncaught exception on the cloud thread: {}", e.what());
      } catch (...) {
        orch::logger("orch.app")->error("uncaught exception on the cloud thread");
      }
    }
  }};
  orch::actors::actor_metrics actor_metrics{*registry};
  orch::actors::engine_config engine_cfg;
  engine_cfg.store_workers = static_cast<std::size_t>(cfg->database.pool_size);
  engine_cfg.idle_timeout = cfg->deployment.idle_timeout;
  engine_cfg.max_active_deployments = static_cast<std::size_t>(cfg->deployment.max_active);
  engine_cfg.installation_id = installation;
  // The watchdog fires only after the cloud side's own deadline has had its chance to answer.
  constexpr std::chrono::milliseconds grace{60'000};
  engine_cfg.deadlines.create = cloud_cfg.transient_retry_deadline + grace;
  engine_cfg.deadlines.wait_server = cloud_cfg.boot_timeout + grace;
  engine_cfg.deadlines.volume = cloud_cfg.volume_timeout + grace;
  engine_cfg.deadlines.remove
    = cloud_cfg.delete_timeout + cloud_cfg.conflict_retries * cloud_cfg.conflict_delay + grace;
  // Configuration runs need a playbook directory; without one, configure answers 503. The
  // engine records runs through its pool, the routes read them through the API's.
  auto configuration_runs = orch::persistence::make_pg_configuration_run_repository(db);
  auto api_configuration_runs = orch::persistence::make_pg_configuration_run_repository(api_db);
  std::shared_ptr<orch::actors::playbook_runner> runner;
  if (!cfg->ansible.playbook_dir.empty()) {
    orch::actors::ansible_runner_config runner_cfg;
    runner_cfg.playbook_dir = cfg->ansible.playbook_dir;
    runner_cfg.ssh_key_path = cfg->ansible.ssh_key_path;
    runner_cfg.verbosity = cfg->ansible.verbosity;
    runner_cfg.timeout = cfg->ansible.timeout;
    runner_cfg.work_dir = std::filesystem::temp_directory_path().string(); // TMPDIR, else /tmp
    runner = orch::actors::make_ansible_runner(runner_cfg);
  }
  auto node_id = node_id_of(*cfg);
  engine_cfg.lease = {node_id, cfg->cluster.lease};
  log->info("node {} (heartbeat {} ms, lease {} ms)", node_id, cfg->cluster.heartbeat.count(),
            cfg->cluster.lease.count());
  orch::actors::engine_deps deps{*engine_deployments, clouds, &actor_metrics};
  if (runner) {
    deps.configuration_runs = configuration_runs.get();
    deps.runner = runner;
  }
  auto engine = orch::actors::spawn_deployment_engine(actor_sys, engine_cfg, std::move(deps));
  // Heartbeats and lease renewals go through the engine's pool, next to the fenced writes.
  auto cluster_store = orch::persistence::make_pg_cluster_repository(db);
  orch::cluster::membership_config member_cfg;
  member_cfg.node_id = node_id;
  member_cfg.api_address = cfg->http.host + ":" + std::to_string(cfg->http.port);
  member_cfg.timing = {cfg->cluster.heartbeat, cfg->cluster.lease};
  orch::cluster::membership member{member_cfg, *cluster_store, *engine, registry.get()};
  // Shutdown order (caf-0.17 notes, section 11): HTTP drained first, then the engine and every
  // actor, then the cloud's io thread.
  auto stop_actors = [&] {
    // No heartbeat may ask an engine that is going away.
    member.stop();
    engine.reset();
    actor_sys.await_all_actors_done();
    // Stops and waits for runs still going (their actors are gone: nobody records them; a
    // restart marks them interrupted).
    runner.reset();
    cloud_work.reset();
    cloud_io.stop();
    if (cloud_thread.joinable()) cloud_thread.join();
  };

  orch::http::gateway_config gw_cfg;
  gw_cfg.keys = cfg->http.api_keys;
  gw_cfg.cors_origins = cfg->http.cors_origins;
  gw_cfg.rate_limit_per_minute = cfg->http.rate_limit_per_minute;
  gw_cfg.auth_failures_per_minute = cfg->http.auth_failures_per_minute;
  orch::http::gateway gw{gw_cfg, *registry};
  // Keys stored with `orchestrator keys` join API_KEYS, and changes show up while serving.
  auto stored_keys = orch::persistence::make_pg_api_key_repository(api_db);
  orch::app::stored_key_refresher key_refresher{
    *stored_keys, [&gw](const auto& keys) { gw.set_stored_keys(keys); }, std::chrono::seconds{5}};
  // Every node samples the same table; dashboards take the max over nodes.
  orch::http::fleet_metrics fleet{*registry, *deployments, std::chrono::seconds{15}, [] {
                                    return std::chrono::time_point_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now());
                                  }};
  orch::http::add_api_routes(gw, {*templates, blocking, *deployments, engine.get(), regions,
                                  orphans.get(), cfg->deployment.limits, &feed,
                                  api_configuration_runs.get()});
  orch::http::add_ui_routes(gw);
  orch::http::add_cluster_routes(gw, blocking, [&member] { return member.describe(); });
  gw.add_readiness_check("openstack", os_metrics.readiness_check());
  gw.add_readiness_check("cluster", [&member, &blocking](auto done) {
    // A node whose last heartbeat failed tries one more before it answers (it may block).
    blocking.run([&member, done] {
      auto health = member.fresh_readiness(std::chrono::seconds{2});
      done(health.ok, health.detail);
    });
  });
  gw.add_readiness_check("database", [&api_db, &blocking](auto done) {
    blocking.run([&api_db, done] {
      auto err = api_db.ping();
      done(!err, err ? "unavailable: " + orch::error_detail(err) : "ok");
    });
  });

  orch::http::server_config srv_cfg;
  srv_cfg.host = cfg->http.host;
  srv_cfg.port = cfg->http.port;
  srv_cfg.workers = cfg->http.workers;
  srv_cfg.max_body_bytes = cfg->http.max_body_bytes;
  srv_cfg.max_header_bytes = cfg->http.max_header_bytes;
  srv_cfg.max_connections = cfg->http.max_connections;
  srv_cfg.on_connection_refused = gw.connection_refused_counter();
  srv_cfg.header_timeout = cfg->http.header_timeout;
  srv_cfg.body_timeout = cfg->http.body_timeout;
  srv_cfg.idle_timeout = cfg->http.idle_timeout;
  srv_cfg.error_response = orch::http::make_server_error_response;
  orch::http::server srv{srv_cfg, gw.as_handler()};
  member.start();
  try {
    srv.start();
  } catch (const std::exception& e) {
    log->error("cannot listen on {}:{}: {}", srv_cfg.host, srv_cfg.port, e.what());
    stop_actors();
    return exit_failure;
  }
  log->info("listening on http://{}:{}", srv_cfg.host, srv.port());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log->info("received {}, draining in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  srv.stop(std::chrono::seconds{10});
  // Handler work still queued after the drain may call the engine (DELETE): run it out first.
  blocking.stop();
  stop_actors();
  // Only now that none of this node's actors can act any more: the others take over at once.
  (void)member.leave();
  log->info("stopped");
  spdlog::shutdown();
  return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  std::string command = argc > 1 ? argv[1] : "help";
  if (command == "keys") return run_keys(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "clouds") return run_clouds(std::vector<std::string>(argv + 2, argv + argc));
  if (argc > 2) {
    std::cerr << "orchestrator: unexpected argument '" << argv[2] << "'\n" << usage_text;
    return exit_usage;
  }
  if (command == "serve") return run_serve();
  if (command == "migrate") return run_migrate();
  if (command == "version" || command == "--version") {
    std::cout << "orchestrator " << ORCH_VERSION << '\n';
    return exit_ok;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << usage_text;
    return exit_ok;
  }
  std::cerr << "orchestrator: unknown command '" << command << "'\n" << usage_text;
  return exit_usage;
}
