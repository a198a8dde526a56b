# shellcheck shell=bash
#
# Cached reads against the machine's ceiling, in one run: wrk against tv-hello (an axum handler
# answering a fixed body, nothing else in its stack: kit/src/bin/tv-hello.rs) and against a
# query-svc route, alternated round by round so that both see the same machine. Sourced by
# scripts/bench and scripts/bench-reads:
#
#     tv_bench_reads HELLO_BIN URL OUT_PREFIX
#
# writes OUT_PREFIX-{hello,read}-N.txt (wrk's reports) and OUT_PREFIX-summary.txt: the median
# requests/s of each, the read's share of hello's, and the read's median p50 and p99.
# TV_BENCH_READ_ROUNDS (3), TV_BENCH_READ_SECONDS (10), TV_BENCH_READ_CONNECTIONS (64) and
# TV_BENCH_HELLO_PORT (19090) size it. Traffic goes to 127.0.0.1 only, bounded in time.

# wrk's "Requests/sec:" of a report.
_tv_wrk_rate() { awk '/^Requests\/sec:/ {print $2}' "$1"; }

# A latency percentile ("50%", "99%") of a report with --latency, in milliseconds.
_tv_wrk_ms() {
    awk -v p="$2" '$1 == p {
        v = $2
        if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v) }
        else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
        printf "%.2f\n", v
    }' "$1"
}

# The median of the numbers on stdin, one a line.
_tv_median() { sort -g | awk '{a[NR] = $1} END {if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

tv_bench_reads() {
    local hello_bin=$1 url=$2 out=$3
    local rounds="${TV_BENCH_READ_ROUNDS:-3}" seconds="${TV_BENCH_READ_SECONDS:-10}"
    local connections="${TV_BENCH_READ_CONNECTIONS:-64}" port="${TV_BENCH_HELLO_PORT:-19090}"
    if ! command -v wrk >/dev/null; then
        tv_say "wrk is not installed (apt-get install wrk): skipping the read benchmark"
        return 0
    fi
    "$hello_bin" "127.0.0.1:$port" >"$out-hello.log" 2>&1 &
    local hello_pid=$!
    local ready=0
    for _ in $(seq 1 100); do
        if _tv_http_ok "http://127.0.0.1:$port/" "$port"; then ready=1 && break; fi
        sleep 0.1
    done
    if [[ $ready != 1 ]]; then
        kill "$hello_pid" 2>/dev/null || true
        _tv_die "tv-hello did not answer on 127.0.0.1:$port (see $out-hello.log; set TV_BENCH_HELLO_PORT to a free port)"
        return 1
    fi
    local wrk=(wrk -t2 "-c$connections" "-d${seconds}s" --latency) r
    # A short warm-up of each fills query-svc's cache and both servers' connection pools.
    "${wrk[@]/-d${seconds}s/-d2s}" "http://127.0.0.1:$port/" >/dev/null
    "${wrk[@]/-d${seconds}s/-d2s}" "$url" >/dev/null
    for r in $(seq 1 "$rounds"); do
        tv_say "reads round $r/$rounds: hello, then $url"
        "${wrk[@]}" "http://127.0.0.1:$port/" >"$out-hello-$r.txt"
        "${wrk[@]}" "$url" >"$out-read-$r.txt"
    done
    kill "$hello_pid" 2>/dev/null || true
    wait "$hello_pid" 2>/dev/null || true

    local hello read p50 p99 errors
    hello=$(for r in $(seq 1 "$rounds"); do _tv_wrk_rate "$out-hello-$r.txt"; done | _tv_median)
    read=$(for r in $(seq 1 "$rounds"); do _tv_wrk_rate "$out-read-$r.txt"; done | _tv_median)
    p50=$(for r in $(seq 1 "$rounds"); do _tv_wrk_ms "$out-read-$r.txt" 50%; done | _tv_median)
    p99=$(for r in $(seq 1 "$rounds"); do _tv_wrk_ms "$out-read-$r.txt" 99%; done | _tv_median)
    errors=$(cat "$out"-read-*.txt | awk '/Non-2xx|Socket errors/ {print}' | head -3)
    {
        printf 'hello (tv-hello, axum alone): %.0f req/s (median of %s rounds)\n' "$hello" "$rounds"
        printf 'read  (%s): %.0f req/s, p50 %s ms, p99 %s ms\n' "$url" "$read" "$p50" "$p99"
        awk -v a="$read" -v b="$hello" 'BEGIN {printf "read / hello: %.1f %%\n", 100 * a / b}'
        [[ -z $errors ]] || printf 'errors: %s\n' "$errors"
    } | tee "$out-summary.txt"
}
