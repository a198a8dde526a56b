# shellcheck shell=bash
#
# Supply-chain checks with cargo-deny (deny.toml): licences, banned duplicate versions, sources,
# and RustSec advisories. Sourced after scripts/lib/infra.sh.
#
#     check_dependencies    # installs the pinned cargo-deny if needed, then checks
#
# cargo-deny is installed once with `cargo install --locked` into cargo's own bin directory (a few
# minutes the first time) and reused afterwards. The advisory database is fetched from GitHub by
# cargo-deny; where GitHub cannot be reached, the copy fetched last time is used (its date is
# printed), and with no copy at all the advisories are reported as not checked, loudly, while the
# other checks still run. TV_DENY_ADVISORIES=require makes a missing database a failure.

TV_CARGO_DENY_VERSION="0.20.2"

_deny_bin() {
    local bin="${CARGO_HOME:-$HOME/.cargo}/bin/cargo-deny"
    if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -qF "$TV_CARGO_DENY_VERSION"; then
        printf '%s\n' "$bin"
        return 0
    fi
    return 1
}

ensure_cargo_deny() {
    if _deny_bin >/dev/null; then return 0; fi
    tv_say "installing cargo-deny $TV_CARGO_DENY_VERSION (cargo install --locked; a few minutes, once)"
    if ! cargo install --quiet --locked --version "$TV_CARGO_DENY_VERSION" cargo-deny; then
        tv_say "error: could not install cargo-deny $TV_CARGO_DENY_VERSION (is crates.io reachable?)"
        return 1
    fi
    _deny_bin >/dev/null
}

# The advisory database cargo-deny keeps, if one was ever fetched: its directory.
_advisory_db() {
    local dir
    for dir in "${CARGO_HOME:-$HOME/.cargo}"/advisory-dbs/advisory-db-*; do
        if [[ -d "$dir/.git" || -d "$dir/crates" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    return 1
}

check_dependencies() {
    ensure_cargo_deny || return 1
    local deny db fetched=0
    deny="$(_deny_bin)"
    tv_say "cargo deny check bans licenses sources"
    "$deny" --log-level error check bans licenses sources || return 1
    if timeout 120 "$deny" --log-level error fetch db >/dev/null 2>&1; then
        fetched=1
    fi
    if db="$(_advisory_db)"; then
        local date
        date="$(git -C "$db" log -1 --format=%cs 2>/dev/null || echo "unknown date")"
        if ((fetched)); then
            tv_say "cargo deny check advisories (RustSec database fetched now, last change $date)"
        else
            tv_say "cargo deny check advisories (GitHub unreachable: the RustSec database fetched earlier, last change $date)"
        fi
        "$deny" --offline --log-level error check advisories || return 1
    elif [[ "${TV_DENY_ADVISORIES:-}" == require ]]; then
        tv_say "error: the RustSec advisory database could not be fetched from GitHub, and no copy exists"
        return 1
    else
        tv_say "WARNING: advisories NOT checked: the RustSec database could not be fetched from GitHub and no"
        tv_say "WARNING: earlier copy exists; run 'cargo deny fetch db' where GitHub is reachable"
    fi
}
