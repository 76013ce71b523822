# SPDX-License-Identifier: Apache-2.0
# TAP helpers for the shell tests: source it, call check "description" command...,
# then done_testing. Each check is one TAP line, so each is its own PASS/FAIL.
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); printf 'ok %d - %s\n' "$tap_n" "$1"; }

not_ok() {
    tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
    printf 'not ok %d - %s\n' "$tap_n" "$1"
    shift
    [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/# /'
    return 0
}

# A check that cannot run here (its tool is missing): counted as SKIP, with the reason.
skip() { ok "$1 # SKIP $2"; }

# The whole test cannot run here: TAP's skip plan (the driver's form of exit 77).
skip_all() {
    printf '1..0 # SKIP %s\n' "$1"
    exit 0
}

done_testing() { printf '1..%d\n' "$tap_n"; [ "$tap_failed" -eq 0 ]; }
