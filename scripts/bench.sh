#!/usr/bin/env bash
# Runs the benchmarks side by side, in one run, against the private test servers:
#   - builds bench/ optimised (build/bench, Release),
#   - starts the servers (scripts/test-servers.sh) unless DAL_BENCH_POSTGRES_URI is set,
#   - runs each benchmark with repetitions and prints the median throughput ratios,
#   - runs `pgbench -S -M prepared -c 1` against the same PostgreSQL and prints dal's ratio.
# Usage: scripts/bench.sh [sqlite|pool|postgres|mysql|translate]...   (default: all)
# Record what it prints in docs/benchmarks.md with the date and the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
reps=${DAL_BENCH_REPETITIONS:-10}
min_time=${DAL_BENCH_MIN_TIME:-0.3}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(translate sqlite pool postgres mysql)

cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DDAL_BUILD_TESTS=OFF \
  -DDAL_BUILD_EXAMPLES=OFF -DDAL_BUILD_BENCH=ON >/dev/null
cmake --build build/bench -j2 >/dev/null

started_servers=0
cleanup() { if [ "$started_servers" = 1 ]; then scripts/test-servers.sh stop >/dev/null || true; fi; }
trap cleanup EXIT

# Median items/s of one benchmark from Google Benchmark's CSV output.
median() {
  awk -F, -v n="$2" '$1 == "\"" n "_median\"" || $1 == "\"" n "/real_time_median\"" { print $7 }' "$1"
}
# Median of a user counter column (the pool bench's wait percentiles: 11 max, 12 p50, 13 p99).
median_col() {
  awk -F, -v n="$2" -v c="$3" '$1 == "\"" n "_median\"" { printf "%.1f", $c }' "$1"
}
median_time() {
  awk -F, -v n="$2" '$1 == "\"" n "_median\"" { print $3 }' "$1"
}
# Acquisition waits of the three pools in one contended case (threads' average, microseconds).
waits() {
  for pool in dal fifo naive; do
    echo "  $pool waits (us): median $(median_col "$1" "${pool}_$2" 12), p99 $(median_col "$1" "${pool}_$2" 13), longest $(median_col "$1" "${pool}_$2" 11)"
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

run() {  # run <binary> <csv>
  "$root/build/bench/bench/$1" --benchmark_repetitions="$reps" \
    --benchmark_min_time="$min_time" --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_format=csv 2>/dev/null | grep '^"' > "$2" || true
}

echo "dal benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
tmp=$(mktemp -d)
for t in "${targets[@]}"; do
  case "$t" in
    translate)
      run dal_translate_bench "$tmp/translate.csv"
      echo "--- translator (items/s, median of $reps)"; cut -d, -f1,7 "$tmp/translate.csv" ;;
    sqlite)
      run dal_sqlite_bench "$tmp/sqlite.csv"
      echo "--- SQLite (median ns per operation of $reps; ratio = dal throughput / raw)"
      for pair in "raw_select/0 dal_select/0 SELECT-file" "raw_select/1 dal_select/1 SELECT-memory" \
                  "raw_select/0 dal_async_select SELECT-async" "raw_insert dal_insert INSERT"; do
        read -r a b label <<<"$pair"; set -- "$a" "$b" "$label"
        r=$(median_time "$tmp/sqlite.csv" "$1"); d=$(median_time "$tmp/sqlite.csv" "$2")
        echo "$3: raw $r ns, dal $d ns, ratio $(ratio "$r" "$d") (target >= 0.95 sync)"
      done ;;
    pool)
      run dal_pool_bench "$tmp/pool.csv"
      echo "--- pool: acquire + release (median of $reps)"
      for b in dal_uncontended fifo_uncontended naive_uncontended; do
        echo "$b: $(median_time "$tmp/pool.csv" "$b") ns per cycle"
      done
      echo "(target: dal_uncontended <= 100 ns)"
      d=$(median "$tmp/pool.csv" dal_contended/real_time/threads:8)
      f=$(median "$tmp/pool.csv" fifo_contended/real_time/threads:8)
      n=$(median "$tmp/pool.csv" naive_contended/real_time/threads:8)
      echo "contended, 8 threads on 2 connections (cycles/s): dal $d, fifo baseline $f, naive baseline $n"
      echo "dal / fifo baseline = $(ratio "$d" "$f"), dal / naive baseline = $(ratio "$d" "$n") (target >= 2)"
      waits "$tmp/pool.csv" contended/real_time/threads:8
      d=$(median "$tmp/pool.csv" dal_contended_io/real_time/threads:16)
      f=$(median "$tmp/pool.csv" fifo_contended_io/real_time/threads:16)
      n=$(median "$tmp/pool.csv" naive_contended_io/real_time/threads:16)
      echo "contended with 50 us of I/O per lease, 16 threads on 4 connections (cycles/s): dal $d, fifo $f, naive $n"
      echo "dal / fifo baseline = $(ratio "$d" "$f"), dal / naive baseline = $(ratio "$d" "$n")"
      waits "$tmp/pool.csv" contended_io/real_time/threads:16
      echo "async handoff, 16 coroutines on one loop sharing 2 connections (cycles/s): $(median "$tmp/pool.csv" dal_contended_async/real_time)"
      echo "--- 500 coroutine timeouts at once on one event loop (loop time per timeout, median of $reps)"
      for b in dal_timeout_burst_thrown dal_timeout_burst_returned timer_burst_thrown timer_burst_plain; do
        t=$(awk -F, -v n="$b" '$1 == "\"" n "/iterations:30/manual_time_median\"" { print $3 }' "$tmp/pool.csv")
        echo "$b: $(awk -v t="$t" 'BEGIN { if (t > 0) printf "%.2f", t / 500 / 1000; else print "n/a" }') us"
      done ;;
    postgres)
      if [ -z "${DAL_BENCH_POSTGRES_URI:-}" ]; then
        if [ ! -f /tmp/dal-test-servers/env.sh ] || ! scripts/test-servers.sh status >/dev/null 2>&1; then
          DAL_TEST_SERVERS=postgres scripts/test-servers.sh start >/dev/null
          started_servers=1
        fi
        # shellcheck disable=SC1091
        . /tmp/dal-test-servers/env.sh
        export DAL_BENCH_POSTGRES_URI=$DAL_TEST_POSTGRES_URI
      fi
      run dal_postgres_bench "$tmp/pg.csv"
      raw=$(median "$tmp/pg.csv" raw_select); sync=$(median "$tmp/pg.csv" dal_select_sync)
      async=$(median "$tmp/pg.csv" dal_select_async)
      seq=$(median "$tmp/pg.csv" dal_sequential_10); batch=$(median "$tmp/pg.csv" dal_batch_10)
      echo "--- PostgreSQL primary-key SELECT (queries/s, median of $reps)"
      echo "raw libpq prepared: $raw"
      echo "dal sync:           $sync  ratio $(ratio "$sync" "$raw") (target >= 0.95)"
      echo "dal async:          $async  ratio $(ratio "$async" "$raw") (target >= 0.90)"
      echo "10 sequential:      $seq"
      echo "batch of 10:        $batch  ratio $(ratio "$batch" "$seq") (target >= 3)"
      # pgbench on the same server: its own table, its own select-only script, one client.
      uri=$DAL_BENCH_POSTGRES_URI
      export PGPASSWORD
      PGPASSWORD=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://[^:]+:([^@]+)@.*|\1|')
      pg_host=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://[^@]+@([^:/]+).*|\1|')
      pg_port=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://[^@]+@[^:]+:([0-9]+).*|\1|')
      pg_user=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://([^:]+):.*|\1|')
      pg_db=$(printf '%s' "$uri" | sed -E 's|^.*/([^/?]+)(\?.*)?$|\1|')
      # Plain TCP like the dal and raw libpq runs: the test server also offers TLS, which
      # libpq's default (sslmode=prefer) would take.
      export PGSSLMODE=disable
      pgbench -h "$pg_host" -p "$pg_port" -U "$pg_user" -i -s 1 -q "$pg_db" >/dev/null 2>&1
      tps=$(pgbench -h "$pg_host" -p "$pg_port" -U "$pg_user" -S -M prepared -c 1 -T 10 "$pg_db" 2>/dev/null |
            sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
      echo "pgbench -S -M prepared -c 1: $tps tps; dal sync / pgbench = $(ratio "$sync" "$tps")" ;;
    mysql)
      if [ -z "${DAL_BENCH_MYSQL_URI:-}" ]; then
        if [ ! -f /tmp/dal-test-servers/env.sh ] || ! scripts/test-servers.sh status >/dev/null 2>&1; then
          DAL_TEST_SERVERS=mysql scripts/test-servers.sh start >/dev/null
          started_servers=1
        fi
        # shellcheck disable=SC1091
        . /tmp/dal-test-servers/env.sh
        export DAL_BENCH_MYSQL_URI=$DAL_TEST_MYSQL_URI
      fi
      run dal_mysql_bench "$tmp/my.csv"
      raw=$(median "$tmp/my.csv" raw_select); sync=$(median "$tmp/my.csv" dal_select_sync)
      async=$(median "$tmp/my.csv" dal_select_async)
      loop=$(median "$tmp/my.csv" dal_insert_loop_1000); bulk=$(median "$tmp/my.csv" dal_execute_many_1000)
      echo "--- MariaDB primary-key SELECT (queries/s, median of $reps)"
      echo "raw C API prepared: $raw"
      echo "dal sync:           $sync  ratio $(ratio "$sync" "$raw") (target >= 0.95)"
      echo "dal async:          $async  ratio $(ratio "$async" "$raw") (target >= 0.90)"
      echo "--- MariaDB 1,000-row insert (rows/s)"
      echo "loop of INSERTs:    $loop"
      echo "execute_many:       $bulk  ratio $(ratio "$bulk" "$loop") (target >= 5)"
      uri=$DAL_BENCH_MYSQL_URI
      my_pw=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://[^:]+:([^@]+)@.*|\1|')
      my_host=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://[^@]+@([^:/]+).*|\1|')
      my_port=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://[^@]+@[^:]+:([0-9]+).*|\1|')
      my_user=$(printf '%s' "$uri" | sed -E 's|^[a-z]+://([^:]+):.*|\1|')
      my_db=$(printf '%s' "$uri" | sed -E 's|^.*/([^/?]+)(\?.*)?$|\1|')
      queries=20000
      # --skip-ssl: plain TCP like the C API runs (the mariadb tools take TLS when offered).
      secs=$(MYSQL_PWD=$my_pw mariadb-slap --skip-ssl --host="$my_host" --port="$my_port" \
               --user="$my_user" --create-schema="$my_db" --concurrency=1 --iterations=1 \
               --number-of-queries=$queries \
               --query="SELECT id, name, age FROM dal_bench_users WHERE id = 4242" 2>/dev/null |
             sed -n 's/.*Average number of seconds to run all queries: \([0-9.]*\).*/\1/p')
      slap=$(awk -v q=$queries -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", q / s; else print 0 }')
      echo "mariadb-slap, 1 client, same query: $slap queries/s; dal sync / mariadb-slap = $(ratio "$sync" "$slap")" ;;
    *) echo "unknown benchmark: $t (sqlite, pool, postgres, mysql, translate)" >&2; exit 2 ;;
  esac
done
rm -rf "$tmp"
