#!/usr/bin/env bash
# The test command: installs the dependencies, starts private PostgreSQL (with a PgBouncer in
# front) and MariaDB servers on loopback, builds dal and runs its tests, stops the servers. Run it from anywhere, as root or as
# a user with sudo:
#
#   scripts/test.sh
#
# To test against servers of your own instead, set any of
#   DAL_TEST_POSTGRES_URI=postgresql://USER:PASSWORD@HOST:PORT/DATABASE
#   DAL_TEST_PGBOUNCER_URI=postgresql://USER:PASSWORD@HOST:PORT/DATABASE  (transaction pooling)
#   DAL_TEST_MYSQL_URI=mysql://USER:PASSWORD@HOST:PORT/DATABASE
# and only the missing ones are started (a private PgBouncer pools a private PostgreSQL, which
# then starts even when DAL_TEST_POSTGRES_URI is set; the failover tests' PostgreSQL standby and
# MariaDB replica come with a private PostgreSQL and MariaDB). DAL_TEST_STATE_DIR,
# DAL_TEST_PG_PORT, DAL_TEST_PGBOUNCER_PORT, DAL_TEST_STANDBY_PORT, DAL_TEST_MYSQL_PORT and
# DAL_TEST_REPLICA_PORT are passed on to scripts/test-servers.sh. The private servers also accept
# TLS with a certificate of a throwaway CA, whose certificate DAL_TEST_TLS_CA names (set it
# yourself for servers of your own; yours is kept).
#
# Stops at the first failing step, always stops the servers it started, prints a timing table
# and, as its last line, "N passed, N failed" summed over the CTest runs. Exits non-zero if any
# step failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"

# The build and test steps. Each runs as `step NAME COMMAND...`; use run_ctest instead of ctest
# so that the test counts reach the summary.
build_and_test() {
  # 1. GCC, Debug, ASan+UBSan, warnings as errors: builds everything, runs every CTest test but the fuzz label.
  step "gcc-asan: configure" cmake -S . -B build/gcc-asan -G Ninja -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_BUILD_TYPE=Debug -DDAL_WERROR=ON -DDAL_SANITIZE=address,undefined
  step "gcc-asan: build" cmake --build build/gcc-asan -j2
  step "gcc-asan: test" run_ctest --test-dir build/gcc-asan --output-on-failure -j2 -LE fuzz
  # 2. Clang, warnings as errors: builds everything + the libFuzzer target; runs unit, compile_fail and fuzz tests,
  #    and the pool stress test's timing bounds (optimised, no sanitizer).
  step "clang: configure" cmake -S . -B build/clang -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDAL_WERROR=ON -DDAL_FUZZ=ON
  step "clang: build" cmake --build build/clang -j2
  step "clang: test" run_ctest --test-dir build/clang --output-on-failure -j2 -L 'unit|compile_fail|fuzz|timing'
  # 3. ThreadSanitizer over the concurrent parts: the SQLite connection suite (threads sharing
  #    one file, async operations on the worker pool, cancel from another thread) and the
  #    PostgreSQL suite (cancel from another thread, deadline timers and cancel requests on
  #    workers, many connections on one io_context).
  step "tsan: configure" cmake -S . -B build/tsan -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDAL_SANITIZE=thread -DDAL_BUILD_EXAMPLES=OFF -DDAL_BUILD_BENCH=OFF
  step "tsan: build" cmake --build build/tsan -j2 --target dal_sqlite_tests dal_postgres_tests dal_mysql_tests dal_pool_tests dal_resilience_tests
  step "tsan: test" run_ctest --test-dir build/tsan --output-on-failure -L 'sqlite|postgres|mysql'
  # 4. clang-format and clang-tidy over every translation unit of the clang build.
  step "lint" bash scripts/lint.sh build/clang
}

# ---------------------------------------------------------------------------------------------

# fds 3/4 keep the script's own stdout/stderr for the exit trap, which bash may run while a
# step's redirection (such as run_ctest's pipe into tee) is still in effect.
exec 3>&1 4>&2

STATE_DIR=${DAL_TEST_STATE_DIR:-/tmp/dal-test-servers}
SERVERS_STARTED=0
TESTS_PASSED=0
TESTS_FAILED=0
CTEST_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dal-test.XXXXXX")
STEP_ROWS=()       # "name<TAB>seconds<TAB>result"
CURRENT_STEP=""    # name of the running step, for the summary when interrupted
CURRENT_START=0

say() { printf '==> %s\n' "$*"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
seconds_since() { # seconds_since START_US -> "12.3"
  local us=$(($(now_us) - $1))
  printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}
mask() { sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#'; }

# step NAME COMMAND...: runs COMMAND, records its wall time; on failure exits with its status.
step() {
  local name=$1 rc=0
  shift
  say "$name: $*"
  CURRENT_STEP=$name
  CURRENT_START=$(now_us)
  "$@" || rc=$?
  local result=ok
  ((rc == 0)) || result="FAILED ($rc)"
  STEP_ROWS+=("$name"$'\t'"$(seconds_since "$CURRENT_START")"$'\t'"$result")
  CURRENT_STEP=""
  if ((rc != 0)); then
    say "$name failed with exit status $rc"
    exit "$rc"
  fi
}

# run_ctest ARGS...: ctest with the sanitizer options; adds its pass/fail counts to the totals.
# A test hangs at most 10 minutes (CTest's default is 25): after a sanitizer report in a test
# that restarted a server, the server holds the symbolizer's pipe and the symbolizer never exits.
run_ctest() {
  local log rc=0 line total failed
  log=$(mktemp "$WORK/ctest.XXXXXX")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --timeout 600 "$@" 2>&1 | tee "$log" || rc=$?
  # "95% tests passed, 2 tests failed out of 40"
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=${BASH_REMATCH[1]}
    total=${BASH_REMATCH[2]}
    TESTS_FAILED=$((TESTS_FAILED + failed))
    TESTS_PASSED=$((TESTS_PASSED + total - failed))
  else
    say "warning: no CTest summary line found; this run adds nothing to the counts"
  fi
  ((rc == 0)) || CTEST_FAILED=1
  return "$rc"
}

print_summary() {
  local row name secs result
  echo
  say "summary"
  printf '  %-28s %9s  %s\n' step seconds result
  for row in "${STEP_ROWS[@]}"; do
    IFS=$'\t' read -r name secs result <<<"$row"
    printf '  %-28s %9s  %s\n' "$name" "$secs" "$result"
  done
  printf '  %-28s %9s\n' total "$(seconds_since "$SCRIPT_START")"
  echo
  echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
}

on_exit() {
  local rc=$1 t0
  trap - EXIT INT TERM HUP
  if [[ -n $CURRENT_STEP ]]; then
    STEP_ROWS+=("$CURRENT_STEP"$'\t'"$(seconds_since "$CURRENT_START")"$'\t'"interrupted ($rc)")
  fi
  if ((SERVERS_STARTED)); then
    if ((CTEST_FAILED)); then
      say "server logs (tests failed)"
      scripts/test-servers.sh logs "$STATE_DIR" || true
    fi
    say "stopping the test servers"
    t0=$(now_us)
    if scripts/test-servers.sh stop "$STATE_DIR"; then
      STEP_ROWS+=("stop servers"$'\t'"$(seconds_since "$t0")"$'\t'"ok")
    else
      STEP_ROWS+=("stop servers"$'\t'"$(seconds_since "$t0")"$'\t'"FAILED")
      ((rc != 0)) || rc=1
    fi
  fi
  rm -rf "$WORK"
  print_summary
  exit "$rc"
}

SCRIPT_START=$(now_us)
trap 'on_exit $? >&3 2>&4' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

step "install-deps" bash scripts/install-deps.sh

# Servers: the caller's, or private ones for whatever the caller did not provide.
needed=()
if [[ -n ${DAL_TEST_POSTGRES_URI:-} ]]; then
  say "postgres: using DAL_TEST_POSTGRES_URI from the environment: $(mask <<<"$DAL_TEST_POSTGRES_URI")"
else
  needed+=(postgres)
fi
if [[ -n ${DAL_TEST_PGBOUNCER_URI:-} ]]; then
  say "pgbouncer: using DAL_TEST_PGBOUNCER_URI from the environment: $(mask <<<"$DAL_TEST_PGBOUNCER_URI")"
else
  if [[ -n ${DAL_TEST_POSTGRES_URI:-} ]]; then
    say "pgbouncer: DAL_TEST_PGBOUNCER_URI is not set; starting a private PostgreSQL for it to pool"
    needed+=(postgres)
  fi
  needed+=(pgbouncer)
fi
# The failover tests' standby streams from the private PostgreSQL, so it comes with it.
if [[ " ${needed[*]} " == *" postgres "* ]]; then needed+=(standby); fi
if [[ -n ${DAL_TEST_MYSQL_URI:-} ]]; then
  say "mysql: using DAL_TEST_MYSQL_URI from the environment: $(mask <<<"$DAL_TEST_MYSQL_URI")"
else
  needed+=(mysql)
  # The failover tests' replica replicates from the private MariaDB, so it comes with it.
  needed+=(replica)
fi
if ((${#needed[@]} > 0)); then
  SERVERS_STARTED=1 # set before starting: stopping is harmless if the start got nowhere
  step "start servers" env DAL_TEST_SERVERS="${needed[*]}" scripts/test-servers.sh start "$STATE_DIR"
  caller_pg=${DAL_TEST_POSTGRES_URI:-}
  caller_pgbouncer=${DAL_TEST_PGBOUNCER_URI:-}
  caller_mysql=${DAL_TEST_MYSQL_URI:-}
  caller_tls_ca=${DAL_TEST_TLS_CA:-}
  # shellcheck source=/dev/null # written by test-servers.sh start
  source "$STATE_DIR/env.sh"
  [[ -z $caller_pg ]] || DAL_TEST_POSTGRES_URI=$caller_pg
  [[ -z $caller_pgbouncer ]] || DAL_TEST_PGBOUNCER_URI=$caller_pgbouncer
  [[ -z $caller_mysql ]] || DAL_TEST_MYSQL_URI=$caller_mysql
  [[ -z $caller_tls_ca ]] || DAL_TEST_TLS_CA=$caller_tls_ca
  export DAL_TEST_POSTGRES_URI DAL_TEST_PGBOUNCER_URI DAL_TEST_MYSQL_URI DAL_TEST_TLS_CA
  export DAL_TEST_STANDBY_URI DAL_TEST_MYSQL_REPLICA_URI
  export DAL_TEST_SERVERS_CTL DAL_TEST_SERVERS_STATE_DIR
  for s in "${needed[@]}"; do
    [[ $s == postgres && -n $caller_pg ]] ||
      say "$s: using the private server started by scripts/test-servers.sh"
  done
fi

build_and_test
