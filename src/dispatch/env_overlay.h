// Environment variables a process adds to some functions' own, kept in
// memory only and never stored: `fn0 dev` gives a JavaScript project's
// current script this way (FN0_DEV_SCRIPT, re-bundled on every save) and
// the project's local secrets (.dev.vars). An overlay value replaces a
// stored variable of the same name.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace fn0::dispatch {

class EnvOverlay {
 public:
  using Vars = std::vector<std::pair<std::string, std::string>>;

  void set(const std::string& function, Vars vars) {
    auto v = std::make_shared<const Vars>(std::move(vars));
    std::lock_guard lock(mu_);
    vars_[function] = std::move(v);
  }

  // `env` with this function's overlay applied.
  Vars apply(const std::string& function, Vars env) const {
    std::shared_ptr<const Vars> extra;
    {
      std::lock_guard lock(mu_);
      auto it = vars_.find(function);
      if (it == vars_.end()) return env;
      extra = it->second;
    }
    for (const auto& [k, v] : *extra) {
      bool replaced = false;
      for (auto& [ek, ev] : env)
        if (ek == k) {
          ev = v;
          replaced = true;
        }
      if (!replaced) env.emplace_back(k, v);
    }
    return env;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Vars>> vars_;
};

}  // namespace fn0::dispatch
