/* SPDX-License-Identifier: Apache-2.0 */
/* The store's writes: every change waits as an op and goes with the log batch in one
 * transaction, kept in order and retried while the file cannot be written; the store's health. */
#include "config.h"

#include "server/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* State changes that may wait for the store (one per object: later ones replace it). */
#define OPS_MAX 16384
/* A failed write is tried again after 100 ms, doubling to 5 s. */

static const char *const op_what[] = {[OP_SERVICE] = "a service",
                                      [OP_SERVICE_DELETE] = "a service's deletion",
                                      [OP_RUN] = "a run",
                                      [OP_JOB] = "a job",
                                      [OP_RUN_DELETE] = "a run's deletion",
                                      [OP_META] = "a counter"};

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

void hpd__op_clear(store_op *op)
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
            hpd__bind_text(s, i + 1, v->s);
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

/* Deletes a run's jobs and the run inside the caller's transaction (their log files
 * went when the delete was asked). */
static int run_delete(hpd_store *st, int64_t run_id, hp_error *err)
{
    static const int deletes[] = {ST_RUN_DELETE_JOBS, ST_RUN_DELETE};
    sqlite3_stmt *s;

    for (size_t i = 0; i < sizeof(deletes) / sizeof(deletes[0]); i++) {
        s = st->stmt[deletes[i]];
        sqlite3_bind_int64(s, 1, run_id);
        if (hpd__run_stmt(st, s, err, "cannot delete run %lld", (long long)run_id) != 0)
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
    if (hpd__run_stmt(st, s, err, "cannot save %s", op_what[op->kind]) != 0)
        return -1;
    /* A run's actions never change: they are written when its row is new, and the
     * frequent status writes after that are updates. */
    if (op->kind != OP_RUN || sqlite3_changes(st->db) > 0 || !op->actions)
        return 0;
    s = st->stmt[ST_INSERT_RUN];
    op_bind(s, op);
    hpd__bind_text(s, op->n + 1, op->actions);
    return hpd__run_stmt(st, s, err, "cannot save %s", op_what[op->kind]);
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

void hpd__part_failed(hpd_store *st, store_part *p, const char *why)
{
    if (!p->failing) {
        p->failing = 1;
        p->since_ms = hpd_now_ms();
        p->failures = 0;
        p->backoff_ms = BACKOFF_MIN_MS;
        st->generation++;
    }
    p->failures++;
    if (strcmp(p->error, why) != 0) {
        snprintf(p->error, sizeof(p->error), "%s", why);
        st->generation++;
    }
    p->retry_at_ms = (int64_t)hpd_now_mono_ms() + p->backoff_ms;
    p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
}

void hpd__part_ok(hpd_store *st, store_part *p)
{
    if (!p->failing)
        return;
    p->failing = 0;
    p->since_ms = hpd_now_ms();
    p->error[0] = '\0';
    st->generation++;
}

int hpd__part_due(const store_part *p)
{
    return !p->failing || (int64_t)hpd_now_mono_ms() >= p->retry_at_ms;
}

static void refused(hpd_store *st, const char *what)
{
    snprintf(st->refused, sizeof(st->refused), "%s", what);
    st->generation++;
}

/* One transaction: every waiting op, and the last seq when it moved. 0, or -1 with err
 * and *code (SQLite's) and *bad_op (the index of the op that failed, SIZE_MAX if none). */
static int write_once(hpd_store *st, size_t *bad_op, int *code, hp_error *err)
{
    *bad_op = SIZE_MAX;
    if (hpd__begin(st, err) != 0)
        goto fail;
    for (size_t i = 0; i < st->n_ops; i++)
        if (op_apply(st, &st->ops[i], err) != 0) {
            *bad_op = i;
            goto fail;
        }
    if (st->last_seq != st->saved_seq && hpd__meta_write(st, "last_seq", st->last_seq, err) != 0)
        goto fail;
    if (hpd__commit(st, err) != 0)
        goto fail;
    st->saved_seq = st->last_seq;
    return 0;

fail:
    *code = st->last_code;
    hpd__rollback(st);
    return -1;
}

static void drop_op(hpd_store *st, size_t i)
{
    hpd__op_clear(&st->ops[i]);
    memmove(&st->ops[i], &st->ops[i + 1], (st->n_ops - i - 1) * sizeof(*st->ops));
    st->n_ops--;
}

/* Writes every waiting op. A transient failure leaves them waiting and sets the retry
 * time; a write refused for good is given up alone (counted, named in refused) and the
 * rest tried again at once. 0 when the store took what was tried. */
int hpd__write_all(hpd_store *st, hp_error *err)
{
    size_t budget = st->n_ops + 2;

    while (st->n_ops) {
        size_t bad_op;
        int code = SQLITE_ERROR;
        hp_error e;

        if (write_once(st, &bad_op, &code, &e) == 0) {
            for (size_t i = 0; i < st->n_ops; i++)
                hpd__op_clear(&st->ops[i]);
            st->n_ops = 0;
            break;
        }
        if (err)
            *err = e;
        if (transient(code) || budget-- == 0 || bad_op == SIZE_MAX) {
            hpd__part_failed(st, &st->db_part,
                             sqlite3_errstr((transient(code) ? code : SQLITE_ERROR) & 0xff));
            return -1;
        }
        refused(st, e.message);
        drop_op(st, bad_op);
        st->dropped_writes++;
    }
    hpd__part_ok(st, &st->db_part);
    return 0;
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
        hpd__op_clear(old);
        *old = *op;
    } else if (st->n_ops >= OPS_MAX ||
               hpd__grow((void **)&st->ops, &st->cap_ops, st->n_ops + 1, sizeof(*st->ops)) != 0) {
        st->dropped_writes++;
        refused(st, "store: too many changes wait for the store; one was given up");
        hpd__op_clear(op);
        return 0;
    } else {
        st->ops[st->n_ops++] = *op;
    }
    memset(op, 0, sizeof(*op));
    if (st->held || !hpd__part_due(&st->db_part))
        return 0;
    hpd__write_all(st, err);
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
        return hpd__nomem(err, "cannot encode a service");
    bad = op_val_text(&op, name) | op_val_text(&op, text);
    cJSON_free(text);
    op_val_int(&op, svc->wanted_start ? 1 : 0);
    op_val_int(&op, svc->created_at_ms);
    op_val_int(&op, svc->updated_at_ms);
    op_val_int(&op, svc->run_id);
    op_val_int(&op, svc->restarts);
    if (bad) {
        hpd__op_clear(&op);
        return hpd__nomem(err, "cannot save a service");
    }
    return submit(st, &op, err);
}

int hpd_store_delete_service(hpd_store *st, const char *name, hp_error *err)
{
    store_op op = {.kind = OP_SERVICE_DELETE};

    if (!st || !name)
        return hp_error_set(err, HP_E_INVALID, "store: a service without a name"), -1;
    if (op_val_text(&op, name) != 0) {
        hpd__op_clear(&op);
        return hpd__nomem(err, "cannot delete a service");
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
        hpd__op_clear(&op);
        return hpd__nomem(err, "cannot save a run");
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
    hpd_logseg_set_run(st->logs, job->id, run->id);
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
    op_val_int(&op, job->retry_at_ms);
    op_val_int(&op, (int64_t)job->backoff_ms);
    op_val_int(&op, job->quick_failures);
    if (bad) {
        hpd__op_clear(&op);
        return hpd__nomem(err, "cannot save a job");
    }
    return submit(st, &op, err);
}

int hpd_store_delete_run(hpd_store *st, int64_t run_id, hp_error *err)
{
    store_op op = {.kind = OP_RUN_DELETE, .id = run_id};

    if (!st)
        return hp_error_set(err, HP_E_INVALID, "store: no store given"), -1;
    hpd_logseg_delete_run(st->logs, run_id);
    return submit(st, &op, err);
}

int hpd_store_set_meta(hpd_store *st, const char *key, int64_t value)
{
    store_op op = {.kind = OP_META};

    if (!st || !key)
        return -1;
    if (op_val_text(&op, key) != 0) {
        hpd__op_clear(&op);
        return -1;
    }
    op_val_int(&op, value);
    return submit(st, &op, NULL);
}

void hpd_store_health_get(const hpd_store *st, hpd_store_health *h)
{
    int64_t now = (int64_t)hpd_now_mono_ms(), db_wait = st ? st->db_part.retry_at_ms - now : 0,
            logs_wait = st ? st->log_part.retry_at_ms - now : 0, wait = -1;

    memset(h, 0, sizeof(*h));
    if (!st)
        return;
    /* The database and the log's files fail and recover apart; either failing is shown. */
    h->ok = !st->db_part.failing && !st->log_part.failing;
    h->error = st->db_part.failing    ? st->db_part.error
               : st->log_part.failing ? st->log_part.error
                                      : "";
    h->since_ms =
        st->db_part.failing || !st->log_part.failing ? st->db_part.since_ms : st->log_part.since_ms;
    if (st->db_part.failing && st->log_part.failing && st->log_part.since_ms < st->db_part.since_ms)
        h->since_ms = st->log_part.since_ms;
    h->failures = st->db_part.failures + st->log_part.failures;
    h->pending = (int64_t)st->n_ops + hpd_logseg_waiting(st->logs);
    h->dropped_lines = st->lost_lines;
    h->dropped_writes = st->dropped_writes;
    h->refused = st->refused;
    h->generation = st->generation;
    if (st->db_part.failing)
        wait = db_wait > 0 ? db_wait : 0;
    if (st->log_part.failing && (wait < 0 || logs_wait < wait))
        wait = logs_wait > 0 ? logs_wait : 0;
    h->retry_in_ms = wait;
}

int hpd_store_sync(hpd_store *st, hp_error *err)
{
    int rc;

    if (!st)
        return 0;
    rc = hpd__logs_write(st, err);
    return hpd__write_all(st, err) != 0 ? -1 : rc;
}

void hpd_store_drain(hpd_store *st)
{
    if (!st)
        return;
    sqlite3_busy_timeout(st->db, OPEN_BUSY_MS);
    hpd__logs_write(st, NULL);
    hpd__write_all(st, NULL);
}

int hpd_store_log_flush(hpd_store *st, hp_error *err)
{
    int rc = 0;

    if (!st)
        return 0;
    if (hpd__logs_due(st) && hpd__logs_write(st, err) != 0)
        rc = -1;
    if (st->n_ops && !st->held && hpd__part_due(&st->db_part) && hpd__write_all(st, err) != 0)
        rc = -1;
    return rc;
}

void hpd_store_hold(hpd_store *st)
{
    if (st)
        st->held++;
}

void hpd_store_release(hpd_store *st)
{
    if (!st || st->held <= 0 || --st->held > 0)
        return;
    if (st->n_ops && hpd__part_due(&st->db_part))
        hpd__write_all(st, NULL);
}
