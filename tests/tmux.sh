# SPDX-License-Identifier: Apache-2.0
# What the tmux tests of hero_proc_tui share: source it after tests/tap.sh. It skips the
# test when tmux or curl is missing, makes a temporary directory ($tmp) with our own tmux
# server ($ts, never the user's) and removes both at exit, with the hero_proc_server that
# start_server started there and the pids the test adds to $kill_at_exit.
bin=${top_builddir:-.}
bin=$(cd "$bin" && pwd)
for tool in tmux curl; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "1..0 # SKIP $tool is missing"
        exit 0
    fi
done

tmp=$(mktemp -d)
ts="hptui$$"
export TMUX_TMPDIR="$tmp" # our tmux server's socket goes with the directory
sock="$tmp/run/rpc.sock"
srv_pid=""
kill_at_exit=""
unset HERO_PROC_SOCKET HERO_PROC_URL HERO_PROC_TOKEN PATH_SOCKET HERO_SOCKET_DIR TMUX
export LANG=C.UTF-8 LC_ALL=C.UTF-8 HERO_PROC_DATA="$srcdir/data"
# The dashboards are asked to quit (SIGTERM) while the shells of their panes still wait
# for them: killing the tmux server first would orphan their process groups while a
# sanitizer's leak check has them stopped, and the kernel's SIGCONT would leave that check
# spinning forever.
quit_dashboards() {
    panes=$(tmux -L "$ts" list-panes -a -F '#{pane_pid}' 2>/dev/null)
    for p in $panes; do pkill -TERM -P "$p" 2>/dev/null; done
    end=$(($(date +%s) + 10))
    for p in $panes; do
        while pgrep -P "$p" >/dev/null 2>&1 && [ "$(date +%s)" -lt "$end" ]; do
            sleep 0.1
        done
    done
}
cleanup() {
    quit_dashboards
    tmux -L "$ts" kill-server 2>/dev/null
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    for pid in $kill_at_exit; do kill "$pid" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# rpc SOCKET METHOD PARAMS: the JSON-RPC answer of the server.
rpc() {
    curl -s --max-time 5 --unix-socket "$1" -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" http://localhost/rpc
}
# The first "key": number in a JSON text.
json_num() { printf '%s' "$2" | sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" | head -n 1; }
# The first "key": "string" in a JSON text (without escapes).
json_str() { printf '%s' "$2" | grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 | sed 's/.*: *"\(.*\)"/\1/'; }

screen() { tmux -L "$ts" capture-pane -p -t "$1" 2>/dev/null; }
# wait_screen PANE REGEX [SECONDS]: 0 once the screen matches, 1 at the deadline.
wait_screen() {
    end=$(($(date +%s) + ${3:-10}))
    while :; do
        screen "$1" | grep -Eq -- "$2" && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
# wait_for SECONDS CMD...: 0 once CMD succeeds, 1 at the deadline.
wait_for() {
    until_=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -ge "$until_" ] && return 1
        sleep 0.1
    done
}
# wait_file FILE [SECONDS]
wait_file() {
    end=$(($(date +%s) + ${2:-10}))
    while [ ! -s "$1" ]; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
# start NAME RCFILE ENV... -- ARGS...: the dashboard in a 120x40 pane; its exit status
# lands in RCFILE and the pane stays so the restored screen can be read.
start() {
    name=$1 rcfile=$2
    shift 2
    tmux -L "$ts" new-session -d -s "$name" -x 120 -y 40 \
        "env $* ; echo \$? >$rcfile; exec sleep 300"
}
# check CMD...: ok "$desc" when CMD succeeds, else not ok with the screen of $pane.
check() { if "$@"; then ok "$desc"; else not_ok "$desc" "$(screen "$pane" | sed -n '1,40p')"; fi; }

# start_server: a hero_proc_server on $sock with its data in $tmp/data; 0 once it answers
# system.ping, 1 at the deadline (10 s). Its output goes to $tmp/server.log.
start_server() {
    mkdir -p "$tmp/run" "$tmp/data"
    "$bin/hero_proc_server" --socket "$sock" --data-dir "$tmp/data" >"$tmp/server.log" 2>&1 &
    srv_pid=$!
    end=$(($(date +%s) + 10))
    until rpc "$sock" system.ping '{}' | grep -q result; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
