#include "cli/usage.h"

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "cli/input.h"
#include "cli/output.h"

namespace fn0::cli {

namespace {

// The subcommand the line chose (the deepest parsed), nullptr for none.
CLI::App* chosen(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App* s) { return s->parsed(); }))
    if (CLI::App* deeper = chosen(*sub)) return deeper;
    else return sub;
  return nullptr;
}

std::string commandLine(const CLI::App& app, const CLI::App* sub) {
  return sub ? app.get_name() + " " + sub->get_name() : app.get_name();
}

std::vector<std::string> optionNames(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& n : o->get_lnames()) out.push_back("--" + n);
    for (const auto& n : o->get_snames()) out.push_back("-" + n);
  }
  return out;
}

std::string after(std::string_view s, std::string_view marker) {
  auto at = s.find(marker);
  return at == std::string_view::npos ? "" : std::string(s.substr(at + marker.size()));
}

// CLI11's text for the other mistakes, reworded.
std::string reword(const CLI::ParseError& e) {
  const std::string what = e.what();
  for (const char* marker : {"File does not exist: ", "Path does not exist: "})
    if (auto path = after(what, marker); !path.empty()) return path + " does not exist";
  if (auto path = after(what, "File is actually a directory: "); !path.empty()) return path + " is a folder, not a file";
  if (auto rest = after(what, "Could not convert: "); !rest.empty()) {
    const auto eq = rest.find(" = ");
    if (eq != std::string::npos) return "'" + rest.substr(eq + 3) + "' is not a valid value for " + rest.substr(0, eq);
  }
  if (const auto notIn = what.find(" not in {"); notIn != std::string::npos && what.back() == '}') {
    const auto colon = what.find(": ");
    if (colon != std::string::npos && colon < notIn) {
      std::string allowed = what.substr(notIn + 9, what.size() - notIn - 10);
      for (size_t c = 0; (c = allowed.find(',', c)) != std::string::npos; c += 2) allowed.replace(c, 1, ", ");
      std::string name = what.substr(0, colon);
      if (name.rfind("-", 0) != 0)
        for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return name + " must be one of " + allowed + ", not '" + what.substr(colon + 2, notIn - colon - 2) + "'";
    }
  }
  // A validator's own sentence that already names its option: without the
  // "--option: " CLI11 puts before it.
  if (dynamic_cast<const CLI::ValidationError*>(&e)) {
    const auto colon = what.find(": ");
    if (colon != std::string::npos && what.find(" for " + what.substr(0, colon), colon) != std::string::npos)
      return what.substr(colon + 2);
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e)) {
    std::string name = what.substr(0, what.find(' '));
    if (what.find(" is required") != std::string::npos && name.rfind("-", 0) != 0) {
      for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return name + " is missing";
    }
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    const auto colon = what.find(':');
    if (colon != std::string::npos && what.rfind("-", 0) == 0) return what.substr(0, colon) + " needs a value";
  }
  return what;
}

}  // namespace

bool wantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; i++)
    if (std::string_view(argv[i]) == "--json") return true;
  return false;
}

int reportParseError(CLI::App& app, const CLI::ParseError& e, bool json) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
  CLI::App* sub = chosen(app);
  const std::string where = commandLine(app, sub);
  const std::string help = "; see `" + where + " --help`";
  Failure f{"usage", "", 0, kExitUsage};
  // Leftovers first: a misspelt option also upsets what follows it
  // ("--nmae x" makes x the FILE), and the misspelling is the cause.
  const std::vector<std::string> left = sub ? sub->remaining() : app.remaining();
  auto suggest = [&](const std::string& typed, const std::vector<std::string>& known, const std::string& otherwise) {
    if (const std::string guess = nearest(typed, known); !guess.empty()) {
      f.message += "; did you mean '" + guess + "'?";
      f.extra["suggestion"] = guess;
    } else {
      f.message += otherwise;
    }
  };
  if (!sub)
    for (const auto& arg : left)
      if (!arg.empty() && arg[0] != '-') {
        std::vector<std::string> names;
        for (const CLI::App* s : app.get_subcommands({})) names.push_back(s->get_name());
        f.message = "unknown command '" + arg + "'";
        suggest(arg, names, "; `fn0 --help` lists the commands");
        return report(f, json);
      }
  for (const auto& arg : left)
    if (arg.size() > 1 && arg[0] == '-') {
      const std::string typed = arg.substr(0, arg.find('='));
      f.message = "unknown option '" + typed + "' for `" + where + "`";
      suggest(typed, optionNames(sub ? *sub : app), help);
      return report(f, json);
    }
  if (!left.empty()) {
    f.message = "unexpected argument '" + left[0] + "' for `" + where + "`" + help;
    return report(f, json);
  }
  f.message = (sub ? "`" + where + "`: " : "") + reword(e) + help;
  return report(f, json);
}

}  // namespace fn0::cli
