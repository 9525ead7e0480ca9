#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace orch::ctl {

/// Exit status of `orchctl` (docs/orchctl.md).
enum class exit_code : int {
  /// The request succeeded; with `--wait`, the operation succeeded.
  ok = 0,
  /// With `--wait` or `--follow`: the operation ended `failed` or `cancelled`.
  failed = 1,
  /// Bad command line or configuration: nothing was sent.
  usage = 2,
  /// The API answered an error, or could not be reached.
  api_error = 3,
};

/// One option a command accepts.
struct option_spec {
  /// Long name without dashes (`param`).
  std::string name;
  /// One-letter alias without the dash, or empty.
  std::string short_name;
  /// Placeholder of the value (`K=V`); empty for a switch.
  std::string value;
  /// May be given more than once.
  bool repeatable = false;
  std::string help;
};

/// One command: its words, positional arguments and options.
struct command_spec {
  /// The command words (`template apply`, `deploy`).
  std::string name;
  /// Placeholders of the positional arguments, all required.
  std::vector<std::string> positionals;
  std::vector<option_spec> options;
  /// Options of which one must be given (`template apply` needs `-f`).
  std::vector<std::string> required;
  std::string summary;
};

/// Every command `orchctl` knows, in the order `help` lists them.
const std::vector<command_spec>& commands();

/// Options every command accepts (`--url`, `--api-key`, `--config`, `-o`, `--help`).
const std::vector<option_spec>& global_options();

/// A command line parsed against `commands()`.
struct invocation {
  /// Name of the command (`template apply`); `help` when none was given.
  std::string command;
  std::vector<std::string> args;
  /// Values by long option name; a switch maps to `{""}`.
  std::map<std::string, std::vector<std::string>> options;
  /// `--help` was given: show the command's help and send nothing.
  bool help = false;

  /// Whether option `name` was given.
  bool has(const std::string& name) const { return options.count(name) > 0; }

  /// The last value of option `name`, if given.
  std::optional<std::string> value(const std::string& name) const;

  /// Every value of option `name`, in order.
  std::vector<std::string> values(const std::string& name) const;
};

/// Why a command line was refused; shown with the exit status `usage`.
struct usage_error {
  std::string message;
  /// The command whose help would help, if one was recognised.
  std::string command;
};

/// Parses `argv` without the program name. Pure.
std::variant<invocation, usage_error> parse_command_line(const std::vector<std::string>& argv);

/// The command named `name`, if any.
const command_spec* find_command(std::string_view name);

/// The overview `orchctl help` prints.
std::string general_help();

/// The help of one command.
std::string command_help(const command_spec& cmd);

/// A bash completion script for `orchctl` (`orchctl completion bash`).
std::string bash_completion();

/// A value of `--param k=v`: an integer when `v` is one, else the string.
using param_value = std::variant<long long, std::string>;

/// Parses `--param`/`--extra-var` values (`k=v`) into a map; an item without `=` or with an
/// empty key is a usage error naming it.
std::variant<std::map<std::string, param_value>, usage_error>
parse_key_values(const std::vector<std::string>& items, std::string_view option);

} // namespace orch::ctl
