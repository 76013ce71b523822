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

done_testing() { printf '1..%d\n' "$tap_n"; [ "$tap_failed" -eq 0 ]; }
