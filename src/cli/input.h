// Checks on what a person typed, made before anything is sent to a node, so
// that a mistake is explained in one sentence with the fix: function names
// (and the one rule every command states), the nearest known word for a
// misspelt one, and whether a file given to `fn0 deploy` is a component.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace fn0::cli {

// A name that follows the rule made from `s` ("Hello_World" -> "hello-world"):
// lowercased, runs of other characters made one hyphen, hyphens trimmed,
// at most 63 characters; "" if nothing is left.
std::string normalizeName(std::string_view s);

// OK for a valid name; otherwise an Error (code "invalid-name") with the
// rule (registry::kFunctionNameRule) and, when there is one, the normalised name to use instead.
Result<void> checkFunctionName(const std::string& name);

// The candidate nearest to `typed` if it is near enough to be what was
// meant (one or two edits, a swapped pair, or the start of only one);
// "" otherwise.
std::string nearest(std::string_view typed, const std::vector<std::string>& candidates);

// Whether `file` can be deployed: a WebAssembly component. A source file
// (.js, .ts, .py, .c, .go, .rs...) gets an Error (code "source-file") that
// says how to build it; a core module ("core-module") how to wrap it; any
// other file ("not-wasm") what it is not. Reads the first 8 bytes.
Result<void> checkComponentFile(const std::filesystem::path& file);

}  // namespace fn0::cli
