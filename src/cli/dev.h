// `fn0 dev`: run a node in this process, serve the project on localhost,
// print each request (method, path, status, time, CPU) and the guest's
// output live, and reload on every save. Ctrl-C stops it.
//
// JS/TS: the project is deployed once as fn0's dev engine (componentized
// once per WIT and cached); on each save only esbuild runs and the new script
// reaches the engine in memory (dispatch::EnvOverlay), so an edit shows in
// well under a second. C: each save rebuilds and redeploys.
#pragma once

#include <cstdint>

#include "cli/project.h"

namespace fn0::cli {

int runDev(const Project& project, uint16_t port);

// The CPU time added to a JS/TS function's limit under `fn0 dev`: the dev
// engine evaluates the whole script on every request, which a deployed
// component does once, at build time.
inline constexpr uint64_t kDevScriptCpuAllowanceMs = 40;

}  // namespace fn0::cli
