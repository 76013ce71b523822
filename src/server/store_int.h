/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the store's pieces (store.c, store_queue.c, store_logs.c, store_secrets.c):
 * the statements, the store's struct and the helpers they share. Nothing else includes it. */
#ifndef HPD_STORE_INT_H
#define HPD_STORE_INT_H

#include "server/checkpoint.h"
#include "server/logseg.h"
#include "server/loop.h"
#include "server/store.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Log lines held in memory (logseg.h) while their files cannot be written; lines past
 * this are dropped and counted against their job. */
#define PENDING_BYTES (16 * 1024 * 1024)
/* A failed write is tried again after a back-off: 100 ms, doubling to 5 s. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* How long a call may wait for another process's lock: at open (before the daemon
 * answers anyone) and at close, long; from the event loop, a few ms. */
#define OPEN_BUSY_MS 5000
#define LIVE_BUSY_MS 5
/* Once the log holds this many pages (4 MiB), the checkpointer thread copies it into the
 * database file (SQLite's own autocheckpoint, which would do it inside a commit on the
 * loop, is off while the thread runs). */
#define CHECKPOINT_FRAMES 1024

/* X(id, sql): every statement, prepared once at open and reset after each use. A job's
 * update leaves run_id, idx and action alone (a job never changes run): setting them
 * rewrote the jobs_run index and checked the run's foreign key at every job's end. */
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
      " has_exit, exit_code, signal, started_at_ms, ended_at_ms, error, dropped, crash_loop,"      \
      " retry_at_ms, backoff_ms, quick_failures) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"  \
      " ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"                                         \
      " ON CONFLICT(id) DO UPDATE SET status = excluded.status,"                                   \
      " attempt = excluded.attempt, restarts = excluded.restarts, pid = excluded.pid,"             \
      " pid_start = excluded.pid_start, has_exit = excluded.has_exit,"                             \
      " exit_code = excluded.exit_code, signal = excluded.signal,"                                 \
      " started_at_ms = excluded.started_at_ms, ended_at_ms = excluded.ended_at_ms,"               \
      " error = excluded.error, dropped = excluded.dropped, crash_loop = excluded.crash_loop,"     \
      " retry_at_ms = excluded.retry_at_ms, backoff_ms = excluded.backoff_ms,"                     \
      " quick_failures = excluded.quick_failures")                                                 \
    X(ST_RUN_DELETE_JOBS, "DELETE FROM jobs WHERE run_id = ?1")                                    \
    X(ST_RUN_DELETE, "DELETE FROM runs WHERE id = ?1")                                             \
    X(ST_LOAD_SERVICES, "SELECT name, config, wanted, created_at_ms, updated_at_ms, run_id,"       \
                        " restarts FROM services ORDER BY name")                                   \
    X(ST_LOAD_RUNS, "SELECT id, name, service, status, actions, created_at_ms, started_at_ms,"     \
                    " ended_at_ms, cancelling FROM runs ORDER BY id")                              \
    X(ST_LOAD_JOBS,                                                                                \
      "SELECT j.id, j.run_id, j.idx, j.status, j.attempt, j.restarts, j.pid, j.pid_start,"         \
      " j.has_exit, j.exit_code, j.signal, j.started_at_ms, j.ended_at_ms, j.error,"               \
      " j.dropped, 0, j.crash_loop, j.retry_at_ms, j.backoff_ms, j.quick_failures FROM jobs j"     \
      " ORDER BY j.id")                                                                            \
    X(ST_SECRET_SET, "INSERT INTO secrets(name, value, created_at_ms, updated_at_ms)"              \
                     " VALUES(?1, ?2, ?3, ?3) ON CONFLICT(name) DO UPDATE SET"                     \
                     " value = excluded.value, updated_at_ms = excluded.updated_at_ms")            \
    X(ST_SECRET_GET, "SELECT value, created_at_ms, updated_at_ms FROM secrets WHERE name = ?1")    \
    X(ST_SECRET_LIST, "SELECT name, created_at_ms, updated_at_ms FROM secrets ORDER BY name")      \
    X(ST_SECRET_DELETE, "DELETE FROM secrets WHERE name = ?1")                                     \
    X(ST_SECRET_COUNT, "SELECT COUNT(*) FROM secrets")                                             \
    X(ST_RUN_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM runs")

enum {
#define STMT_ENUM(id, sql) id,
    STATEMENTS(STMT_ENUM)
#undef STMT_ENUM
        N_STATEMENTS
};

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

/* A part of the store that fails and recovers on its own (the database, the log's files):
 * failing from the first failed write until one succeeds, tried again after a back-off. */
typedef struct store_part {
    int failing;
    char error[160];
    int64_t since_ms, failures, backoff_ms, retry_at_ms;
} store_part;

typedef struct store_op {
    op_kind kind;
    int64_t id;     /* the run (OP_RUN, OP_RUN_DELETE) or job (OP_JOB) */
    int64_t run_id; /* OP_JOB: its run */
    int n;
    op_val v[20];
    char *actions; /* OP_RUN: the actions, when its row may be new */
} store_op;

struct hpd_store {
    sqlite3 *db;
    char *path;
    hpd_store_limits limits;
    sqlite3_stmt *stmt[N_STATEMENTS];

    hpd_logseg *logs;    /* the log's files, <dir>/logs */
    int64_t last_seq;    /* highest seq handed out */
    int64_t saved_seq;   /* last_seq as written in meta */
    store_part log_part; /* the log's files */

    store_op *ops; /* state changes waiting, in order */
    size_t n_ops, cap_ops;
    int held;               /* > 0: ops wait for hpd_store_release, to go in one transaction */
    int64_t lost_lines;     /* lines dropped because the store could not take them, ever */
    int64_t dropped_writes; /* state changes given up, ever */
    int64_t max_run_id;     /* the highest run whose row is written or waits */

    hpd_checkpointer *ckpt; /* NULL: SQLite checkpoints inside commits */
    int wal_frames;         /* pages in the write-ahead log after the last commit */

    /* Health: failing from the first failed write until one succeeds. */
    store_part db_part; /* the database */
    int last_code;      /* SQLite's code of the last failure */
    char refused[256];
    uint64_t generation; /* moves when either part fails, recovers or changes its words */
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

/* store_queue.c: the waiting changes and the store's health. A failed attempt (why: the
 * reason in words) starts or continues the part's back-off; a write that worked ends it.
 * Both move st->generation when the state or the words change. */
void hpd__part_failed(hpd_store *st, store_part *p, const char *why);
void hpd__part_ok(hpd_store *st, store_part *p);
int hpd__part_due(const store_part *p); /* 1: not failing, or a retry is due */
int hpd__write_all(hpd_store *st, hp_error *err);
void hpd__op_clear(store_op *op);

/* store_logs.c: the log's files. Opening them converts the log rows an older release
 * kept in the database. Writing them follows their own back-off. */
int hpd__logs_open(hpd_store *st, const char *dir, hp_error *err);
int hpd__logs_write(hpd_store *st, hp_error *err);
int hpd__logs_due(const hpd_store *st);

#endif
