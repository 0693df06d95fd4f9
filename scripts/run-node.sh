#!/usr/bin/env bash
# `make run`: starts a node on 127.0.0.1:8080 (FN0_RUN_PORT to change) with
# its data under build/run-data (FN0_RUN_DATA to change), deploys the example
# functions, prints their URLs and the admin token, and keeps the node in the
# foreground: Ctrl-C stops it gracefully and `make run` ends with status 0.
#
# Ctrl-C makes the terminal send SIGINT to its foreground process group. Were
# that make's group, make would be interrupted too, and print
# "make: *** [Makefile:..: run] Interrupt" and exit 130 however calmly the
# node stopped. So on a terminal the node is started as a job (bash's job
# control: a process group of its own) and, once the examples are deployed,
# brought to the foreground (`fg`): the SIGINT reaches only the node; when it
# has stopped, the terminal goes back to make's group and this script and
# make exit 0. Job control is on only around those two steps: with it on,
# every command here (each curl) would get the terminal in turn. A Ctrl-C
# while the examples deploy stops the node and interrupts make.
set -euo pipefail
build="${1:-build}"
port="${FN0_RUN_PORT:-8080}"
data="${FN0_RUN_DATA:-$build/run-data}"
base="fn0.localhost"
mkdir -p "$data"

# Job control only when stderr (which bash's job control uses) is a terminal
# whose foreground process group is ours, i.e. make's: not under `make run &`,
# nor without a terminal, where it could not work.
read -r -a self_stat </proc/$$/stat  # fields 5 and 8: our process group, the terminal's foreground one
jobs_on=0
[[ -t 2 && "${self_stat[4]}" == "${self_stat[7]}" ]] && jobs_on=1
((jobs_on)) && set -m

# The node's CPU and memory per request are also the most a function's
# settings may ask for: image-resize asks for more than the defaults (10 ms,
# 128 MB), so they are raised here; every other example is held to the
# defaults by its settings below.
"$build/fn0" serve --listen "127.0.0.1:$port" --data-dir "$data" --base-domain "$base" \
  --cpu-ms 500 --memory-mb 256 >"$data/access.log" 2>"$data/node.log" &
node=$!
((jobs_on)) && set +m
# Whatever ends this script early (a failed deploy, Ctrl-C before the node
# is in the foreground, make killed) stops the node too.
# It may run twice (the INT trap's exit runs the EXIT one): the second
# kill fails, which set -e must not turn into the script's status.
stop_node() { kill -TERM "$node" 2>/dev/null || true; wait "$node" 2>/dev/null || true; }
trap stop_node EXIT
trap 'stop_node; exit 130' INT
trap 'stop_node; exit 143' TERM

for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$port/_fn0/healthz" >/dev/null && break
  if ! kill -0 $node 2>/dev/null; then cat "$data/node.log" >&2; exit 1; fi
  sleep 0.05
done
token="${FN0_ADMIN_TOKEN:-$(cat "$data/admin-token" 2>/dev/null || true)}"
if [[ -z "$token" ]]; then
  echo "no admin token: set FN0_ADMIN_TOKEN (this data dir was first started with one)" >&2
  exit 1
fi

echo "$("$build/fn0" --version) — node on http://127.0.0.1:$port/"
echo "deploying the examples:"
# Settings per function (JSON for PUT .../settings), as its fn0.toml asks;
# the others keep fn0's default limits.
default_settings='{"cpu_ms": 10, "memory_mb": 128}'
declare -A settings=(
  [image-resize]='{"cpu_ms": 200, "memory_mb": 256, "max_subrequests": 1}'
  [ssr]='{"cpu_ms": 25, "memory_mb": 128}'
  [rest-api]='{"cpu_ms": 30, "memory_mb": 128, "reuse_instance_requests": 100}'
)
for name in hello-c echo-c hello-js echo-js hello-ts image-resize ssr rest-api; do
  out=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/wasm' --data-binary "@$build/examples/$name.wasm" \
    "http://127.0.0.1:$port/_fn0/api/v1/functions/$name/versions")
  code=${out##*$'\n'}
  version=$(printf '%s' "${out%$'\n'*}" | sed -n 's/.*"version": *"\(v[0-9]*\)".*/\1/p' | head -1)
  if [[ "$code" != 200 && "$code" != 201 ]]; then
    echo "  $name: deploy failed ($code): ${out%$'\n'*}" >&2
    continue
  fi
  curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data "${settings[$name]:-$default_settings}" "http://127.0.0.1:$port/_fn0/api/v1/functions/$name/settings" ||
    echo "  $name: settings not applied" >&2
  printf '  %-12s %-5s http://127.0.0.1:%s/%s/   http://%s.%s:%s/\n' "$name" "$version" "$port" "$name" "$name" "$base" "$port"
done
cat <<EOT

dashboard:   http://127.0.0.1:$port/_fn0/   (log in with the admin token)
admin token: $token   (saved in $data/admin-token)
try:  curl http://127.0.0.1:$port/hello-c/
      curl -X POST --data-binary 'hi' http://127.0.0.1:$port/echo-c/some/path?x=1 -i
      curl -X POST --data-binary @photo.jpg 'http://127.0.0.1:$port/image-resize/?w=256&format=webp' -o small.webp
      curl -X POST -H 'content-type: application/json' -d '{"title": "hi"}' http://127.0.0.1:$port/rest-api/notes
      open  http://127.0.0.1:$port/ssr/   (pages rendered by Preact, posts in its key-value store)
      curl -H "Authorization: Bearer $token" http://127.0.0.1:$port/_fn0/api/v1/functions
logs: $data/access.log (access log), $data/node.log; Ctrl-C stops the node
EOT
status=0
if ((jobs_on)); then
  set -m
  fg %1 >/dev/null || status=$?  # `fg` prints the job's command line: not wanted
else
  wait "$node" || status=$?
fi
trap - EXIT INT TERM
# The node's own exit status: 0 after SIGINT or SIGTERM (it finished its
# in-flight requests); anything else is a failure worth its log.
if ((status == 0)); then
  echo "node stopped"
else
  echo "the node exited with status $status; its log: $data/node.log" >&2
  tail -n 20 "$data/node.log" >&2
fi
exit "$status"
