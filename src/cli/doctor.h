// `fn0 doctor`: which languages this machine can build, and for each one that
// it cannot, what is missing and the command that installs it.
#pragma once

namespace fn0::cli {

// Prints the table (or with `json` one document); exit 0 when every language
// is ready, 1 when one is not.
int runDoctor(bool json);

}  // namespace fn0::cli
