#include "dispatch/explain.h"

#include <sstream>

#include "common/units.h"

namespace fn0::dispatch {

namespace {

std::string quoted(const std::string& function) { return "'" + function + "'"; }

// "(its cpu_ms setting; this node allows up to 50 ms)" when the function's
// own setting is what made the limit tighter than the node's.
template <typename T, typename F>
std::string settingNote(T value, T nodeValue, const char* setting, F format) {
  if (value >= nodeValue) return "";
  return std::string(" (its ") + setting + " setting; this node allows up to " + format(nodeValue) + ")";
}

}  // namespace

Explained explainOutcome(const runtime::Outcome& o, const std::string& function, const runtime::Limits& l,
                         const runtime::Limits& node) {
  using K = runtime::OutcomeKind;
  const std::string fn = "function " + quoted(function);
  const std::string logsHint = "fn0 logs " + function;
  Explained e;
  switch (o.kind) {
    case K::CpuLimit:
      e.message = fn + " exceeded its CPU time limit of " + formatDuration(l.cpuTime) +
                  settingNote(l.cpuTime, node.cpuTime, "cpu_ms", formatDuration);
      break;
    case K::MemoryLimit:
      e.message = fn + " exceeded its memory limit of " + formatBytes(l.maxMemoryBytes) +
                  settingNote(l.maxMemoryBytes, node.maxMemoryBytes, "memory_mb", formatBytes);
      break;
    case K::DurationLimit:
      e.message = fn + " exceeded its duration limit of " + formatDuration(l.duration) +
                  settingNote(l.duration, node.duration, "duration_ms", formatDuration);
      break;
    case K::Trap:
      e.message = fn + " crashed (" + o.message + ")";
      break;
    case K::InvalidResponse:
      e.message = fn + " sent an invalid response: " + o.message;
      break;
    case K::GuestError:
      e.message = fn + " failed: " + o.message;
      break;
    case K::Overloaded:
      e.message = o.message + "; retry shortly";
      break;
    case K::HeadersTooLarge:
    case K::BodyTooLarge:
      e.message = explainRefusal(o.kind, function, l);
      break;
    case K::Ok:
      e.message = fn + " returned without setting a response";
      break;
  }
  const std::string reason(runtime::errorReasonFor(o.kind == K::Ok ? K::InvalidResponse : o.kind));
  // The limit lines also keep the engine's own words (what happened once the
  // limit was hit, e.g. the trap a refused memory growth led to).
  std::string line = "[fn0] " + reason + ": " + e.message;
  if (o.kind == K::MemoryLimit && !o.message.empty()) line += " [" + o.message + "]";
  if (!o.backtrace.empty())
    line += o.kind == K::CpuLimit ? "; interrupted at (innermost frame first):" : "; backtrace (innermost frame first):";
  // A limit names itself; a failure of the guest's own points to its logs
  // (its output, and the frames when it trapped).
  if (o.kind == K::Trap || o.kind == K::GuestError || o.kind == K::InvalidResponse)
    e.message += (o.backtrace.empty() ? "; see its logs: " : "; the backtrace is in its logs: ") + logsHint;
  e.logLines.push_back(std::move(line));
  std::istringstream frames(o.backtrace);
  for (std::string frame; std::getline(frames, frame);)
    if (!frame.empty()) e.logLines.push_back("[fn0]   " + frame);
  return e;
}

std::string explainRefusal(runtime::OutcomeKind kind, const std::string& function, const runtime::Limits& l,
                           uint64_t headerBytes, std::optional<uint64_t> declaredLength) {
  const std::string fn = "function " + quoted(function);
  if (kind == runtime::OutcomeKind::HeadersTooLarge) {
    std::string size = headerBytes ? " (" + formatBytes(headerBytes) + ")" : "";
    return "the request headers" + size + " exceed the limit of " + formatBytes(l.maxRequestHeaderBytes) + " for " +
           fn;
  }
  std::string size = declaredLength ? " (Content-Length " + std::to_string(*declaredLength) + ")" : "";
  return "the request body" + size + " exceeds the limit of " + formatBytes(l.maxRequestBodyBytes) + " for " + fn;
}

}  // namespace fn0::dispatch
