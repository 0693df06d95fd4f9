// Object key rules shared by the code store implementations (internal).
#pragma once

#include <string>

#include "common/result.h"

namespace fn0::store {

// Keys are relative, '/'-separated paths of [A-Za-z0-9._-] segments (no
// empty, "." or ".." segment), at most 512 bytes: the same object name in a
// directory and in a bucket, and never a way out of the directory.
Result<void> checkKey(const std::string& key);

class CodeStore;
// The start-up probe both stores run: writes, reads back and deletes a
// small object under "fn0-probe/<random>".
Result<void> probeRoundTrip(CodeStore& store);

}  // namespace fn0::store
