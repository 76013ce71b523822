# SPDX-License-Identifier: Apache-2.0
# Another process holding a SQLite database's write lock, for the tests that show what a
# locked store looks like: source it after tests/tap.sh. The sqlite3 shell takes the lock
# (as any other program could) and keeps it until db_unlock; the test's cleanup calls
# db_unlock too, so the shell never outlives the test. Every wait has a deadline.
db_lock_pid=

# db_lock DB DIR: 0 once the sqlite3 shell holds DB's write lock (its fifo and output go
# in DIR), 1 when it could not take it within 10 s (then $db_lock_out says why).
db_lock() {
    db_lock_out="$2/dblock.out"
    rm -f "$2/dblock.in" "$db_lock_out"
    mkfifo "$2/dblock.in" || return 1
    sqlite3 -bail "$1" <"$2/dblock.in" >"$db_lock_out" 2>&1 &
    db_lock_pid=$!
    exec 9>"$2/dblock.in"
    # -bail: when BEGIN fails the shell quits before it could say the lock is held.
    (printf ".timeout 5000\nBEGIN IMMEDIATE;\nSELECT 'lock held';\n" >&9) 2>/dev/null
    end=$(($(date +%s) + 10))
    until grep -q 'lock held' "$db_lock_out" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$end" ] || ! kill -0 "$db_lock_pid" 2>/dev/null; then
            db_unlock
            return 1
        fi
        sleep 0.05
    done
}

# db_unlock: rolls back (nothing was written) and ends the shell; a no-op when no lock
# is held. .quit, not only EOF: a process started meanwhile may have inherited fd 9. The
# writes are in subshells: a shell that has already quit is a SIGPIPE for them alone.
db_unlock() {
    [ -n "$db_lock_pid" ] || return 0
    (printf 'ROLLBACK;\n.quit\n' >&9) 2>/dev/null
    exec 9>&-
    end=$(($(date +%s) + 5))
    while kill -0 "$db_lock_pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
    kill "$db_lock_pid" 2>/dev/null
    wait "$db_lock_pid" 2>/dev/null
    db_lock_pid=
}
