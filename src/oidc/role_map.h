// Who gets which role when they log in through the OpenID provider: rules
// from the node's configuration (--oidc-admin, --oidc-deployer,
// --oidc-viewer), matched against the person's verified e-mail and groups.
// The highest role any rule gives wins; nobody matched is refused. The
// mapping is applied again on every request of a session (see
// docs/access.md), so a rule removed from the configuration ends the
// sessions it allowed at the node's next start.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace fn0::oidc {

// What the provider said about a person (from the ID token, and userinfo
// when the token lacks a claim).
struct Person {
  std::string subject;                // the provider's sub
  std::string email;                  // "" when the provider gave none
  std::optional<bool> emailVerified;  // nullopt: the provider did not say
  std::vector<std::string> groups;    // the configured groups claim
  nlohmann::json toJson() const;
  static Person fromJson(const nlohmann::json& j);
};

// A role, and for a deployer the functions it covers (empty: all).
struct Grant {
  std::string role;
  std::vector<std::string> functions;
};

class RoleMap {
 public:
  // `rule` is "alice@example.com", "*@example.com" (any address of that
  // domain), "group:NAME" or "*" (anyone the provider signs in). A deployer
  // rule may end in "=FUNCTIONS", names or prefixes ending in '*' separated
  // by commas ("group:api-team=api-*,billing"): the functions it covers.
  Result<void> add(const std::string& role, const std::string& rule);
  // The highest role the rules give `p`; for a deployer, the functions of
  // every deployer rule that matched (all, if one of them has no list).
  // An e-mail rule does not match an address the provider says is not
  // verified (email_verified: false): anybody could claim it.
  std::optional<Grant> grant(const Person& p) const;
  bool empty() const { return rules_.empty(); }
  // "admin: 2 rules, viewer: 1 rule", for the start-up line.
  std::string describe() const;

 private:
  struct Rule {
    int rank;  // 3 admin, 2 deployer, 1 viewer
    enum Kind { Email, Domain, Group, Anyone } kind;
    std::string value;  // lower-case for e-mail and domain
    std::vector<std::string> functions;
  };
  static bool matches(const Rule& r, const Person& p);
  std::vector<Rule> rules_;
};

}  // namespace fn0::oidc
