// `fn0 build`: a project -> a standard, self-contained wasi:http component,
// by its language's recipe (lang/), after checking that recipe's toolchain.
#pragma once

#include <filesystem>

#include "cli/project.h"
#include "common/result.h"

namespace fn0::cli {

// Tool output goes to stderr. Returns the component path.
Result<std::filesystem::path> buildProject(const Project& p);

// The WIT folder a build uses: the project's wit/*.wit plus the WASI
// packages fn0 derived for its host; without a wit/ folder, fn0's own.
Result<std::filesystem::path> witFolder(const Project& p, const std::filesystem::path& work);

// What a componentize output depends on: `kind`, the source, the WIT
// folder's files and the npm toolchain (a sha256, hex).
std::string componentizeKey(const std::string& kind, const std::filesystem::path& source,
                            const std::filesystem::path& wit);

// componentize-js: `source` (an ES module, relative to `cwd`) -> `out`.
Result<void> componentize(const std::filesystem::path& cwd, const std::string& source,
                          const std::filesystem::path& wit, const std::filesystem::path& out);

}  // namespace fn0::cli
