/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the store's pieces (store.c, store_queue.c, store_logs.c, store_secrets.c):
 * the statements, the store's struct and the helpers they share. Nothing else includes it. */
#ifndef HPD_STORE_INT_H
#define HPD_STORE_INT_H

#include "server/checkpoint.h"
#include "server/loop.h"
#include "server/store.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Lines held in memory before an append flushes by itself. While the store cannot be
 * written they wait up to these bounds; lines past them are dropped and counted. */
#define PENDING_MAX   65536
#define PENDING_BYTES (16 * 1024 * 1024)
/* The batch is written in transactions of at most CHUNK_LINES lines, CHUNKS_PER_CALL of
 * them per call: a backlog drains over several turns of the loop, and a disk with little
 * room left takes it piece by piece. */
#define CHUNK_LINES     4096
#define CHUNKS_PER_CALL 2
/* How long a call may wait for another process's lock: at open (before the daemon
 * answers anyone) and at close, long; from the event loop, a few ms. */
#define OPEN_BUSY_MS 5000
#define LIVE_BUSY_MS 5
/* Once the log holds this many pages (4 MiB), the checkpointer thread copies it into the
 * database file (SQLite's own autocheckpoint, which would do it inside a commit on the
 * loop, is off while the thread runs). */
#define CHECKPOINT_FRAMES 1024

#define LOG_COLS  "seq, ts_ms, src, job_id, stream, line, attempt"
#define SRC_MATCH "(?1 OR src = ?2 OR (src >= ?3 AND src < ?4))"

/* X(id, sql): every statement, prepared once at open and reset after each use. */
#define STATEMENTS(X)                                                                              \
    X(ST_BEGIN, "BEGIN")                                                                           \
    X(ST_COMMIT, "COMMIT")                                                                         \
    X(ST_ROLLBACK, "ROLLBACK")                                                                     \
    X(ST_META_GET, "SELECT value FROM meta WHERE key = ?1")                                        \
    X(ST_META_SET, "INSERT INTO meta(key, value) VALUES(?1, ?2)"                                   \
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value")                       \
    X(ST_PUT_SERVICE,                                                                              \
      "INSERT INTO services(name, config, wanted, created_at_ms, updated_at_ms, run_id,"           \
      " restarts) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET"              \
      " config = excluded.config, wanted = excluded.wanted,"                                       \
      " created_at_ms = excluded.created_at_ms, updated_at_ms = excluded.updated_at_ms,"           \
      " run_id = excluded.run_id, restarts = excluded.restarts")                                   \
    X(ST_DELETE_SERVICE, "DELETE FROM services WHERE name = ?1")                                   \
    X(ST_UPDATE_RUN, "UPDATE runs SET name = ?2, service = ?3, status = ?4, created_at_ms = ?5,"   \
                     " started_at_ms = ?6, ended_at_ms = ?7, cancelling = ?8 WHERE id = ?1")       \
    X(ST_INSERT_RUN, "INSERT INTO runs(id, name, service, status, created_at_ms, started_at_ms,"   \
                     " ended_at_ms, cancelling, actions) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"   \
                     " ?9)")                                                                       \
    X(ST_PUT_JOB,                                                                                  \
      "INSERT INTO jobs(id, run_id, idx, \"action\", status, attempt, restarts, pid, pid_start,"   \
      " has_exit, exit_code, signal, started_at_ms, ended_at_ms, error, dropped, crash_loop)"      \
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"        \
      " ON CONFLICT(id) DO UPDATE SET run_id = excluded.run_id, idx = excluded.idx,"               \
      " \"action\" = excluded.\"action\", status = excluded.status,"                               \
      " attempt = excluded.attempt, restarts = excluded.restarts, pid = excluded.pid,"             \
      " pid_start = excluded.pid_start, has_exit = excluded.has_exit,"                             \
      " exit_code = excluded.exit_code, signal = excluded.signal,"                                 \
      " started_at_ms = excluded.started_at_ms, ended_at_ms = excluded.ended_at_ms,"               \
      " error = excluded.error, dropped = excluded.dropped, crash_loop = excluded.crash_loop")     \
    X(ST_RUN_LOG_TOTALS, "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM logs"                      \
                         " WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?1)")               \
    X(ST_RUN_DELETE_LOGS,                                                                          \
      "DELETE FROM logs WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?1)")                  \
    X(ST_RUN_DELETE_COUNTS,                                                                        \
      "DELETE FROM job_log_counts WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?1)")        \
    X(ST_RUN_DELETE_JOBS, "DELETE FROM jobs WHERE run_id = ?1")                                    \
    X(ST_RUN_DELETE, "DELETE FROM runs WHERE id = ?1")                                             \
    X(ST_LOAD_SERVICES, "SELECT name, config, wanted, created_at_ms, updated_at_ms, run_id,"       \
                        " restarts FROM services ORDER BY name")                                   \
    X(ST_LOAD_RUNS, "SELECT id, name, service, status, actions, created_at_ms, started_at_ms,"     \
                    " ended_at_ms, cancelling FROM runs ORDER BY id")                              \
    X(ST_LOAD_JOBS,                                                                                \
      "SELECT j.id, j.run_id, j.idx, j.status, j.attempt, j.restarts, j.pid, j.pid_start,"         \
      " j.has_exit, j.exit_code, j.signal, j.started_at_ms, j.ended_at_ms, j.error,"               \
      " max(j.dropped, COALESCE(c.dropped, 0)), COALESCE(c.lines, 0), j.crash_loop"                \
      " FROM jobs j LEFT JOIN job_log_counts c ON c.job_id = j.id ORDER BY j.id")                  \
    X(ST_SECRET_SET, "INSERT INTO secrets(name, value, created_at_ms, updated_at_ms)"              \
                     " VALUES(?1, ?2, ?3, ?3) ON CONFLICT(name) DO UPDATE SET"                     \
                     " value = excluded.value, updated_at_ms = excluded.updated_at_ms")            \
    X(ST_SECRET_GET, "SELECT value, created_at_ms, updated_at_ms FROM secrets WHERE name = ?1")    \
    X(ST_SECRET_LIST, "SELECT name, created_at_ms, updated_at_ms FROM secrets ORDER BY name")      \
    X(ST_SECRET_DELETE, "DELETE FROM secrets WHERE name = ?1")                                     \
    X(ST_SECRET_COUNT, "SELECT COUNT(*) FROM secrets")                                             \
    X(ST_LOG_INSERT, "INSERT INTO logs(seq, ts_ms, src, job_id, attempt, stream, line, bytes)"     \
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")                                    \
    X(ST_LOG_MAX_SEQ, "SELECT COALESCE(MAX(seq), 0) FROM logs")                                    \
    X(ST_LOG_TOTALS, "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM logs")                         \
    X(ST_COUNTS_GET, "SELECT lines, dropped FROM job_log_counts WHERE job_id = ?1")                \
    X(ST_DROPS_ALL,                                                                                \
      "SELECT job_id, dropped FROM job_log_counts WHERE dropped > 0 ORDER BY job_id")              \
    X(ST_COUNTS_PUT, "INSERT INTO job_log_counts(job_id, lines, dropped) VALUES(?1, ?2, ?3)"       \
                     " ON CONFLICT(job_id) DO UPDATE SET lines = excluded.lines,"                  \
                     " dropped = excluded.dropped")                                                \
    X(ST_COUNTS_LOST, "INSERT INTO job_log_counts(job_id, lines, dropped) VALUES(?1, 0, ?2)"       \
                      " ON CONFLICT(job_id) DO UPDATE SET dropped = dropped + excluded.dropped")   \
    X(ST_RUN_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM runs")                                      \
    X(ST_COUNTS_EVICT, "INSERT INTO job_log_counts(job_id, lines, dropped) VALUES(?1, 0, ?2)"      \
                       " ON CONFLICT(job_id) DO UPDATE SET"                                        \
                       " lines = max(0, lines - excluded.dropped),"                                \
                       " dropped = dropped + excluded.dropped")                                    \
    X(ST_JOB_OLDEST, "SELECT COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(MAX(seq), 0) FROM"        \
                     " (SELECT seq, bytes FROM logs WHERE job_id = ?1 ORDER BY seq LIMIT ?2)")     \
    X(ST_JOB_DELETE_UPTO, "DELETE FROM logs WHERE job_id = ?1 AND seq <= ?2")                      \
    X(ST_LOG_OLDEST, "SELECT seq, job_id, bytes FROM logs ORDER BY seq")                           \
    X(ST_LOG_DELETE_UPTO, "DELETE FROM logs WHERE seq <= ?1")                                      \
    X(ST_JOB_LOGS, "SELECT " LOG_COLS " FROM logs WHERE job_id = ?1 AND seq > ?2"                  \
                   " AND (?3 <= 0 OR attempt = ?3) ORDER BY seq LIMIT ?4")                         \
    X(ST_SRC_FIRST, "SELECT src FROM logs WHERE src >= ?1 AND src < ?2 ORDER BY src LIMIT 1")      \
    X(ST_SRC_NEXT, "SELECT src FROM logs WHERE src > ?1 AND src < ?2 ORDER BY src LIMIT 1")        \
    X(ST_SRC_LAST, "SELECT " LOG_COLS " FROM logs WHERE src = ?1 AND seq > ?2"                     \
                   " ORDER BY seq DESC LIMIT ?3")                                                  \
    X(ST_SRC_AFTER, "SELECT " LOG_COLS " FROM logs WHERE src = ?1 AND seq > ?2 AND seq < ?3"       \
                    " ORDER BY seq LIMIT ?4")                                                      \
    X(ST_SCAN_LAST,                                                                                \
      "SELECT " LOG_COLS " FROM logs NOT INDEXED WHERE " SRC_MATCH " ORDER BY seq DESC LIMIT ?5")  \
    X(ST_SCAN_AFTER, "SELECT " LOG_COLS " FROM logs NOT INDEXED WHERE seq > ?5 AND " SRC_MATCH     \
                     " ORDER BY seq LIMIT ?6")

enum {
#define STMT_ENUM(id, sql) id,
    STATEMENTS(STMT_ENUM)
#undef STMT_ENUM
        N_STATEMENTS
};

/* A line waiting for the next flush; its src and text live in the store's arena. */
typedef struct pending_line {
    int64_t seq, ts_ms, job_id;
    int attempt;
    hpd_stream stream;
    size_t src_off, src_len, line_off, len;
} pending_line;

typedef struct job_drops {
    int64_t job_id;
    int64_t dropped;
} job_drops;

/* A state change waiting to be written: the statement's parameters in order. */
typedef enum op_kind {
    OP_SERVICE,
    OP_SERVICE_DELETE,
    OP_RUN,
    OP_JOB,
    OP_RUN_DELETE,
    OP_META
} op_kind;

typedef struct op_val {
    int text;
    int64_t i;
    char *s; /* text: owned, NULL binds NULL */
} op_val;

typedef struct store_op {
    op_kind kind;
    int64_t id;     /* the run (OP_RUN, OP_RUN_DELETE) or job (OP_JOB) */
    int64_t run_id; /* OP_JOB: its run */
    int n;
    op_val v[17];
    char *actions; /* OP_RUN: the actions, when its row may be new */
} store_op;

struct hpd_store {
    sqlite3 *db;
    char *path;
    hpd_store_limits limits;
    sqlite3_stmt *stmt[N_STATEMENTS];

    pending_line *pending;
    size_t n_pending, cap_pending;
    size_t head, chunk_end; /* lines before head are written; the chunk being written */
    int backlog;            /* lines are left after a call's chunks: go on at once */
    char *text;             /* arena of pending src and line bytes */
    size_t text_len, text_cap;

    int64_t last_seq;  /* highest seq handed out */
    int64_t log_lines; /* lines stored (flushed) */
    int64_t log_bytes; /* their bytes */
    int64_t dropped;   /* lines evicted by the caps, ever */

    /* The jobs that lost lines to the caps (sorted by job id), so a job list answers its
     * jobs' dropped counts without a query per job; read again after the caps evicted. */
    job_drops *drops;
    size_t n_drops;
    int drops_stale;

    store_op *ops; /* state changes waiting, in order */
    size_t n_ops, cap_ops;
    job_drops *lost; /* lines dropped per job not yet counted in the file, by job id */
    size_t n_lost, cap_lost;
    int64_t lost_lines;     /* lines dropped because the store could not take them, ever */
    int64_t dropped_writes; /* state changes given up, ever */
    int64_t max_run_id;     /* the highest run whose row is written or waits */

    hpd_checkpointer *ckpt; /* NULL: SQLite checkpoints inside commits */
    int wal_frames;         /* pages in the write-ahead log after the last commit */

    /* Health: failing from the first failed write until one succeeds. */
    int failing;
    int last_code; /* SQLite's code of the last failure */
    char error[128];
    char refused[256];
    int64_t since_ms, failures, backoff_ms, retry_at_ms;
    uint64_t generation;
};

/* store.c: statement helpers (a failure sets err, "store: WHAT: SQLite's words", and
 * st->last_code). */
int hpd__db_fail(hpd_store *st, hp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hpd__nomem(hp_error *err, const char *what);
void hpd__finish(sqlite3_stmt *s);
int hpd__run_stmt(hpd_store *st, sqlite3_stmt *s, hp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int hpd__step_row(hpd_store *st, sqlite3_stmt *s, hp_error *err, const char *what);
void hpd__bind_text(sqlite3_stmt *s, int i, const char *text);
char *hpd__dup_column(sqlite3_stmt *s, int col);
int hpd__begin(hpd_store *st, hp_error *err);
int hpd__commit(hpd_store *st, hp_error *err);
void hpd__rollback(hpd_store *st);
int hpd__meta_write(hpd_store *st, const char *key, int64_t value, hp_error *err);
/* Grows *buf to hold need elements (doubling); 0, or -1 with *buf unchanged. */
int hpd__grow(void **buf, size_t *cap, size_t need, size_t elem);

/* store_queue.c: the waiting changes and the store's health. */
int hpd__write_all(hpd_store *st, hp_error *err);
void hpd__op_clear(store_op *op);

/* store_logs.c: the log batch's part of a write. */
void hpd__discard_pending(hpd_store *st);
void hpd__lose_line(hpd_store *st, int64_t job_id);
int hpd__write_lines(hpd_store *st, hp_error *err);
int hpd__write_lost(hpd_store *st, hp_error *err);

#endif
