# shellcheck shell=bash
# Throwaway PostgreSQL and MariaDB servers for teamperm's tests.
#
# Source it (do not execute it):   source .ci/services.sh
#
# It installs Debian's postgresql / mariadb-server (and clients) with apt-get
# when they are missing, starts one private server of each under a fresh temp
# dir (loopback only, free ports, default 54329 and 33069), creates database
# and user `teamperm` in both, and exports:
#
#   TEAMPERM_POSTGRES_URL  e.g. postgres://teamperm@127.0.0.1:54329/teamperm?sslmode=disable   (pgx)
#   TEAMPERM_MYSQL_URL     e.g. teamperm:teamperm@tcp(127.0.0.1:33069)/teamperm?parseTime=true&multiStatements=false
#                          (go-sql-driver/mysql DSN)
#   TEAMPERM_POSTGRES_DATA, TEAMPERM_POSTGRES_PGCTL   the PostgreSQL server's data dir and pg_ctl
#   TEAMPERM_POSTGRES_RESTART                         a shell command that restarts it in place
#                                                     (same port and data), for tests of reconnection
#
# Both servers are stopped, and the temp dir removed, when the sourcing shell
# exits (an EXIT trap that chains any EXIT trap already set: set your own EXIT
# trap *before* sourcing this, or call teamperm_services_stop yourself), or
# when that shell dies without running its traps (a small watchdog).
# MariaDB reads Debian's own /etc/mysql/my.cnf first, so its default
# character set and collation are the ones Debian ships (case-insensitive).
# Sourcing it again in the same shell reuses the running servers.
# A taken port is skipped (the URLs then carry the port really used; start
# ports can be changed with TEAMPERM_POSTGRES_PORT / TEAMPERM_MYSQL_PORT).
# On failure it prints the relevant log tail and returns 1 (so a caller under
# `set -e` stops there); it never calls `exit` and never changes shell options.

if [ "${BASH_SOURCE[0]}" = "${0}" ]; then
  echo "services.sh: source this file (source .ci/services.sh), do not run it" >&2
  exit 2
fi

_teamperm_svc_msg() { printf 'services: %s\n' "$*" >&2; }

# Alive and not a zombie.
_teamperm_svc_alive() {
  local pid=${1:-} state
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Wait (up to $2 seconds) for pid $1 to be gone.
_teamperm_svc_wait_gone() {
  local pid=$1 n=$(($2 * 10))
  while [ "$n" -gt 0 ]; do
    _teamperm_svc_alive "$pid" || return 0
    sleep 0.1
    n=$((n - 1))
  done
  ! _teamperm_svc_alive "$pid"
}

# A server we stopped was re-parented to PID 1 when its launcher left; give
# PID 1 up to $2 seconds to reap it, so no <defunct> entry outlives us.
_teamperm_svc_wait_reaped() {
  local pid=$1 n=$(($2 * 10))
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  while [ "$n" -gt 0 ] && [ -e "/proc/$pid" ]; do
    sleep 0.1
    n=$((n - 1))
  done
  return 0
}

# Something already accepts connections on 127.0.0.1:$1 (or binds it on any address).
_teamperm_svc_port_taken() {
  local p=$1
  if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null; then
    return 0
  fi
  if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
    return 0
  fi
  return 1
}

# First free port from $1 on (skipping $2, a port we already gave away).
_teamperm_svc_pick_port() {
  local p=$1 skip=${2:-} i
  for ((i = 0; i < 100; i++, p++)); do
    [ "$p" = "$skip" ] && continue
    if ! _teamperm_svc_port_taken "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

_teamperm_svc_tail() { # label file
  [ -f "$2" ] || return 0
  _teamperm_svc_msg "---- last lines of $1 ($2) ----"
  tail -n 40 "$2" >&2 || true
  _teamperm_svc_msg "---- end of $1 ----"
}

_teamperm_svc_pgbin() {
  local d best=''
  for d in /usr/lib/postgresql/*/bin; do
    if ! [ -x "$d/initdb" ] || ! [ -x "$d/pg_ctl" ] || ! [ -x "$d/postgres" ] || ! [ -x "$d/psql" ] || ! [ -x "$d/pg_isready" ]; then
      continue
    fi
    best="$best${best:+
}$d"
  done
  [ -n "$best" ] || return 1
  printf '%s\n' "$best" | sort -V | tail -n 1
}

_teamperm_svc_first_cmd() { # name... -> first one found (PATH, then /usr/sbin, /usr/bin)
  local c
  for c in "$@"; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
    if [ -x "/usr/sbin/$c" ]; then echo "/usr/sbin/$c"; return 0; fi
    if [ -x "/usr/bin/$c" ]; then echo "/usr/bin/$c"; return 0; fi
  done
  return 1
}

_teamperm_svc_mariadb_ok() {
  _teamperm_svc_first_cmd mariadbd mysqld >/dev/null &&
    _teamperm_svc_first_cmd mariadb-install-db mysql_install_db >/dev/null &&
    _teamperm_svc_first_cmd mariadb mysql >/dev/null &&
    _teamperm_svc_first_cmd mariadb-admin mysqladmin >/dev/null &&
    id mysql >/dev/null 2>&1
}

_teamperm_svc_postgres_ok() {
  _teamperm_svc_pgbin >/dev/null && id postgres >/dev/null 2>&1
}

_teamperm_svc_install() {
  local pkgs=() log rc=0 made_policy=''
  _teamperm_svc_postgres_ok || pkgs+=(postgresql postgresql-client)
  _teamperm_svc_mariadb_ok || pkgs+=(mariadb-server mariadb-client)
  [ "${#pkgs[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    _teamperm_svc_msg "missing ${pkgs[*]} and not root: cannot apt-get install"
    return 1
  fi
  log=$(mktemp /tmp/teamperm-services-apt.XXXXXX.log) || return 1
  _teamperm_svc_msg "installing ${pkgs[*]} (apt-get; log $log)"
  # Packages must not start their system-wide services (port 5432/3306).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update >>"$log" 2>&1; then
    _teamperm_svc_msg "apt-get update reported errors (trying the install anyway)"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 -o Dpkg::Use-Pty=0 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    install --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1 || rc=$?
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  if [ "$rc" -ne 0 ] || ! _teamperm_svc_postgres_ok || ! _teamperm_svc_mariadb_ok; then
    _teamperm_svc_msg "apt-get install ${pkgs[*]} failed (rc=$rc)"
    _teamperm_svc_tail apt-get "$log"
    return 1
  fi
  rm -f "$log"
  return 0
}

_teamperm_svc_start_postgres() {
  local base=$1 pgbin dir port attempt sql
  pgbin=$(_teamperm_svc_pgbin) || { _teamperm_svc_msg "no PostgreSQL under /usr/lib/postgresql"; return 1; }
  dir=$base/pg
  mkdir -p "$dir/data" "$dir/run" && chown -R postgres:postgres "$dir" && chmod 700 "$dir/data" || return 1
  if ! (cd / && runuser -u postgres -- "$pgbin/initdb" -D "$dir/data" -U postgres -A trust \
    -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1); then
    _teamperm_svc_msg "PostgreSQL initdb failed"
    _teamperm_svc_tail initdb "$dir/initdb.log"
    return 1
  fi
  cat >>"$dir/data/postgresql.conf" <<EOF

# teamperm CI: throwaway server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/run'
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
  for attempt in 1 2 3; do
    port=$(_teamperm_svc_pick_port "${TEAMPERM_POSTGRES_PORT:-54329}") || { _teamperm_svc_msg "no free port for PostgreSQL"; return 1; }
    if (cd / && runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
      -o "-p $port" -w -t 60 start >>"$dir/pg_ctl.log" 2>&1); then
      break
    fi
    if [ "$attempt" -lt 3 ] && grep -q 'already in use' "$dir/postgres.log" 2>/dev/null; then
      _teamperm_svc_msg "PostgreSQL: port $port taken meanwhile, trying another"
      continue
    fi
    _teamperm_svc_msg "PostgreSQL failed to start"
    _teamperm_svc_tail pg_ctl "$dir/pg_ctl.log"
    _teamperm_svc_tail "PostgreSQL log" "$dir/postgres.log"
    return 1
  done
  _TEAMPERM_SVC_PG_BIN=$pgbin
  _TEAMPERM_SVC_PG_DATA=$dir/data
  _TEAMPERM_SVC_PG_PORT=$port
  local n=300
  until "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -t 1 >/dev/null 2>&1; do
    n=$((n - 1))
    if [ "$n" -le 0 ]; then
      _teamperm_svc_msg "PostgreSQL does not accept connections on 127.0.0.1:$port"
      _teamperm_svc_tail "PostgreSQL log" "$dir/postgres.log"
      return 1
    fi
    sleep 0.1
  done
  sql="CREATE ROLE teamperm LOGIN CREATEDB PASSWORD 'teamperm';
CREATE DATABASE teamperm OWNER teamperm;"
  if ! printf '%s\n' "$sql" | "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 \
    "host=$dir/run port=$port user=postgres dbname=postgres" >"$dir/setup.log" 2>&1; then
    _teamperm_svc_msg "PostgreSQL: creating user/database teamperm failed"
    _teamperm_svc_tail "setup" "$dir/setup.log"
    return 1
  fi
  return 0
}

_teamperm_svc_start_mariadb() {
  local base=$1 avoid=${2:-} mariadbd installdb client admin dir cnf port attempt n pid sock
  mariadbd=$(_teamperm_svc_first_cmd mariadbd mysqld) || return 1
  installdb=$(_teamperm_svc_first_cmd mariadb-install-db mysql_install_db) || return 1
  client=$(_teamperm_svc_first_cmd mariadb mysql) || return 1
  admin=$(_teamperm_svc_first_cmd mariadb-admin mysqladmin) || return 1
  dir=$base/my
  sock=$dir/mysqld.sock
  cnf=$dir/my.cnf
  mkdir -p "$dir/data" "$dir/tmp" || return 1
  {
    # Debian's configuration as shipped first (character set / collation
    # defaults stay Debian's), then this instance's own settings on top.
    [ -r /etc/mysql/my.cnf ] && echo '!include /etc/mysql/my.cnf'
    cat <<EOF

[mysqld]
user = mysql
datadir = $dir/data
tmpdir = $dir/tmp
socket = $sock
pid-file = $dir/mysqld.pid
log-error = $dir/mariadbd.log
bind-address = 127.0.0.1
skip-name-resolve
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
innodb_buffer_pool_size = 128M
innodb_log_file_size = 32M
EOF
  } >"$cnf" || return 1
  chown -R mysql:mysql "$dir" && chmod 750 "$dir" && chmod 644 "$cnf" || return 1
  if ! (cd / && "$installdb" --defaults-file="$cnf" --user=mysql --auth-root-authentication-method=normal --skip-name-resolve \
    --skip-test-db >"$dir/install-db.log" 2>&1); then
    _teamperm_svc_msg "mariadb-install-db failed"
    _teamperm_svc_tail mariadb-install-db "$dir/install-db.log"
    _teamperm_svc_tail "MariaDB log" "$dir/mariadbd.log"
    return 1
  fi
  for attempt in 1 2 3; do
    port=$(_teamperm_svc_pick_port "${TEAMPERM_MYSQL_PORT:-33069}" "$avoid") || { _teamperm_svc_msg "no free port for MariaDB"; return 1; }
    : >"$dir/launch.pid"
    # Not a child of the caller's shell (a bare `wait` must not hang on it).
    (cd / && exec setsid "$mariadbd" --defaults-file="$cnf" --port="$port" \
      </dev/null >>"$dir/mariadbd.out" 2>&1 &
      echo $! >"$dir/launch.pid")
    pid=$(cat "$dir/launch.pid" 2>/dev/null)
    _TEAMPERM_SVC_MY_PID=$pid
    n=600
    while :; do
      if "$admin" --no-defaults -S "$sock" -uroot --connect-timeout=2 ping >/dev/null 2>&1; then
        break 2
      fi
      if ! _teamperm_svc_alive "$pid"; then
        if [ "$attempt" -lt 3 ] && grep -qiE 'already in use|Do you already have another' "$dir/mariadbd.log" 2>/dev/null; then
          _teamperm_svc_msg "MariaDB: port $port taken meanwhile, trying another"
          continue 2
        fi
        _teamperm_svc_msg "MariaDB server exited during startup"
        _teamperm_svc_tail "MariaDB log" "$dir/mariadbd.log"
        _teamperm_svc_tail "MariaDB stdout" "$dir/mariadbd.out"
        return 1
      fi
      n=$((n - 1))
      if [ "$n" -le 0 ]; then
        _teamperm_svc_msg "MariaDB did not answer within 60s"
        _teamperm_svc_tail "MariaDB log" "$dir/mariadbd.log"
        return 1
      fi
      sleep 0.1
    done
  done
  _TEAMPERM_SVC_MY_PORT=$port
  if ! "$client" --no-defaults -S "$sock" -uroot >"$dir/setup.log" 2>&1 <<'EOF'; then
CREATE DATABASE IF NOT EXISTS teamperm;
CREATE USER IF NOT EXISTS 'teamperm'@'127.0.0.1' IDENTIFIED BY 'teamperm';
CREATE USER IF NOT EXISTS 'teamperm'@'localhost' IDENTIFIED BY 'teamperm';
GRANT ALL PRIVILEGES ON `teamperm`.* TO 'teamperm'@'127.0.0.1', 'teamperm'@'localhost';
GRANT ALL PRIVILEGES ON `teamperm\_%`.* TO 'teamperm'@'127.0.0.1', 'teamperm'@'localhost';
FLUSH PRIVILEGES;
EOF
    _teamperm_svc_msg "MariaDB: creating user/database teamperm failed"
    _teamperm_svc_tail setup "$dir/setup.log"
    return 1
  fi
  # The teamperm user must get in over TCP exactly as the tests will.
  if ! "$client" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -uteamperm -pteamperm teamperm \
    -e 'SELECT 1' >>"$dir/setup.log" 2>&1; then
    _teamperm_svc_msg "MariaDB: teamperm cannot log in over 127.0.0.1:$port"
    _teamperm_svc_tail setup "$dir/setup.log"
    return 1
  fi
  return 0
}

# Stops both servers and removes the temp dir. Safe to call any time, twice,
# and from an EXIT trap under set -e (nothing in it may fail).
teamperm_services_stop() {
  local base=${_TEAMPERM_SVC_DIR:-} pid
  if [ -n "${_TEAMPERM_SVC_WATCHDOG:-}" ]; then
    kill "$_TEAMPERM_SVC_WATCHDOG" >/dev/null 2>&1 || true
  fi
  if [ -n "${_TEAMPERM_SVC_PG_DATA:-}" ] && [ -f "$_TEAMPERM_SVC_PG_DATA/postmaster.pid" ]; then
    pid=$(head -n 1 "$_TEAMPERM_SVC_PG_DATA/postmaster.pid" 2>/dev/null || true)
    (cd / && runuser -u postgres -- "$_TEAMPERM_SVC_PG_BIN/pg_ctl" -D "$_TEAMPERM_SVC_PG_DATA" \
      -m fast -w -t 30 stop) >/dev/null 2>&1 || true
    if _teamperm_svc_alive "$pid"; then
      kill -QUIT "$pid" >/dev/null 2>&1 || true
      _teamperm_svc_wait_gone "$pid" 5 || kill -KILL "$pid" >/dev/null 2>&1 || true
    fi
    _teamperm_svc_wait_reaped "$pid" 3 || true
  fi
  if [ -n "$base" ]; then
    pid=$(cat "$base/my/mysqld.pid" 2>/dev/null || true)
    _teamperm_svc_alive "$pid" || pid=${_TEAMPERM_SVC_MY_PID:-}
    if _teamperm_svc_alive "$pid"; then
      kill -TERM "$pid" >/dev/null 2>&1 || true
      _teamperm_svc_wait_gone "$pid" 30 || { kill -KILL "$pid" >/dev/null 2>&1 || true; }
      _teamperm_svc_wait_gone "$pid" 5 || true
      _teamperm_svc_wait_reaped "$pid" 3 || true
    fi
    case "$base" in
      /tmp/teamperm-services.*) rm -rf -- "$base" >/dev/null 2>&1 || true ;;
    esac
  fi
  _TEAMPERM_SVC_DIR='' _TEAMPERM_SVC_PG_DATA='' _TEAMPERM_SVC_PG_PORT='' _TEAMPERM_SVC_MY_PORT=''
  unset TEAMPERM_POSTGRES_DATA TEAMPERM_POSTGRES_PGCTL TEAMPERM_POSTGRES_RESTART
  _TEAMPERM_SVC_MY_PID='' _TEAMPERM_SVC_WATCHDOG=''
  return 0
}

_teamperm_svc_on_exit() {
  local rc=$?
  teamperm_services_stop || true
  if [ -n "${_TEAMPERM_SVC_PREV_TRAP:-}" ]; then
    if [ "$rc" -eq 0 ]; then
      eval "$_TEAMPERM_SVC_PREV_TRAP"
    else # let the previous trap see the exit status in $?
      _teamperm_svc_return "$rc" || eval "$_TEAMPERM_SVC_PREV_TRAP"
    fi
  fi
}
_teamperm_svc_return() { return "$1"; }

# shellcheck disable=SC2120 # `set --` below parses `trap -p` output, not arguments
_teamperm_svc_set_trap() {
  local cur
  cur=$(trap -p EXIT)
  case "$cur" in *_teamperm_svc_on_exit*) return 0 ;; esac
  _TEAMPERM_SVC_PREV_TRAP=''
  if [ -n "$cur" ]; then
    eval "set -- $cur" # trap -- 'command' EXIT
    _TEAMPERM_SVC_PREV_TRAP=${3:-}
  fi
  trap _teamperm_svc_on_exit EXIT
}

# Stops the servers if the sourcing shell dies without running its EXIT trap.
_teamperm_svc_start_watchdog() {
  local owner=$BASHPID
  (
    trap - EXIT
    trap '' HUP INT
    while kill -0 "$owner" 2>/dev/null; do sleep 2; done
    teamperm_services_stop
  ) </dev/null >/dev/null 2>&1 &
  _TEAMPERM_SVC_WATCHDOG=$!
  disown "$_TEAMPERM_SVC_WATCHDOG" 2>/dev/null || true
}

_teamperm_svc_report() {
  echo "services: PostgreSQL listening on 127.0.0.1:$_TEAMPERM_SVC_PG_PORT (socket dir $_TEAMPERM_SVC_DIR/pg/run): TEAMPERM_POSTGRES_URL=$TEAMPERM_POSTGRES_URL"
  echo "services: MariaDB listening on 127.0.0.1:$_TEAMPERM_SVC_MY_PORT (socket $_TEAMPERM_SVC_DIR/my/mysqld.sock): TEAMPERM_MYSQL_URL=$TEAMPERM_MYSQL_URL"
}

_teamperm_svc_export() {
  export TEAMPERM_POSTGRES_URL="postgres://teamperm@127.0.0.1:${_TEAMPERM_SVC_PG_PORT}/teamperm?sslmode=disable"
  # For tests that restart the server (store's multi-process test): its
  # data dir, its pg_ctl, and a shell command that restarts it in place
  # (same port and data; run as root, like this script).
  export TEAMPERM_POSTGRES_DATA="$_TEAMPERM_SVC_PG_DATA"
  export TEAMPERM_POSTGRES_PGCTL="$_TEAMPERM_SVC_PG_BIN/pg_ctl"
  export TEAMPERM_POSTGRES_RESTART="cd / && runuser -u postgres -- '$_TEAMPERM_SVC_PG_BIN/pg_ctl' -D '$_TEAMPERM_SVC_PG_DATA' -l '$(dirname "$_TEAMPERM_SVC_PG_DATA")/postgres.log' -m fast -w -t 60 restart >/dev/null"
  export TEAMPERM_MYSQL_URL="teamperm:teamperm@tcp(127.0.0.1:${_TEAMPERM_SVC_MY_PORT})/teamperm?parseTime=true&multiStatements=false"
}

_teamperm_svc_main() {
  local base t0=$SECONDS pgpid
  # Sourced again in the same shell: reuse what runs.
  if [ -n "${_TEAMPERM_SVC_DIR:-}" ] && [ -d "$_TEAMPERM_SVC_DIR" ]; then
    pgpid=$(head -n 1 "$_TEAMPERM_SVC_PG_DATA/postmaster.pid" 2>/dev/null || true)
    if _teamperm_svc_alive "$pgpid" && _teamperm_svc_alive "$(cat "$_TEAMPERM_SVC_DIR/my/mysqld.pid" 2>/dev/null || true)"; then
      _teamperm_svc_export
      _teamperm_svc_set_trap
      _teamperm_svc_msg "already running (reused)"
      _teamperm_svc_report
      return 0
    fi
    teamperm_services_stop
  fi
  _teamperm_svc_install || return 1
  base=$(mktemp -d /tmp/teamperm-services.XXXXXX) || return 1
  chmod 755 "$base" || return 1
  _TEAMPERM_SVC_DIR=$base
  _teamperm_svc_set_trap
  if ! _teamperm_svc_start_postgres "$base"; then
    teamperm_services_stop
    return 1
  fi
  if ! _teamperm_svc_start_mariadb "$base" "$_TEAMPERM_SVC_PG_PORT"; then
    teamperm_services_stop
    return 1
  fi
  _teamperm_svc_start_watchdog
  _teamperm_svc_export
  _teamperm_svc_report
  _teamperm_svc_msg "ready in $((SECONDS - t0))s"
  return 0
}

_teamperm_svc_main || return 1
