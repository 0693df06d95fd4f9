// What a platform error says. To the caller: which limit the request hit
// and its value for this request (the function's settings clamped to the
// node's), or what went wrong and where to look; never a backtrace. To the
// function's log stream: the same line, and a trap's backtrace below it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/invocation.h"

namespace fn0::dispatch {

struct Explained {
  std::string message;               // for the error body's `message`
  std::vector<std::string> logLines;  // for the function's log, "[fn0] ..." each
};

// An invocation that ended without the guest's own response (or cut it
// short). `limits`: the request's effective limits; `node`: the node's
// (a value tightened by the function's settings says which setting).
Explained explainOutcome(const runtime::Outcome& outcome, const std::string& function,
                         const runtime::Limits& limits, const runtime::Limits& node);

// A request refused before the guest ran, or whose body outgrew the limit
// while it streamed (`declaredLength`: its Content-Length, if that was it).
std::string explainRefusal(runtime::OutcomeKind kind, const std::string& function, const runtime::Limits& limits,
                           uint64_t headerBytes = 0, std::optional<uint64_t> declaredLength = std::nullopt);

}  // namespace fn0::dispatch
