// A function's limits: its settings tighten the node's, never lift them.
// Compared in the settings' own units (ms, MiB) before any conversion, so a
// huge value can neither overflow into a negative duration nor wrap a byte
// count: whatever the settings hold, the result is within the node's limits.
#pragma once

#include "registry/registry.h"
#include "runtime/invocation.h"

namespace fn0::dispatch {

runtime::Limits functionLimits(const registry::FunctionSettings& settings, const runtime::Limits& node);

}  // namespace fn0::dispatch
