// Fault injection for crash-safety tests: when the environment variable
// FN0_FAILPOINT names a point, the process kills itself (SIGKILL, no
// cleanup) on reaching it. Unset in normal operation; costs one comparison.
#pragma once

namespace fn0 {

void failpoint(const char* name);

}  // namespace fn0
