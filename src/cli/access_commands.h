// `fn0 token create|list|revoke` (API tokens with a role and, for a
// deployer, the functions it may deploy) and `fn0 audit` (who did what,
// when and from where). Registered next to the other client commands and
// run through the same API call and output helpers (commands.cc).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace fn0::cli {

class AccessCommands {
 public:
  // Calls the node: the answer, or std::nullopt after the failure was reported.
  using Api = std::function<std::optional<nlohmann::json>(const std::string& method, const std::string& path,
                                                          const std::string& body)>;
  // Prints `j` with --json, else runs `human`.
  using Print = std::function<void(const nlohmann::json& j, const std::function<void()>& human)>;
  // Reports a usage mistake (exit code 2).
  using Usage = std::function<int(const std::string& message)>;

  void add(CLI::App& app, const std::function<void(CLI::App*)>& jsonFlag);
  bool parsed() const;
  int run(const Api& api, const Print& print, const Usage& usage);

 private:
  int token(const Api& api, const Print& print, const Usage& usage);
  int audit(const Api& api, const Print& print);
  CLI::App* token_ = nullptr;
  CLI::App* audit_ = nullptr;
  std::string action_, name_, role_ = "admin", function_, actor_, what_;
  std::vector<std::string> functions_;
  size_t limit_ = 50;
};

}  // namespace fn0::cli
