#include "oidc/role_map.h"

#include <algorithm>
#include <cctype>

namespace fn0::oidc {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

constexpr const char* kRoleNames[] = {"", "viewer", "deployer", "admin"};

int rankOf(const std::string& role) {
  for (int i = 1; i <= 3; i++)
    if (role == kRoleNames[i]) return i;
  return 0;
}

bool validFunctionPattern(const std::string& f) {
  if (f.empty() || f.size() > 64) return false;
  for (size_t i = 0; i < f.size(); i++) {
    const unsigned char c = static_cast<unsigned char>(f[i]);
    if (!(std::islower(c) || std::isdigit(c) || c == '-' || (c == '*' && i + 1 == f.size()))) return false;
  }
  return true;
}

}  // namespace

json Person::toJson() const {
  json j = {{"sub", subject}, {"email", email}, {"groups", groups}};
  if (emailVerified) j["email_verified"] = *emailVerified;
  return j;
}

Person Person::fromJson(const json& j) {
  Person p;
  if (!j.is_object()) return p;
  p.subject = j.value("sub", "");
  p.email = j.value("email", "");
  if (j.contains("email_verified") && j["email_verified"].is_boolean()) p.emailVerified = j["email_verified"].get<bool>();
  if (j.contains("groups") && j["groups"].is_array())
    for (const auto& g : j["groups"])
      if (g.is_string()) p.groups.push_back(g.get<std::string>());
  return p;
}

Result<void> RoleMap::add(const std::string& role, const std::string& ruleText) {
  Rule r;
  r.rank = rankOf(role);
  if (!r.rank) return Error{"unknown role '" + role + "' (admin, deployer, viewer)"};
  std::string pattern = ruleText;
  if (const auto eq = ruleText.find('='); eq != std::string::npos) {
    if (role != "deployer")
      return Error{"'" + ruleText + "': only a deployer rule names functions (PATTERN=fn1,fn2*)"};
    pattern = ruleText.substr(0, eq);
    std::string list = ruleText.substr(eq + 1);
    size_t at = 0;
    while (at <= list.size()) {
      const auto comma = list.find(',', at);
      std::string f = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (!validFunctionPattern(f))
        return Error{"'" + ruleText + "': '" + f + "' is not a function name or a prefix ending in '*'"};
      r.functions.push_back(f);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  if (pattern == "*") {
    r.kind = Rule::Anyone;
  } else if (pattern.rfind("group:", 0) == 0 && pattern.size() > 6) {
    r.kind = Rule::Group;
    r.value = pattern.substr(6);  // group names keep their case: providers compare them exactly
  } else if (pattern.rfind("*@", 0) == 0 && pattern.size() > 2 && pattern.find('@', 2) == std::string::npos) {
    r.kind = Rule::Domain;
    r.value = lower(pattern.substr(1));  // "@example.com"
  } else if (const auto at = pattern.find('@'); at != std::string::npos && at > 0 && at + 1 < pattern.size() &&
                                                pattern.find('@', at + 1) == std::string::npos &&
                                                pattern.find('*') == std::string::npos) {
    r.kind = Rule::Email;
    r.value = lower(pattern);
  } else {
    return Error{"'" + ruleText + "' is not an e-mail address, *@DOMAIN, group:NAME or *"};
  }
  rules_.push_back(std::move(r));
  return {};
}

bool RoleMap::matches(const Rule& r, const Person& p) {
  switch (r.kind) {
    case Rule::Anyone:
      return true;
    case Rule::Group:
      return std::find(p.groups.begin(), p.groups.end(), r.value) != p.groups.end();
    case Rule::Email:
    case Rule::Domain: {
      if (p.email.empty() || (p.emailVerified && !*p.emailVerified)) return false;
      const std::string email = lower(p.email);
      if (r.kind == Rule::Email) return email == r.value;
      return email.size() > r.value.size() && email.compare(email.size() - r.value.size(), r.value.size(), r.value) == 0 &&
             email.find('@') == email.size() - r.value.size();
    }
  }
  return false;
}

std::optional<Grant> RoleMap::grant(const Person& p) const {
  int best = 0;
  for (const auto& r : rules_)
    if (matches(r, p)) best = std::max(best, r.rank);
  if (!best) return std::nullopt;
  Grant g;
  g.role = kRoleNames[best];
  if (g.role == "deployer") {
    for (const auto& r : rules_) {
      if (r.rank != 2 || !matches(r, p)) continue;
      if (r.functions.empty()) {  // this rule covers every function
        g.functions.clear();
        break;
      }
      for (const auto& f : r.functions)
        if (std::find(g.functions.begin(), g.functions.end(), f) == g.functions.end()) g.functions.push_back(f);
    }
  }
  return g;
}

std::string RoleMap::describe() const {
  int counts[4] = {0, 0, 0, 0};
  for (const auto& r : rules_) counts[r.rank]++;
  std::string out;
  for (int i = 3; i >= 1; i--) {
    if (!counts[i]) continue;
    if (!out.empty()) out += ", ";
    out += std::string(kRoleNames[i]) + ": " + std::to_string(counts[i]) + (counts[i] == 1 ? " rule" : " rules");
  }
  return out.empty() ? "no rules" : out;
}

}  // namespace fn0::oidc
