// Fault injection for crash-safety tests: when the environment variable
// FN0_FAILPOINT names a point, the process kills itself (SIGKILL, no
// cleanup) on reaching it. Unset in normal operation; costs one comparison.
#pragma once

namespace fn0 {

void failpoint(const char* name);

// For race tests: when FN0_PAUSEPOINT is "NAME:MS", a thread reaching the
// point NAME sleeps MS milliseconds (so a test can run something else in
// exactly that window). Unset in normal operation; costs one comparison.
void pausepoint(const char* name);

}  // namespace fn0
