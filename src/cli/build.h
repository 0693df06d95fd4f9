// `fn0 build`: a project -> a standard, self-contained wasi:http component.
// C: wit-bindgen + clang + the preview1 adapter. JS/TS: esbuild bundles the
// project with fn0's runtime glue (js_bundle.h), componentize-js embeds the
// bundle in the StarlingMonkey engine. A JS build whose inputs did not change
// reuses the last component (so a redeploy creates no version).
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
