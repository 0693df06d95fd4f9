#include "cli/project.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <toml++/toml.h>

#include "cli/lang/language.h"
#include "cli/templates.h"
#include "registry/registry.h"

namespace fn0::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string where(const toml::node& n) {
  const auto& s = n.source();
  return "fn0.toml:" + std::to_string(s.begin.line);
}

// A TOML value -> the JSON the admin API takes (settings are numbers,
// booleans, strings and lists of them).
Result<json> toJson(const toml::node& n, const std::string& key) {
  if (auto v = n.as_integer()) return json(v->get());
  if (auto v = n.as_boolean()) return json(v->get());
  if (auto v = n.as_string()) return json(v->get());
  if (auto v = n.as_floating_point()) return json(v->get());
  if (auto a = n.as_array()) {
    json out = json::array();
    for (const auto& e : *a) {
      auto j = toJson(e, key);
      if (!j) return j.error();
      out.push_back(*j);
    }
    return out;
  }
  return Error{where(n) + ": [settings] " + key + " must be a number, a string or a list"};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) i++;
  return s.substr(i);
}

}  // namespace

Result<Project> Project::load(const fs::path& dir) {
  const fs::path file = dir / "fn0.toml";
  if (!fs::exists(file))
    return Error{"no fn0.toml in " + fs::absolute(dir).lexically_normal().string() +
                 ": create a project with `fn0 new NAME`"};
  toml::table t;
  try {
    t = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return Error{"fn0.toml:" + std::to_string(e.source().begin.line) + ": " + std::string(e.description())};
  }
  Project p;
  p.dir = dir;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "name" || key == "language" || key == "entry" || key == "output") {
      if (!v.is_string()) return Error{where(v) + ": " + key + " must be a string"};
      std::string s = v.as_string()->get();
      if (key == "name") p.name = s;
      if (key == "language") p.language = s;
      if (key == "entry") p.entry = s;
      if (key == "output") p.output = s;
    } else if (key == "vars") {
      if (!v.is_table()) return Error{where(v) + ": [vars] must be a table of NAME = \"value\""};
      for (const auto& [vk, vv] : *v.as_table()) {
        const std::string name(vk.str());
        if (auto ok = registry::checkVarName(name); !ok) return Error{where(vv) + ": [vars] " + ok.error().message};
        std::string value;
        if (auto s = vv.as_string())
          value = s->get();
        else if (auto i = vv.as_integer())
          value = std::to_string(i->get());
        else if (auto b = vv.as_boolean())
          value = b->get() ? "true" : "false";
        else
          return Error{where(vv) + ": [vars] " + name + " must be a string (or a number or boolean)"};
        p.vars.emplace_back(name, value);
      }
    } else if (key == "settings") {
      if (!v.is_table()) return Error{where(v) + ": [settings] must be a table"};
      json j = json::object();
      for (const auto& [sk, sv] : *v.as_table()) {
        const std::string name(sk.str());
        auto value = toJson(sv, name);
        if (!value) return value.error();
        j[name] = *value;
      }
      auto st = registry::FunctionSettings::fromJson(j.dump());
      if (!st) return Error{where(v) + ": [settings] " + st.error().message};
      p.settingsJson = j.dump();
    } else {
      return Error{where(v) + ": unknown key '" + key +
                   "' (fn0.toml takes name, language, entry, output, [vars] and [settings])"};
    }
  }
  if (!registry::isDnsLabel(p.name))
    return Error{"fn0.toml: name '" + p.name + "' is not a function name: " + registry::kFunctionNameRule};
  if (!findLanguage(p.language))
    return Error{"fn0.toml: language must be one of " + languageNames() + ", got '" + p.language + "'"};
  if (p.entry.empty()) return Error{"fn0.toml: entry is missing (the source file the build starts from)"};
  if (p.output.empty()) p.output = "build/" + p.name + ".wasm";
  return p;
}

Result<void> newProject(const std::string& name, const std::string& language, const fs::path& dir) {
  if (!registry::isDnsLabel(name))
    return Error{"invalid name '" + name + "': " + registry::kFunctionNameRule};
  if (!findLanguage(language)) return Error{"unknown template '" + language + "': use one of " + languageNames()};
  if (fs::exists(dir) && !fs::is_empty(dir)) return Error{dir.string() + " already exists and is not empty"};
  bool any = false;
  for (const auto& f : templateFiles()) {
    if (language != f.language) continue;
    any = true;
    std::string text = f.content;
    for (size_t at; (at = text.find("{{name}}")) != std::string::npos;) text.replace(at, 8, name);
    fs::path out = dir / f.path;
    fs::create_directories(out.parent_path());
    std::ofstream(out, std::ios::binary) << text;
  }
  if (!any) return Error{"template '" + language + "' has no files in this build of fn0"};
  std::ofstream(dir / ".gitignore") << "build/\nnode_modules/\n.dev.vars\n";
  return {};
}

Result<Vars> readDevVars(const Project& p) {
  std::ifstream in(p.dir / ".dev.vars");
  Vars out;
  if (!in) return out;
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      return Error{".dev.vars:" + std::to_string(n) + ": expected NAME=value"};
    std::string name = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (auto ok = registry::checkVarName(name); !ok) return Error{".dev.vars:" + std::to_string(n) + ": " + ok.error().message};
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    out.emplace_back(name, value);
  }
  return out;
}

}  // namespace fn0::cli
