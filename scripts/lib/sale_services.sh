# shellcheck shell=bash
#
# The services a measured sale runs against (command-svc, projector, query-svc), started from one
# build on ports of their own, under a fresh stream prefix and database, so that a running platform
# is not disturbed. Sourced by scripts/failover and scripts/bench-cluster after scripts/lib/infra.sh:
#
#     tv_sale_start OUT LABEL   # starts them on NATS_URL/DATABASE_URL; logs OUT/LABEL-<service>.log
#     tv_sale_stop              # stops them
#
# Ports: TV_SALE_COMMAND_PORT, TV_SALE_QUERY_PORT, TV_SALE_PROJECTOR_PORT (48180-48182).
# Binaries: $TV_SALE_BIN (default target/release).

TV_SALE_PIDS=()
TV_SALE_BIN="${TV_SALE_BIN:-${CARGO_TARGET_DIR:-$TV_ROOT/target}/release}"
TV_SALE_COMMAND_PORT="${TV_SALE_COMMAND_PORT:-48180}"
TV_SALE_QUERY_PORT="${TV_SALE_QUERY_PORT:-48181}"
TV_SALE_PROJECTOR_PORT="${TV_SALE_PROJECTOR_PORT:-48182}"

tv_sale_start() {
    local out=$1 label=$2 prefix database port name
    prefix="${label//-/}$(date +%s)"
    database="$prefix"
    psql "$DATABASE_URL" -qc "create database $database" >/dev/null || return 1
    export TV_PREFIX="$prefix" RUST_LOG="${RUST_LOG:-warn}"
    export TV_SALE_DATABASE_URL="${DATABASE_URL%/*}/$database"
    # The in-memory test gateway, and no per-address limit: loadgen sends from one address.
    export TV_PAYMENT_GATEWAY="${TV_PAYMENT_GATEWAY:-test}" TV_COMMANDS_PER_ADDRESS=1000000
    export TV_COMMAND_ADDR="127.0.0.1:$TV_SALE_COMMAND_PORT" TV_QUERY_BIND="127.0.0.1:$TV_SALE_QUERY_PORT"
    export TV_PROJECTOR_ADDR="127.0.0.1:$TV_SALE_PROJECTOR_PORT"
    export TV_COMMAND_URL="http://127.0.0.1:$TV_SALE_COMMAND_PORT" TV_QUERY_URL="http://127.0.0.1:$TV_SALE_QUERY_PORT"
    "$TV_SALE_BIN/tv-provision" >/dev/null || return 1
    for name in command-svc projector query-svc; do
        DATABASE_URL="$TV_SALE_DATABASE_URL" "$TV_SALE_BIN/$name" >"$out/$label-$name.log" 2>&1 &
        TV_SALE_PIDS+=($!)
    done
    for port in "$TV_SALE_COMMAND_PORT" "$TV_SALE_QUERY_PORT" "$TV_SALE_PROJECTOR_PORT"; do
        for _ in $(seq 1 300); do
            _tv_http_ok "http://127.0.0.1:$port/healthz" "$port" && continue 2
            sleep 0.1
        done
        _tv_die "a service on port $port did not answer /healthz within 30 s (logs: $out/$label-*.log)"
        return 1
    done
}

tv_sale_stop() {
    local pid
    for pid in "${TV_SALE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${TV_SALE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    TV_SALE_PIDS=()
}
