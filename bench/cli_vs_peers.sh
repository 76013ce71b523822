#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Times the whole process `hero_proc service list` with 200 running services, next to
# `supervisorctl status` (Debian's supervisor) and `pm2 jlist` (npm's pm2) each holding
# 200 running programs, and prints the ratios. Installs the peers on demand; prints
# figures, never asserts. Usage: bench/cli_vs_peers.sh [BUILD_DIR]   (default: build)
set -eu
build=$(cd "${1:-build}" && pwd)
n=200
runs=${RUNS:-30}
dir=$(mktemp -d /tmp/hp-peers-XXXXXX)
cleanup() {
    [ -n "${hp_pid:-}" ] && kill "$hp_pid" 2>/dev/null && wait "$hp_pid" 2>/dev/null || true
    [ -f "$dir/supervisord.pid" ] && kill "$(cat "$dir/supervisord.pid")" 2>/dev/null || true
    [ -x "$dir/npm/bin/pm2" ] && PM2_HOME="$dir/pm2" "$dir/npm/bin/pm2" kill >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

need_root() { [ "$(id -u)" -eq 0 ] && echo "" || echo sudo; }

# Median wall time in milliseconds of running "$@" $runs times (output discarded).
median_ms() {
    i=0
    : >"$dir/times"
    while [ $i -lt "$runs" ]; do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000)) >>"$dir/times"
        i=$((i + 1))
    done
    sort -n "$dir/times" | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)] / 1000}'
}

echo "== hero_proc: $n services"
"$build/hero_proc_server" --socket "$dir/rpc.sock" --data-dir "$dir/data" --log-level warn &
hp_pid=$!
i=0
while [ ! -S "$dir/rpc.sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
export HERO_PROC_SOCKET="$dir/rpc.sock"
i=1
while [ $i -le $n ]; do
    printf '{"name":"p%03d","actions":[{"name":"main","command":"sleep 100000"}]}' $i |
        "$build/hero_proc" service set - >/dev/null
    "$build/hero_proc" service start "p$(printf %03d $i)" >/dev/null
    i=$((i + 1))
done
hp_ms=$(median_ms "$build/hero_proc" service list)
hp_json_ms=$(median_ms "$build/hero_proc" --json service list)

echo "== supervisor: $n programs"
command -v supervisord >/dev/null 2>&1 || {
    $(need_root) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -qq supervisor >/dev/null
    $(need_root) systemctl stop supervisor 2>/dev/null || true
}
{
    printf '[unix_http_server]\nfile=%s/supervisor.sock\n' "$dir"
    printf '[supervisord]\npidfile=%s/supervisord.pid\nlogfile=%s/supervisord.log\nchildlogdir=%s\n' "$dir" "$dir" "$dir"
    printf '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n'
    printf '[supervisorctl]\nserverurl=unix://%s/supervisor.sock\n' "$dir"
    i=1
    while [ $i -le $n ]; do
        printf '[program:p%03d]\ncommand=sleep 100000\nautostart=true\n' $i
        i=$((i + 1))
    done
} >"$dir/supervisord.conf"
supervisord -c "$dir/supervisord.conf"
i=0
until supervisorctl -c "$dir/supervisord.conf" status 2>/dev/null | grep -q 'p200 *RUNNING' || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
sv_ms=$(median_ms supervisorctl -c "$dir/supervisord.conf" status)

echo "== pm2: $n programs"
pm2="$dir/npm/bin/pm2"
npm install --silent --no-audit --no-fund --prefix "$dir/npm" -g pm2 >/dev/null 2>&1
export PM2_HOME="$dir/pm2"
{
    echo "module.exports = { apps: ["
    i=1
    while [ $i -le $n ]; do
        printf '{ name: "p%03d", script: "sleep", args: "100000", interpreter: "none" },\n' $i
        i=$((i + 1))
    done
    echo "] };"
} >"$dir/ecosystem.config.js"
"$pm2" start "$dir/ecosystem.config.js" >/dev/null 2>&1
pm2_ms=$(median_ms "$pm2" jlist)

echo
printf '%-40s %10s %10s\n' "command (200 running programs)" "median ms" "vs hero_proc"
printf '%-40s %10s %10s\n' "hero_proc service list" "$hp_ms" "1.0x"
printf '%-40s %10s %10s\n' "hero_proc --json service list" "$hp_json_ms" \
    "$(awk -v a="$hp_json_ms" -v b="$hp_ms" 'BEGIN {printf "%.1fx", a / b}')"
printf '%-40s %10s %10s\n' "supervisorctl status" "$sv_ms" \
    "$(awk -v a="$sv_ms" -v b="$hp_ms" 'BEGIN {printf "%.1fx", a / b}')"
printf '%-40s %10s %10s\n' "pm2 jlist" "$pm2_ms" \
    "$(awk -v a="$pm2_ms" -v b="$hp_ms" 'BEGIN {printf "%.1fx", a / b}')"
