// `fn0 login --oidc`: a person logs in through the node's OpenID provider
// with the device authorization grant, run by the node (it is the
// provider's client): the CLI shows where to enter a code, polls the node
// until the person has, and gets a session credential for its config.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cli/client.h"
#include "common/result.h"

namespace fn0::cli {

struct DeviceLogin {
  std::string token;  // "fn0s_...": a session, sent as a bearer credential
  std::string role, subject;
  int64_t expiresAt = 0;
};

// `show(url, code)` tells the person where to go (url: the provider's page,
// with the code in it when the provider offers that) before the polls start.
Result<DeviceLogin> deviceLogin(const Client& node, const std::function<void(const std::string&, const std::string&)>& show);

}  // namespace fn0::cli
