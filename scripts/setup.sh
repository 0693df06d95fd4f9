#!/usr/bin/env bash
# Installs what fn0's build, tests and examples need, and only what is missing.
# Idempotent: a second run on a ready machine does nothing but checks.
# One flag says how much:
#   --run    building fn0 and the examples `make run` serves (C, JS/TS, Rust,
#            Go): `make run`, `make build`, `make examples`
#   (none)   that and every guest language's toolchain `fn0 doctor` checks
#            (componentize-py, libc++ for wasm32): `make setup`, `make install`
#   --test   that and what only the tests need: the reference host
#            (wasmtime-cli), PostgreSQL, haproxy, versitygw, libFuzzer,
#            chromium + Playwright + axe-core, the OpenID
#            provider (oidc-provider), pytest: `make test`
#   --bench  --test's but the browser, and wrk + oha: `make bench`
# Caches live outside the repository (FN0_CACHE, default ~/.cache/fn0) so a
# clean clone rebuilds incrementally on a machine that has built before.
set -euo pipefail

want_languages=1 want_test=0 want_browser=0 want_bench=0
case "${1:-}" in
  --run) want_languages=0 ;;
  "") ;;
  --test) want_test=1 want_browser=1 ;;
  --bench) want_test=1 want_bench=1 ;;
  *) echo "usage: scripts/setup.sh [--run | --test | --bench]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${FN0_CACHE:-$HOME/.cache/fn0}"
tools="$cache/tools"            # cargo-installed tools live in $tools/bin
mkdir -p "$cache" "$tools/bin"
export PATH="$tools/bin:$HOME/.cargo/bin:$PATH"

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# ---- Debian packages -------------------------------------------------------
apt_packages=(
  build-essential cmake ninja-build pkg-config ccache git curl ca-certificates
  libboost1.81-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libsqlitecpp-dev sqlite3 libssl-dev
  libgtest-dev libgmock-dev googletest  # CMake's configure finds GoogleTest (the unit tests)
  libtomlplusplus-dev  # fn0.toml
  libsodium-dev  # secrets sealed at rest in the registry (src/registry/secret_box.cc)
  libjemalloc-dev  # the node's allocator (src/server/CMakeLists.txt)
  libpq-dev  # the registry on PostgreSQL (scale-out)
  python3
  # C guests and the C examples.
  "clang-$CLANG_VERSION" "lld-$CLANG_VERSION" "libclang-rt-$CLANG_VERSION-dev-wasm32" wasi-libc
  # Rust: the engine (wasmtime needs Rust >= 1.95; rustc-web is 1.96), cargo's
  # tools below, and Rust guests (image-resize), whose std is built for
  # wasm32-wasip1 from rust-web-src (rustup cannot add targets here).
  rustc-web cargo-web rust-web-src
)
# Node.js builds the dashboard and runs the JS toolchain; a machine that has
# it (another build of Node, e.g. NodeSource's, bundles npm) keeps it.
command -v node >/dev/null || apt_packages+=(nodejs)
command -v npm >/dev/null || apt_packages+=(npm)
if ((want_languages)); then
  # libc++ for C++ guests, venvs for componentize-py (Python guests).
  apt_packages+=("libc++-$CLANG_VERSION-dev-wasm32" "libc++abi-$CLANG_VERSION-dev-wasm32" python3-venv)
fi
if ((want_test)); then
  apt_packages+=(
    "libclang-rt-$CLANG_VERSION-dev"  # libFuzzer and the sanitizers, for fuzz/
    postgresql-15 haproxy  # scale-out: registry on PostgreSQL, a load balancer in the cluster tests
  )
fi
# ---- [dashboard] the browser the dashboard tests drive (setup.sh --test) ----
((want_browser)) && apt_packages+=(chromium)
((want_bench)) && apt_packages+=(wrk)
missing=()
for p in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "apt: installing ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  aptlog="$cache/apt.log"
  { "${sudo_cmd[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } >"$aptlog" 2>&1 || { cat "$aptlog" >&2; log "apt failed (log above)"; exit 1; }
else
  log "apt: all ${#apt_packages[@]} packages present"
fi

# ---- Go tools ----------------------------------------------------------------
# versitygw: the S3 server the code store tests run against (posix backend,
# enforces SigV4). Built by `go install` into $tools/bin; the module and
# build caches stay under $cache, so a reinstall is quick. It builds in the
# background while the cargo tools below build (its downloads overlap
# theirs); the end of this script waits for it.
# Only for the tests and benchmarks (setup.sh --test, which `make test`
# runs, and --bench): `make run` does not wait for it.
go_pid=""
if ((!want_test)); then
  :
elif [[ -x "$tools/bin/versitygw" ]] && [[ -s "$tools/versitygw.version" ]] \
   && [[ "$(cat "$tools/versitygw.version")" == "$VERSITYGW_VERSION" ]]; then
  log "go: versitygw $VERSITYGW_VERSION present"
else
  gobin="$(command -v go || true)"
  [[ -z "$gobin" && -x /usr/local/go/bin/go ]] && gobin=/usr/local/go/bin/go
  if [[ -z "$gobin" ]]; then
    log "go: not found (on PATH or /usr/local/go/bin): install Go >= 1.24 to build versitygw"; exit 1
  fi
  log "go: installing versitygw $VERSITYGW_VERSION with $("$gobin" version | cut -d' ' -f3) in the background (about 4 minutes the first time)"
  golog="$cache/go-install.log"
  ( GOBIN="$tools/bin" GOPATH="$cache/go" GOMODCACHE="$cache/go/pkg/mod" GOCACHE="$cache/go/build-cache" \
      "$gobin" install "github.com/versity/versitygw/cmd/versitygw@v$VERSITYGW_VERSION" &&
    echo "$VERSITYGW_VERSION" >"$tools/versitygw.version" ) >"$golog" 2>&1 &
  go_pid=$!
fi

# ---- cargo tools -----------------------------------------------------------
# Installed into fn0's own tool folder ($tools/bin, which the Makefile and the
# tests put first on PATH), never over a user's ~/.cargo/bin. Each tool builds
# in its own target dir under the cache, so a reinstall is incremental.
# A tool installed with extra arguments (features) records them; other
# arguments install it again.
cargo_tool() { # crate version binary [cargo install args...]
  local crate="$1" version="$2" bin="$3"; shift 3
  local stamp="$tools/.$crate.args"
  if [[ -x "$tools/bin/$bin" ]] && "$tools/bin/$bin" --version 2>/dev/null | grep -qF "$version" &&
     { [[ $# -eq 0 ]] || [[ "$(cat "$stamp" 2>/dev/null)" == "$*" ]]; }; then
    log "cargo: $crate $version present"
    return
  fi
  log "cargo: installing $crate $version (this takes a while the first time)"
  CARGO_TARGET_DIR="$cache/cargo-install/$crate" \
    cargo install --locked --quiet --force --root "$tools" "$crate" --version "=$version" "$@"
  echo "$*" > "$stamp"
}
cargo_tool wasm-tools "$WASM_TOOLS_VERSION" wasm-tools
cargo_tool wit-bindgen-cli "$WIT_BINDGEN_VERSION" wit-bindgen
# The reference host, for the differential tests and the benchmarks only
# (the longest step here; `make run` does without): only what `wasmtime
# serve` needs, same features a production build of it has for serving
# (pooling allocator, cache, p2/p3), and wasi-keyvalue (-Skeyvalue: its
# in-memory store) for components that use the key-value interfaces.
if ((want_test)); then
  cargo_tool wasmtime-cli "$WASMTIME_VERSION" wasmtime \
    --no-default-features \
    --features run,serve,wasi-http,wasi-keyvalue,cranelift,pooling-allocator,component-model,component-model-async,cache,config,wat,parallel-compilation,logging,addr2line,demangle
fi

# ---- WASI preview1 adapter -------------------------------------------------
# Shipped inside the crate wasi-preview1-component-adapter-provider; a tiny
# tool crate writes the reactor and command adapters out.
adapter_dir="$cache/preview1-adapter/$WASMTIME_VERSION"
if [[ -s "$adapter_dir/wasi_snapshot_preview1.reactor.wasm" ]]; then
  log "adapter: preview1 adapter $WASMTIME_VERSION present"
else
  log "adapter: extracting preview1 adapter $WASMTIME_VERSION"
  CARGO_TARGET_DIR="$cache/cargo-target-tools" \
    cargo run --quiet --release --locked --manifest-path "$repo/tools/adapter-extract/Cargo.toml" -- "$adapter_dir"
fi

# ---- Go guests: the runtime of wit-bindgen's Go bindings ---------------------
# `wit-bindgen go` emits code that imports go.bytecodealliance.org/pkg, which
# is not on the Go module proxy: it ships inside the crate wit-bindgen-go
# (src/pkg). cargo fetches that crate for a one-dependency manifest and
# `cargo metadata` says where its source is; src/pkg is copied to
# $tools/go-wit-runtime/<version>, its `go 1.27.1` line lowered to `go 1.25`
# (no such Go release exists; the code builds with 1.25). `fn0 build` copies
# it into each Go project's build/ (src/cli/lang/go.cc).
if [[ "$WIT_BINDGEN_GO_VERSION" != "$WIT_BINDGEN_VERSION" ]]; then
  log "versions.env: WIT_BINDGEN_GO_VERSION must equal WIT_BINDGEN_VERSION (the bindings and their runtime)"; exit 1
fi
go_rt="$tools/go-wit-runtime/$WIT_BINDGEN_GO_VERSION"
if [[ -s "$go_rt/wit/runtime/runtime.go" ]] && grep -qx 'go 1.25' "$go_rt/go.mod" 2>/dev/null; then
  log "go: wit-bindgen-go $WIT_BINDGEN_GO_VERSION runtime present"
else
  log "go: extracting the wit-bindgen-go $WIT_BINDGEN_GO_VERSION runtime (go.bytecodealliance.org/pkg)"
  fetch="$cache/go-wit-runtime-fetch"
  mkdir -p "$fetch"
  cat >"$fetch/Cargo.toml" <<EOF
# Written by fn0's scripts/setup.sh: only there to make cargo fetch wit-bindgen-go.
[package]
name = "fn0-go-wit-runtime-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
path = "lib.rs"

[dependencies]
wit-bindgen-go = "=$WIT_BINDGEN_GO_VERSION"

[workspace]
EOF
  : >"$fetch/lib.rs"
  cargo fetch --quiet --manifest-path "$fetch/Cargo.toml"
  crate_dir="$(cargo metadata --format-version 1 --offline --manifest-path "$fetch/Cargo.toml" |
    python3 -c 'import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "wit-bindgen-go": print(os.path.dirname(p["manifest_path"]))')"
  if [[ ! -s "$crate_dir/src/pkg/go.mod" ]]; then
    log "go: no src/pkg/go.mod in the wit-bindgen-go crate (${crate_dir:-not found})"; exit 1
  fi
  rm -rf "$go_rt.partial" && mkdir -p "$(dirname "$go_rt")"
  cp -R "$crate_dir/src/pkg" "$go_rt.partial"
  chmod -R u+w "$go_rt.partial"
  sed -i 's/^go 1\.27\.1$/go 1.25/' "$go_rt.partial/go.mod"
  if ! grep -qx 'go 1.25' "$go_rt.partial/go.mod"; then
    log "go: unexpected go line in the runtime's go.mod: $(grep '^go ' "$go_rt.partial/go.mod")"; exit 1
  fi
  rm -rf "$go_rt" && mv "$go_rt.partial" "$go_rt"
fi

# ---- npm tools (JS/TS guests) ----------------------------------------------
# npm_pinned DIR PROBE LABEL: `npm install` in DIR exactly as its committed
# package-lock.json says, unless node_modules/PROBE is there and the lock
# file matches the stamp the last install left. `npm ci` rejects these lock
# files (npm 11 and platform-specific optional packages); `npm install` with
# a complete lock file installs exactly it, but rewrites the file (entries
# for other platforms): the committed one is put back, so the working tree
# stays clean and the check holds.
npm_pinned() {
  local dir="$1" probe="$2" label="$3" kept
  if [[ -d "$dir/node_modules/$probe" ]] \
     && cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.fn0" ; then
    log "npm: $label present"
    return
  fi
  log "npm: installing $label (pinned by ${dir#"$repo"/}/package-lock.json)"
  kept="$cache/$(echo "${dir#"$repo"/}" | tr / -)-package-lock.json.committed"
  cp "$dir/package-lock.json" "$kept"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --cache "$cache/npm")
  cp "$kept" "$dir/package-lock.json"
  cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.fn0"
}
npm_pinned "$repo/tools/js" @bytecodealliance/componentize-js "jco, componentize-js, esbuild"
# ---- [dashboard] npm packages of the web dashboard --------------------------
# Needed to build fn0 (CMake runs dashboard/build.mjs), so always installed;
# the same lock-file stamp as tools/js above.
npm_pinned "$repo/dashboard" esbuild "the dashboard's packages (preact, htm, uplot, esbuild)"
# ---- [dashboard] browser tests (setup.sh --test): Playwright, axe-core --------
# Playwright for Python drives Debian's chromium (installed above); its own
# browser download is never used. axe-core is injected into the page for
# the accessibility check.
if ((want_browser)); then
  pw_req="$repo/tools/python/requirements-browser.txt"
  pw_want="$(sed -n 's/^playwright==//p' "$pw_req")"
  if [[ "$(python3 -c 'import importlib.metadata as m; print(m.version("playwright"))' 2>/dev/null)" == "$pw_want" ]]; then
    log "python: playwright $pw_want present"
  else
    log "python: installing playwright $pw_want (the browser is Debian's chromium)"
    python3 -m pip install --quiet -r "$pw_req" ||
      python3 -m pip install --quiet --break-system-packages -r "$pw_req"
  fi
  npm_pinned "$repo/tests/integration/browser" axe-core axe-core
  # ---- [oidc] the OpenID provider the login tests run (tests/servers/oidc.py) ----
  npm_pinned "$repo/tests/servers/oidc" oidc-provider oidc-provider
fi
# ---- Python guests (src/cli/lang/python.cc; not for --run) ------------------
# componentize-py from PyPI, pinned, in its own venv (one per version) that
# `fn0 build` runs it from; pip's downloads are cached under $cache.
cpy_venv="$tools/componentize-py/$COMPONENTIZE_PY_VERSION"
if ((!want_languages)); then
  :
elif [[ -x "$cpy_venv/bin/componentize-py" ]] \
   && "$cpy_venv/bin/componentize-py" --version 2>/dev/null | grep -qF "$COMPONENTIZE_PY_VERSION"; then
  log "python: componentize-py $COMPONENTIZE_PY_VERSION present"
else
  log "python: installing componentize-py $COMPONENTIZE_PY_VERSION in a venv ($cpy_venv)"
  rm -rf "$cpy_venv"
  python3 -m venv "$cpy_venv" ||
    { log "python3 -m venv failed: a fresh Debian needs apt-get install python3-venv"; exit 1; }
  "$cpy_venv/bin/pip" install --quiet --disable-pip-version-check --cache-dir "$cache/pip" \
    "componentize-py==$COMPONENTIZE_PY_VERSION"
fi
# ---- Python test runner (--test, --bench) ------------------------------------
if ((!want_test)); then
  :
elif python3 -m pytest --version >/dev/null 2>&1; then
  log "python: pytest present"
else
  log "python: installing pytest"
  python3 -m pip install --quiet -r "$repo/tools/python/requirements.txt" ||
    python3 -m pip install --quiet --break-system-packages -r "$repo/tools/python/requirements.txt"
fi
# ---- benchmark tools (`make bench` only: setup.sh --bench) ------------------
if ((want_bench)); then
  # wrk measures maximum throughput; oha can hold a constant request rate,
  # which "p99 at half load" needs.
  cargo_tool oha "$OHA_VERSION" oha
fi
if [[ -n "$go_pid" ]]; then
  if wait "$go_pid"; then
    log "go: versitygw $VERSITYGW_VERSION installed"
  else
    cat "$golog" >&2; log "go: installing versitygw failed (log above)"; exit 1
  fi
fi
log "ready"
