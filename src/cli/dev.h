// `fn0 dev`: build the project, run a node in this process, deploy, serve on
// localhost, print the guest's output live, and rebuild + redeploy whenever a
// file of the project changes. Ctrl-C stops it.
#pragma once

#include <cstdint>

#include "cli/project.h"

namespace fn0::cli {

int runDev(const Project& project, uint16_t port);

}  // namespace fn0::cli
