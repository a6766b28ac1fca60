#!/usr/bin/env bash
# Starts and stops the private database servers that dal's integration tests run against.
#
#   scripts/test-servers.sh start|stop|status|logs [STATE_DIR]
#
# `start` wipes STATE_DIR (default ${DAL_TEST_STATE_DIR:-/tmp/dal-test-servers}), stopping any
# servers an earlier run left behind in it, then starts fresh instances listening on 127.0.0.1 only:
#
#   PostgreSQL 15  port ${DAL_TEST_PG_PORT:-25432}         role dal / dal_test_pw, database dal_test
#   PgBouncer      port ${DAL_TEST_PGBOUNCER_PORT:-26432}  in front of that PostgreSQL, transaction
#                                                      pooling, dal / dal_test_pw, database dal_test
#   standby        port ${DAL_TEST_STANDBY_PORT:-25433}    a streaming-replication standby of that
#                                                      PostgreSQL (pg_basebackup), for failover tests
#   MariaDB 10.11  port ${DAL_TEST_MYSQL_PORT:-23306}      user dal / dal_test_pw, database dal_test
#   replica        port ${DAL_TEST_REPLICA_PORT:-23307}    a read-only replica of that MariaDB
#                                                      (asynchronous, GTID), for failover tests
#
# and writes STATE_DIR/env.sh, which exports DAL_TEST_POSTGRES_URI, DAL_TEST_PGBOUNCER_URI,
# DAL_TEST_STANDBY_URI, DAL_TEST_MYSQL_URI and DAL_TEST_MYSQL_REPLICA_URI.
# `stop` stops them and removes STATE_DIR; it succeeds even when nothing is running.
# `status` prints whether each server is up (exit 0 only if all are); `logs` prints the log tails.
#
# PostgreSQL, its standby, MariaDB and its replica also accept TLS, with a certificate for
# 127.0.0.1 and localhost signed by a throwaway CA made at `start` (STATE_DIR/tls); env.sh
# exports that CA's certificate as DAL_TEST_TLS_CA, for tests that connect with full
# verification. The URIs in env.sh use no TLS (the PostgreSQL ones say sslmode=disable; MariaDB's
# client library asks for none by default), and PgBouncer offers none.
#
#   scripts/test-servers.sh kill|halt|resume postgres|standby|mysql|replica [STATE_DIR]
#   scripts/test-servers.sh promote|reset standby|replica [STATE_DIR]
#
# are for fault tests: `kill` SIGKILLs a server and its children (a crash), `halt` shuts it
# down normally, `resume` starts it again on its data; `promote` makes the standby (replica) a
# primary, `reset` makes it a fresh standby of the primary again (new base backup; for the
# replica, a new replica that replays the primary's binary log, after resuming the primary if it
# is down). env.sh exports DAL_TEST_SERVERS_CTL, the command prefix tests use for them (see
# tests/integration/servers.hpp).
#
# DAL_TEST_SERVERS="postgres pgbouncer mysql" selects which servers `start` starts (default:
# all; pgbouncer and standby need postgres, replica needs mysql). They start in the order above,
# whatever the order given.
#
# The system-wide servers of the Debian packages are never used or touched. Run as root, the
# servers run as the `postgres` (PostgreSQL and PgBouncer, which both refuse to run as root) and
# `mysql` system users; run as any other user, they run as that user.
#
# Adding a server: write <name>_start, <name>_stop, <name>_status, <name>_env and <name>_logs,
# and add <name> to ALL_SERVERS (for kill/halt/resume also <name>_pid and <name>_launch, and
# <name> in one_server and server_comm).
set -euo pipefail

ALL_SERVERS=(postgres pgbouncer standby mysql replica) # in start order

readonly TEST_USER=dal
readonly TEST_PASSWORD=dal_test_pw
readonly TEST_DATABASE=dal_test
readonly REPL_USER=dal_repl # the MariaDB replica's replication account (on the primary)
readonly REPL_PASSWORD=dal_repl_pw
readonly READY_TIMEOUT=60 # seconds a server gets to come up
readonly STOP_TIMEOUT=20  # seconds a server gets to shut down before SIGKILL

PG_BIN=/usr/lib/postgresql/15/bin
# Below Linux's ephemeral range (32768-60999): a client connecting to a port in that range
# while nothing listens there can be given that very port and connect to itself, which then
# blocks the server's restart (the fault tests reconnect hard while a server is down).
PG_PORT=${DAL_TEST_PG_PORT:-25432}
PGBOUNCER_PORT=${DAL_TEST_PGBOUNCER_PORT:-26432}
STANDBY_PORT=${DAL_TEST_STANDBY_PORT:-25433}
MYSQL_PORT=${DAL_TEST_MYSQL_PORT:-23306}
REPLICA_PORT=${DAL_TEST_REPLICA_PORT:-23307}

# Keep the caller's client settings from redirecting the commands below.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE \
  PGOPTIONS PGSSLMODE PGCONNECT_TIMEOUT MYSQL_HOST MYSQL_TCP_PORT MYSQL_UNIX_PORT MYSQL_PWD

# fds 3/4 keep the script's own stdout/stderr: a trap can fire while a redirection is active
# (bash runs it inside the interrupted function's redirections), so traps write there. Servers
# must not inherit them (a pipe held open by a daemon never sees EOF): launches close them.
exec 3>&1 4>&2

# A closed stdout (`start | head`) must not kill the script halfway through stopping a server.
trap '' PIPE

log() { printf 'test-servers: %s\n' "$*" 2>/dev/null || true; }
die() {
  printf 'test-servers: error: %s\n' "$*" >&2 2>/dev/null || true
  exit 1
}

usage() {
  echo "usage: $0 start|stop|status|logs [STATE_DIR]" >&2
  echo "       $0 kill|halt|resume postgres|standby|mysql|replica [STATE_DIR]" >&2
  echo "       $0 promote|reset standby|replica [STATE_DIR]" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# helpers

is_root() { [[ $(id -u) -eq 0 ]]; }

# The OS account a server runs as: its system user when we are root, else ourselves.
service_user() {
  if is_root; then echo "$1"; else id -un; fi
}

# as_user USER CMD...: runs CMD as USER (from inside STATE_DIR, so no inaccessible cwd).
as_user() {
  local user=$1
  shift
  if is_root && [[ $user != root ]]; then
    (cd "$STATE_DIR" && runuser -u "$user" -- "$@")
  else
    (cd "$STATE_DIR" && "$@")
  fi
}

# make_dir DIR USER [MODE]: creates DIR owned by USER.
make_dir() {
  mkdir -p "$1"
  chmod "${3:-0755}" "$1"
  if is_root; then chown "$2:" "$1"; fi
}

# port_in_use PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

check_port() { # check_port PORT ENV_VAR_NAME
  if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then
    die "$2=$1 is not a valid port"
  fi
  if port_in_use "$1"; then
    die "port $1 on 127.0.0.1 is already in use; stop whatever listens there or set $2"
  fi
}

check_socket_path() { # unix socket paths are limited to 107 bytes
  if ((${#1} > 100)); then die "socket path too long (${#1} > 100 bytes): $1; use a shorter STATE_DIR"; fi
}

# pid_alive PID COMM: true if PID runs and its command name is COMM (guards against reused pids).
pid_alive() {
  [[ -n $1 && $1 =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$1/comm ]] || return 1
  [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]
}

# wait_pid_gone PID COMM SECONDS: waits until PID has exited; false on timeout.
# wait_exec PID COMM: waits (at most 5 s) until the subshell PID has exec'd COMM; until then its
# command name is still bash, and pid_alive PID COMM would say it is gone.
wait_exec() {
  local deadline=$((SECONDS + 5))
  while [[ -r /proc/$1/comm ]] && ! pid_alive "$1" "$2" && ((SECONDS < deadline)); do
    sleep 0.02
  done
}

wait_pid_gone() {
  local deadline=$((SECONDS + $3))
  while pid_alive "$1" "$2"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# kill_and_wait PID COMM SIGNAL: sends SIGNAL, waits STOP_TIMEOUT, then SIGKILLs.
kill_and_wait() {
  local pid=$1 comm=$2 sig=$3
  pid_alive "$pid" "$comm" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  if ! wait_pid_gone "$pid" "$comm" "$STOP_TIMEOUT"; then
    log "$comm (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    if ! wait_pid_gone "$pid" "$comm" 10; then
      log "error: $comm (pid $pid) survived SIGKILL"
      return 1
    fi
  fi
}

# wait_ready NAME LOGFILE PID COMM CMD...: polls CMD until it succeeds, for READY_TIMEOUT seconds.
wait_ready() {
  local name=$1 logfile=$2 pid=$3 comm=$4
  shift 4
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if [[ -n $pid ]] && ! pid_alive "$pid" "$comm"; then
      show_log "$logfile"
      die "$name exited during startup (log: $logfile)"
    fi
    if ((SECONDS >= deadline)); then
      show_log "$logfile"
      die "$name did not become ready within ${READY_TIMEOUT}s (log: $logfile)"
    fi
    sleep 0.2
  done
}

show_log() {
  if [[ -s $1 ]]; then
    echo "----- last 40 lines of $1 -----" >&2
    tail -n 40 "$1" >&2
    echo "-----" >&2
  fi
}

mask() { sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#'; }

# ---------------------------------------------------------------------------------------------
# TLS: a throwaway CA, and a certificate it signs for 127.0.0.1 and localhost that every server
# presents. PostgreSQL and MariaDB accept both TLS and plain connections; PgBouncer has no TLS.

tls_dir() { echo "$STATE_DIR/tls"; }
# tls_key USER: the copy of the server key that a server running as USER reads. PostgreSQL
# refuses a key that is not its own with mode 0600 (or root's with 0640), so each service user
# gets a copy of its own.
tls_key() { echo "$STATE_DIR/tls/server-$1.key"; }

# Makes STATE_DIR/tls: ca.crt (the only trust anchor, world-readable), ca.key, server.crt
# (subjectAltName IP:127.0.0.1, DNS:localhost, so that a client verifying the host name passes),
# server.key, and server-USER.key for each service user. EC P-256 keys: a few tens of ms.
tls_make() {
  local dir u
  dir=$(tls_dir)
  command -v openssl >/dev/null || die "openssl not found; run scripts/install-deps.sh"
  make_dir "$dir" "$(id -un)" 0755
  # -config /dev/null: no extensions from the system's openssl.cnf (its x509 defaults would
  # make the server certificate a CA too); just those given here.
  if ! (
    umask 077
    cd "$dir" &&
      openssl req -config /dev/null -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -noenc -keyout ca.key -out ca.crt -days 3650 -subj '/CN=dal test CA' \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -addext subjectKeyIdentifier=hash &&
      openssl req -config /dev/null -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -noenc -keyout server.key -out server.crt -days 3650 -subj '/CN=localhost' \
        -CA ca.crt -CAkey ca.key -addext basicConstraints=critical,CA:FALSE \
        -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=serverAuth \
        -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
        -addext subjectKeyIdentifier=hash -addext authorityKeyIdentifier=keyid
  ) >"$dir/openssl.log" 2>&1; then
    show_log "$dir/openssl.log"
    die "tls: generating the test certificates failed"
  fi
  rm -f "$dir/openssl.log"
  chmod 0644 "$dir/ca.crt" "$dir/server.crt"
  chmod 0600 "$dir/ca.key" "$dir/server.key"
  for u in "$(service_user postgres)" "$(service_user mysql)"; do
    [[ -e $(tls_key "$u") ]] && continue
    (umask 077 && cp "$dir/server.key" "$(tls_key "$u")")
    if is_root; then chown "$u:" "$(tls_key "$u")"; fi
  done
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL 15

# What the primary and the standby share, for a cluster NAME with data directory DATA:
# pg_cluster_launch NAME DATA LOG PORT starts it on its existing data and waits until it accepts
# connections; pg_cluster_stop NAME DATA stops it (fast shutdown, then SIGKILL);
# pg_cluster_status NAME DATA PORT reports whether it is up.
pg_cluster_launch() {
  local name=$1 data=$2 logfile=$3 port=$4
  log "$name: starting on 127.0.0.1:$port"
  # setsid: a Ctrl-C in the terminal must not reach the server; the caller's trap stops it.
  if ! as_user "$(service_user postgres)" setsid -w "$PG_BIN/pg_ctl" start --pgdata="$data" \
    --log="$logfile" --wait --timeout="$READY_TIMEOUT" --silent 3>&- 4>&-; then
    show_log "$logfile"
    die "$name: pg_ctl start failed (log: $logfile)"
  fi
  wait_ready "$name" "$logfile" "$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)" postgres \
    "$PG_BIN/pg_isready" --quiet --host=127.0.0.1 --port="$port" --dbname=postgres
}

pg_cluster_stop() {
  local name=$1 data=$2 pid
  [[ -f $data/postmaster.pid ]] || return 0
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  pid_alive "$pid" postgres || return 0
  log "$name: stopping (pid $pid)"
  as_user "$(service_user postgres)" "$PG_BIN/pg_ctl" stop --pgdata="$data" --mode=fast \
    --wait --timeout="$STOP_TIMEOUT" --silent >/dev/null 2>&1 || true
  # pg_ctl gave up (or failed): escalate.
  kill_and_wait "$pid" postgres KILL
}

pg_cluster_status() {
  local name=$1 data=$2 port=$3
  if [[ -f $data/postmaster.pid ]] &&
    "$PG_BIN/pg_isready" --quiet --host=127.0.0.1 --port="$port" --dbname=postgres >/dev/null 2>&1; then
    log "$name: up on 127.0.0.1:$port"
  else
    log "$name: down"
    return 1
  fi
}

pg_data() { echo "$STATE_DIR/postgres/data"; }
pg_run() { echo "$STATE_DIR/postgres/run"; }
pg_log() { echo "$STATE_DIR/postgres/postgres.log"; }

# Starts the server on its existing data directory and waits until it accepts connections.
postgres_launch() {
  pg_cluster_launch postgres "$(pg_data)" "$(pg_log)" \
    "$(cat "$STATE_DIR/postgres.port" 2>/dev/null || echo "$PG_PORT")"
}

postgres_pid() { head -n 1 "$(pg_data)/postmaster.pid" 2>/dev/null || true; }

postgres_start() {
  local user data run pwfile
  user=$(service_user postgres)
  data=$(pg_data)
  run=$(pg_run)
  pwfile=$STATE_DIR/postgres/superuser-password
  [[ -x $PG_BIN/initdb ]] || die "$PG_BIN/initdb not found; run scripts/install-deps.sh"
  check_port "$PG_PORT" DAL_TEST_PG_PORT
  check_socket_path "$run/.s.PGSQL.$PG_PORT"
  echo "$PG_PORT" >"$STATE_DIR/postgres.port"

  make_dir "$STATE_DIR/postgres" "$user" 0755
  make_dir "$run" "$user" 0755
  # The superuser gets a password too so that TCP logins as postgres work; unix-socket logins
  # (used only by this script) are trusted.
  printf '%s\n' "postgres_test_pw" >"$pwfile"
  if is_root; then chown "$user:" "$pwfile"; fi
  chmod 0600 "$pwfile"

  log "postgres: initdb $data"
  if ! as_user "$user" "$PG_BIN/initdb" --pgdata="$data" --username=postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    >"$STATE_DIR/postgres/initdb.log" 2>&1; then
    show_log "$STATE_DIR/postgres/initdb.log"
    die "postgres: initdb failed"
  fi

  cat >>"$data/postgresql.conf" <<EOF

# --- dal test server (scripts/test-servers.sh) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$run'
max_connections = 200
# Durable against a crash of the server process (the fault tests kill -9 it and count the
# commits it acknowledged), not against a crash of the machine: commits reach the OS at once,
# nothing is fsynced.
fsync = off
synchronous_commit = on
full_page_writes = off
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
# TLS on offer (clients choose: the URIs in env.sh ask for none). The standby's base backup
# carries these settings along.
ssl = on
ssl_cert_file = '$(tls_dir)/server.crt'
ssl_key_file = '$(tls_key "$user")'
ssl_ca_file = '$(tls_dir)/ca.crt'
EOF

  postgres_launch

  log "postgres: creating role $TEST_USER and database $TEST_DATABASE"
  as_user "$user" psql -X -q -v ON_ERROR_STOP=1 --host="$run" --port="$PG_PORT" \
    --username=postgres --dbname=postgres >/dev/null <<EOF
CREATE ROLE $TEST_USER LOGIN CREATEDB PASSWORD '$TEST_PASSWORD';
CREATE DATABASE $TEST_DATABASE OWNER $TEST_USER;
EOF

  # Over TLS, verifying the certificate and the host name against the test CA.
  local out
  out=$(PGPASSWORD=$TEST_PASSWORD PGCONNECT_TIMEOUT=10 PGSSLMODE=verify-full \
    PGSSLROOTCERT="$(tls_dir)/ca.crt" psql -X -A -t -v ON_ERROR_STOP=1 \
    --host=127.0.0.1 --port="$PG_PORT" --username="$TEST_USER" --dbname="$TEST_DATABASE" \
    --command='SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' 2>&1) || true
  [[ $out == t ]] || die "postgres: a TLS login (verify-full) as $TEST_USER over TCP failed: $out"
  log "postgres: ready ($TEST_USER can log in over TCP, with or without TLS)"
}

postgres_stop() { pg_cluster_stop postgres "$(pg_data)"; }

postgres_status() {
  pg_cluster_status postgres "$(pg_data)" \
    "$(cat "$STATE_DIR/postgres.port" 2>/dev/null || echo "$PG_PORT")"
}

postgres_env() {
  local port
  port=$(cat "$STATE_DIR/postgres.port")
  # sslmode=disable: libpq's default (prefer) would now negotiate TLS; the tests and benchmarks
  # run without it unless they ask (DAL_TEST_TLS_CA).
  echo "export DAL_TEST_POSTGRES_URI='postgresql://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$port/$TEST_DATABASE?sslmode=disable'"
}

postgres_logs() { show_log "$(pg_log)" 2>&1; }

# ---------------------------------------------------------------------------------------------
# PgBouncer, in front of the PostgreSQL above

pgb_dir() { echo "$STATE_DIR/pgbouncer"; }
pgb_ini() { echo "$STATE_DIR/pgbouncer/pgbouncer.ini"; }
pgb_log() { echo "$STATE_DIR/pgbouncer/pgbouncer.log"; }
pgb_pidfile() { echo "$STATE_DIR/pgbouncer/run/pgbouncer.pid"; }

# pgb_query PORT SQL: runs SQL through PgBouncer as the test user, printing unaligned tuples.
# Bounded: a client whose login waits for an unreachable server would otherwise hang for
# query_wait_timeout.
pgb_query() {
  PGPASSWORD=$TEST_PASSWORD PGCONNECT_TIMEOUT=5 timeout 10 psql -X -A -t -v ON_ERROR_STOP=1 \
    --host=127.0.0.1 --port="$1" --username="$TEST_USER" --dbname="$TEST_DATABASE" \
    --command="$2"
}

pgbouncer_start() {
  local user dir run pgbouncer
  user=$(service_user postgres)
  dir=$(pgb_dir)
  run=$dir/run
  pgbouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  [[ -x $pgbouncer ]] || die "pgbouncer not found; run scripts/install-deps.sh"
  [[ -f $STATE_DIR/postgres.port ]] || die "pgbouncer: needs the postgres server (DAL_TEST_SERVERS)"
  check_port "$PGBOUNCER_PORT" DAL_TEST_PGBOUNCER_PORT
  check_socket_path "$run/.s.PGSQL.$PGBOUNCER_PORT"
  echo "$PGBOUNCER_PORT" >"$STATE_DIR/pgbouncer.port"
  local pg_port
  pg_port=$(cat "$STATE_DIR/postgres.port")

  make_dir "$dir" "$user" 0755
  make_dir "$run" "$user" 0755
  : >"$(pgb_log)"
  if is_root; then chown "$user:" "$(pgb_log)"; fi

  # PgBouncer logs in to PostgreSQL (scram-sha-256) with the plain password from the auth file,
  # and checks its own clients' scram-sha-256 logins against it.
  printf '"%s" "%s"\n' "$TEST_USER" "$TEST_PASSWORD" >"$dir/userlist.txt"
  if is_root; then chown "$user:" "$dir/userlist.txt"; fi
  chmod 0600 "$dir/userlist.txt"

  # No logfile: in the foreground PgBouncer logs to stderr, which goes to pgbouncer.log (and so
  # does anything it prints before reading its configuration).
  cat >"$(pgb_ini)" <<EOF
; dal test server (scripts/test-servers.sh)
[databases]
$TEST_DATABASE = host=127.0.0.1 port=$pg_port dbname=$TEST_DATABASE

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir = $run
pidfile = $(pgb_pidfile)
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
log_connections = 0
log_disconnections = 0
log_stats = 0
; Plain TCP to PostgreSQL (the default of this version; newer ones default to prefer), and no
; TLS for clients (client_tls_sslmode = disable, the default).
server_tls_sslmode = disable
EOF
  chmod 0644 "$(pgb_ini)"

  log "pgbouncer: starting on 127.0.0.1:$PGBOUNCER_PORT (pooling 127.0.0.1:$pg_port)"
  # PgBouncer refuses to run as root; -u makes it switch to the service user once it has read
  # its configuration. setsid: keep terminal signals away.
  local as=()
  if is_root; then as=(-u "$user"); fi
  (cd "$STATE_DIR" && exec setsid "$pgbouncer" "${as[@]}" "$(pgb_ini)" \
    </dev/null >>"$(pgb_log)" 2>&1 3>&- 4>&-) &
  local pid=$!
  echo "$pid" >"$dir/launched.pid"
  wait_exec "$pid" pgbouncer
  wait_ready pgbouncer "$(pgb_log)" "$pid" pgbouncer pgb_query "$PGBOUNCER_PORT" 'SELECT 1'

  local out
  out=$(pgb_query "$PGBOUNCER_PORT" 'SELECT 1' 2>&1) || true
  [[ $out == 1 ]] || {
    show_log "$(pgb_log)"
    die "pgbouncer: SELECT 1 as $TEST_USER through 127.0.0.1:$PGBOUNCER_PORT failed: $out"
  }
  log "pgbouncer: ready ($TEST_USER can query $TEST_DATABASE through it)"
}

pgbouncer_stop() {
  local pid
  # The pid file, and the launched pid in case it never got to write one.
  for pid in "$(cat "$(pgb_pidfile)" 2>/dev/null || true)" \
    "$(cat "$(pgb_dir)/launched.pid" 2>/dev/null || true)"; do
    if pid_alive "$pid" pgbouncer; then
      log "pgbouncer: stopping (pid $pid)"
      # SIGTERM is an immediate shutdown: client connections are closed, not waited for.
      kill_and_wait "$pid" pgbouncer TERM
    fi
  done
}

pgbouncer_status() {
  local port pid
  port=$(cat "$STATE_DIR/pgbouncer.port" 2>/dev/null || echo "$PGBOUNCER_PORT")
  pid=$(cat "$(pgb_pidfile)" 2>/dev/null || true)
  if pid_alive "$pid" pgbouncer && [[ $(pgb_query "$port" 'SELECT 1' 2>/dev/null) == 1 ]]; then
    log "pgbouncer: up on 127.0.0.1:$port"
  else
    log "pgbouncer: down"
    return 1
  fi
}

pgbouncer_env() {
  local port
  port=$(cat "$STATE_DIR/pgbouncer.port")
  # PgBouncer offers no TLS to its clients; sslmode=disable skips asking for it.
  echo "export DAL_TEST_PGBOUNCER_URI='postgresql://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$port/$TEST_DATABASE?sslmode=disable'"
}

pgbouncer_logs() { show_log "$(pgb_log)" 2>&1; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL standby: streaming replication from the private PostgreSQL, for failover tests

sb_data() { echo "$STATE_DIR/standby/data"; }
sb_run() { echo "$STATE_DIR/standby/run"; }
sb_log() { echo "$STATE_DIR/standby/postgres.log"; }
standby_pid() { head -n 1 "$(sb_data)/postmaster.pid" 2>/dev/null || true; }

# A base backup of the primary (which must be up), configured as a standby on its own port.
standby_make() {
  local user data run
  user=$(service_user postgres)
  data=$(sb_data)
  run=$(sb_run)
  rm -rf "$data"
  make_dir "$STATE_DIR/standby" "$user" 0755
  make_dir "$run" "$user" 0755
  log "standby: pg_basebackup from the primary"
  if ! as_user "$user" "$PG_BIN/pg_basebackup" --host="$(pg_run)" --port="$PG_PORT" \
    --username=postgres --pgdata="$data" --write-recovery-conf --wal-method=stream \
    --checkpoint=fast --no-sync >"$STATE_DIR/standby/basebackup.log" 2>&1; then
    show_log "$STATE_DIR/standby/basebackup.log"
    die "standby: pg_basebackup failed"
  fi
  # The primary's settings came along; these come later in the file and win.
  cat >>"$data/postgresql.conf" <<EOF

# --- dal test standby (scripts/test-servers.sh) ---
port = $STANDBY_PORT
unix_socket_directories = '$run'
hot_standby = on
EOF
}

standby_launch() { pg_cluster_launch standby "$(sb_data)" "$(sb_log)" "$STANDBY_PORT"; }

standby_start() {
  [[ -f $(pg_data)/postmaster.pid ]] || die "standby: the private postgres must run first"
  check_port "$STANDBY_PORT" DAL_TEST_STANDBY_PORT
  check_socket_path "$(sb_run)/.s.PGSQL.$STANDBY_PORT"
  echo "$STANDBY_PORT" >"$STATE_DIR/standby.port"
  standby_make
  standby_launch
  log "standby: ready (streaming from the primary)"
}

standby_stop() { pg_cluster_stop standby "$(sb_data)"; }

# promote standby: pg_ctl promote.
standby_promote() {
  log "standby: promoting"
  as_user "$(service_user postgres)" "$PG_BIN/pg_ctl" promote --pgdata="$(sb_data)" --wait \
    --timeout="$READY_TIMEOUT" --silent || die "standby: pg_ctl promote failed"
}

# reset standby: a new base backup of the primary (which must be up).
standby_reset() {
  standby_stop
  standby_make
  standby_launch
}

standby_status() { pg_cluster_status standby "$(sb_data)" "$STANDBY_PORT"; }

standby_env() {
  echo "export DAL_TEST_STANDBY_URI='postgresql://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$STANDBY_PORT/$TEST_DATABASE?sslmode=disable'"
}

standby_logs() { show_log "$(sb_log)" 2>&1; }

# ---------------------------------------------------------------------------------------------
# MariaDB 10.11: the primary (server `mysql`) and its replica (server `replica`)

# What the primary and the replica share, for a server NAME whose files are in STATE_DIR/NAME
# and whose port is in STATE_DIR/NAME.port.
my_cnf() { echo "$STATE_DIR/$1/my.cnf"; }
my_log() { echo "$STATE_DIR/$1/error.log"; }
my_data() { echo "$STATE_DIR/$1/data"; }
my_run() { echo "$STATE_DIR/$1/run"; }
my_pidfile() { echo "$STATE_DIR/$1/run/mariadbd.pid"; }
my_port() { cat "$STATE_DIR/$1.port"; }

# my_admin NAME ARGS...: the mariadb client as the server's admin account, over its unix socket.
# As root that is root@localhost (unix_socket auth); otherwise mariadb-install-db created an
# account named after the invoking OS user, also with unix_socket auth.
my_admin() {
  local name=$1
  shift
  mariadb --defaults-file="$(my_cnf "$name")" --user="$(id -un)" --connect-timeout=10 "$@"
}

# my_query NAME SQL: runs SQL as the admin account, printing tab-separated rows.
my_query() { my_admin "$1" --batch --skip-column-names --execute="$2"; }

# my_configure NAME PORT: makes STATE_DIR/NAME (but not its data directory) and writes its
# my.cnf: the settings both servers share, then the server's own, read from stdin.
my_configure() {
  local name=$1 port=$2 user run
  user=$(service_user mysql)
  run=$(my_run "$name")
  check_socket_path "$run/mariadbd.sock"
  mkdir -p "$STATE_DIR/$name"
  chmod 0755 "$STATE_DIR/$name"
  make_dir "$run" "$user" 0755
  : >"$(my_log "$name")"
  if is_root; then chown "$user:" "$(my_log "$name")"; fi
  # A private defaults file: nothing from /etc/mysql or ~/.my.cnf is read.
  {
    cat <<EOF
# dal test server (scripts/test-servers.sh)
[mariadbd]
user = $user
datadir = $(my_data "$name")
socket = $run/mariadbd.sock
pid-file = $(my_pidfile "$name")
log-error = $(my_log "$name")
port = $port
bind-address = 127.0.0.1
skip-name-resolve
max_connections = 300
innodb_buffer_pool_size = 64M
innodb_log_file_size = 32M
# 2: the log reaches the OS at every commit (survives kill -9 of the server, which the fault
# tests do), fsynced once a second. The binary log (sync_binlog = 0) reaches the OS at every
# commit too.
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
default-time-zone = '+00:00'
# For the binary log (where one is kept, see below): row-based, and stored functions and
# triggers can be created without SUPER, which the test user lacks.
binlog_format = ROW
log_bin_trust_function_creators = ON
# TLS on offer (clients choose; Connector/C uses none unless asked). The replication between
# the primary and the replica stays plain.
ssl_cert = $(tls_dir)/server.crt
ssl_key = $(tls_key "$user")
ssl_ca = $(tls_dir)/ca.crt
EOF
    cat
    cat <<EOF

[client]
socket = $run/mariadbd.sock
port = $port
EOF
  } >"$(my_cnf "$name")"
  chmod 0644 "$(my_cnf "$name")"
}

# my_launch NAME: starts the server on its existing data directory and waits until it accepts
# connections.
my_launch() {
  local name=$1 mariadbd cnf
  mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
  cnf=$(my_cnf "$name")
  log "$name: starting on 127.0.0.1:$(my_port "$name")"
  # mariadbd drops to `user` itself when started as root. setsid: keep terminal signals away.
  (cd "$STATE_DIR" && exec setsid "$mariadbd" --defaults-file="$cnf" \
    </dev/null >>"$(my_log "$name")" 2>&1 3>&- 4>&-) &
  local pid=$!
  echo "$pid" >"$STATE_DIR/$name/launched.pid"
  wait_exec "$pid" mariadbd
  wait_ready "$name" "$(my_log "$name")" "$pid" mariadbd \
    mariadb-admin --defaults-file="$cnf" --connect-timeout=2 ping
}

my_pid() {
  cat "$(my_pidfile "$1")" 2>/dev/null || cat "$STATE_DIR/$1/launched.pid" 2>/dev/null || true
}

my_stop() {
  local name=$1 pid
  pid=$(cat "$(my_pidfile "$name")" 2>/dev/null || true)
  if pid_alive "$pid" mariadbd; then
    log "$name: stopping (pid $pid)"
    # SIGTERM is a normal shutdown and needs no credentials.
    kill_and_wait "$pid" mariadbd TERM
  fi
  # No pid file yet: the server was still starting up, when it may ignore SIGTERM. Its data
  # is about to be thrown away, so kill it.
  pid=$(cat "$STATE_DIR/$name/launched.pid" 2>/dev/null || true)
  if pid_alive "$pid" mariadbd; then
    log "$name: killing half-started server (pid $pid)"
    kill_and_wait "$pid" mariadbd KILL
  fi
}

my_up() { # my_up NAME: true if the server answers a ping
  [[ -f $(my_cnf "$1") ]] &&
    mariadb-admin --defaults-file="$(my_cnf "$1")" --connect-timeout=2 ping >/dev/null 2>&1
}

my_status() {
  if my_up "$1"; then
    log "$1: up on 127.0.0.1:$(my_port "$1")"
  else
    log "$1: down"
    return 1
  fi
}

# my_tls_query PORT SQL: runs SQL as the test user over TCP and TLS, verifying the server's
# certificate and host name against the test CA; prints its (one-row) result followed by a tab
# and the TLS version.
my_tls_query() {
  mariadb --no-defaults --protocol=TCP --host=127.0.0.1 --port="$1" --connect-timeout=10 \
    --user="$TEST_USER" --password="$TEST_PASSWORD" --ssl --ssl-ca="$(tls_dir)/ca.crt" \
    --ssl-verify-server-cert --batch --skip-column-names \
    --execute="$2, (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS
                    WHERE VARIABLE_NAME = 'SSL_VERSION')" "$TEST_DATABASE" 2>&1
}

my_env() { # my_env NAME VARIABLE
  echo "export $2='mysql://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$(my_port "$1")/$TEST_DATABASE'"
}

# --- the primary

mysql_launch() { my_launch mysql; }
mysql_pid() { my_pid mysql; }

mysql_start() {
  local user data
  user=$(service_user mysql)
  data=$(my_data mysql)
  command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] ||
    die "mariadbd not found; run scripts/install-deps.sh"
  check_port "$MYSQL_PORT" DAL_TEST_MYSQL_PORT
  echo "$MYSQL_PORT" >"$STATE_DIR/mysql.port"

  # Binary logging from the first start on, so that the log holds every change made to the
  # server, the accounts and the database below included: a replica replays it from the
  # beginning. So it is never purged.
  my_configure mysql "$MYSQL_PORT" <<EOF
server_id = 1
log_bin = mariadb-bin
binlog_expire_logs_seconds = 0
EOF
  make_dir "$data" "$user" 0750

  log "mysql: mariadb-install-db $data"
  if ! (cd "$STATE_DIR" && mariadb-install-db --defaults-file="$(my_cnf mysql)" --user="$user" \
    --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
    >"$STATE_DIR/mysql/install-db.log" 2>&1); then
    show_log "$STATE_DIR/mysql/install-db.log"
    show_log "$(my_log mysql)"
    die "mysql: mariadb-install-db failed"
  fi
  # The replica starts from a copy of the data directory as mariadb-install-db left it (the
  # same system tables and admin account; much quicker than a second mariadb-install-db).
  cp -a "$data" "$STATE_DIR/mysql/installed-data"

  mysql_launch

  log "mysql: creating user $TEST_USER and database $TEST_DATABASE"
  my_admin mysql <<EOF
CREATE DATABASE $TEST_DATABASE CHARACTER SET utf8mb4;
CREATE USER '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
CREATE USER '$TEST_USER'@'localhost' IDENTIFIED BY '$TEST_PASSWORD';
-- Everything on dal_test, and on scratch databases named dal_test_* that tests may create.
GRANT ALL PRIVILEGES ON \`$TEST_DATABASE\`.* TO '$TEST_USER'@'127.0.0.1', '$TEST_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`${TEST_DATABASE}\\_%\`.* TO '$TEST_USER'@'127.0.0.1', '$TEST_USER'@'localhost';
-- PROCESS: see every connection in SHOW PROCESSLIST; CONNECTION ADMIN: KILL [QUERY] any connection
-- (a connection of the same user needs no privilege; this covers tests that kill across users).
GRANT PROCESS, CONNECTION ADMIN ON *.* TO '$TEST_USER'@'127.0.0.1', '$TEST_USER'@'localhost';
-- READ_ONLY ADMIN: SET GLOBAL read_only, for the target-role test (a replica is read-only).
-- It also exempts the account from read_only: on the replica, it can write.
GRANT READ_ONLY ADMIN ON *.* TO '$TEST_USER'@'127.0.0.1', '$TEST_USER'@'localhost';
-- The account the replica replicates with.
CREATE USER '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$REPL_PASSWORD';
GRANT REPLICATION SLAVE ON *.* TO '$REPL_USER'@'127.0.0.1';
EOF

  local out
  out=$(my_tls_query "$MYSQL_PORT" 'SELECT 1') || true
  [[ $out == $'1\tTLS'* ]] || die "mysql: a TLS login (verifying the server) as $TEST_USER over TCP gave: $out"
  log "mysql: ready ($TEST_USER can log in over TCP, with or without TLS)"
}

mysql_stop() { my_stop mysql; }
mysql_status() { my_status mysql; }
mysql_env() { my_env mysql DAL_TEST_MYSQL_URI; }
mysql_logs() { show_log "$(my_log mysql)" 2>&1; }

# ---------------------------------------------------------------------------------------------
# MariaDB replica: asynchronous GTID replication from the private MariaDB, for failover tests

replica_launch() { my_launch replica; }
replica_pid() { my_pid replica; }

# slave_status prints SHOW SLAVE STATUS as "Field: value" lines (nothing once promoted);
# slave_field STATUS FIELD extracts FIELD's value.
slave_status() { my_admin replica --batch --vertical --execute='SHOW SLAVE STATUS'; }
slave_field() { sed -n "s/^ *$2: //p" <<<"$1"; }

# True once both replication threads run (the I/O thread has connected to the primary).
replica_replicating() {
  local st
  st=$(slave_status) || return 1
  [[ $(slave_field "$st" Slave_IO_Running) == Yes && $(slave_field "$st" Slave_SQL_Running) == Yes ]]
}

# A fresh replica of the primary (which must be up), on its own port: a copy of the freshly
# installed data directory that replays the primary's binary log from its beginning
# (MASTER_USE_GTID with an empty gtid_slave_pos). Returns once it has caught up with everything
# the primary had logged.
replica_make() {
  local data installed=$STATE_DIR/mysql/installed-data
  data=$(my_data replica)
  [[ -d $installed ]] || die "replica: $installed is missing; start mysql first"
  rm -rf "$data"
  my_configure replica "$(my_port replica)" <<EOF
# The replica: read-only until \`promote replica\`. replica_make sets up the replication
# (CHANGE MASTER TO), which starts again by itself after a restart. It logs what it applies,
# so that once promoted it is a primary like the first one.
server_id = 2
read_only = ON
log_bin = mariadb-bin
log_slave_updates = ON
relay_log = relay-bin
# After a crash, fetch again whatever was not applied yet (the applied position is kept in
# InnoDB, in mysql.gtid_slave_pos).
relay_log_recovery = ON
EOF
  cp -a "$installed" "$data"
  replica_launch

  log "replica: replicating from 127.0.0.1:$(my_port mysql)"
  my_query replica "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $(my_port mysql),
    MASTER_USER = '$REPL_USER', MASTER_PASSWORD = '$REPL_PASSWORD', MASTER_USE_GTID = slave_pos,
    MASTER_CONNECT_RETRY = 1; START SLAVE" >/dev/null
  wait_ready "replica: replication" "$(my_log replica)" "$(replica_pid)" mariadbd replica_replicating
  # Caught up, so that the accounts and the database are there; a statement that fails to
  # apply stops the SQL thread, and this with it.
  local pos st deadline=$((SECONDS + READY_TIMEOUT))
  pos=$(my_query mysql 'SELECT @@global.gtid_binlog_pos') ||
    die "replica: cannot read the primary's binary log position"
  until [[ $(my_query replica "SELECT MASTER_GTID_WAIT('$pos', 1)" 2>/dev/null) == 0 ]]; do
    st=$(slave_status 2>/dev/null) || st=
    if [[ $(slave_field "$st" Slave_SQL_Running) != Yes ]] || ((SECONDS >= deadline)); then
      show_log "$(my_log replica)"
      printf '%s\n' "$st" >&2
      die "replica: did not catch up with the primary (GTID $pos)"
    fi
  done
}

replica_start() {
  my_up mysql || die "replica: the private mysql must run first"
  check_port "$REPLICA_PORT" DAL_TEST_REPLICA_PORT
  echo "$REPLICA_PORT" >"$STATE_DIR/replica.port"
  replica_make
  local out
  out=$(my_tls_query "$REPLICA_PORT" 'SELECT @@global.read_only') || true
  [[ $out == $'1\tTLS'* ]] ||
    die "replica: SELECT @@global.read_only as $TEST_USER over TCP with TLS gave: $out"
  log "replica: ready (read-only, replicating from the primary)"
}

# promote replica: the replica becomes a writable primary. It first applies what it has
# received from the primary (as a promoted PostgreSQL standby does), then forgets the primary.
replica_promote() {
  local t0=${EPOCHREALTIME/./} st deadline
  log "replica: promoting"
  st=$(slave_status) || die "replica: not reachable"
  if [[ -n $st ]]; then
    my_query replica 'STOP SLAVE IO_THREAD' >/dev/null || die "replica: STOP SLAVE IO_THREAD failed"
    deadline=$((SECONDS + 10))
    while st=$(slave_status) && [[ $(slave_field "$st" Slave_SQL_Running) == Yes ]]; do
      # Everything received is applied (or only part of a transaction is left: the primary
      # died while sending it).
      if [[ $(slave_field "$st" Exec_Master_Log_Pos) == "$(slave_field "$st" Read_Master_Log_Pos)" &&
        $(slave_field "$st" Relay_Master_Log_File) == "$(slave_field "$st" Master_Log_File)" ]] ||
        [[ $(slave_field "$st" Slave_SQL_Running_State) == *"read all relay log"* ]]; then
        break
      fi
      if ((SECONDS >= deadline)); then
        log "replica: still applying after 10s; promoting anyway"
        break
      fi
      sleep 0.01
    done
  fi
  my_query replica 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF' >/dev/null ||
    die "replica: promotion failed"
  # And so after a restart too.
  sed -i 's/^read_only = ON$/read_only = OFF/' "$(my_cnf replica)"
  local us=$((${EPOCHREALTIME/./} - t0))
  log "replica: promoted in $((us / 1000)) ms (now a writable primary at $(my_query replica 'SELECT @@global.gtid_binlog_pos'))"
}

# reset replica: the usual topology again (after a promote, or a kill of the primary): the
# primary runs, and the replica is a fresh, read-only replica of it, on the same port.
replica_reset() {
  pid_alive "$(mysql_pid)" mariadbd || cmd_resume mysql
  replica_stop
  replica_make
  log "replica: ready again (read-only, replicating from the primary)"
}

replica_stop() { my_stop replica; }

replica_status() {
  my_status replica || return 1
  local st
  st=$(slave_status 2>/dev/null) || return 0
  if [[ -z $st ]]; then
    log "replica: promoted (no primary); read_only=$(my_query replica 'SELECT @@global.read_only')"
  else
    local lag
    lag=$(slave_field "$st" Seconds_Behind_Master)
    [[ $lag =~ ^[0-9]+$ ]] && lag="${lag}s behind" || lag="lag unknown"
    log "replica: replicating: I/O thread $(slave_field "$st" Slave_IO_Running), SQL thread $(slave_field "$st" Slave_SQL_Running), $lag"
  fi
}

replica_env() { my_env replica DAL_TEST_MYSQL_REPLICA_URI; }
replica_logs() { show_log "$(my_log replica)" 2>&1; }

# ---------------------------------------------------------------------------------------------
# commands

readonly MARKER=.dal-test-servers

stop_all() {
  [[ -d $STATE_DIR ]] || return 0
  local s pids=() rc=0
  # In parallel: each shutdown takes a second or two.
  for s in "${ALL_SERVERS[@]}"; do
    "${s}_stop" &
    pids+=("$!")
  done
  for s in "${pids[@]}"; do wait "$s" || rc=1; done
  # Deleting the data of a server that still runs would leave it running forever, unfindable.
  ((rc == 0)) || die "could not stop every server; leaving $STATE_DIR in place"
}

# Removes STATE_DIR, refusing to touch a non-empty directory this script did not create.
wipe_state_dir() {
  [[ -e $STATE_DIR ]] || return 0
  [[ -d $STATE_DIR ]] || die "$STATE_DIR exists and is not a directory"
  if [[ ! -e $STATE_DIR/$MARKER ]] && [[ -n $(ls -A "$STATE_DIR") ]]; then
    die "$STATE_DIR is not empty and was not created by $0; refusing to delete it"
  fi
  # The marker goes last, so that a failed removal can be retried by the next start/stop.
  local _
  for _ in 1 2 3 4; do
    find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name "$MARKER" -exec rm -rf {} + 2>/dev/null && break
    sleep 1
  done
  find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name "$MARKER" -exec rm -rf {} +
  rm -f "$STATE_DIR/$MARKER"
  rmdir "$STATE_DIR"
}

cmd_start() {
  local started=$SECONDS requested servers=() s
  read -r -a requested <<<"${DAL_TEST_SERVERS:-${ALL_SERVERS[*]}}"
  for s in "${requested[@]}"; do
    [[ " ${ALL_SERVERS[*]} " == *" $s "* ]] || die "unknown server '$s' in DAL_TEST_SERVERS"
  done
  # Start order is ALL_SERVERS order: pgbouncer comes after the postgres it pools.
  for s in "${ALL_SERVERS[@]}"; do
    if [[ " ${requested[*]} " == *" $s "* ]]; then servers+=("$s"); fi
  done
  if [[ " ${servers[*]} " == *" pgbouncer "* && " ${servers[*]} " != *" postgres "* ]]; then
    die "pgbouncer pools the private postgres server: DAL_TEST_SERVERS must include postgres too"
  fi
  if [[ " ${servers[*]} " == *" replica "* && " ${servers[*]} " != *" mysql "* ]]; then
    die "replica replicates from the private mysql server: DAL_TEST_SERVERS must include mysql too"
  fi
  if [[ -e $STATE_DIR/$MARKER ]]; then
    log "cleaning up an earlier run in $STATE_DIR"
    stop_all
  fi
  wipe_state_dir
  mkdir -p "$STATE_DIR"
  chmod 0755 "$STATE_DIR"
  touch "$STATE_DIR/$MARKER"
  if is_root; then
    # The service users must be able to reach STATE_DIR through its parents.
    for s in postgres mysql; do
      id "$s" >/dev/null 2>&1 || die "system user $s missing; run scripts/install-deps.sh"
      runuser -u "$s" -- test -x "$STATE_DIR" ||
        die "user $s cannot access $STATE_DIR; choose a STATE_DIR whose parents are world-searchable"
    done
  fi

  # On failure or interruption, leave nothing running behind. (A trapped signal is handled once
  # the current foreground command, e.g. initdb, has finished.)
  trap 'rc=$?; if ((rc != 0)); then log "start failed; stopping what was started"; stop_all; fi >&3 2>&4' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  tls_make
  for s in "${servers[@]}"; do
    "${s}_start"
  done

  local env_file=$STATE_DIR/env.sh
  {
    echo "# Written by scripts/test-servers.sh start; source it to point the tests at these servers."
    for s in "${servers[@]}"; do "${s}_env"; done
    printf "export DAL_TEST_TLS_CA='%s'\n" "$(tls_dir)/ca.crt"
    printf "export DAL_TEST_SERVERS_CTL='%s'\n" "$(readlink -f "$0")"
    printf "export DAL_TEST_SERVERS_STATE_DIR='%s'\n" "$STATE_DIR"
  } >"$env_file"
  chmod 0644 "$env_file"
  trap - EXIT

  log "all servers up in $((SECONDS - started))s; connection settings in $env_file:"
  grep '^export' "$env_file" | mask | sed 's/^/  /' 2>/dev/null || true
}

cmd_stop() {
  if [[ -d $STATE_DIR && ! -e $STATE_DIR/$MARKER && -n $(ls -A "$STATE_DIR") ]]; then
    die "$STATE_DIR was not created by $0; not touching it"
  fi
  stop_all
  wipe_state_dir
  log "stopped; removed $STATE_DIR"
}

# The fault-injection commands, for tests that stop servers under load: they act on one
# server of a running STATE_DIR and keep its data.
one_server() { # one_server NAME: validates a server name for kill/halt/resume
  [[ $1 == postgres || $1 == standby || $1 == mysql || $1 == replica ]] ||
    die "kill/halt/resume take postgres, standby, mysql or replica, not '$1'"
  [[ -e $STATE_DIR/$MARKER ]] || die "$STATE_DIR holds no servers started by $0"
}

# server_comm NAME: the command name of the server's (main) process.
server_comm() { if [[ $1 == mysql || $1 == replica ]]; then echo mariadbd; else echo postgres; fi; }

# kill SERVER: SIGKILL to the server and every child process (the postmaster and every backend,
# as in a crash or an OOM kill), then waits until every process is gone.
cmd_kill() {
  one_server "$1"
  local pid comm
  comm=$(server_comm "$1")
  pid=$("$1_pid")
  pid_alive "$pid" "$comm" || die "$1 is not running"
  # PostgreSQL's backends run in sessions of their own: collect the children first, with the
  # server stopped (SIGSTOP) so that it cannot fork one more meanwhile (a child that escaped
  # would keep the listening socket open).
  kill -STOP "$pid" 2>/dev/null || true
  local pids
  pids=$(
    echo "$pid"
    pgrep -P "$pid" || true
  )
  log "$1: kill -9 (pid $pid and its $(($(wc -l <<<"$pids") - 1)) children)"
  # shellcheck disable=SC2086 # one pid per word
  kill -KILL $pids 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT)) p
  for p in $pids; do
    while kill -0 "$p" 2>/dev/null; do
      ((SECONDS < deadline)) || die "$1: pid $p survived SIGKILL"
      sleep 0.02
    done
  done
}

# promote standby|replica: the standby (replica) becomes a primary and accepts writes.
cmd_promote() {
  [[ $1 == standby || $1 == replica ]] || die "promote takes standby or replica, not '$1'"
  one_server "$1"
  "$1_promote"
}

# reset standby|replica: a fresh standby (replica) of the primary again (after a promote), on
# the same port.
cmd_reset() {
  [[ $1 == standby || $1 == replica ]] || die "reset takes standby or replica, not '$1'"
  one_server "$1"
  "$1_reset"
}

# halt SERVER: a normal shutdown that keeps the data, for `resume`.
cmd_halt() {
  one_server "$1"
  "$1_stop"
}

# resume SERVER: starts a killed or halted server again on its data.
cmd_resume() {
  one_server "$1"
  local comm
  comm=$(server_comm "$1")
  if pid_alive "$("$1_pid")" "$comm"; then
    log "$1: already running"
    return 0
  fi
  # A process of the killed server may hold its port a moment longer.
  local port deadline=$((SECONDS + 10))
  port=$(cat "$STATE_DIR/$1.port" 2>/dev/null || true)
  while [[ -n $port ]] && port_in_use "$port" && ((SECONDS < deadline)); do sleep 0.05; done
  "$1_launch"
  log "$1: ready again"
}

cmd_status() {
  local s rc=0
  for s in "${ALL_SERVERS[@]}"; do
    "${s}_status" || rc=3
  done
  return "$rc"
}

cmd_logs() {
  local s
  for s in "${ALL_SERVERS[@]}"; do "${s}_logs"; done
}

SERVER_ARG=
case ${1:-} in
  kill | halt | resume | promote | reset)
    (($# >= 2 && $# <= 3)) || usage
    SERVER_ARG=$2
    set -- "$1" "${3:-}"
    [[ -n $2 ]] || set -- "$1"
    ;;
  *) (($# >= 1 && $# <= 2)) || usage ;;
esac
STATE_DIR=${2:-${DAL_TEST_STATE_DIR:-/tmp/dal-test-servers}}
[[ -n $STATE_DIR && $STATE_DIR != / ]] || die "refusing to use '$STATE_DIR' as state dir"
# Absolute, without trailing slashes (the path ends up in server configs).
[[ $STATE_DIR == /* ]] || STATE_DIR=$PWD/$STATE_DIR
STATE_DIR=$(realpath -m "$STATE_DIR")
[[ $STATE_DIR != / ]] || die "refusing to use / as state dir"

case $1 in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) cmd_logs ;;
  kill) cmd_kill "$SERVER_ARG" ;;
  halt) cmd_halt "$SERVER_ARG" ;;
  resume) cmd_resume "$SERVER_ARG" ;;
  promote) cmd_promote "$SERVER_ARG" ;;
  reset) cmd_reset "$SERVER_ARG" ;;
  *) usage ;;
esac
