#!/usr/bin/env bash
# The production stack of infra/docker-compose.yml without containers, on 127.0.0.1 only:
# PostgreSQL (Debian's package) + Prefect server (basic auth) + a process work pool and one worker.
# It is the path a machine without a Docker engine (CI included) can run and test.
#
#   infra/local-stack.sh up       start what is not running yet (idempotent); prints the settings to export
#   infra/local-stack.sh down     stop every process `up` started (worker, server, PostgreSQL) by PID
#   infra/local-stack.sh status   one line per component; exit 0 when all run, 3 otherwise
#   infra/local-stack.sh env      print the export lines (eval "$(infra/local-stack.sh env)")
#
# State (data, logs, PIDs, ports, generated passwords) lives in PEAKDATA_STACK_DIR (default: <repo>/.stack).
# Settings (environment): PEAKDATA_STACK_DIR, PEAKDATA_STACK_API_PORT, PEAKDATA_STACK_PG_PORT (default: a
# free port, remembered), PEAKDATA_STACK_AUTH ("user:password", default generated), PEAKDATA_WORK_POOL
# (default peakdata-process), PEAKDATA_WORKER_LIMIT (concurrent flow runs of the worker, default unlimited),
# PEAKDATA_STACK_PG_OSUSER (OS user that runs PostgreSQL when invoked as root, default postgres),
# PEAKDATA_VENV (default <repo>/.venv), PEAKDATA_STACK_UI (true/false, default true).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PEAKDATA_VENV:-$ROOT/.venv}
PREFECT=$VENV/bin/prefect
PY=$VENV/bin/python
POOL=${PEAKDATA_WORK_POOL:-peakdata-process}
HOST=127.0.0.1
STATE=${PEAKDATA_STACK_DIR:-$ROOT/.stack}
PG_OSUSER=${PEAKDATA_STACK_PG_OSUSER:-postgres}
DB_NAME=prefect
DB_USER=prefect
PG_PORT="" API_PORT="" PG_PASSWORD="" API_AUTH=""  # read from the state folder by load_config

log() { printf 'local-stack: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------------------------------------- state

init_state() {
  mkdir -p "$STATE"
  STATE=$(cd "$STATE" && pwd)
  chmod 755 "$STATE"  # PostgreSQL runs as another user and must traverse it; secrets files are 600
  mkdir -p "$STATE/logs" "$STATE/run" "$STATE/prefect-home"
  PGDIR=$STATE/pg
  PGDATA=$PGDIR/data
  SECRETS=$STATE/secrets.env
  PORTS=$STATE/ports.env
  ENVFILE=$STATE/env
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_secret() {
  "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))'
}

# Ports and passwords are chosen once and remembered, so `up` after `down` gives the same URLs.
load_config() {
  local pg_port api_port pg_password api_auth
  if [ ! -f "$PORTS" ]; then
    pg_port=${PEAKDATA_STACK_PG_PORT:-$(free_port)}
    api_port=${PEAKDATA_STACK_API_PORT:-$(free_port)}
    (umask 077; printf 'PG_PORT=%s\nAPI_PORT=%s\n' "$pg_port" "$api_port" >"$PORTS")
  fi
  if [ ! -f "$SECRETS" ]; then
    pg_password=$(random_secret)
    api_auth=${PEAKDATA_STACK_AUTH:-peakdata:$(random_secret)}
    (umask 077; printf 'PG_PASSWORD=%s\nAPI_AUTH=%s\n' "$pg_password" "$api_auth" >"$SECRETS")
  fi
  # shellcheck source=/dev/null
  . "$PORTS"
  # shellcheck source=/dev/null
  . "$SECRETS"
  case "$PG_PORT$API_PORT" in
    '' | *[!0-9]*) rm -f "$PORTS"; die "bad ports in $PORTS (removed; run again)" ;;
  esac
  case "$API_AUTH" in
    ?*:?*) ;;
    *) die "PEAKDATA_STACK_AUTH / API_AUTH in $SECRETS must look like user:password" ;;
  esac
  [ -n "$PG_PASSWORD" ] || die "no PG_PASSWORD in $SECRETS"
  API_URL=http://$HOST:$API_PORT/api
  DB_URL=postgresql+asyncpg://$DB_USER:$PG_PASSWORD@$HOST:$PG_PORT/$DB_NAME
}

write_env() {
  (umask 077; cmd_env >"$ENVFILE")
}

# ------------------------------------------------------------------------------------------ processes

pid_of() { if [ -f "$STATE/run/$1.pid" ]; then cat "$STATE/run/$1.pid"; fi; }

# Running, not a zombie: where PID 1 does not reap orphans (some containers and VMs), a dead process stays
# in /proc as state Z until the machine's init collects it.
running() {
  local pid=$1 stat
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Alive and still the process we started (a recycled PID runs another command line).
alive() {
  local pid=$1 expect=$2
  [ -n "$pid" ] && running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$expect"
}

descendants() {
  local parent=$1 child
  for child in $(ps -o pid= --ppid "$parent" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

# Start a long-running command in its own process group (`set -m`): a background job of a non-interactive
# shell otherwise ignores SIGINT, and Prefect's worker then cannot be stopped cleanly.
start_bg() {
  local name=$1
  shift
  set -m
  nohup "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE/run/$name.pid"
  set +m
}

# SIGTERM the process group and every descendant (flow runs a worker started), SIGKILL what is left.
stop_pid() {
  local name=$1 expect=$2 pid procs p
  pid=$(pid_of "$name")
  if ! alive "$pid" "$expect"; then
    rm -f "$STATE/run/$name.pid"
    return 0
  fi
  procs="$pid $(descendants "$pid" | tr '\n' ' ')"
  log "stopping $name (pids $procs)"
  kill -TERM -- "-$pid" 2>/dev/null || true
  # shellcheck disable=SC2086
  kill -TERM $procs 2>/dev/null || true
  for _ in $(seq 1 100); do
    local left=""
    for p in $procs; do running "$p" && left="$left $p"; done
    [ -z "$left" ] && break
    sleep 0.2
  done
  for p in $procs; do
    if running "$p"; then
      log "$name: pid $p ignored SIGTERM for 20 s, sending SIGKILL"
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  rm -f "$STATE/run/$name.pid"
}

# ---------------------------------------------------------------------------------------- PostgreSQL

find_pg_bin() {
  local dir
  if [ -n "${PEAKDATA_PG_BIN:-}" ]; then echo "$PEAKDATA_PG_BIN"; return; fi
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
}

ensure_pg_installed() {
  PG_BIN=$(find_pg_bin)
  if [ -z "$PG_BIN" ]; then
    is_root || die "PostgreSQL is not installed; run: sudo apt-get install postgresql (or set PEAKDATA_PG_BIN)"
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is missing; set PEAKDATA_PG_BIN"
    log "installing PostgreSQL (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(find_pg_bin)
    [ -n "$PG_BIN" ] || die "PostgreSQL installed but no initdb under /usr/lib/postgresql/*/bin"
  fi
}

# PostgreSQL refuses to run as root: as root, run it as PG_OSUSER (created when missing).
as_pg() {
  if is_root; then runuser -u "$PG_OSUSER" -- "$@" 9>&-; else "$@" 9>&-; fi
}

pg_running() {
  [ -f "$PGDATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

pg_up() {
  ensure_pg_installed
  if is_root && ! id "$PG_OSUSER" >/dev/null 2>&1; then
    log "creating system user $PG_OSUSER for PostgreSQL"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OSUSER"
  fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initialising PostgreSQL in $PGDATA"
    mkdir -p "$PGDIR"
    chmod 700 "$PGDIR"
    if is_root; then chown "$PG_OSUSER" "$PGDIR"; fi
    as_pg test -w "$PGDIR" || die "$PG_OSUSER cannot write $PGDIR: put PEAKDATA_STACK_DIR under folders it can enter"
    local pwfile=$PGDIR/.pwfile
    (umask 077; printf '%s\n' "$PG_PASSWORD" >"$pwfile")
    if is_root; then chown "$PG_OSUSER" "$pwfile"; fi
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -U "$DB_USER" --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 \
      --no-locale >"$STATE/logs/initdb.log" 2>&1 || { rm -f "$pwfile"; die "initdb failed: $STATE/logs/initdb.log"; }
    rm -f "$pwfile"
  fi
  # Settings on the command line, not in postgresql.conf, so a changed port applies at the next start.
  if pg_running; then
    log "PostgreSQL already running (port $PG_PORT)"
  else
    log "starting PostgreSQL on $HOST:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDIR/postgres.log" -w -t 90 \
      -o "-c listen_addresses=$HOST -p $PG_PORT -c unix_socket_directories=''" start >/dev/null ||
      die "PostgreSQL did not start: $PGDIR/postgres.log"
  fi
  local exists
  exists=$(PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h "$HOST" -p "$PG_PORT" -U "$DB_USER" -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
  if [ "$exists" != 1 ]; then
    PGPASSWORD=$PG_PASSWORD "$PG_BIN/createdb" -h "$HOST" -p "$PG_PORT" -U "$DB_USER" "$DB_NAME"
  fi
}

pg_pid() { if [ -f "$PGDATA/postmaster.pid" ]; then head -n 1 "$PGDATA/postmaster.pid"; fi; }

pg_down() {
  PG_BIN=$(find_pg_bin)
  [ -n "$PG_BIN" ] && [ -f "$PGDATA/postmaster.pid" ] || return 0
  local pid
  pid=$(pg_pid)
  log "stopping PostgreSQL (pid $pid)"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  if [ -n "$pid" ] && running "$pid"; then
    log "PostgreSQL still running; SIGKILL $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

# ------------------------------------------------------------------------------- Prefect server, worker

# Every Prefect process of the stack: its own PREFECT_HOME, no telemetry, the stack's API and credentials.
prefect_env() {
  env PREFECT_HOME="$STATE/prefect-home" DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_API_URL="$API_URL" PREFECT_API_AUTH_STRING="$API_AUTH" "$@"
}
PREFECT_ENV=()
set_prefect_env() {
  PREFECT_ENV=(PREFECT_HOME="$STATE/prefect-home" DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
    PREFECT_API_URL="$API_URL" PREFECT_API_AUTH_STRING="$API_AUTH")
}

healthy() { curl -fsS -o /dev/null --max-time 5 "$API_URL/health" 2>/dev/null; }

wait_for() {
  local what=$1 seconds=$2 name=$3 expect=$4
  shift 4
  for _ in $(seq 1 $((seconds * 2))); do
    "$@" && return 0
    alive "$(pid_of "$name")" "$expect" || { tail -n 30 "$STATE/logs/$name.log" >&2; die "$what exited"; }
    sleep 0.5
  done
  tail -n 30 "$STATE/logs/$name.log" >&2
  die "$what not ready after ${seconds}s"
}

server_up() {
  if alive "$(pid_of server)" "server start"; then
    log "Prefect server already running (pid $(pid_of server))"
  else
    log "starting Prefect server on $HOST:$API_PORT (PostgreSQL backend, basic auth)"
    set_prefect_env
    (cd "$ROOT" && start_bg server env "${PREFECT_ENV[@]}" \
      PREFECT_SERVER_DATABASE_CONNECTION_URL="$DB_URL" \
      PREFECT_SERVER_API_AUTH_STRING="$API_AUTH" \
      PREFECT_SERVER_UI_ENABLED="${PEAKDATA_STACK_UI:-true}" \
      "$PREFECT" server start --host "$HOST" --port "$API_PORT" --analytics-off)
  fi
  wait_for "Prefect server" 180 server "server start" healthy
}

pool_status() {
  curl -fsS --max-time 5 -u "$API_AUTH" "$API_URL/work_pools/$POOL" 2>/dev/null |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin).get("status") or "")' 2>/dev/null || true
}

pool_up() {
  if [ -n "$(pool_status)" ]; then
    log "work pool $POOL exists"
  else
    log "creating work pool $POOL (type process)"
    prefect_env "$PREFECT" --no-prompt work-pool create "$POOL" --type process >>"$STATE/logs/pool.log" 2>&1 ||
      die "could not create work pool $POOL: $STATE/logs/pool.log"
  fi
}

worker_ready() { [ "$(pool_status)" = READY ]; }

worker_up() {
  if alive "$(pid_of worker)" "worker start"; then
    log "worker already running (pid $(pid_of worker))"
  else
    log "starting a process worker for pool $POOL"
    local limit=()
    [ -n "${PEAKDATA_WORKER_LIMIT:-}" ] && limit=(--limit "$PEAKDATA_WORKER_LIMIT")
    set_prefect_env
    (cd "$ROOT" && start_bg worker env "${PREFECT_ENV[@]}" PATH="$VENV/bin:$PATH" \
      "$PREFECT" worker start --pool "$POOL" --type process --name "peakdata-local-$(hostname)" "${limit[@]}")
  fi
  wait_for "worker" 120 worker "worker start" worker_ready
}

# ------------------------------------------------------------------------------------------- commands

cmd_up() {
  [ -x "$PREFECT" ] || die "no Prefect in $VENV (make test installs it; or set PEAKDATA_VENV)"
  pg_up
  server_up
  pool_up
  worker_up
  write_env
  log "up: API $API_URL · UI http://$HOST:$API_PORT · pool $POOL · state $STATE"
  cmd_env
}

cmd_down() {
  stop_pid worker "worker start"
  stop_pid server "server start"
  pg_down
  log "down"
}

cmd_status() {
  local ok=0 pid
  pid=$(pid_of worker)
  if alive "$pid" "worker start"; then echo "worker      running  pid $pid  pool $POOL ($(pool_status))"
  else echo "worker      stopped"; ok=3; fi
  pid=$(pid_of server)
  if alive "$pid" "server start" && healthy; then echo "server      running  pid $pid  $API_URL"
  elif alive "$pid" "server start"; then echo "server      starting pid $pid  $API_URL"; ok=3
  else echo "server      stopped"; ok=3; fi
  PG_BIN=$(find_pg_bin)
  if [ -n "$PG_BIN" ] && pg_running; then echo "postgresql  running  pid $(pg_pid)  $HOST:$PG_PORT"
  else echo "postgresql  stopped"; ok=3; fi
  echo "state       $STATE"
  return $ok
}

cmd_env() {
  echo "export PREFECT_API_URL=$API_URL"
  echo "export PREFECT_API_AUTH_STRING='$API_AUTH'"
}

main() {
  local cmd=${1:-}
  case "$cmd" in
    up | down | status | env) ;;
    *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
  esac
  init_state
  load_config
  exec 9>"$STATE/run/lock"
  flock -w 300 9 || die "another local-stack.sh holds $STATE/run/lock"
  "cmd_$cmd"
}

main "$@"
