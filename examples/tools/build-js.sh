#!/usr/bin/env bash
# Builds a JavaScript or TypeScript fetch-handler into a wasi:http component.
#   build-js.sh ENTRY(.js|.ts) WIT_DIR WORLD OUT.wasm
# TypeScript is bundled to one ES module by esbuild first; componentize-js
# then embeds it in the StarlingMonkey engine. componentize-js is called
# directly: `jco componentize` (jco 1.35) would use its own nested, older
# componentize-js (0.22) instead of the pinned 0.23.
set -euo pipefail
entry="$1" wit="$2" world="$3" out="$4"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
js="$repo/tools/js"
work="$(dirname "$out")/$(basename "$out" .wasm).work"
rm -rf "$work" && mkdir -p "$work/tmp"

src="$entry"
if [[ "$entry" == *.ts ]]; then
  src="$work/app.js"
  "$js/node_modules/.bin/esbuild" "$entry" --bundle --format=esm --platform=neutral \
    --log-level=warning --outfile="$src"
fi
# componentize-js leaves files in TMPDIR when it fails: keep them in the build.
TMPDIR="$work/tmp" NODE_OPTIONS="--import=$js/preopen.mjs" \
  "$js/node_modules/.bin/componentize-js" "$src" --wit "$wit" --world-name "$world" \
  -o "$work/out.wasm" >"$work/jco.log" 2>&1 || { cat "$work/jco.log" >&2; exit 1; }
mv "$work/out.wasm" "$out"
rm -rf "$work"
