#include "cli/access_commands.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <fmt/core.h>

#include "cli/views.h"
#include "common/percent_encode.h"

namespace fn0::cli {

using nlohmann::json;

namespace {

double unixNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string joined(const json& list) {
  std::string out;
  for (const auto& f : list) out += (out.empty() ? "" : ",") + f.get<std::string>();
  return out.empty() ? "*" : out;
}

}  // namespace

void AccessCommands::add(CLI::App& app, const std::function<void(CLI::App*)>& jsonFlag) {
  token_ = app.add_subcommand("token", "Create, list and revoke API tokens (admin, deployer, viewer)");
  token_->add_option("action", action_, "create | list | revoke")
      ->required()
      ->check(CLI::IsMember({"create", "list", "revoke"}));
  token_->add_option("name", name_, "create: what the token is for; revoke: its id (from `fn0 token list`)");
  token_->add_option("--role", role_, "admin, deployer or viewer")
      ->check(CLI::IsMember({"admin", "deployer", "viewer"}))
      ->capture_default_str();
  token_->add_option("--function,-f", functions_,
                     "A deployer's function (repeat for several; 'api-*' for a prefix); none: every function");
  token_->footer(
      "Roles: admin (everything), deployer (deploy, roll back, read and export its functions),\n"
      "viewer (read, but not key-value data, components, tokens or the audit log).\n"
      "The token is printed once, on creation; the node keeps only its hash.\n"
      "Examples:\n"
      "  fn0 token create ci-hello --role deployer --function hello\n"
      "  fn0 token list\n"
      "  fn0 token revoke 3f9a2c1b7d0e");
  jsonFlag(token_);

  audit_ = app.add_subcommand("audit", "Show the audit log: who deployed, rolled back, changed or logged in, and from where");
  audit_->add_option("--function,-f", function_, "Only entries about this function");
  audit_->add_option("--actor", actor_, "Only this token name or person");
  audit_->add_option("--action", what_, "Only this action (deploy, alias.set, secret.set, login, ...)");
  audit_->add_option("--limit,-n", limit_, "How many entries, newest first")->capture_default_str();
  audit_->footer("Example:\n  fn0 audit --function hello -n 20");
  jsonFlag(audit_);
}

bool AccessCommands::parsed() const { return token_->parsed() || audit_->parsed(); }

int AccessCommands::run(const Api& api, const Print& print, const Usage& usage) {
  return token_->parsed() ? token(api, print, usage) : audit(api, print);
}

int AccessCommands::token(const Api& api, const Print& print, const Usage& usage) {
  if (action_ == "list") {
    auto r = api("GET", "/tokens", "");
    if (!r) return 1;
    print(*r, [&] {
      const double now = unixNow();
      fmt::print("{:<13} {:<20} {:<9} {:<20} {:<20} {}\n", "ID", "NAME", "ROLE", "FUNCTIONS", "CREATED", "LAST USED");
      for (const auto& t : (*r)["tokens"]) {
        const auto& last = t["last_used_at"];
        fmt::print("{:<13} {:<20} {:<9} {:<20} {:<20} {}\n", t["id"].get<std::string>(), t["name"].get<std::string>(),
                   t["role"].get<std::string>(), joined(t["functions"]),
                   localTime(t["created_at"].get<double>(), false, now),
                   last.is_number() ? localTime(last.get<double>(), false, now) : "never");
      }
    });
    return 0;
  }
  if (name_.empty()) return usage(action_ == "create" ? "usage: fn0 token create NAME [--role R] [--function F]..."
                                                      : "usage: fn0 token revoke ID");
  if (action_ == "revoke") {
    auto r = api("DELETE", "/tokens/" + percentEncode(name_), "");
    if (!r) return 1;
    print(*r, [&] { fmt::print("revoked token {}: it is refused on every node from now on\n", name_); });
    return 0;
  }
  if (!functions_.empty() && role_ != "deployer") return usage("--function only limits a deployer token (--role deployer)");
  json body = {{"name", name_}, {"role", role_}, {"functions", functions_}};
  auto r = api("POST", "/tokens", body.dump());
  if (!r) return 1;
  print(*r, [&] {
    fmt::print("created token {} ({}, {}{})\n", (*r)["id"].get<std::string>(), name_, role_,
               functions_.empty() ? "" : " of " + joined((*r)["functions"]));
    fmt::print("{}\n", (*r)["token"].get<std::string>());
    fmt::print(stderr, "This is the only time the token is shown: store it now (e.g. as a CI secret).\n");
  });
  return 0;
}

int AccessCommands::audit(const Api& api, const Print& print) {
  std::string q = "?limit=" + std::to_string(std::clamp<size_t>(limit_, 1, 1000));
  if (!function_.empty()) q += "&function=" + percentEncode(function_);
  if (!actor_.empty()) q += "&actor=" + percentEncode(actor_);
  if (!what_.empty()) q += "&action=" + percentEncode(what_);
  auto r = api("GET", "/audit" + q, "");
  if (!r) return 1;
  print(*r, [&] {
    const double now = unixNow();
    for (const auto& e : (*r)["entries"]) {
      std::string what = e["action"].get<std::string>();
      if (e["function"].is_string()) what += " " + e["function"].get<std::string>();
      std::string detail;
      for (const auto& [k, v] : e["detail"].items()) detail += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
      fmt::print("{}  {:<20} {:<28} {:<4} {} ({} via {}){}\n", localTime(e["time"].get<double>(), false, now),
                 e["actor"].get<std::string>(), what, e["status"].get<int64_t>(), e["client"].get<std::string>(),
                 e["role"].get<std::string>(), e["via"].get<std::string>(), detail);
    }
  });
  return 0;
}

}  // namespace fn0::cli
