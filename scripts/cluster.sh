#!/usr/bin/env bash
# A three-node fn0 cluster on loopback, to try one on a single machine:
#
#   scripts/cluster.sh up [--examples]   PostgreSQL, versitygw (S3), three
#                                        nodes and haproxy in front; --examples
#                                        also deploys build/examples/*.wasm
#   scripts/cluster.sh status            which parts run (exit 1 unless all)
#   scripts/cluster.sh down [--clean]    stops them; --clean also removes the state
#
# Ports: haproxy FN0_CLUSTER_PORT (8090), nodes +1..+3, PostgreSQL +4, S3 +5.
# State (data, logs, pids, token, key) in FN0_CLUSTER_DIR (build/cluster), so
# a later `up` brings the same functions back. FN0_BUILD_DIR picks the build
# (build); FN0_CLUSTER_EXAMPLES the examples `--examples` deploys.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${FN0_BUILD_DIR:-$root/build}")
dir=$(realpath -m "${FN0_CLUSTER_DIR:-$build/cluster}")
cache=${FN0_CACHE:-$HOME/.cache/fn0}
pgbin=${FN0_PG_BIN:-/usr/lib/postgresql/15/bin}
haproxy=${FN0_HAPROXY:-/usr/sbin/haproxy}
hap_py=$root/tests/servers/haproxy.py
bucket=fn0-code
domain=fn0.localhost
nodes=(node1 node2 node3)
# Stop order: the front first, so nothing new reaches a node that is going.
parts=(haproxy node3 node2 node1 versitygw postgres)

die() { echo "cluster.sh: $*" >&2; exit 1; }
usage() { sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }

# ---- state --------------------------------------------------------------
# $dir/cluster.env holds what `up` chose (ports, paths), so status and down
# work whatever the environment says later.
load_state() {
  # shellcheck disable=SC1091
  [[ -f $dir/cluster.env ]] && source "$dir/cluster.env"
  return 0
}

choose_ports() {
  local base=${FN0_CLUSTER_PORT:-8090}
  [[ $base =~ ^[0-9]+$ ]] && ((base >= 1024 && base <= 65530)) || die "FN0_CLUSTER_PORT=$base: want 1024-65530"
  port_haproxy=$base port_node1=$((base + 1)) port_node2=$((base + 2)) port_node3=$((base + 3))
  port_postgres=$((base + 4)) port_versitygw=$((base + 5))
  # A unix socket path has at most 107 bytes.
  sock=$dir/haproxy.sock
  ((${#sock} < 100)) || sock=${TMPDIR:-/tmp}/fn0-cluster-$base.sock
  # PostgreSQL will not run as root; as `nobody` it must reach its directory
  # (and its socket path must be short): else it lives in /tmp. A directory
  # an earlier `up` chose is kept, with its data.
  if [[ -z ${pgdir:-} || ! -d $pgdir ]]; then
    pgdir=$dir/pg
    if ((${#pgdir} > 80)) || { ((EUID == 0)) && ! runuser -u nobody -- test -x "$dir"; }; then
      pgdir=$(mktemp -d "${TMPDIR:-/tmp}/fn0-cluster-pg.XXXXXX")
    fi
  fi
  {
    for v in port_haproxy port_node1 port_node2 port_node3 port_postgres port_versitygw sock pgdir; do
      printf '%s=%q\n' "$v" "${!v}"
    done
  } >"$dir/cluster.env"
}

pidfile() { echo "$dir/run/$1.pid"; }

# The pid in a part's pidfile, if that process still runs the program we
# started (a pid reused by something else is never signalled).
alive() {
  local f pid want
  f=$(pidfile "$1")
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  case $1 in node*) want="fn0 serve" ;; *) want=$1 ;; esac
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$want" || return 1
  echo "$pid"
}

# ---- waiting --------------------------------------------------------------
# wait_for PART LOG SECONDS CMD...: until CMD succeeds; fails early, with the
# log's tail, if the part's process is gone.
wait_for() {
  local part=$1 log=$2 secs=$3
  shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    # Only whether the pid still runs: right after `setsid prog &` it may not
    # have exec'd yet (its cmdline is still this script's), which alive()
    # would take for another program.
    if ! kill -0 "$(cat "$(pidfile "$part")" 2>/dev/null)" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      die "$part exited during start-up (log: $log)"
    fi
    ((SECONDS < deadline)) || { tail -n 20 "$log" >&2 || true; die "$part did not answer within $secs s (log: $log)"; }
    sleep 0.05
  done
}

http_ok() { curl -sf -o /dev/null --max-time 2 "$1"; }
http_any() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1") != 000 ]]; }
haproxy_all_up() { [[ $(python3 "$hap_py" --servers "$sock" | grep -vc ' UP$') == 0 ]]; }

ports_taken() {
  python3 - "$@" <<'EOF'
import socket, sys
for p in sys.argv[1:]:
    with socket.socket() as s:
        # As the servers bind: only a listener (not TIME_WAIT) makes it taken.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", int(p)))
        except OSError:
            print(p)
EOF
}

# ---- up -----------------------------------------------------------------
start_postgres() {
  local as=()
  if ((EUID == 0)); then
    as=(runuser -u nobody --)
    mkdir -p "$pgdir" && chown nobody: "$pgdir" && chmod 755 "$pgdir"
  else
    mkdir -p "$pgdir"
  fi
  [[ -d $pgdir/data ]] ||
    "${as[@]}" "$pgbin/initdb" -D "$pgdir/data" -U fn0 -A trust --no-sync -E UTF8 >"$pgdir/initdb.log" 2>&1 ||
    { cat "$pgdir/initdb.log" >&2; die "initdb failed"; }
  # fsync=off: a cluster to try, not to keep through a power cut.
  "${as[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port_postgres -k $pgdir -c fsync=off" start </dev/null >/dev/null 3>&- ||
    { tail -n 20 "$pgdir/postgres.log" >&2; die "PostgreSQL did not start (log: $pgdir/postgres.log)"; }
  head -1 "$pgdir/data/postmaster.pid" >"$(pidfile postgres)"
  local psql=("${as[@]}" "$pgbin/psql" -h 127.0.0.1 -p "$port_postgres" -U fn0 -d postgres -At)
  [[ $("${psql[@]}" -c "select 1 from pg_database where datname = 'fn0'") == 1 ]] ||
    "${as[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port_postgres" -U fn0 fn0
}

start_versitygw() {
  mkdir -p "$dir/s3/$bucket"  # the posix backend serves each directory as a bucket
  # Keys through the environment, not argv (visible in ps).
  ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
    setsid "$versitygw" --port "127.0.0.1:$port_versitygw" --quiet posix "$dir/s3" \
    </dev/null >>"$dir/versitygw.log" 2>&1 3>&- &
  echo $! >"$(pidfile versitygw)"
  wait_for versitygw "$dir/versitygw.log" 15 http_any "http://127.0.0.1:$port_versitygw/"
}

start_node() {
  local n=$1 port_var=port_$1
  local port=${!port_var}
  # Every connection comes from 127.0.0.1 through haproxy: no per-client cap.
  setsid "$build/fn0" serve --listen "127.0.0.1:$port" --advertise "127.0.0.1:$port" --data-dir "$dir/$n" \
    --base-domain "$domain" --registry "postgres://fn0@127.0.0.1:$port_postgres/fn0" \
    --store "s3://$bucket?endpoint=http://127.0.0.1:$port_versitygw" \
    --cluster-key-file "$dir/cluster.key" --secrets-key-file "$dir/secrets.key" \
    --admin-token-file "$dir/admin-token" --max-client-connections 0 \
    </dev/null >>"$dir/$n.access.log" 2>>"$dir/$n.log" 3>&- &
  echo $! >"$(pidfile "$n")"
  wait_for "$n" "$dir/$n.log" 60 http_ok "http://127.0.0.1:$port/_fn0/readyz"
}

start_haproxy() {
  python3 "$hap_py" --config --port "$port_haproxy" --socket "$sock" \
    "n1=127.0.0.1:$port_node1" "n2=127.0.0.1:$port_node2" "n3=127.0.0.1:$port_node3" >"$dir/haproxy.cfg"
  rm -f "$sock"
  # -db: in the foreground (no daemon fork), so $! is haproxy itself.
  setsid "$haproxy" -db -f "$dir/haproxy.cfg" </dev/null >>"$dir/haproxy.log" 2>&1 3>&- &
  echo $! >"$(pidfile haproxy)"
  wait_for haproxy "$dir/haproxy.log" 15 http_ok "http://127.0.0.1:$port_haproxy/_fn0/readyz"
  wait_for haproxy "$dir/haproxy.log" 15 haproxy_all_up
}

deploy_examples() {
  local lb=http://127.0.0.1:$port_haproxy names n out v
  read -r -a names <<<"${FN0_CLUSTER_EXAMPLES:-hello-c echo-c hello-js echo-js hello-ts}"
  echo "deploying the examples through haproxy:"
  for n in "${names[@]}"; do
    [[ -f $build/examples/$n.wasm ]] || continue
    # --json: the result alone on stdout; progress and errors on stderr.
    if ! out=$(FN0_SERVER=$lb FN0_TOKEN=$token "$build/fn0" deploy "$build/examples/$n.wasm" --name "$n" --json \
               2>"$dir/deploy.err"); then
      die "deploying $n failed: $out $(cat "$dir/deploy.err")"
    fi
    v=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])' <<<"$out")
    printf '  %-9s %-4s %-32s http://%s.%s:%s/\n' "$n" "$v" "$lb/$n/" "$n" "$domain" "$port_haproxy"
  done
}

up() {
  local examples=0
  for a in "$@"; do
    case $a in --examples) examples=1 ;; *) usage ;; esac
  done
  [[ -x $build/fn0 ]] || die "$build/fn0 missing: run make build first"
  [[ -x $pgbin/initdb ]] || die "PostgreSQL 15 missing ($pgbin/initdb): run scripts/setup.sh"
  [[ -x $haproxy ]] || die "haproxy missing ($haproxy): run scripts/setup.sh"
  versitygw=$(command -v versitygw || echo "$cache/tools/bin/versitygw")
  [[ -x $versitygw ]] || die "versitygw missing (not on PATH nor in $cache/tools/bin): run scripts/setup.sh --test"

  load_state
  for p in "${parts[@]}"; do
    if pid=$(alive "$p"); then
      die "already up in $dir ($p runs as pid $pid): see \`$0 status\`, or \`$0 down\` first"
    fi
  done
  mkdir -p "$dir/run"
  choose_ports
  local taken=() port_var
  for p in "${parts[@]}"; do
    port_var=port_$p
    [[ -z $(ports_taken "${!port_var}") ]] || taken+=("${!port_var} ($p)")
  done
  ((${#taken[@]} == 0)) ||
    die "in use on 127.0.0.1: port ${taken[*]}; stop what listens there, or pick other ports: FN0_CLUSTER_PORT=9090 $0 up"

  # Secrets every node shares, made once and kept (mode 0600).
  (
    umask 077
    [[ -s $dir/admin-token ]] || python3 -c 'import secrets; print(secrets.token_hex(24))' >"$dir/admin-token"
    [[ -s $dir/cluster.key ]] || python3 -c 'import secrets; print(secrets.token_hex(32))' >"$dir/cluster.key"
    [[ -s $dir/secrets.key ]] || "$build/fn0" secrets-key add --secrets-key-file "$dir/secrets.key" >/dev/null
    [[ -s $dir/s3.env ]] || python3 -c 'import secrets
print(f"AWS_ACCESS_KEY_ID=fn0{secrets.token_hex(8)}\nAWS_SECRET_ACCESS_KEY={secrets.token_urlsafe(24)}")' >"$dir/s3.env"
  )
  token=$(<"$dir/admin-token")
  set -a
  # shellcheck disable=SC1091
  source "$dir/s3.env"
  AWS_REGION=us-east-1
  set +a

  # Whatever fails from here stops what had started; the logs stay. To fd 3,
  # the real stderr: a signal can land inside `wait_for`'s >/dev/null. (No
  # server may inherit fd 3: it would hold a caller's pipe open.)
  exec 3>&2
  trap 'echo "cluster.sh: stopping what had started" >&3; stop_all >&3' EXIT
  trap 'exit 130' INT TERM  # so that Ctrl-C runs the EXIT trap too
  start_postgres
  start_versitygw
  for n in "${nodes[@]}"; do start_node "$n"; done
  start_haproxy
  ((examples)) && deploy_examples
  trap - EXIT INT TERM

  local lb=http://127.0.0.1:$port_haproxy
  cat <<EOT

fn0 cluster up: $("$build/fn0" --version | head -1), state in $dir
  load balancer  $lb/   (haproxy, stats socket $sock)
  node1          http://127.0.0.1:$port_node1/
  node2          http://127.0.0.1:$port_node2/
  node3          http://127.0.0.1:$port_node3/
  registry       postgres://fn0@127.0.0.1:$port_postgres/fn0
  code store     s3://$bucket?endpoint=http://127.0.0.1:$port_versitygw   (credentials in $dir/s3.env)

use it with the CLI:
  export FN0_SERVER=$lb FN0_TOKEN=$token
  $build/fn0 deploy $build/examples/hello-c.wasm --name hello-c
  curl $lb/hello-c/

logs:  $dir/node{1,2,3}.log (node), $dir/node{1,2,3}.access.log (requests),
       $dir/haproxy.log, $dir/versitygw.log, $pgdir/postgres.log
stop:  $0 down    (--clean also removes $dir)
EOT
}

# ---- down / status ----------------------------------------------------------
stop_part() {
  local part=$1 pid sig=TERM
  pid=$(alive "$part") || { rm -f "$(pidfile "$part")"; return 0; }
  [[ $part == postgres ]] && sig=INT  # PostgreSQL's "fast" shutdown; TERM waits for clients
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    alive "$part" >/dev/null || break
    sleep 0.1
  done
  if alive "$part" >/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "stopped $part (pid $pid, killed after 10 s)"
  else
    echo "stopped $part (pid $pid)"
  fi
  rm -f "$(pidfile "$part")"
}

stop_all() {
  for p in "${parts[@]}"; do stop_part "$p"; done
}

down() {
  local clean=0
  for a in "$@"; do
    case $a in --clean) clean=1 ;; *) usage ;; esac
  done
  load_state
  if [[ -d $dir/run ]]; then
    stop_all
  else
    echo "nothing started in $dir"
  fi
  if ((clean)); then
    # Only what `up` made: the state dir and what it put outside it.
    [[ ${pgdir:-} && $pgdir != "$dir"/* ]] && rm -rf "$pgdir"
    [[ ${sock:-} ]] && rm -f "$sock"
    rm -rf "$dir"
    echo "removed $dir"
  fi
}

status() {
  [[ -f $dir/cluster.env ]] || { echo "no cluster in $dir (start one with \`$0 up\`)"; return 1; }
  load_state
  local p pid port_var all=0
  for p in postgres versitygw "${nodes[@]}" haproxy; do
    port_var=port_$p
    if pid=$(alive "$p"); then
      printf '%-10s running  pid %-7s 127.0.0.1:%s\n' "$p" "$pid" "${!port_var}"
    else
      printf '%-10s stopped\n' "$p"
      all=1
    fi
  done
  # Membership as node1 has it (GET /_fn0/api/v1/cluster), when it runs.
  if alive node1 >/dev/null; then
    curl -sf --max-time 2 -H "Authorization: Bearer $(<"$dir/admin-token")" \
      "http://127.0.0.1:$port_node1/_fn0/api/v1/cluster" 2>/dev/null | python3 -c '
import json, sys
nodes = json.load(sys.stdin).get("nodes", [])
print("node1 sees: " + ", ".join(n["id"] + " " + n["state"] for n in nodes))' 2>/dev/null || true
  fi
  if alive haproxy >/dev/null && [[ -S $sock ]]; then
    echo "haproxy sees: $(python3 "$hap_py" --servers "$sock" 2>/dev/null | tr '\n' ' ' || echo "? (its stats socket $sock does not answer)")"
  fi
  return $all
}

case ${1:-} in
  up | down | status) cmd=$1; shift; "$cmd" "$@" ;;
  *) usage ;;
esac
