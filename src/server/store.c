/* The daemon's SQLite store: schema, write-through of services, runs, jobs and secrets,
 * the batched log with its caps (per job and total bytes, oldest evicted first), the
 * changes that wait while the file cannot be written (full disk, another process's lock)
 * with the store's health, and the paged log queries. It holds no model state and decides
 * nothing about processes: the daemon hands it objects to save and gets them back,
 * unchanged, at load. */
#include "config.h"

#include "server/store.h"

#include "server/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION        1
#define DEFAULT_LINES_PER_JOB 10000
#define DEFAULT_LOG_BYTES     (64 * 1024 * 1024)
/* Lines held in memory before an append flushes by itself. While the store cannot be
 * written they wait up to these bounds; lines past them are dropped and counted. */
#define PENDING_MAX   65536
#define PENDING_BYTES (16 * 1024 * 1024)
/* The batch is written in transactions of at most CHUNK_LINES lines, CHUNKS_PER_CALL of
 * them per call: a backlog drains over several turns of the loop, and a disk with little
 * room left takes it piece by piece. */
#define CHUNK_LINES     4096
#define CHUNKS_PER_CALL 2
/* State changes that may wait for the store (one per object: later ones replace it). */
#define OPS_MAX 16384
/* A failed write is tried again after 100 ms, doubling to 5 s. */
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
/* A tail merges the newest lines of each matching source through the (src, seq) index;
 * past this many sources a scan by seq is cheaper. */
#define TAIL_SRCS_MAX 128

/* Log lines carry their byte length: length(line) counts characters, the caps count bytes. */
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
    " dropped INTEGER NOT NULL, crash_loop INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS jobs_run ON jobs(run_id);"
    "CREATE TABLE IF NOT EXISTS secrets(name TEXT PRIMARY KEY, value TEXT NOT NULL,"
    " created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS logs(seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
    " src TEXT NOT NULL, job_id INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " stream INTEGER NOT NULL, line TEXT NOT NULL, bytes INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS logs_job ON logs(job_id, seq);"
    "CREATE INDEX IF NOT EXISTS logs_src ON logs(src, seq);"
    "CREATE TABLE IF NOT EXISTS job_log_counts(job_id INTEGER PRIMARY KEY,"
    " lines INTEGER NOT NULL, dropped INTEGER NOT NULL);";

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

static const char *const statement_sql[] = {
#define STMT_SQL(id, sql) [id] = sql,
    STATEMENTS(STMT_SQL)
#undef STMT_SQL
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

static const char *const op_what[] = {[OP_SERVICE] = "a service",
                                      [OP_SERVICE_DELETE] = "a service's deletion",
                                      [OP_RUN] = "a run",
                                      [OP_JOB] = "a job",
                                      [OP_RUN_DELETE] = "a run's deletion",
                                      [OP_META] = "a counter"};

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

static int write_all(hpd_store *st, hp_error *err);
static void op_clear(store_op *op);
static void lose_line(hpd_store *st, int64_t job_id);
static job_drops *lost_slot(hpd_store *st, int64_t job_id, int add);
static int64_t wall_ms(void);

/* A row of the log, gathered before it goes into the answer in seq order. */
typedef struct log_row {
    int64_t seq;
    cJSON *obj;
} log_row;

typedef struct log_rows {
    log_row *v;
    size_t n, cap;
} log_rows;

const char *hpd_stream_name(hpd_stream s)
{
    switch (s) {
    case HPD_STDOUT:
        return "stdout";
    case HPD_STDERR:
        return "stderr";
    case HPD_SYSTEM:
        return "system";
    }
    return "unknown";
}

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

static int db_fail(hpd_store *st, hp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int db_fail(hpd_store *st, hp_error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    db_failv(st, err, fmt, ap);
    va_end(ap);
    return -1;
}

static int nomem(hp_error *err, const char *what)
{
    hp_error_set(err, HP_E_NOMEM, "store: %s: out of memory", what);
    return -1;
}

/* Ends one use of a cached statement: no read transaction stays open and no bound
 * pointer outlives the call. */
static void finish(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no row we need; 0 or -1 with err. */
static int run_stmt(hpd_store *st, sqlite3_stmt *s, hp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int run_stmt(hpd_store *st, sqlite3_stmt *s, hp_error *err, const char *fmt, ...)
{
    int rc = sqlite3_step(s);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        va_list ap;

        va_start(ap, fmt);
        db_failv(st, err, fmt, ap);
        va_end(ap);
        finish(s);
        return -1;
    }
    finish(s);
    return 0;
}

/* Steps a statement expected to give one row or none: 1 row (left for the caller to read
 * and finish), 0 none (finished), -1 error (finished, err set). */
static int step_row(hpd_store *st, sqlite3_stmt *s, hp_error *err, const char *what)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        db_fail(st, err, "%s", what);
    finish(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_text(sqlite3_stmt *s, int i, const char *text)
{
    sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

static char *dup_column(sqlite3_stmt *s, int col)
{
    const unsigned char *text = sqlite3_column_text(s, col);

    return text ? strdup((const char *)text) : NULL;
}

static int begin(hpd_store *st, hp_error *err)
{
    return run_stmt(st, st->stmt[ST_BEGIN], err, "cannot begin a transaction");
}

static int commit(hpd_store *st, hp_error *err)
{
    return run_stmt(st, st->stmt[ST_COMMIT], err, "cannot commit");
}

static void rollback(hpd_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        run_stmt(st, st->stmt[ST_ROLLBACK], NULL, "cannot roll back");
    st->drops_stale = 1; /* counts written in the transaction are gone again */
}

/* ---- meta ---------------------------------------------------------------------------- */

/* 1 found (*out set), 0 missing, -1 error. */
static int meta_read(hpd_store *st, const char *key, int64_t *out, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_META_GET];
    int rc;

    bind_text(s, 1, key);
    rc = step_row(st, s, err, "cannot read meta");
    if (rc == 1) {
        *out = sqlite3_column_int64(s, 0);
        finish(s);
    }
    return rc;
}

static int meta_write(hpd_store *st, const char *key, int64_t value, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_META_SET];

    bind_text(s, 1, key);
    sqlite3_bind_int64(s, 2, value);
    return run_stmt(st, s, err, "cannot write meta '%s'", key);
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
        return db_fail(st, err, "cannot configure %s", st->path);
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "cannot lock %s", st->path);
    if (sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(st, err, "cannot create the tables of %s", st->path);
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(st, err, "cannot create the tables of %s", st->path);
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
            return db_fail(st, err, "cannot prepare statement %d", i);
    return 0;
}

/* Schema version, the highest seq ever given, and the log totals kept in meta (counted
 * from the table only when meta lacks them, e.g. after an older daemon). */
static int load_counters(hpd_store *st, hp_error *err)
{
    int64_t version, seq = 0, lines = 0, bytes = 0;
    int have_lines, have_bytes, rc;
    sqlite3_stmt *s;

    rc = meta_read(st, "schema_version", &version, err);
    if (rc < 0)
        return -1;
    if (rc == 0 && meta_write(st, "schema_version", SCHEMA_VERSION, err) != 0)
        return -1;
    if (rc == 1 && version > SCHEMA_VERSION) {
        hp_error_set(err, HP_E_SYSTEM,
                     "store: %s has schema version %lld, newer than this hero_proc (%d)", st->path,
                     (long long)version, SCHEMA_VERSION);
        return -1;
    }

    s = st->stmt[ST_LOG_MAX_SEQ];
    if (step_row(st, s, err, "cannot read the last log seq") != 1)
        return -1;
    st->last_seq = sqlite3_column_int64(s, 0);
    finish(s);
    if (meta_read(st, "last_seq", &seq, err) < 0)
        return -1;
    if (seq > st->last_seq)
        st->last_seq = seq;

    if ((have_lines = meta_read(st, "log_lines", &lines, err)) < 0 ||
        (have_bytes = meta_read(st, "log_bytes", &bytes, err)) < 0)
        return -1;
    if (!have_lines || !have_bytes) {
        s = st->stmt[ST_LOG_TOTALS];
        if (step_row(st, s, err, "cannot count the log") != 1)
            return -1;
        lines = sqlite3_column_int64(s, 0);
        bytes = sqlite3_column_int64(s, 1);
        finish(s);
        if (meta_write(st, "log_lines", lines, err) != 0 ||
            meta_write(st, "log_bytes", bytes, err) != 0)
            return -1;
    }
    st->log_lines = lines;
    st->log_bytes = bytes;
    if (meta_read(st, "log_dropped", &st->dropped, err) < 0)
        return -1;
    s = st->stmt[ST_RUN_MAX_ID];
    if (step_row(st, s, err, "cannot read the last run id") != 1)
        return -1;
    st->max_run_id = sqlite3_column_int64(s, 0);
    finish(s);
    return 0;
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
        nomem(err, "cannot open the store");
        return NULL;
    }
    st->drops_stale = 1; /* read at the first job answer */
    st->since_ms = wall_ms();
    st->limits.lines_per_job =
        limits && limits->lines_per_job > 0 ? limits->lines_per_job : DEFAULT_LINES_PER_JOB;
    st->limits.log_bytes = limits && limits->log_bytes > 0 ? limits->log_bytes : DEFAULT_LOG_BYTES;

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
        load_counters(st, err) != 0)
        goto fail;
    return st;

fail:
    hpd_store_close(st);
    return NULL;
}

void hpd_store_close(hpd_store *st)
{
    if (!st)
        return;
    if (st->db && st->stmt[N_STATEMENTS - 1]) {
        sqlite3_busy_timeout(st->db, OPEN_BUSY_MS);
        while (write_all(st, NULL) == 0 && st->backlog)
            ;
    }
    /* The last commits may still poke it; the close below checkpoints what is left. */
    if (st->db)
        sqlite3_wal_hook(st->db, NULL, NULL);
    hpd_checkpointer_stop(st->ckpt);
    st->ckpt = NULL;
    for (size_t i = 0; i < st->n_ops; i++)
        op_clear(&st->ops[i]);
    free(st->ops);
    free(st->lost);
    for (int i = 0; i < N_STATEMENTS; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->pending);
    free(st->text);
    free(st->drops);
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
            finish(s);
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
        db_fail(st, err, "cannot load the services");
    finish(s);
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
        run.name = dup_column(s, 1);
        run.service = dup_column(s, 2);
        if (bad || !run.name || (!run.service && sqlite3_column_type(s, 2) != SQLITE_NULL)) {
            if (bad)
                hp_error_set(err, HP_E_INTERNAL, "store: run %lld is unreadable%s%s",
                             (long long)run.id, pb.count ? ": " : "", pb.count ? pb.items[0] : "");
            else
                nomem(err, "cannot load a run");
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
            finish(s);
            return -1;
        }
    }
    if (rc != SQLITE_DONE)
        db_fail(st, err, "cannot load the runs");
    finish(s);
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
            finish(s);
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
        job.error = dup_column(s, 13);
        if (!job.error && sqlite3_column_type(s, 13) != SQLITE_NULL) {
            nomem(err, "cannot load a job");
            finish(s);
            return -1;
        }
        job.dropped = sqlite3_column_int64(s, 14);
        job.lines = sqlite3_column_int64(s, 15);
        job.crash_loop = sqlite3_column_int(s, 16);
        job.out[0].fd = -1;
        job.out[1].fd = -1;
        if (fn)
            fn(ctx, sqlite3_column_int64(s, 1), &job);
        free(job.error);
    }
    if (rc != SQLITE_DONE)
        db_fail(st, err, "cannot load the jobs");
    finish(s);
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

/* ---- secrets ------------------------------------------------------------------------- */

int hpd_store_secret_set(hpd_store *st, const char *name, const char *value, int64_t now_ms,
                         int64_t *created_at_ms, hp_error *err)
{
    sqlite3_stmt *s;

    if (!st || !name || !value)
        return hp_error_set(err, HP_E_INVALID, "store: a secret needs a name and a value"), -1;
    s = st->stmt[ST_SECRET_SET];
    bind_text(s, 1, name);
    bind_text(s, 2, value);
    sqlite3_bind_int64(s, 3, now_ms);
    if (run_stmt(st, s, err, "cannot save secret '%s'", name) != 0)
        return -1;
    if (created_at_ms) {
        s = st->stmt[ST_SECRET_GET];
        bind_text(s, 1, name);
        if (step_row(st, s, err, "cannot read a secret") != 1)
            return -1;
        *created_at_ms = sqlite3_column_int64(s, 1);
        finish(s);
    }
    return 0;
}

int hpd_store_secret_get(hpd_store *st, const char *name, char **value, int64_t *created_at_ms,
                         int64_t *updated_at_ms, hp_error *err)
{
    sqlite3_stmt *s;
    int rc;

    if (value)
        *value = NULL;
    if (!st || !name)
        return hp_error_set(err, HP_E_INVALID, "store: a secret needs a name"), -1;
    s = st->stmt[ST_SECRET_GET];
    bind_text(s, 1, name);
    rc = step_row(st, s, err, "cannot read a secret");
    if (rc != 1)
        return rc;
    if (value && !(*value = dup_column(s, 0))) {
        finish(s);
        return nomem(err, "cannot read a secret");
    }
    if (created_at_ms)
        *created_at_ms = sqlite3_column_int64(s, 1);
    if (updated_at_ms)
        *updated_at_ms = sqlite3_column_int64(s, 2);
    finish(s);
    return 1;
}

cJSON *hpd_store_secret_list(hpd_store *st, hp_error *err)
{
    sqlite3_stmt *s;
    cJSON *list;
    int rc;

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), NULL;
    if (!(list = cJSON_CreateArray()))
        return nomem(err, "cannot list the secrets"), NULL;
    s = st->stmt[ST_SECRET_LIST];
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        cJSON *one = cJSON_CreateObject();

        if (!one || !cJSON_AddStringToObject(one, "name", name ? name : "") ||
            !hp_json_add_int(one, "created_at_ms", sqlite3_column_int64(s, 1)) ||
            !hp_json_add_int(one, "updated_at_ms", sqlite3_column_int64(s, 2)) ||
            !cJSON_AddItemToArray(list, one)) {
            cJSON_Delete(one);
            finish(s);
            cJSON_Delete(list);
            return nomem(err, "cannot list the secrets"), NULL;
        }
    }
    if (rc != SQLITE_DONE) {
        db_fail(st, err, "cannot list the secrets");
        finish(s);
        cJSON_Delete(list);
        return NULL;
    }
    finish(s);
    return list;
}

int hpd_store_secret_delete(hpd_store *st, const char *name, hp_error *err)
{
    sqlite3_stmt *s;

    if (!st || !name)
        return hp_error_set(err, HP_E_INVALID, "store: a secret needs a name"), -1;
    s = st->stmt[ST_SECRET_DELETE];
    bind_text(s, 1, name);
    if (run_stmt(st, s, err, "cannot delete secret '%s'", name) != 0)
        return -1;
    return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int64_t hpd_store_secret_count(hpd_store *st)
{
    sqlite3_stmt *s;
    int64_t n;

    if (!st)
        return -1;
    s = st->stmt[ST_SECRET_COUNT];
    if (step_row(st, s, NULL, "cannot count the secrets") != 1)
        return -1;
    n = sqlite3_column_int64(s, 0);
    finish(s);
    return n;
}

/* Visits every secret with its stored value, then writes the replacements fn gave in
 * one transaction. secure_delete is on meanwhile so that the replaced values are zeroed in
 * the file rather than left in free space, and the WAL is checkpointed and truncated so
 * that no page image with them stays there either. */
int hpd_store_secret_each(hpd_store *st, hpd_secret_each_fn fn, void *ctx, int64_t *rewritten,
                          hp_error *err)
{
    sqlite3_stmt *sel = NULL, *upd = NULL, *pragma = NULL;
    char **names = NULL, **values = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, secure = -1, in_tx = 0;

    if (rewritten)
        *rewritten = 0;
    if (!st || !fn)
        return hp_error_set(err, HP_E_INVALID, "store: no store or callback given"), -1;
    if (sqlite3_prepare_v2(st->db, "SELECT name, value FROM secrets ORDER BY name", -1, &sel,
                           NULL) != SQLITE_OK) {
        db_fail(st, err, "cannot read the secrets");
        goto out;
    }
    for (;;) {
        char *replacement = NULL;
        int step = sqlite3_step(sel);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            db_fail(st, err, "cannot read the secrets");
            goto out;
        }
        if (fn(ctx, (const char *)sqlite3_column_text(sel, 0),
               (const char *)sqlite3_column_text(sel, 1), &replacement, err) != 0)
            goto out;
        if (!replacement)
            continue;
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 16;
            char **gn = realloc(names, grown_cap * sizeof(*gn)), **gv;
            if (gn)
                names = gn;
            gv = gn ? realloc(values, grown_cap * sizeof(*gv)) : NULL;
            if (!gv) {
                free(replacement);
                nomem(err, "cannot rewrite the secrets");
                goto out;
            }
            values = gv;
            cap = grown_cap;
        }
        values[n] = replacement;
        if (!(names[n] = dup_column(sel, 0))) {
            free(replacement);
            nomem(err, "cannot rewrite the secrets");
            goto out;
        }
        n++;
    }
    sqlite3_finalize(sel);
    sel = NULL;
    if (n == 0) {
        rc = 0;
        goto out;
    }
    if (sqlite3_prepare_v2(st->db, "PRAGMA secure_delete", -1, &pragma, NULL) == SQLITE_OK &&
        sqlite3_step(pragma) == SQLITE_ROW)
        secure = sqlite3_column_int(pragma, 0);
    sqlite3_finalize(pragma);
    if (sqlite3_exec(st->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "UPDATE secrets SET value = ?2 WHERE name = ?1", -1, &upd,
                           NULL) != SQLITE_OK) {
        db_fail(st, err, "cannot rewrite the secrets");
        goto out;
    }
    if (begin(st, err) != 0)
        goto out;
    in_tx = 1;
    for (size_t i = 0; i < n; i++) {
        bind_text(upd, 1, names[i]);
        bind_text(upd, 2, values[i]);
        if (run_stmt(st, upd, err, "cannot rewrite secret '%s'", names[i]) != 0)
            goto out;
    }
    if (commit(st, err) != 0)
        goto out;
    in_tx = 0;
    if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
        SQLITE_OK) {
        db_fail(st, err, "cannot checkpoint after rewriting the secrets");
        goto out;
    }
    if (rewritten)
        *rewritten = (int64_t)n;
    rc = 0;
out:
    if (in_tx)
        rollback(st);
    if (secure == 0)
        sqlite3_exec(st->db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
        free(values[i]);
    }
    free(names);
    free(values);
    return rc;
}

/* ---- log batch ----------------------------------------------------------------------- */

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
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

static void discard_pending(hpd_store *st)
{
    st->n_pending = 0;
    st->head = st->chunk_end = 0;
    st->text_len = 0;
    /* One burst must not pin a large arena for the daemon's lifetime. */
    if (st->text_cap > (size_t)4 << 20) {
        free(st->text);
        st->text = NULL;
        st->text_cap = 0;
    }
}

/* Moves the lines not yet written to the front, so the bounds count only them. */
static void compact_pending(hpd_store *st)
{
    size_t keep = st->n_pending - st->head, from;

    if (st->head == 0)
        return;
    if (keep == 0) {
        discard_pending(st);
        return;
    }
    from = st->pending[st->head].src_off;
    memmove(st->text, st->text + from, st->text_len - from);
    st->text_len -= from;
    memmove(st->pending, st->pending + st->head, keep * sizeof(*st->pending));
    for (size_t i = 0; i < keep; i++) {
        st->pending[i].src_off -= from;
        st->pending[i].line_off -= from;
    }
    st->n_pending = keep;
    st->head = st->chunk_end = 0;
}

int64_t hpd_store_log_append(hpd_store *st, int64_t ts_ms, const char *src, int64_t job_id,
                             int attempt, hpd_stream stream, const char *line, size_t len)
{
    size_t src_len = src ? strlen(src) : 0;
    pending_line *p;

    if (!st)
        return -1;
    if (!line)
        len = 0;
    if (len > PENDING_BYTES)
        len = PENDING_BYTES;
    if (st->n_pending >= PENDING_MAX || st->text_len + src_len + len + 2 > PENDING_BYTES) {
        hpd_store_log_flush(st, NULL);
        compact_pending(st);
    }
    if (st->n_pending >= PENDING_MAX || st->text_len + src_len + len + 2 > PENDING_BYTES) {
        lose_line(st, job_id);
        return -1;
    }
    if (grow((void **)&st->pending, &st->cap_pending, st->n_pending + 1, sizeof(*st->pending)) !=
            0 ||
        grow((void **)&st->text, &st->text_cap, st->text_len + src_len + len + 2, 1) != 0) {
        st->dropped++;
        return -1;
    }
    p = &st->pending[st->n_pending++];
    p->seq = ++st->last_seq;
    p->ts_ms = ts_ms;
    p->job_id = job_id;
    p->attempt = attempt;
    p->stream = stream;
    p->src_off = st->text_len;
    p->src_len = src_len;
    if (src_len)
        memcpy(st->text + st->text_len, src, src_len);
    st->text[st->text_len + src_len] = '\0';
    st->text_len += src_len + 1;
    p->line_off = st->text_len;
    p->len = len;
    if (len)
        memcpy(st->text + st->text_len, line, len);
    st->text[st->text_len + len] = '\0';
    st->text_len += len + 1;
    return p->seq;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Per-job cap: every job that got lines in this batch loses its oldest lines past
 * lines_per_job. Counts live in job_log_counts, read once per job and batch. */
static int cap_jobs(hpd_store *st, hp_error *err)
{
    int64_t *ids = malloc((st->chunk_end - st->head + 1) * sizeof(*ids));
    size_t n = 0;
    int rc = -1;

    if (!ids)
        return nomem(err, "cannot flush the log");
    for (size_t i = st->head; i < st->chunk_end; i++)
        if (st->pending[i].job_id != 0)
            ids[n++] = st->pending[i].job_id;
    if (n > 1)
        qsort(ids, n, sizeof(*ids), cmp_i64);
    for (size_t i = 0, j; i < n; i = j) {
        int64_t job = ids[i], lines = 0, dropped = 0;
        sqlite3_stmt *s = st->stmt[ST_COUNTS_GET];
        int found;

        for (j = i; j < n && ids[j] == job; j++)
            ;
        sqlite3_bind_int64(s, 1, job);
        if ((found = step_row(st, s, err, "cannot read the log counts of a job")) < 0)
            goto out;
        if (found) {
            lines = sqlite3_column_int64(s, 0);
            dropped = sqlite3_column_int64(s, 1);
            finish(s);
        }
        lines += (int64_t)(j - i);
        if (lines > st->limits.lines_per_job) {
            int64_t cnt, bytes, upto;

            s = st->stmt[ST_JOB_OLDEST];
            sqlite3_bind_int64(s, 1, job);
            sqlite3_bind_int64(s, 2, lines - st->limits.lines_per_job);
            if (step_row(st, s, err, "cannot find the oldest lines of a job") != 1)
                goto out;
            cnt = sqlite3_column_int64(s, 0);
            bytes = sqlite3_column_int64(s, 1);
            upto = sqlite3_column_int64(s, 2);
            finish(s);
            s = st->stmt[ST_JOB_DELETE_UPTO];
            sqlite3_bind_int64(s, 1, job);
            sqlite3_bind_int64(s, 2, upto);
            if (run_stmt(st, s, err, "cannot evict log lines of job %lld", (long long)job) != 0)
                goto out;
            lines -= cnt;
            dropped += cnt;
            st->log_lines -= cnt;
            st->log_bytes -= bytes;
            st->dropped += cnt;
            st->drops_stale = 1;
        }
        s = st->stmt[ST_COUNTS_PUT];
        sqlite3_bind_int64(s, 1, job);
        sqlite3_bind_int64(s, 2, lines);
        sqlite3_bind_int64(s, 3, dropped);
        if (run_stmt(st, s, err, "cannot save the log counts of job %lld", (long long)job) != 0)
            goto out;
    }
    rc = 0;
out:
    free(ids);
    return rc;
}

/* Total cap: the oldest lines of the whole log go first until the bytes fit again; each
 * is counted against its job. */
static int cap_bytes(hpd_store *st, hp_error *err)
{
    int64_t excess = st->log_bytes - st->limits.log_bytes, freed = 0, cnt = 0, upto = 0;
    int64_t *jobs = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *s = st->stmt[ST_LOG_OLDEST];
    int rc = -1, step;

    if (excess <= 0)
        return 0;
    while (freed < excess && (step = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t job = sqlite3_column_int64(s, 1);

        upto = sqlite3_column_int64(s, 0);
        freed += sqlite3_column_int64(s, 2);
        cnt++;
        if (job != 0) {
            if (grow((void **)&jobs, &cap, n + 1, sizeof(*jobs)) != 0) {
                finish(s);
                nomem(err, "cannot flush the log");
                goto out;
            }
            jobs[n++] = job;
        }
    }
    if (freed < excess && step != SQLITE_DONE) {
        db_fail(st, err, "cannot find the oldest log lines");
        finish(s);
        goto out;
    }
    finish(s);
    if (cnt == 0) {
        rc = 0;
        goto out;
    }
    s = st->stmt[ST_LOG_DELETE_UPTO];
    sqlite3_bind_int64(s, 1, upto);
    if (run_stmt(st, s, err, "cannot evict the oldest log lines") != 0)
        goto out;
    if (n > 1)
        qsort(jobs, n, sizeof(*jobs), cmp_i64);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && jobs[j] == jobs[i]; j++)
            ;
        s = st->stmt[ST_COUNTS_EVICT];
        sqlite3_bind_int64(s, 1, jobs[i]);
        sqlite3_bind_int64(s, 2, (int64_t)(j - i));
        if (run_stmt(st, s, err, "cannot count evicted lines of job %lld", (long long)jobs[i]) != 0)
            goto out;
    }
    st->log_lines -= cnt;
    st->log_bytes -= freed;
    st->dropped += cnt;
    st->drops_stale = 1;
    rc = 0;
out:
    free(jobs);
    return rc;
}

size_t hpd_store_log_pending(const hpd_store *st)
{
    return st ? st->n_pending - st->head : 0;
}

int64_t hpd_store_dropped(const hpd_store *st)
{
    return st ? st->dropped : 0;
}

/* -1 on error. */
/* Reads the jobs with dropped lines again. Returns 0, -1 on failure (then stale stays). */
static int load_drops(hpd_store *st)
{
    sqlite3_stmt *s = st->stmt[ST_DROPS_ALL];
    job_drops *v = NULL;
    size_t n = 0, cap = 0;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            job_drops *grown = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            v = grown;
        }
        v[n].job_id = sqlite3_column_int64(s, 0);
        v[n++].dropped = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return -1;
    }
    free(st->drops);
    st->drops = v;
    st->n_drops = n;
    st->drops_stale = 0;
    return 0;
}

static int cmp_drops(const void *key, const void *elem)
{
    int64_t a = *(const int64_t *)key, b = ((const job_drops *)elem)->job_id;

    return a < b ? -1 : a > b;
}

int64_t hpd_store_job_dropped(hpd_store *st, int64_t job_id)
{
    const job_drops *d, *lost;

    if (!st || (st->drops_stale && load_drops(st) != 0))
        return -1;
    d = st->n_drops ? bsearch(&job_id, st->drops, st->n_drops, sizeof(*d), cmp_drops) : NULL;
    lost = lost_slot(st, job_id, 0);
    return (d ? d->dropped : 0) + (lost ? lost->dropped : 0);
}

/* Stored lines plus those waiting for the next flush. */
int64_t hpd_store_log_count(hpd_store *st)
{
    return st ? st->log_lines + (int64_t)(st->n_pending - st->head) : 0;
}

/* ---- state writes and the store's health --------------------------------------------- */

/* Every change to services, runs, jobs and meta becomes an op: the values it binds,
 * copied, so it can wait. Nothing waiting and the store healthy, the op is written at
 * once (with the pending log lines) in one transaction. When a write fails for a reason
 * that passes (disk full, file locked, I/O error), the ops wait in order, a later change
 * to the same object replacing its waiting op in place, and everything is tried again in
 * one transaction after a back-off; the event loop never waits on the file for more than
 * LIVE_BUSY_MS. A write refused for good (a constraint) is given up alone and counted. */

static int op_val_int(store_op *op, int64_t i)
{
    op->v[op->n].i = i;
    op->v[op->n].text = 0;
    op->n++;
    return 0;
}

static int op_val_text(store_op *op, const char *s)
{
    op_val *v = &op->v[op->n++];

    v->text = 1;
    v->s = NULL;
    return s && !(v->s = strdup(s)) ? -1 : 0;
}

static void op_clear(store_op *op)
{
    for (int i = 0; i < op->n; i++)
        if (op->v[i].text)
            free(op->v[i].s);
    free(op->actions);
    memset(op, 0, sizeof(*op));
}

static void op_bind(sqlite3_stmt *s, const store_op *op)
{
    for (int i = 0; i < op->n; i++) {
        const op_val *v = &op->v[i];

        if (!v->text)
            sqlite3_bind_int64(s, i + 1, v->i);
        else if (v->s)
            bind_text(s, i + 1, v->s);
        else
            sqlite3_bind_null(s, i + 1);
    }
}

/* The ops that replace each other: same kind class and same object. */
static int op_same(const store_op *a, const store_op *b)
{
    int svc_a = a->kind == OP_SERVICE || a->kind == OP_SERVICE_DELETE;
    int svc_b = b->kind == OP_SERVICE || b->kind == OP_SERVICE_DELETE;

    if (svc_a || svc_b)
        return svc_a && svc_b && strcmp(a->v[0].s, b->v[0].s) == 0;
    if (a->kind != b->kind)
        return 0;
    if (a->kind == OP_META)
        return strcmp(a->v[0].s, b->v[0].s) == 0;
    return a->id == b->id;
}

/* Deletes a run's jobs, their log lines and counts, and the run, inside the caller's
 * transaction; the log totals follow. */
static int run_delete(hpd_store *st, int64_t run_id, hp_error *err)
{
    static const int deletes[] = {ST_RUN_DELETE_LOGS, ST_RUN_DELETE_COUNTS, ST_RUN_DELETE_JOBS,
                                  ST_RUN_DELETE};
    sqlite3_stmt *s = st->stmt[ST_RUN_LOG_TOTALS];

    sqlite3_bind_int64(s, 1, run_id);
    if (step_row(st, s, err, "cannot count the log lines of a run") != 1)
        return -1;
    st->log_lines -= sqlite3_column_int64(s, 0);
    st->log_bytes -= sqlite3_column_int64(s, 1);
    finish(s);
    for (size_t i = 0; i < sizeof(deletes) / sizeof(deletes[0]); i++) {
        s = st->stmt[deletes[i]];
        sqlite3_bind_int64(s, 1, run_id);
        if (run_stmt(st, s, err, "cannot delete run %lld", (long long)run_id) != 0)
            return -1;
    }
    return 0;
}

static int op_apply(hpd_store *st, const store_op *op, hp_error *err)
{
    static const int stmt_of[] = {[OP_SERVICE] = ST_PUT_SERVICE,
                                  [OP_SERVICE_DELETE] = ST_DELETE_SERVICE,
                                  [OP_RUN] = ST_UPDATE_RUN,
                                  [OP_JOB] = ST_PUT_JOB,
                                  [OP_META] = ST_META_SET};
    sqlite3_stmt *s;

    if (op->kind == OP_RUN_DELETE)
        return run_delete(st, op->id, err);
    s = st->stmt[stmt_of[op->kind]];
    op_bind(s, op);
    if (run_stmt(st, s, err, "cannot save %s", op_what[op->kind]) != 0)
        return -1;
    /* A run's actions never change: they are written when its row is new, and the
     * frequent status writes after that are updates. */
    if (op->kind != OP_RUN || sqlite3_changes(st->db) > 0 || !op->actions)
        return 0;
    s = st->stmt[ST_INSERT_RUN];
    op_bind(s, op);
    bind_text(s, op->n + 1, op->actions);
    return run_stmt(st, s, err, "cannot save %s", op_what[op->kind]);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Errors that pass by themselves: the write is tried again later. */
static int transient(int code)
{
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        return 1;
    }
    return 0;
}

static void health_failed(hpd_store *st, int code)
{
    const char *why = sqlite3_errstr(code & 0xff);

    if (!st->failing) {
        st->failing = 1;
        st->since_ms = wall_ms();
        st->failures = 0;
        st->backoff_ms = BACKOFF_MIN_MS;
        st->generation++;
    }
    st->failures++;
    if (strcmp(st->error, why) != 0) {
        snprintf(st->error, sizeof(st->error), "%s", why);
        st->generation++;
    }
    st->retry_at_ms = mono_ms() + st->backoff_ms;
    st->backoff_ms = st->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : st->backoff_ms * 2;
}

static void health_ok(hpd_store *st)
{
    if (!st->failing)
        return;
    st->failing = 0;
    st->since_ms = wall_ms();
    st->error[0] = '\0';
    st->generation++;
}

static void refused(hpd_store *st, const char *what)
{
    snprintf(st->refused, sizeof(st->refused), "%s", what);
    st->generation++;
}

/* Lines that could not be kept are counted against their jobs until the counts can be
 * written (job_log_counts.dropped), so every job's dropped stays exact. */
static job_drops *lost_slot(hpd_store *st, int64_t job_id, int add)
{
    size_t lo = 0, hi = st->n_lost;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->lost[mid].job_id < job_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < st->n_lost && st->lost[lo].job_id == job_id)
        return &st->lost[lo];
    if (!add || grow((void **)&st->lost, &st->cap_lost, st->n_lost + 1, sizeof(*st->lost)) != 0)
        return NULL;
    memmove(&st->lost[lo + 1], &st->lost[lo], (st->n_lost - lo) * sizeof(*st->lost));
    st->n_lost++;
    st->lost[lo].job_id = job_id;
    st->lost[lo].dropped = 0;
    return &st->lost[lo];
}

static void lose_line(hpd_store *st, int64_t job_id)
{
    job_drops *d;

    st->lost_lines++;
    if (job_id != 0 && (d = lost_slot(st, job_id, 1)))
        d->dropped++;
}

/* Inserts the pending lines and applies the caps; counters move with them (restored by
 * the caller when the transaction fails). */
static int write_lines(hpd_store *st, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[ST_LOG_INSERT];

    st->chunk_end = st->n_pending - st->head > CHUNK_LINES ? st->head + CHUNK_LINES : st->n_pending;
    for (size_t i = st->head; i < st->chunk_end; i++) {
        const pending_line *p = &st->pending[i];

        sqlite3_bind_int64(s, 1, p->seq);
        sqlite3_bind_int64(s, 2, p->ts_ms);
        sqlite3_bind_text(s, 3, st->text + p->src_off, (int)p->src_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, p->job_id);
        sqlite3_bind_int(s, 5, p->attempt);
        sqlite3_bind_int(s, 6, (int)p->stream);
        sqlite3_bind_text64(s, 7, st->text + p->line_off, p->len, SQLITE_STATIC, SQLITE_UTF8);
        sqlite3_bind_int64(s, 8, (int64_t)p->len);
        if (sqlite3_step(s) != SQLITE_DONE) {
            db_fail(st, err, "cannot write log line %lld", (long long)p->seq);
            finish(s);
            return -1;
        }
        sqlite3_reset(s);
        st->log_lines++;
        st->log_bytes += (int64_t)p->len;
    }
    sqlite3_clear_bindings(s);
    return cap_jobs(st, err) != 0 || cap_bytes(st, err) != 0 ? -1 : 0;
}

static int write_lost(hpd_store *st, hp_error *err)
{
    for (size_t i = 0; i < st->n_lost; i++) {
        sqlite3_stmt *s = st->stmt[ST_COUNTS_LOST];

        sqlite3_bind_int64(s, 1, st->lost[i].job_id);
        sqlite3_bind_int64(s, 2, st->lost[i].dropped);
        if (run_stmt(st, s, err, "cannot count the lost lines of job %lld",
                     (long long)st->lost[i].job_id) != 0)
            return -1;
    }
    return 0;
}

/* One transaction: the pending lines, the lost-line counts, every waiting op, the log
 * totals. 0, or -1 with err and *code (SQLite's) and what failed: *bad_op (index), or
 * *bad_lines when the lines did. */
static int write_once(hpd_store *st, size_t *bad_op, int *bad_lines, int *code, hp_error *err)
{
    int64_t lines = st->log_lines, bytes = st->log_bytes, dropped = st->dropped;

    *bad_op = SIZE_MAX;
    *bad_lines = 0;
    if (begin(st, err) != 0)
        goto fail;
    st->chunk_end = st->head;
    if (st->head < st->n_pending && write_lines(st, err) != 0) {
        *bad_lines = 1;
        goto fail;
    }
    if (write_lost(st, err) != 0)
        goto fail;
    for (size_t i = 0; i < st->n_ops; i++)
        if (op_apply(st, &st->ops[i], err) != 0) {
            *bad_op = i;
            goto fail;
        }
    if ((st->chunk_end > st->head || st->log_lines != lines || st->log_bytes != bytes) &&
        (meta_write(st, "last_seq", st->last_seq, err) != 0 ||
         meta_write(st, "log_lines", st->log_lines, err) != 0 ||
         meta_write(st, "log_bytes", st->log_bytes, err) != 0 ||
         meta_write(st, "log_dropped", st->dropped, err) != 0))
        goto fail;
    if (commit(st, err) != 0)
        goto fail;
    return 0;

fail:
    *code = st->last_code;
    rollback(st);
    st->log_lines = lines;
    st->log_bytes = bytes;
    st->dropped = dropped;
    return -1;
}

static void drop_op(hpd_store *st, size_t i)
{
    op_clear(&st->ops[i]);
    memmove(&st->ops[i], &st->ops[i + 1], (st->n_ops - i - 1) * sizeof(*st->ops));
    st->n_ops--;
}

/* Writes what waits: every op and up to CHUNKS_PER_CALL chunks of lines (backlog says
 * when lines are left). A transient failure leaves it waiting and sets the retry time;
 * a write refused for good is given up alone (counted, named in refused) and the rest
 * tried again at once. 0 when the store took what was tried. */
static int write_all(hpd_store *st, hp_error *err)
{
    size_t budget = st->n_ops + 2;
    int chunks = 0;

    st->backlog = 0;
    while (st->head < st->n_pending || st->n_ops || st->n_lost) {
        size_t bad_op;
        int bad_lines, code = SQLITE_ERROR;
        hp_error e;

        if (chunks == CHUNKS_PER_CALL) {
            st->backlog = 1;
            break;
        }
        if (write_once(st, &bad_op, &bad_lines, &code, &e) == 0) {
            for (size_t i = 0; i < st->n_ops; i++)
                op_clear(&st->ops[i]);
            st->n_ops = 0;
            st->n_lost = 0;
            st->drops_stale = 1;
            st->head = st->chunk_end;
            if (st->head >= st->n_pending)
                discard_pending(st);
            chunks++;
            continue;
        }
        if (err)
            *err = e;
        if (transient(code) || budget-- == 0 || (bad_op == SIZE_MAX && !bad_lines)) {
            health_failed(st, transient(code) ? code : SQLITE_ERROR);
            return -1;
        }
        refused(st, e.message);
        if (bad_op != SIZE_MAX) {
            drop_op(st, bad_op);
            st->dropped_writes++;
        } else {
            for (size_t i = st->head; i < st->chunk_end; i++)
                lose_line(st, st->pending[i].job_id);
            st->head = st->chunk_end;
            if (st->head >= st->n_pending)
                discard_pending(st);
        }
    }
    health_ok(st);
    return 0;
}

/* 1 when a failed store may be tried now. */
static int retry_due(const hpd_store *st)
{
    return !st->failing || mono_ms() >= st->retry_at_ms;
}

/* Takes op (its values move into the queue, *op is cleared either way). A waiting op
 * for the same object is replaced in place, so the order that foreign keys need (a run
 * before its jobs) holds; a run's delete takes the run's and its jobs' waiting ops with
 * it. Then everything is written unless a retry is not due yet. */
static int submit(hpd_store *st, store_op *op, hp_error *err)
{
    size_t i;

    if (op->kind == OP_RUN_DELETE) {
        for (i = st->n_ops; i-- > 0;)
            if ((st->ops[i].kind == OP_RUN && st->ops[i].id == op->id) ||
                (st->ops[i].kind == OP_JOB && st->ops[i].run_id == op->id))
                drop_op(st, i);
        i = st->n_ops;
    } else {
        for (i = 0; i < st->n_ops && !op_same(&st->ops[i], op); i++)
            ;
    }
    if (i < st->n_ops) {
        store_op *old = &st->ops[i];

        if (op->kind == OP_RUN && !op->actions) {
            op->actions = old->actions; /* the row may still be new */
            old->actions = NULL;
        }
        op_clear(old);
        *old = *op;
    } else if (st->n_ops >= OPS_MAX ||
               grow((void **)&st->ops, &st->cap_ops, st->n_ops + 1, sizeof(*st->ops)) != 0) {
        st->dropped_writes++;
        refused(st, "store: too many changes wait for the store; one was given up");
        op_clear(op);
        return 0;
    } else {
        st->ops[st->n_ops++] = *op;
    }
    memset(op, 0, sizeof(*op));
    if (!retry_due(st))
        return 0;
    write_all(st, err);
    return 0;
}

int hpd_store_put_service(hpd_store *st, const hpd_service *svc, hp_error *err)
{
    const char *name = svc ? svc->config.name : NULL;
    store_op op = {.kind = OP_SERVICE};
    cJSON *json;
    char *text;
    int bad;

    if (!st || !name)
        return hp_error_set(err, HP_E_INVALID, "store: a service without a name"), -1;
    json = hp_service_config_to_json(&svc->config);
    text = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!text)
        return nomem(err, "cannot encode a service");
    bad = op_val_text(&op, name) | op_val_text(&op, text);
    cJSON_free(text);
    op_val_int(&op, svc->wanted_start ? 1 : 0);
    op_val_int(&op, svc->created_at_ms);
    op_val_int(&op, svc->updated_at_ms);
    op_val_int(&op, svc->run_id);
    op_val_int(&op, svc->restarts);
    if (bad) {
        op_clear(&op);
        return nomem(err, "cannot save a service");
    }
    return submit(st, &op, err);
}

int hpd_store_delete_service(hpd_store *st, const char *name, hp_error *err)
{
    store_op op = {.kind = OP_SERVICE_DELETE};

    if (!st || !name)
        return hp_error_set(err, HP_E_INVALID, "store: a service without a name"), -1;
    if (op_val_text(&op, name) != 0) {
        op_clear(&op);
        return nomem(err, "cannot delete a service");
    }
    return submit(st, &op, err);
}

static char *actions_text(const hp_action_spec *actions, size_t n)
{
    cJSON *array = cJSON_CreateArray();
    char *text = NULL, *copy;

    if (!array)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cJSON *one = hp_action_spec_to_json(&actions[i]);

        if (!one || !cJSON_AddItemToArray(array, one)) {
            cJSON_Delete(one);
            goto out;
        }
    }
    text = cJSON_PrintUnformatted(array);
out:
    cJSON_Delete(array);
    copy = text ? strdup(text) : NULL; /* op_clear frees with free() */
    cJSON_free(text);
    return copy;
}

int hpd_store_put_run(hpd_store *st, const hpd_run *run, hp_error *err)
{
    store_op op = {.kind = OP_RUN};
    int bad;

    if (!st || !run)
        return hp_error_set(err, HP_E_INVALID, "store: no run given"), -1;
    op.id = run->id;
    op_val_int(&op, run->id);
    bad = op_val_text(&op, run->name ? run->name : "") | op_val_text(&op, run->service) |
          op_val_text(&op, hpd_run_state_name(run->status));
    op_val_int(&op, run->created_at_ms);
    op_val_int(&op, run->started_at_ms);
    op_val_int(&op, run->ended_at_ms);
    op_val_int(&op, run->cancelling ? 1 : 0);
    /* Run ids only grow: a run above the highest one written is new and needs its row. */
    if (!bad && run->id > st->max_run_id) {
        if (!(op.actions = actions_text(run->actions, run->n_actions)))
            bad = 1;
        else
            st->max_run_id = run->id;
    }
    if (bad) {
        op_clear(&op);
        return nomem(err, "cannot save a run");
    }
    return submit(st, &op, err);
}

int hpd_store_put_job(hpd_store *st, const hpd_job *job, hp_error *err)
{
    const hpd_run *run = job ? job->run : NULL;
    const char *action = "";
    store_op op = {.kind = OP_JOB};
    int bad;

    if (!st || !run)
        return hp_error_set(err, HP_E_INVALID, "store: a job without its run"), -1;
    if (job->index < run->n_actions && run->actions[job->index].name)
        action = run->actions[job->index].name;
    op.id = job->id;
    op.run_id = run->id;
    op_val_int(&op, job->id);
    op_val_int(&op, run->id);
    op_val_int(&op, (int64_t)job->index);
    bad = op_val_text(&op, action) | op_val_text(&op, hpd_job_state_name(job->status));
    op_val_int(&op, job->attempt);
    op_val_int(&op, job->restarts);
    op_val_int(&op, job->pid);
    op_val_int(&op, (int64_t)job->pid_start);
    op_val_int(&op, job->has_exit);
    op_val_int(&op, job->exit_code);
    op_val_int(&op, job->signal);
    op_val_int(&op, job->started_at_ms);
    op_val_int(&op, job->ended_at_ms);
    bad |= op_val_text(&op, job->error);
    op_val_int(&op, job->dropped);
    op_val_int(&op, job->crash_loop);
    if (bad) {
        op_clear(&op);
        return nomem(err, "cannot save a job");
    }
    return submit(st, &op, err);
}

int hpd_store_delete_run(hpd_store *st, int64_t run_id, hp_error *err)
{
    store_op op = {.kind = OP_RUN_DELETE, .id = run_id};

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), -1;
    return submit(st, &op, err);
}

int hpd_store_set_meta(hpd_store *st, const char *key, int64_t value)
{
    store_op op = {.kind = OP_META};

    if (!st || !key)
        return -1;
    if (op_val_text(&op, key) != 0) {
        op_clear(&op);
        return -1;
    }
    op_val_int(&op, value);
    return submit(st, &op, NULL);
}

void hpd_store_health_get(const hpd_store *st, hpd_store_health *h)
{
    int64_t wait;

    memset(h, 0, sizeof(*h));
    if (!st)
        return;
    h->ok = !st->failing;
    h->error = st->error;
    h->since_ms = st->since_ms;
    h->failures = st->failures;
    h->pending = (int64_t)(st->n_ops + st->n_pending - st->head);
    h->dropped_lines = st->lost_lines;
    h->dropped_writes = st->dropped_writes;
    h->refused = st->refused;
    h->generation = st->generation;
    wait = st->retry_at_ms - mono_ms();
    h->retry_in_ms = st->failing ? (wait > 0 ? wait : 0) : st->backlog ? 0 : -1;
}

int hpd_store_sync(hpd_store *st, hp_error *err)
{
    if (!st)
        return 0;
    return write_all(st, err);
}

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

void hpd_store_drain(hpd_store *st)
{
    if (!st)
        return;
    sqlite3_busy_timeout(st->db, OPEN_BUSY_MS);
    while (write_all(st, NULL) == 0 && st->backlog)
        ;
}

int hpd_store_log_flush(hpd_store *st, hp_error *err)
{
    if (!st || !retry_due(st) || !(st->head < st->n_pending || st->n_ops || st->n_lost))
        return 0;
    /* A checkpoint that runs while lines keep coming never catches up, and the log would
     * grow for ever: the batch waits for it (a few ms), unless it is half full. */
    if (st->ckpt && st->wal_frames >= CHECKPOINT_FRAMES &&
        st->n_pending - st->head < PENDING_MAX / 2 && st->text_len < PENDING_BYTES / 2 &&
        hpd_checkpointer_busy(st->ckpt))
        return 0;
    return write_all(st, err);
}

/* ---- log queries --------------------------------------------------------------------- */

static cJSON *row_json(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    int64_t job_id = sqlite3_column_int64(s, 3);
    const char *src = (const char *)sqlite3_column_text(s, 2);
    const char *line = (const char *)sqlite3_column_text(s, 5);

    if (!o || !hp_json_add_int(o, "seq", sqlite3_column_int64(s, 0)) ||
        !hp_json_add_int(o, "ts_ms", sqlite3_column_int64(s, 1)) ||
        !cJSON_AddStringToObject(o, "src", src ? src : "") ||
        !(job_id ? hp_json_add_int(o, "job_id", job_id) : cJSON_AddNullToObject(o, "job_id")) ||
        !cJSON_AddStringToObject(o, "stream",
                                 hpd_stream_name((hpd_stream)sqlite3_column_int(s, 4))) ||
        !cJSON_AddStringToObject(o, "line", line ? line : "") ||
        !hp_json_add_int(o, "attempt", sqlite3_column_int(s, 6))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void rows_free(log_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->v[i].obj);
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

/* Appends every row the statement gives, then finishes it. */
static int rows_fetch(hpd_store *st, sqlite3_stmt *s, log_rows *r, hp_error *err)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o;

        if (grow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v)) != 0 || !(o = row_json(s))) {
            finish(s);
            return nomem(err, "cannot read the log");
        }
        r->v[r->n].seq = sqlite3_column_int64(s, 0);
        r->v[r->n++].obj = o;
    }
    if (rc != SQLITE_DONE)
        db_fail(st, err, "cannot read the log");
    finish(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int cmp_row(const void *a, const void *b)
{
    int64_t x = ((const log_row *)a)->seq, y = ((const log_row *)b)->seq;

    return (x > y) - (x < y);
}

/* Sorts by seq and keeps the newest (last) or the oldest limit rows. */
static void rows_trim(log_rows *r, size_t limit, int keep_last)
{
    size_t extra;

    if (r->n > 1)
        qsort(r->v, r->n, sizeof(*r->v), cmp_row);
    if (r->n <= limit)
        return;
    extra = r->n - limit;
    if (keep_last) {
        for (size_t i = 0; i < extra; i++)
            cJSON_Delete(r->v[i].obj);
        memmove(r->v, r->v + extra, limit * sizeof(*r->v));
    } else {
        for (size_t i = limit; i < r->n; i++)
            cJSON_Delete(r->v[i].obj);
    }
    r->n = limit;
}

/* Moves the rows into a new array; *next_seq gets the last seq, or after_seq. */
static cJSON *rows_to_array(log_rows *r, int64_t after_seq, int64_t *next_seq, hp_error *err)
{
    cJSON *array = cJSON_CreateArray();
    size_t i;

    if (!array) {
        rows_free(r);
        return nomem(err, "cannot read the log"), NULL;
    }
    /* Adding a non-NULL item to an array cannot fail. */
    for (i = 0; i < r->n; i++)
        cJSON_AddItemToArray(array, r->v[i].obj);
    if (next_seq)
        *next_seq = r->n ? r->v[r->n - 1].seq : after_seq;
    r->n = 0;
    rows_free(r);
    return array;
}

/* ---- lines not written yet ------------------------------------------------------------ */

/* Lines still in the batch (the store cannot be written, or a backlog drains) are newer
 * than every stored line, so they go after the rows read from the file: a reader sees
 * what the jobs print while the store fails, with the seqs they will be stored under. */

typedef struct pending_match {
    int64_t job_id; /* > 0: that job's lines */
    int attempt;    /* > 0: only that attempt */
    const char *src;
    size_t src_len; /* 0: every source */
} pending_match;

static int pending_matches(const hpd_store *st, const pending_line *p, const pending_match *m)
{
    const char *src = st->text + p->src_off;

    if (m->job_id > 0)
        return p->job_id == m->job_id && (m->attempt <= 0 || p->attempt == m->attempt);
    return m->src_len == 0 || (p->src_len >= m->src_len && memcmp(src, m->src, m->src_len) == 0 &&
                               (p->src_len == m->src_len || src[m->src_len] == '.'));
}

static cJSON *pending_json(const hpd_store *st, const pending_line *p)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !hp_json_add_int(o, "seq", p->seq) || !hp_json_add_int(o, "ts_ms", p->ts_ms) ||
        !cJSON_AddStringToObject(o, "src", st->text + p->src_off) ||
        !(p->job_id ? hp_json_add_int(o, "job_id", p->job_id)
                    : cJSON_AddNullToObject(o, "job_id")) ||
        !cJSON_AddStringToObject(o, "stream", hpd_stream_name(p->stream)) ||
        !cJSON_AddStringToObject(o, "line", st->text + p->line_off) ||
        !hp_json_add_int(o, "attempt", p->attempt)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds the batch's matching lines after after_seq to rows (sorted, at most limit): the
 * newest ones when keep_last, else the oldest that still fit. */
static int add_pending(hpd_store *st, log_rows *rows, const pending_match *m, int64_t after_seq,
                       size_t limit, int keep_last, hp_error *err)
{
    size_t first = rows->n, want = keep_last ? limit : limit - (rows->n < limit ? rows->n : limit);
    size_t found = 0, i;

    if (want == 0 || st->head >= st->n_pending)
        return 0;
    /* The matching lines to take: the last `want` when keep_last, else the first. */
    if (keep_last) {
        for (i = st->n_pending; i-- > st->head && found < want;)
            found += st->pending[i].seq > after_seq && pending_matches(st, &st->pending[i], m);
        i++;
    } else {
        i = st->head;
    }
    for (found = 0; i < st->n_pending && found < want; i++) {
        const pending_line *p = &st->pending[i];
        cJSON *o;

        if (p->seq <= after_seq || !pending_matches(st, p, m))
            continue;
        if (grow((void **)&rows->v, &rows->cap, rows->n + 1, sizeof(*rows->v)) != 0 ||
            !(o = pending_json(st, p)))
            return nomem(err, "cannot read the log");
        rows->v[rows->n].seq = p->seq;
        rows->v[rows->n++].obj = o;
        found++;
    }
    if (rows->n > first)
        rows_trim(rows, limit, keep_last);
    return 0;
}

cJSON *hpd_store_job_logs(hpd_store *st, int64_t job_id, int64_t after_seq, int limit, int attempt,
                          int64_t *next_seq, hp_error *err)
{
    pending_match m = {.job_id = job_id, .attempt = attempt};
    log_rows rows = {0};
    sqlite3_stmt *s;

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), NULL;
    hpd_store_log_flush(st, NULL);
    s = st->stmt[ST_JOB_LOGS];
    sqlite3_bind_int64(s, 1, job_id);
    sqlite3_bind_int64(s, 2, after_seq);
    sqlite3_bind_int(s, 3, attempt);
    sqlite3_bind_int(s, 4, limit > 0 ? limit : 0);
    if (rows_fetch(st, s, &rows, err) != 0 ||
        (limit > 0 && job_id > 0 &&
         add_pending(st, &rows, &m, after_seq, (size_t)limit, 0, err) != 0)) {
        rows_free(&rows);
        return NULL;
    }
    return rows_to_array(&rows, after_seq, next_seq, err);
}

/* Up to TAIL_SRCS_MAX + 1 distinct sources under prefix (the exact one excluded), walked
 * through the (src, seq) index one seek each. *srcs gets malloc'd copies. */
static int list_sources(hpd_store *st, const char *lo, const char *hi, char ***srcs, size_t *n,
                        hp_error *err)
{
    char **v = NULL;
    size_t cap = 0;

    *n = 0;
    for (;;) {
        sqlite3_stmt *s = st->stmt[*n ? ST_SRC_NEXT : ST_SRC_FIRST];
        int rc;

        bind_text(s, 1, *n ? v[*n - 1] : lo);
        bind_text(s, 2, hi);
        rc = step_row(st, s, err, "cannot read the log sources");
        if (rc <= 0) {
            *srcs = v;
            return rc;
        }
        if (grow((void **)&v, &cap, *n + 1, sizeof(*v)) != 0 || !(v[*n] = dup_column(s, 0))) {
            finish(s);
            *srcs = v;
            return nomem(err, "cannot read the log sources");
        }
        finish(s);
        if (++*n > TAIL_SRCS_MAX) {
            *srcs = v;
            return 0;
        }
    }
}

/* Newest (after_seq 0) or next lines of one source by index, merged into rows. A bound
 * from the rows already kept narrows the query. */
static int tail_source(hpd_store *st, const char *src, int64_t after_seq, int limit, log_rows *rows,
                       hp_error *err)
{
    int full = rows->n >= (size_t)limit;
    sqlite3_stmt *s;

    if (after_seq == 0) {
        s = st->stmt[ST_SRC_LAST];
        bind_text(s, 1, src);
        sqlite3_bind_int64(s, 2, full ? rows->v[0].seq : 0);
        sqlite3_bind_int(s, 3, limit);
    } else {
        s = st->stmt[ST_SRC_AFTER];
        bind_text(s, 1, src);
        sqlite3_bind_int64(s, 2, after_seq);
        sqlite3_bind_int64(s, 3, full ? rows->v[rows->n - 1].seq : INT64_MAX);
        sqlite3_bind_int(s, 4, limit);
    }
    if (rows_fetch(st, s, rows, err) != 0)
        return -1;
    rows_trim(rows, (size_t)limit, after_seq == 0);
    return 0;
}

static int tail_scan(hpd_store *st, const char *src, const char *lo, const char *hi,
                     int64_t after_seq, int limit, log_rows *rows, hp_error *err)
{
    sqlite3_stmt *s = st->stmt[after_seq == 0 ? ST_SCAN_LAST : ST_SCAN_AFTER];

    sqlite3_bind_int(s, 1, src ? 0 : 1);
    bind_text(s, 2, src ? src : "");
    bind_text(s, 3, lo ? lo : "");
    bind_text(s, 4, hi ? hi : "");
    if (after_seq == 0) {
        sqlite3_bind_int(s, 5, limit);
    } else {
        sqlite3_bind_int64(s, 5, after_seq);
        sqlite3_bind_int(s, 6, limit);
    }
    if (rows_fetch(st, s, rows, err) != 0)
        return -1;
    rows_trim(rows, (size_t)limit, after_seq == 0);
    return 0;
}

cJSON *hpd_store_tail_logs(hpd_store *st, const char *src, int64_t after_seq, int limit,
                           int64_t *next_seq, hp_error *err)
{
    log_rows rows = {0};
    char *lo = NULL, *hi = NULL, **srcs = NULL;
    size_t n_srcs = 0, len;
    int rc;

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), NULL;
    hpd_store_log_flush(st, NULL);
    if (limit <= 0)
        return rows_to_array(&rows, after_seq, next_seq, err);
    if (after_seq < 0)
        after_seq = 0;
    if (!src || !*src) {
        rc = tail_scan(st, NULL, NULL, NULL, after_seq, limit, &rows, err);
        goto out;
    }
    /* "run.1" matches itself and "run.1.<anything>": the range ["run.1.", "run.1/"),
     * '/' being the byte after '.'. */
    len = strlen(src);
    lo = malloc(len + 2);
    hi = malloc(len + 2);
    if (!lo || !hi) {
        rc = nomem(err, "cannot read the log");
        goto out;
    }
    memcpy(lo, src, len);
    memcpy(hi, src, len);
    lo[len] = '.';
    hi[len] = '/';
    lo[len + 1] = hi[len + 1] = '\0';
    rc = list_sources(st, lo, hi, &srcs, &n_srcs, err);
    if (rc == 0 && n_srcs > TAIL_SRCS_MAX) {
        rc = tail_scan(st, src, lo, hi, after_seq, limit, &rows, err);
    } else if (rc == 0) {
        rc = tail_source(st, src, after_seq, limit, &rows, err);
        for (size_t i = 0; rc == 0 && i < n_srcs; i++)
            rc = tail_source(st, srcs[i], after_seq, limit, &rows, err);
    }
out:
    if (rc == 0) {
        pending_match m = {.src = src ? src : "", .src_len = src ? strlen(src) : 0};
        rc = add_pending(st, &rows, &m, after_seq, (size_t)limit, after_seq == 0, err);
    }
    for (size_t i = 0; i < n_srcs; i++)
        free(srcs[i]);
    free(srcs);
    free(lo);
    free(hi);
    if (rc != 0) {
        rows_free(&rows);
        return NULL;
    }
    return rows_to_array(&rows, after_seq, next_seq, err);
}
