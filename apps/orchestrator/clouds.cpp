#include "clouds.hpp"

#include <fstream>
#include <iomanip>
#include <istream>
#include <iterator>
#include <map>
#include <ostream>
#include <sstream>

#include "orch/errc.hpp"

namespace orch::app {

namespace {

constexpr const char* clouds_usage = R"(usage: orchestrator clouds <command>

commands:
  add REGION --auth-url URL --username USER --project PROJECT [options]
  add REGION --auth-url URL --app-credential-id ID [options]
        store a region; the password (or application credential secret) is read from stdin,
        or from --password-file PATH, never from the command line
        options: --user-domain NAME (Default)  --project-domain NAME (Default)
                 --ca-file PATH (PEM, stored with the region)
                 --allowlist URL[,URL…] (endpoints the client may call; default the auth URL's host)
                 --replace (overwrite an existing region)
  list                  every region: auth URL, user or credential, project, key version, created
                        (never a secret)
  remove REGION         delete a region no live deployment uses
  reencrypt             re-seal every stored secret with the current SECRET_KEY

Secrets are sealed with a key derived from SECRET_KEY; after changing SECRET_KEY, list the old
key in SECRET_KEY_PREVIOUS and run `orchestrator clouds reencrypt`. Running servers pick stored
regions up at their next start.
)";

// The associated data every sealed secret is bound to: its row.
std::string associated_data(const std::string& region) {
  return "orch.clouds:" + region;
}

int refused(std::ostream& err, const caf::error& e) {
  err << "orchestrator clouds: " << error_detail(e) << '\n';
  return is(e, errc::invalid_spec) ? 2 : 1;
}

int usage_error(std::ostream& err, const std::string& why) {
  err << "orchestrator clouds: " << why << '\n';
  return 2;
}

bool is_http_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// A secret as a file or a pipe holds it: one trailing line break is not part of it.
std::string without_final_newline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> result;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, ',')) {
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) result.push_back(item.substr(first, last - first + 1));
  }
  return result;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream file{path, std::ios::binary};
  if (!file) return false;
  out.assign(std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{});
  return !file.bad();
}

int add_cloud(persistence::cloud_repository& repo, const secret_keyring& keys,
              const std::vector<std::string>& args, std::istream& in, std::ostream& out,
              std::ostream& err) {
  static const std::map<std::string, std::string> defaults{
    {"--auth-url", ""},    {"--username", ""},          {"--project", ""},
    {"--user-domain", ""}, {"--project-domain", ""},    {"--ca-file", ""},
    {"--allowlist", ""},   {"--app-credential-id", ""}, {"--password-file", ""}};
  if (args.size() < 2 || args[1].rfind("--", 0) == 0)
    return usage_error(err, "add needs a region name first");
  persistence::stored_cloud c;
  c.region = args[1];
  std::map<std::string, std::string> opts;
  bool replace = false;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--replace") {
      replace = true;
      continue;
    }
    if (args[i] == "--password" || args[i] == "--secret")
      return usage_error(err, args[i]
                                + " is not accepted: arguments show in `ps`; pipe the secret to "
                                  "stdin or use --password-file");
    if (defaults.count(args[i]) == 0) return usage_error(err, "unknown option '" + args[i] + "'");
    if (i + 1 >= args.size()) return usage_error(err, args[i] + " needs a value");
    if (opts.count(args[i]) != 0) return usage_error(err, args[i] + " is given twice");
    opts[args[i]] = args[i + 1];
    ++i;
  }
  auto opt = [&](const std::string& name) {
    auto i = opts.find(name);
    return i == opts.end() ? std::string{} : i->second;
  };
  c.auth_url = opt("--auth-url");
  c.username = opt("--username");
  c.application_credential_id = opt("--app-credential-id");
  c.project_name = opt("--project");
  if (opts.count("--user-domain") != 0) c.user_domain_name = opt("--user-domain");
  if (opts.count("--project-domain") != 0) c.project_domain_name = opt("--project-domain");
  if (!is_http_url(c.auth_url))
    return usage_error(err, "--auth-url must start with http:// or https://");
  if (c.username.empty() == c.application_credential_id.empty())
    return usage_error(err, "give either --username (password) or --app-credential-id");
  if (!c.username.empty() && c.project_name.empty())
    return usage_error(err, "--username needs --project");
  if (!c.username.empty() && (c.user_domain_name.empty() || c.project_domain_name.empty()))
    return usage_error(err, "--user-domain and --project-domain must not be empty");
  for (auto& entry : split_commas(opt("--allowlist"))) {
    if (!is_http_url(entry))
      return usage_error(err, "--allowlist entries must start with http:// or https:// (got '"
                                + entry + "')");
    c.endpoint_allowlist.push_back(entry);
  }
  if (auto path = opt("--ca-file"); !path.empty()) {
    if (!read_file(path, c.ca_certificate))
      return usage_error(err, "--ca-file " + path + " cannot be read");
    if (c.ca_certificate.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return usage_error(err, "--ca-file " + path + " holds no PEM certificate");
  }
  std::string secret;
  auto what
    = c.username.empty() ? std::string{"application credential secret"} : std::string{"password"};
  if (auto path = opt("--password-file"); !path.empty()) {
    if (!read_file(path, secret))
      return usage_error(err, "--password-file " + path + " cannot be read");
  } else {
    secret.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  }
  secret = without_final_newline(std::move(secret));
  if (secret.empty())
    return usage_error(err, "no " + what + ": pipe it to stdin or use --password-file");
  if (!replace) {
    auto existing = repo.get(c.region);
    if (existing)
      return usage_error(err, "region '" + c.region
                                + "' is already stored; add --replace to overwrite it");
    if (!is(existing.error(), errc::not_found)) return refused(err, existing.error());
  }
  auto sealed = keys.seal(secret, associated_data(c.region));
  std::fill(secret.begin(), secret.end(), '\0');
  if (!sealed) return refused(err, sealed.error());
  c.secret = std::move(*sealed);
  auto stored = repo.put(c);
  if (!stored) return refused(err, stored.error());
  out << "stored cloud region '" << stored->region << "' (" << stored->auth_url << ", key version "
      << stored->secret.key_version << "). Running servers use it after a restart.\n";
  return 0;
}

int list_clouds(persistence::cloud_repository& repo, std::ostream& out, std::ostream& err) {
  auto clouds = repo.list();
  if (!clouds) return refused(err, clouds.error());
  out << std::left << std::setw(20) << "REGION" << std::setw(44) << "AUTH URL" << std::setw(30)
      << "USER / APP CREDENTIAL" << std::setw(20) << "PROJECT" << std::setw(10) << "KEY"
      << "CREATED\n";
  for (const auto& c : *clouds) {
    auto who = c.username.empty() ? "app:" + c.application_credential_id : c.username;
    out << std::setw(20) << c.region << ' ' << std::setw(43) << c.auth_url << ' ' << std::setw(29)
        << who << ' ' << std::setw(19) << (c.project_name.empty() ? "-" : c.project_name) << ' '
        << std::setw(9) << c.secret.key_version << ' ' << to_rfc3339(c.created_at) << '\n';
  }
  return 0;
}

int reencrypt_clouds(persistence::cloud_repository& repo, const secret_keyring& keys,
                     std::ostream& out, std::ostream& err) {
  auto clouds = repo.list();
  if (!clouds) return refused(err, clouds.error());
  size_t resealed = 0;
  size_t current = 0;
  for (const auto& c : *clouds) {
    if (c.secret.key_version == keys.current_version()) {
      ++current;
      continue;
    }
    auto plain = keys.open(c.secret, associated_data(c.region));
    if (!plain) {
      err << "orchestrator clouds: region '" << c.region << "': " << error_detail(plain.error())
          << " (" << resealed << " region(s) re-sealed before this one)\n";
      return 1;
    }
    auto sealed = keys.seal(*plain, associated_data(c.region));
    std::fill(plain->begin(), plain->end(), '\0');
    if (!sealed) return refused(err, sealed.error());
    auto stored = repo.replace_secret(c.region, c.secret, *sealed);
    if (!stored) {
      err << "orchestrator clouds: region '" << c.region << "': " << error_detail(stored.error())
          << " (" << resealed << " region(s) re-sealed before this one)\n";
      return 1;
    }
    ++resealed;
  }
  out << "re-sealed " << resealed << " region(s) with key version " << keys.current_version()
      << "; " << current << " already used it\n";
  return 0;
}

} // namespace

void print_clouds_usage(std::ostream& out) {
  out << clouds_usage;
}

int run_clouds_command(persistence::cloud_repository& repo, const secret_keyring& keys,
                       const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                       std::ostream& err) {
  auto command = args.empty() ? std::string{"help"} : args[0];
  if (command == "help" || command == "--help" || command == "-h") {
    print_clouds_usage(out);
    return 0;
  }
  if (command == "add") return add_cloud(repo, keys, args, in, out, err);
  if (command == "list" && args.size() == 1) return list_clouds(repo, out, err);
  if (command == "remove" && args.size() == 2) {
    auto removed = repo.remove(args[1]);
    if (!removed) return refused(err, removed.error());
    out << "removed cloud region '" << removed->region << "'\n";
    return 0;
  }
  if (command == "reencrypt" && args.size() == 1) return reencrypt_clouds(repo, keys, out, err);
  err << "orchestrator clouds: unexpected arguments\n" << clouds_usage;
  return 2;
}

caf::expected<std::vector<opened_cloud>> open_stored_clouds(persistence::cloud_repository& repo,
                                                            const secret_keyring& keys) {
  auto clouds = repo.list();
  if (!clouds) return std::move(clouds.error());
  std::vector<opened_cloud> result;
  for (const auto& c : *clouds) {
    auto secret = keys.open(c.secret, associated_data(c.region));
    if (!secret)
      return make_error(errc::invalid_config,
                        "cloud region '" + c.region + "': " + error_detail(secret.error()));
    opened_cloud o;
    o.region = c.region;
    auto& creds = o.client.credentials;
    creds.auth_url = c.auth_url;
    if (c.application_credential_id.empty()) {
      creds.username = c.username;
      creds.password = std::move(*secret);
      creds.user_domain_name = c.user_domain_name;
      creds.project_name = c.project_name;
      creds.project_domain_name = c.project_domain_name;
    } else {
      creds.application_credential_id = c.application_credential_id;
      creds.application_credential_secret = std::move(*secret);
    }
    o.client.region = c.region;
    o.client.endpoint_allowlist = c.endpoint_allowlist;
    o.transport.ca_pem = c.ca_certificate;
    result.push_back(std::move(o));
  }
  return result;
}

} // namespace orch::app
