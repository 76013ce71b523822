/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's SQLite store, its door: open and close, the schema and statements, meta, and
 * the load at start. What it does not do lives next to it: store_queue.c (the waiting changes
 * and the store's health), store_logs.c (the log's files, logseg.c, and the queries),
 * store_secrets.c, and checkpoint.c (the checkpointer thread). It holds no model state and
 * decides nothing about processes: the daemon hands it objects to save and gets them back,
 * unchanged, at load. */
#include "config.h"

#include "server/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2: log lines moved out of the database into <dir>/logs (store_logs.c converts the rows
 * of version 1 at open). 3: the tokens table (created empty; nothing to convert). 4: a
 * job's back-off (retry_at_ms, backoff_ms, quick_failures; added with their defaults to
 * the jobs of an older file). */
#define SCHEMA_VERSION 4

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS services(name TEXT PRIMARY KEY, config TEXT NOT NULL,"
    " wanted INTEGER NOT NULL, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL,"
    " run_id INTEGER NOT NULL, restarts INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, name TEXT NOT NULL, service TEXT,"
    " status TEXT NOT NULL, actions TEXT NOT NULL, created_at_ms INTEGER NOT NULL,"
    " started_at_ms INTEGER NOT NULL, ended_at_ms INTEGER NOT NULL,"
    " cancelling INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS jobs(id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    " \"action\" TEXT NOT NULL, status TEXT NOT NULL, attempt INTEGER NOT NULL,"
    " restarts INTEGER NOT NULL, pid INTEGER NOT NULL, pid_start INTEGER NOT NULL,"
    " has_exit INTEGER NOT NULL, exit_code INTEGER NOT NULL, signal INTEGER NOT NULL,"
    " started_at_ms INTEGER NOT NULL, ended_at_ms INTEGER NOT NULL, error TEXT,"
    " dropped INTEGER NOT NULL, crash_loop INTEGER NOT NULL,"
    " retry_at_ms INTEGER NOT NULL DEFAULT 0, backoff_ms INTEGER NOT NULL DEFAULT 0,"
    " quick_failures INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS jobs_run ON jobs(run_id);"
    "CREATE TABLE IF NOT EXISTS secrets(name TEXT PRIMARY KEY, value TEXT NOT NULL,"
    " created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens(name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " hash BLOB NOT NULL, created_at_ms INTEGER NOT NULL);"
    "";

static const char *const statement_sql[] = {
#define STMT_SQL(id, sql) [id] = sql,
    STATEMENTS(STMT_SQL)
#undef STMT_SQL
};

/* ---- errors and statement helpers ------------------------------------------------------ */

static int db_failv(hpd_store *st, hp_error *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int db_failv(hpd_store *st, hp_error *err, const char *fmt, va_list ap)
{
    char what[160];
    int code = sqlite3_errcode(st->db);

    st->last_code = code;
    vsnprintf(what, sizeof(what), fmt, ap);
    hp_error_set(err, code == SQLITE_NOMEM ? HP_E_NOMEM : HP_E_SYSTEM, "store: %s: %s", what,
                 sqlite3_errmsg(st->db));
    return -1;
}

int hpd__db_fail(hpd_store *st, hp_error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    db_failv(st, err, fmt, ap);
    va_end(ap);
    return -1;
}

int hpd__nomem(hp_error *err, const char *what)
{
    hp_error_set(err, HP_E_NOMEM, "store: %s: out of memory", what);
    return -1;
}

/* Ends one use of a cached statement: no read transaction stays open and no bound
 * pointer outlives the call. */
void hpd__finish(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no row we need; 0 or -1 with err. */
int hpd__run_stmt(hpd_store *st, sqlite3_stmt *s, hp_error *err, const char *fmt, ...)
{
    int rc = sqlite3_step(s);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        va_list ap;

        va_start(ap, fmt);
        db_failv(st, err, fmt, ap);
        va_end(ap);
        hpd__finish(s);
        return -1;
    }
    hpd__finish(s);
    return 0;
}

/* Steps a statement expected to give one row or none: 1 row (left for the caller to read
 * and finish), 0 none (finished), -1 error (finished, err set). */
int hpd__step_row(hpd_store *st, sqlite3_stmt *s, hp_error *err, const char *what)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        hpd__db_fail(st, err, "%s", what);
    hpd__finish(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

void hpd__bind_text(sqlite3_stmt *s, int i, const char *text)
{
    sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

char *hpd__dup_column(sqlite3_stmt *s, int col)
{
    const unsigned char *text = sqlite3_column_text(s, col);

    return text ? strdup((const char *)text) : NULL;
}

int hpd__begin(hpd_store *st, hp_error *err)
{
    return hpd__run_stmt(st, st->stmt[ST_BEGIN], err, "cannot begin a transaction");
}

int hpd__commit(hpd_store *st, hp_error *err)
{
    return hpd__run_stmt(st, st->stmt[ST_COMMIT], err, "cannot commit");
}

void hpd__rollback(hpd_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        hpd__run_stmt(st, st->stmt[ST_ROLLBACK], NULL, "cannot roll back");
}

int hpd__grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 64;
    void *p;

    if (need <= *cap)
        return 0;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    if (!(p = realloc(*buf, n * elem)))
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

/* ---- meta ---------------------------------------------------------------------------- */

/* 1 found (*out set), 0 missing, -1 error. */
static int meta_read(hpd_store *st, const char *key, int64_t *out, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_META_GET];
    int rc;

    hpd__bind_text(s, 1, key);
    rc = hpd__step_row(st, s, err, "cannot read meta");
    if (rc == 1) {
        *out = sqlite3_column_int64(s, 0);
        hpd__finish(s);
    }
    return rc;
}

int hpd__meta_write(hpd_store *st, const char *key, int64_t value, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_META_SET];

    hpd__bind_text(s, 1, key);
    sqlite3_bind_int64(s, 2, value);
    return hpd__run_stmt(st, s, err, "cannot write meta '%s'", key);
}

int64_t hpd_store_get_meta(hpd_store *st, const char *key, int64_t fallback)
{
    int64_t value;

    if (!st || !key)
        return fallback;
    return meta_read(st, key, &value, NULL) == 1 ? value : fallback;
}

/* ---- open and close ------------------------------------------------------------------ */

static char *path_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);

    if (path)
        snprintf(path, len, "%s/%s", dir, name);
    return path;
}

/* The -wal and -shm files take the database's mode; this makes sure of it. */
static int restrict_sidecars(const char *path, hp_error *err)
{
    static const char *const suffixes[] = {"-wal", "-shm"};

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char side[4096];

        if ((size_t)snprintf(side, sizeof(side), "%s%s", path, suffixes[i]) >= sizeof(side))
            continue;
        if (chmod(side, 0600) != 0 && errno != ENOENT) {
            hp_error_set_errno(err, HP_E_SYSTEM, errno, "store: cannot chmod %s", side);
            return -1;
        }
    }
    return 0;
}

static int create_file(const char *path, hp_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        hp_error_set_errno(err, HP_E_SYSTEM, errno, "store: cannot open %s", path);
        return -1;
    }
    if (fchmod(fd, 0600) != 0) {
        hp_error_set_errno(err, HP_E_SYSTEM, errno, "store: cannot chmod %s", path);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* A file of version 3 or older: its jobs table lacks the back-off columns (version 4). */
static int add_backoff_columns(hpd_store *st)
{
    static const char add[] =
        "ALTER TABLE jobs ADD COLUMN retry_at_ms INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE jobs ADD COLUMN backoff_ms INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE jobs ADD COLUMN quick_failures INTEGER NOT NULL DEFAULT 0;";
    sqlite3_stmt *probe = NULL;
    int has;

    has = sqlite3_prepare_v2(st->db, "SELECT retry_at_ms FROM jobs LIMIT 0", -1, &probe, NULL) ==
          SQLITE_OK;
    sqlite3_finalize(probe);
    return has || sqlite3_exec(st->db, add, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int init_schema(hpd_store *st, hp_error *err)
{
    /* A flush rewrites one index page per active job and source: checkpointing every
     * 32 MiB of WAL instead of 4 writes each hot page back once for many flushes. */
    static const char pragmas[] = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                                  " PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"
                                  " PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 8192;"
                                  " PRAGMA journal_size_limit = 33554432;";

    if (sqlite3_busy_timeout(st->db, OPEN_BUSY_MS) != SQLITE_OK ||
        sqlite3_exec(st->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
        return hpd__db_fail(st, err, "cannot configure %s", st->path);
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return hpd__db_fail(st, err, "cannot lock %s", st->path);
    if (sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        hpd__db_fail(st, err, "cannot create the tables of %s", st->path);
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (add_backoff_columns(st) != 0) {
        hpd__db_fail(st, err, "cannot add the back-off columns to the jobs of %s", st->path);
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        hpd__db_fail(st, err, "cannot create the tables of %s", st->path);
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int prepare_all(hpd_store *st, hp_error *err)
{
    for (int i = 0; i < N_STATEMENTS; i++)
        if (sqlite3_prepare_v3(st->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &st->stmt[i], NULL) != SQLITE_OK)
            return hpd__db_fail(st, err, "cannot prepare statement %d", i);
    return 0;
}

/* Schema version, the highest seq ever given (the log's files know it too) and the
 * highest run id. */
static int load_counters(hpd_store *st, hp_error *err)
{
    int64_t version, seq = 0;
    sqlite3_stmt *s;
    int rc;

    rc = meta_read(st, "schema_version", &version, err);
    if (rc < 0)
        return -1;
    if (rc == 0 && hpd__meta_write(st, "schema_version", SCHEMA_VERSION, err) != 0)
        return -1;
    if (rc == 1 && version > SCHEMA_VERSION) {
        hp_error_set(err, HP_E_SYSTEM,
                     "store: %s has schema version %lld, newer than this hero_proc (%d)", st->path,
                     (long long)version, SCHEMA_VERSION);
        return -1;
    }

    if (meta_read(st, "last_seq", &seq, err) < 0)
        return -1;
    if (seq > st->last_seq)
        st->last_seq = seq;
    st->saved_seq = seq;
    s = st->stmt[ST_RUN_MAX_ID];
    if (hpd__step_row(st, s, err, "cannot read the last run id") != 1)
        return -1;
    st->max_run_id = sqlite3_column_int64(s, 0);
    hpd__finish(s);
    return 0;
}

/* After the conversions of older versions: the file now has every table of this one. */
static int mark_current(hpd_store *st, hp_error *err)
{
    int64_t version = 0;

    if (meta_read(st, "schema_version", &version, err) < 0)
        return -1;
    return version < SCHEMA_VERSION ? hpd__meta_write(st, "schema_version", SCHEMA_VERSION, err)
                                    : 0;
}

hpd_store *hpd_store_open(const char *dir, const hpd_store_limits *limits, hp_error *err)
{
    hpd_store *st;
    mode_t old_mask;
    int rc;

    if (!dir || !*dir) {
        hp_error_set(err, HP_E_INVALID, "store: no data directory given");
        return NULL;
    }
    st = calloc(1, sizeof(*st));
    if (!st || !(st->path = path_join(dir, "hero_proc.db"))) {
        free(st);
        hpd__nomem(err, "cannot open the store");
        return NULL;
    }
    st->db_part.since_ms = st->log_part.since_ms = hpd_now_ms();
    if (limits)
        st->limits = *limits;

    if (create_file(st->path, err) != 0)
        goto fail;
    /* Whatever SQLite creates next to the file (-wal, -shm) is private too. */
    old_mask = umask(077);
    rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        umask(old_mask);
        hp_error_set(err, rc == SQLITE_NOMEM ? HP_E_NOMEM : HP_E_SYSTEM,
                     "store: cannot open %s: %s", st->path,
                     st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    rc = init_schema(st, err);
    umask(old_mask);
    if (rc != 0 || restrict_sidecars(st->path, err) != 0 || prepare_all(st, err) != 0 ||
        load_counters(st, err) != 0 || hpd__logs_open(st, dir, err) != 0 ||
        mark_current(st, err) != 0)
        goto fail;
    return st;

fail:
    hpd_store_close(st);
    return NULL;
}

void hpd_store_keep_wal(hpd_store *st)
{
    if (st && st->db)
        sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
}

void hpd_store_close(hpd_store *st)
{
    if (!st)
        return;
    if (st->db && st->stmt[N_STATEMENTS - 1]) {
        sqlite3_busy_timeout(st->db, OPEN_BUSY_MS);
        hpd__logs_write(st, NULL);
        if (st->last_seq != st->saved_seq)
            hpd_store_set_meta(st, "last_seq", st->last_seq);
        hpd__write_all(st, NULL);
    }
    hpd_logseg_close(st->logs);
    /* The last commits may still poke it; the close below checkpoints what is left. */
    if (st->db)
        sqlite3_wal_hook(st->db, NULL, NULL);
    hpd_checkpointer_stop(st->ckpt);
    st->ckpt = NULL;
    for (size_t i = 0; i < st->n_ops; i++)
        hpd__op_clear(&st->ops[i]);
    free(st->ops);
    for (int i = 0; i < N_STATEMENTS; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

/* ---- load ---------------------------------------------------------------------------- */

static int load_services(hpd_store *st, void *ctx, hpd_service_fn fn, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_LOAD_SERVICES];
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        cJSON *json = cJSON_Parse((const char *)sqlite3_column_text(s, 1));
        hp_problems pb = {0};
        hpd_service svc;
        int bad;

        memset(&svc, 0, sizeof(svc));
        /* Lenient: a field unknown today may have been accepted when it was stored. */
        bad = !json || hp_service_config_from_json_lenient(json, &svc.config, &pb) != 0;
        cJSON_Delete(json);
        if (bad) {
            hp_error_set(err, HP_E_INTERNAL, "store: service '%s': stored config is unreadable%s%s",
                         name ? name : "", pb.count ? ": " : "", pb.count ? pb.items[0] : "");
            hp_problems_free(&pb);
            hp_service_config_free(&svc.config);
            hpd__finish(s);
            return -1;
        }
        hp_problems_free(&pb);
        svc.wanted_start = sqlite3_column_int(s, 2);
        svc.created_at_ms = sqlite3_column_int64(s, 3);
        svc.updated_at_ms = sqlite3_column_int64(s, 4);
        svc.run_id = sqlite3_column_int64(s, 5);
        svc.restarts = sqlite3_column_int(s, 6);
        if (fn)
            fn(ctx, &svc);
        hp_service_config_free(&svc.config);
    }
    if (rc != SQLITE_DONE)
        hpd__db_fail(st, err, "cannot load the services");
    hpd__finish(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int load_runs(hpd_store *st, void *ctx, hpd_run_fn fn, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_LOAD_RUNS];
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 3);
        cJSON *json = cJSON_Parse((const char *)sqlite3_column_text(s, 4));
        hp_problems pb = {0};
        hpd_run run;
        int bad;

        memset(&run, 0, sizeof(run));
        run.id = sqlite3_column_int64(s, 0);
        bad = !json || hp_actions_from_json_lenient(json, &run.actions, &run.n_actions, &pb) != 0;
        cJSON_Delete(json);
        if (!bad && hpd_run_state_parse(status, &run.status) != 0) {
            bad = 1;
            hp_problems_add(&pb, "unknown status '%s'", status ? status : "");
        }
        run.name = hpd__dup_column(s, 1);
        run.service = hpd__dup_column(s, 2);
        if (bad || !run.name || (!run.service && sqlite3_column_type(s, 2) != SQLITE_NULL)) {
            if (bad)
                hp_error_set(err, HP_E_INTERNAL, "store: run %lld is unreadable%s%s",
                             (long long)run.id, pb.count ? ": " : "", pb.count ? pb.items[0] : "");
            else
                hpd__nomem(err, "cannot load a run");
            rc = SQLITE_ERROR;
        } else {
            run.created_at_ms = sqlite3_column_int64(s, 5);
            run.started_at_ms = sqlite3_column_int64(s, 6);
            run.ended_at_ms = sqlite3_column_int64(s, 7);
            run.cancelling = sqlite3_column_int(s, 8);
            if (fn)
                fn(ctx, &run);
        }
        hp_problems_free(&pb);
        hp_actions_free(run.actions, run.n_actions);
        free(run.name);
        free(run.service);
        if (rc != SQLITE_ROW) {
            hpd__finish(s);
            return -1;
        }
    }
    if (rc != SQLITE_DONE)
        hpd__db_fail(st, err, "cannot load the runs");
    hpd__finish(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int load_jobs(hpd_store *st, void *ctx, hpd_job_fn fn, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_LOAD_JOBS];
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 3);
        hpd_job job;

        memset(&job, 0, sizeof(job));
        job.id = sqlite3_column_int64(s, 0);
        if (hpd_job_state_parse(status, &job.status) != 0) {
            hp_error_set(err, HP_E_INTERNAL, "store: job %lld has an unknown status '%s'",
                         (long long)job.id, status ? status : "");
            hpd__finish(s);
            return -1;
        }
        job.index = (size_t)sqlite3_column_int64(s, 2);
        job.attempt = sqlite3_column_int(s, 4);
        job.restarts = sqlite3_column_int(s, 5);
        job.pid = (pid_t)sqlite3_column_int64(s, 6);
        job.pidfd = -1;
        job.pid_start = (unsigned long long)sqlite3_column_int64(s, 7);
        job.has_exit = sqlite3_column_int(s, 8);
        job.exit_code = sqlite3_column_int(s, 9);
        job.signal = sqlite3_column_int(s, 10);
        job.started_at_ms = sqlite3_column_int64(s, 11);
        job.ended_at_ms = sqlite3_column_int64(s, 12);
        job.error = hpd__dup_column(s, 13);
        if (!job.error && sqlite3_column_type(s, 13) != SQLITE_NULL) {
            hpd__nomem(err, "cannot load a job");
            hpd__finish(s);
            return -1;
        }
        job.dropped = sqlite3_column_int64(s, 14);
        job.lines = sqlite3_column_int64(s, 15);
        {
            /* The log's files know the job's lines and every line it lost. */
            hpd_logseg_stat ls;
            if (hpd_logseg_job_stat(st->logs, job.id, &ls)) {
                job.lines = ls.lines;
                if (ls.dropped > job.dropped)
                    job.dropped = ls.dropped;
            }
        }
        job.crash_loop = sqlite3_column_int(s, 16);
        job.retry_at_ms = sqlite3_column_int64(s, 17);
        job.backoff_ms = (uint64_t)sqlite3_column_int64(s, 18);
        job.quick_failures = sqlite3_column_int(s, 19);
        job.out[0].fd = -1;
        job.out[1].fd = -1;
        if (fn)
            fn(ctx, sqlite3_column_int64(s, 1), &job);
        free(job.error);
    }
    if (rc != SQLITE_DONE)
        hpd__db_fail(st, err, "cannot load the jobs");
    hpd__finish(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Callbacks run while a read is in progress; they may write to the store (SQLite allows
 * it on the same connection) but must not call hpd_store_load again. */
int hpd_store_load(hpd_store *st, void *ctx, hpd_service_fn on_service, hpd_run_fn on_run,
                   hpd_job_fn on_job, hp_error *err)
{
    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), -1;
    if (load_services(st, ctx, on_service, err) != 0 || load_runs(st, ctx, on_run, err) != 0 ||
        load_jobs(st, ctx, on_job, err) != 0)
        return -1;
    return 0;
}

/* ---- the checkpointer ---------------------------------------------------------------- */

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    hpd_store *st = arg;

    (void)db;
    (void)name;
    st->wal_frames = frames;
    if (frames >= CHECKPOINT_FRAMES)
        hpd_checkpointer_poke(st->ckpt);
    return SQLITE_OK;
}

int hpd_store_live(hpd_store *st, hp_error *err)
{
    if (!st)
        return 0;
    sqlite3_busy_timeout(st->db, LIVE_BUSY_MS);
    if (st->ckpt)
        return 0;
    if (!(st->ckpt = hpd_checkpointer_start(st->path, err)))
        return -1; /* SQLite's autocheckpoint stays */
    sqlite3_wal_hook(st->db, on_wal_commit, st);
    return 0;
}

int64_t hpd_store_checkpoints(hpd_store *st)
{
    return st ? hpd_checkpointer_count(st->ckpt) : 0;
}

int64_t hpd_store_wal_pages(const hpd_store *st)
{
    return st ? st->wal_frames : 0;
}
