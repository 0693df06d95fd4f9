// What a deploy applies from fn0.toml: [vars] set as environment variables
// and [settings] (when the table is there) as the function's settings,
// through the admin API like any other client.
#pragma once

#include <cstdint>
#include <string>

#include "cli/client.h"
#include "cli/project.h"
#include "common/result.h"

namespace fn0::cli {

// `extraCpuMs` is added to a cpu_ms setting (fn0 dev: its allowance for
// evaluating the script on each request).
Result<void> applyProjectConfig(const Client& client, const Project& p, uint64_t extraCpuMs = 0);

// A failed API reply -> its message (the API's own when it sent one).
std::string apiMessage(const Reply& r);

}  // namespace fn0::cli
