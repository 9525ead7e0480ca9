#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace orch::ctl {

namespace {

option_spec wait_option(std::string what) {
  return {"wait", "", "", false, "follow the " + what + " live until it ends"};
}

option_spec param_option() {
  return {"param", "", "K=V", true, "parameter override (<group>_count, _flavor, _image)"};
}

std::vector<command_spec> make_commands() {
  return {
    {"template apply",
     {},
     {{"file", "f", "FILE", false, "template JSON file; created, or replaced by its name"}},
     {"file"},
     "create or replace a template from a file"},
    {"deploy",
     {"NAME"},
     {{"template", "t", "T", false, "stored template name or id"},
      param_option(),
      {"region", "", "REGION", false, "cloud region (default RegionOne)"},
      wait_option("deployment")},
     {"template"},
     "create a deployment"},
    {"get", {"ID"}, {}, {}, "show a deployment (ID or name)"},
    {"list",
     {},
     {{"status", "", "S", false, "only deployments with this status"},
      {"name", "", "PREFIX", false, "only names starting with PREFIX"},
      {"limit", "", "N", false, "at most N (1..500, default 50)"},
      {"include-deleted", "", "", false, "include DELETED deployments"}},
     {},
     "list deployments, newest first"},
    {"events",
     {"ID"},
     {{"follow", "f", "", false, "keep streaming until the running operation ends"}},
     {},
     "show a deployment's event history"},
    {"plan",
     {"ID"},
     {param_option()},
     {"param"},
     "show what an update would change, changing nothing"},
    {"update",
     {"ID"},
     {param_option(),
      {"if-match", "", "VERSION", false, "apply only if the deployment is still at VERSION"},
      wait_option("update")},
     {"param"},
     "change a deployment's parameters"},
    {"scale", {"ID", "GROUP", "N"}, {wait_option("scale")}, {}, "set the VM count of a group"},
    {"configure",
     {"ID", "PLAYBOOK"},
     {{"extra-var", "e", "K=V", true, "Ansible extra variable"}, wait_option("run")},
     {},
     "run an Ansible playbook on a deployment's VMs"},
    {"delete", {"ID"}, {wait_option("deletion")}, {}, "delete a deployment and its resources"},
    {"orphans",
     {},
     {{"cleanup", "", "", false, "delete them"}},
     {},
     "list cloud resources no live deployment owns"},
    {"completion", {"SHELL"}, {}, {}, "print a completion script (bash)"},
    {"version", {}, {}, {}, "print orchctl's version"},
    {"help", {}, {}, {}, "show this help, or a command's (help COMMAND)"},
  };
}

std::vector<option_spec> make_global_options() {
  return {
    {"url", "", "URL", false, "orchestrator base URL (ORCH_URL)"},
    {"api-key", "", "KEY", false, "API key (ORCH_API_KEY; prefer the variable or the config)"},
    {"config", "", "FILE", false, "config file (ORCH_CONFIG, ~/.config/orch/config)"},
    {"output", "o", "FORMAT", false, "table (default) or json"},
    {"help", "h", "", false, "show help"},
  };
}

const option_spec* find_option(const std::vector<option_spec>& xs, std::string_view name,
                               bool is_short) {
  auto i = std::find_if(xs.begin(), xs.end(), [&](const option_spec& x) {
    return is_short ? x.short_name == name : x.name == name;
  });
  return i == xs.end() ? nullptr : &*i;
}

std::string usage_line(const command_spec& cmd) {
  std::string out = "orchctl " + cmd.name;
  for (auto& p : cmd.positionals) out += " " + p;
  for (auto& o : cmd.options) {
    bool required = std::count(cmd.required.begin(), cmd.required.end(), o.name) > 0;
    std::string flag = o.short_name.empty() ? "--" + o.name : "-" + o.short_name;
    if (!o.value.empty()) flag += " " + o.value;
    if (o.repeatable) flag += "...";
    out += required ? " " + flag : " [" + flag + "]";
  }
  return out;
}

void append_options(std::ostringstream& out, const std::vector<option_spec>& xs) {
  for (auto& o : xs) {
    std::string flag = o.short_name.empty() ? "    " : "-" + o.short_name + ", ";
    flag += "--" + o.name;
    if (!o.value.empty()) flag += " " + o.value;
    out << "  " << flag << std::string(flag.size() < 24 ? 24 - flag.size() : 1, ' ') << o.help
        << "\n";
  }
}

bool is_integer(const std::string& text) {
  long long n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return !text.empty() && ec == std::errc{} && ptr == text.data() + text.size();
}

} // namespace

const std::vector<command_spec>& commands() {
  static const auto instance = make_commands();
  return instance;
}

const std::vector<option_spec>& global_options() {
  static const auto instance = make_global_options();
  return instance;
}

std::optional<std::string> invocation::value(const std::string& name) const {
  auto i = options.find(name);
  if (i == options.end() || i->second.empty()) return std::nullopt;
  return i->second.back();
}

std::vector<std::string> invocation::values(const std::string& name) const {
  auto i = options.find(name);
  return i == options.end() ? std::vector<std::string>{} : i->second;
}

const command_spec* find_command(std::string_view name) {
  auto& xs = commands();
  auto i
    = std::find_if(xs.begin(), xs.end(), [&](const command_spec& x) { return x.name == name; });
  return i == xs.end() ? nullptr : &*i;
}

std::variant<invocation, usage_error> parse_command_line(const std::vector<std::string>& argv) {
  invocation result;
  // The command words come first among the non-option arguments; options may sit anywhere
  // (before the command too), as in kubectl.
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::string>> raw_options; // name or -short, value
  const command_spec* cmd = nullptr;
  auto fail = [&](std::string message) {
    return usage_error{std::move(message), cmd != nullptr ? cmd->name : std::string{}};
  };
  auto lookup = [&](std::string_view name, bool is_short) -> const option_spec* {
    if (auto x = find_option(global_options(), name, is_short)) return x;
    return cmd != nullptr ? find_option(cmd->options, name, is_short) : nullptr;
  };
  bool only_positionals = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const auto& arg = argv[i];
    if (only_positionals || arg.size() < 2 || arg[0] != '-' || is_integer(arg)) {
      if (cmd == nullptr) {
        words.push_back(arg);
        auto name = words.size() == 1 ? words[0] : words[0] + " " + words[1];
        cmd = find_command(name);
        if (cmd == nullptr && words.size() == 1 && find_command(words[0] + " apply") == nullptr)
          return fail("unknown command '" + arg + "' (see orchctl help)");
        if (cmd == nullptr && words.size() == 2)
          return fail("unknown command '" + name + "' (see orchctl help)");
      } else {
        result.args.push_back(arg);
      }
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    bool is_short = arg[1] != '-';
    std::string name = is_short ? arg.substr(1, 1) : arg.substr(2);
    std::optional<std::string> inline_value;
    if (is_short && arg.size() > 2) {
      inline_value = arg.substr(2);
    } else if (auto eq = name.find('='); !is_short && eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto spec = lookup(name, is_short);
    if (spec == nullptr)
      return fail("unknown option '" + (is_short ? "-" + name : "--" + name) + "'"
                  + (cmd != nullptr ? " for '" + cmd->name + "'" : std::string{}));
    std::string value;
    if (!spec->value.empty()) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return fail("--" + spec->name + " needs a value (" + spec->value + ")");
      }
    } else if (inline_value) {
      return fail("--" + spec->name + " takes no value");
    }
    if (!spec->repeatable && result.has(spec->name) && spec->name != "help")
      return fail("--" + spec->name + " given twice");
    result.options[spec->name].push_back(value);
  }
  result.help = result.has("help");
  if (cmd == nullptr) {
    if (!words.empty())
      return fail("'" + words[0] + "' needs a sub-command (see orchctl help " + words[0] + ")");
    result.command = "help";
    return result;
  }
  result.command = cmd->name;
  if (cmd->name == "help") {
    // `help deploy`: the words after help name the command to explain.
    return result;
  }
  if (result.help) return result;
  if (result.args.size() != cmd->positionals.size()) {
    std::string expected;
    for (auto& p : cmd->positionals) expected += " " + p;
    return fail("'" + cmd->name + "' takes " + std::to_string(cmd->positionals.size()) + " argument"
                + (cmd->positionals.size() == 1 ? "" : "s")
                + (expected.empty() ? "" : " (" + expected.substr(1) + ")") + ", got "
                + std::to_string(result.args.size()));
  }
  for (auto& name : cmd->required)
    if (!result.has(name)) return fail("'" + cmd->name + "' needs --" + name);
  if (auto out = result.value("output"); out && *out != "json" && *out != "table")
    return fail("-o must be json or table, not '" + *out + "'");
  return result;
}

std::string general_help() {
  std::ostringstream out;
  out << "orchctl: the orchestrator's command line\n\nusage: orchctl COMMAND [ARGS] [OPTIONS]\n\n"
         "commands:\n";
  for (auto& cmd : commands()) {
    out << "  " << cmd.name << std::string(cmd.name.size() < 16 ? 16 - cmd.name.size() : 1, ' ')
        << cmd.summary << "\n";
  }
  out << "\noptions of every command:\n";
  append_options(out, global_options());
  out << "\nexit status: 0 done, 1 the awaited operation failed, 2 bad usage, 3 API error.\n"
         "Settings: ORCH_URL, ORCH_API_KEY, or a config file (url = ..., api_key = ...);\n"
         "flags win over variables, variables over the file. See orchctl help COMMAND.\n";
  return out.str();
}

std::string command_help(const command_spec& cmd) {
  std::ostringstream out;
  out << "usage: " << usage_line(cmd) << "\n\n" << cmd.summary << "\n";
  if (!cmd.options.empty()) {
    out << "\noptions:\n";
    append_options(out, cmd.options);
  }
  out << "\noptions of every command:\n";
  append_options(out, global_options());
  return out.str();
}

std::string bash_completion() {
  std::ostringstream out;
  out << "# bash completion for orchctl (generated by `orchctl completion bash`)\n"
         "_orchctl() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} opts\n"
         "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
         "    COMPREPLY=($(compgen -W \"";
  std::vector<std::string> first_words;
  for (auto& cmd : commands()) {
    auto word = cmd.name.substr(0, cmd.name.find(' '));
    if (std::find(first_words.begin(), first_words.end(), word) == first_words.end())
      first_words.push_back(word);
  }
  for (std::size_t i = 0; i < first_words.size(); ++i) out << (i ? " " : "") << first_words[i];
  out << "\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  case \"$cmd\" in\n";
  std::string globals;
  for (auto& o : global_options()) globals += " --" + o.name;
  for (auto& word : first_words) {
    out << "    " << word << ")";
    std::string opts;
    for (auto& cmd : commands()) {
      if (cmd.name.substr(0, cmd.name.find(' ')) != word) continue;
      if (auto sp = cmd.name.find(' '); sp != std::string::npos)
        opts += " " + cmd.name.substr(sp + 1);
      for (auto& o : cmd.options) opts += " --" + o.name;
    }
    if (word == "help") {
      opts.clear();
      for (auto& w : first_words) opts += " " + w;
    }
    if (word == "completion") opts = " bash";
    out << " opts=\"" << (opts.empty() ? "" : opts.substr(1)) << globals << "\" ;;\n";
  }
  out << "    *) opts=\"" << globals.substr(1)
      << "\" ;;\n"
         "  esac\n"
         "  case \"${COMP_WORDS[COMP_CWORD-1]}\" in\n"
         "    -f|--file|--config) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
         "    -o|--output) COMPREPLY=($(compgen -W \"table json\" -- \"$cur\")); return ;;\n"
         "    --status) COMPREPLY=($(compgen -W \"PENDING IN_PROGRESS COMPLETED FAILED UPDATING "
         "CONFIGURING SCALING DELETING DELETED\" -- \"$cur\")); return ;;\n"
         "  esac\n"
         "  COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "}\n"
         "complete -o default -F _orchctl orchctl\n";
  return out.str();
}

std::variant<std::map<std::string, param_value>, usage_error>
parse_key_values(const std::vector<std::string>& items, std::string_view option) {
  std::map<std::string, param_value> out;
  for (auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage_error{"--" + std::string{option} + " wants K=V, not '" + item + "'", {}};
    auto key = item.substr(0, eq);
    auto text = item.substr(eq + 1);
    if (is_integer(text))
      out[key] = std::stoll(text);
    else
      out[key] = text;
  }
  return out;
}

} // namespace orch::ctl
