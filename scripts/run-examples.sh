#!/usr/bin/env bash
# `make run` until the fn0 node exists: serves every example component under
# the reference host (`wasmtime serve`), one port each from 8080 up, prints
# the URLs, and stops them all on Ctrl-C.
set -euo pipefail
build="${1:-build}"
base_port="${FN0_RUN_PORT:-8080}"
export PATH="${FN0_CACHE:-$HOME/.cache/fn0}/tools/bin:$PATH"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "fn0 $("$build/fn0" --version | sed 's/^fn0 //') — the node is not built yet (issue 4);"
echo "serving the example functions under the reference host, wasmtime serve:"
port=$base_port
for name in hello-c echo-c hello-js echo-js hello-ts; do
  wasm="$build/examples/$name.wasm"
  wasmtime serve --addr "127.0.0.1:$port" -O pooling-allocator=y -Scli "$wasm" \
    >"$build/examples/$name.log" 2>&1 &
  pids+=($!)
  printf '  %-9s http://127.0.0.1:%d/\n' "$name" "$port"
  port=$((port + 1))
done
# Wait until each answers, so the URLs above are live when we say so.
for ((p = base_port; p < port; p++)); do
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$p/" && break
    sleep 0.1
  done
done
echo "try: curl http://127.0.0.1:$base_port/   (logs in $build/examples/*.log; Ctrl-C stops)"
wait -n "${pids[@]}"
