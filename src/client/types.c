/* SPDX-License-Identifier: Apache-2.0 */
/* Parse, to-JSON and free of the SDK's typed results, driven by one field table per
 * type so that the three cannot disagree. Malformed input is HP_E_PROTOCOL naming the
 * type and field, never a crash. What is sent (ActionSpec, ServiceConfig) is
 * common/spec.c's; which method answers which type is sdk.c's. */
#include "client/types.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NO_OFF SIZE_MAX

enum kind {
    K_STR,      /* char * */
    K_STR_NULL, /* char *, null allowed (NULL) */
    K_I64,      /* int64_t */
    K_I64_NULL, /* int64_t, null allowed (0), flag = has_ */
    K_F64_NULL, /* double, null allowed (0) */
    K_BOOL,     /* int */
    K_ENUM,     /* an enum stored as int, names[] */
    K_OBJ,      /* an inline struct of type sub, flag = present */
    K_OBJS,     /* array of sub at off, count (size_t) at aux, flag = present */
    K_I64S,     /* int64_t array at off, count at aux */
    K_STRS,     /* char * array at off, count at aux */
    K_SPECS     /* hp_action_spec array at off, count at aux; common/spec.c's parse and emit */
};

typedef struct type type;

typedef struct field {
    const char *key;
    enum kind kind;
    int optional;
    size_t off;
    size_t aux;  /* count of an array */
    size_t flag; /* has_/present flag (int), NO_OFF when none */
    const type *sub;
    const char *const *names;
    size_t n_names;
} field;

struct type {
    const char *name;
    size_t size;
    const field *fields;
    size_t n_fields;
    size_t unchanged; /* lists: offset of the unchanged flag, else NO_OFF */
};

/* ---- enum names ------------------------------------------------------------------- */

static const char *const job_states[] = {"pending", "running",   "retrying",  "succeeded",
                                         "failed",  "timed_out", "cancelled", "skipped"};
static const char *const run_states[] = {"pending", "running", "succeeded", "failed", "cancelled"};
static const char *const service_states[] = {"inactive", "running", "success",
                                             "failed",   "exited",  "degraded"};
static const char *const streams[] = {"stdout", "stderr", "system"};
static const char *const wanted[] = {"stop", "start"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}

const char *hp_job_state_name(hp_job_state s)
{
    return name_of(job_states, COUNT(job_states), (int)s);
}

const char *hp_run_state_name(hp_run_state s)
{
    return name_of(run_states, COUNT(run_states), (int)s);
}

const char *hp_service_state_name(hp_service_state s)
{
    return name_of(service_states, COUNT(service_states), (int)s);
}

const char *hp_log_stream_name(hp_log_stream s)
{
    return name_of(streams, COUNT(streams), (int)s);
}

int hp_job_state_is_final(hp_job_state s)
{
    return s == HP_JOB_SUCCEEDED || s == HP_JOB_FAILED || s == HP_JOB_TIMED_OUT ||
           s == HP_JOB_CANCELLED || s == HP_JOB_SKIPPED;
}

int hp_run_state_is_final(hp_run_state s)
{
    return s == HP_RUN_SUCCEEDED || s == HP_RUN_FAILED || s == HP_RUN_CANCELLED;
}

/* ---- tables ----------------------------------------------------------------------- */

#define F(T, k, kind, opt)                                                                         \
    {                                                                                              \
#k, kind, opt, offsetof(T, k), NO_OFF, NO_OFF, NULL, NULL, 0                               \
    }
#define FH(T, k, opt)                                                                              \
    {                                                                                              \
#k, K_I64_NULL, opt, offsetof(T, k), NO_OFF, offsetof(T, has_##k), NULL, NULL, 0           \
    }
#define FE(T, k, names, opt)                                                                       \
    {                                                                                              \
#k, K_ENUM, opt, offsetof(T, k), NO_OFF, NO_OFF, NULL, names, COUNT(names)                 \
    }
#define FO(T, k, sub)                                                                              \
    {                                                                                              \
#k, K_OBJ, 0, offsetof(T, k), NO_OFF, NO_OFF, &sub, NULL, 0                                \
    }
#define FOO(T, k, sub, flag)                                                                       \
    {                                                                                              \
#k, K_OBJ, 1, offsetof(T, k), NO_OFF, flag, &sub, NULL, 0                                  \
    }
#define FA(T, k, n, sub, opt, flag)                                                                \
    {                                                                                              \
#k, K_OBJS, opt, offsetof(T, k), offsetof(T, n), flag, &sub, NULL, 0                       \
    }
#define FS(T, k, n)                                                                                \
    {                                                                                              \
#k, K_SPECS, 1, offsetof(T, k), offsetof(T, n), NO_OFF, NULL, NULL, 0                      \
    }
#define TYPE(T, fields, unchanged)                                                                 \
    {                                                                                              \
#T, sizeof(T), fields, COUNT(fields), unchanged                                            \
    }

static const field job_fields[] = {
    F(hp_job, id, K_I64, 0),
    F(hp_job, run_id, K_I64, 0),
    F(hp_job, action, K_STR, 0),
    F(hp_job, service, K_STR_NULL, 1),
    FE(hp_job, status, job_states, 0),
    F(hp_job, attempt, K_I64, 0),
    FH(hp_job, pid, 1),
    FH(hp_job, exit_code, 1),
    FH(hp_job, signal, 1),
    F(hp_job, started_at_ms, K_I64_NULL, 1),
    F(hp_job, ended_at_ms, K_I64_NULL, 1),
    F(hp_job, error, K_STR_NULL, 1),
    F(hp_job, restarts, K_I64, 1),
    F(hp_job, dropped, K_I64, 1),
    F(hp_job, health, K_STR_NULL, 1),
    F(hp_job, health_detail, K_STR_NULL, 1),
    F(hp_job, cpu_pct, K_F64_NULL, 1),
    F(hp_job, rss_bytes, K_I64_NULL, 1),
    F(hp_job, threads, K_I64_NULL, 1),
    F(hp_job, procs, K_I64_NULL, 1),
};
static const type job_type = TYPE(hp_job, job_fields, NO_OFF);

static const field counts_fields[] = {
    F(hp_job_counts, total, K_I64, 0),   F(hp_job_counts, pending, K_I64, 1),
    F(hp_job_counts, running, K_I64, 1), F(hp_job_counts, succeeded, K_I64, 1),
    F(hp_job_counts, failed, K_I64, 1),  F(hp_job_counts, cancelled, K_I64, 1),
    F(hp_job_counts, skipped, K_I64, 1),
};
static const type counts_type = TYPE(hp_job_counts, counts_fields, NO_OFF);

static const field run_fields[] = {
    F(hp_run, id, K_I64, 0),
    F(hp_run, name, K_STR, 0),
    F(hp_run, service, K_STR_NULL, 1),
    FE(hp_run, status, run_states, 0),
    F(hp_run, created_at_ms, K_I64, 1),
    F(hp_run, started_at_ms, K_I64_NULL, 1),
    F(hp_run, ended_at_ms, K_I64_NULL, 1),
    FO(hp_run, counts, counts_type),
    FA(hp_run, jobs, n_jobs, job_type, 1, offsetof(hp_run, has_jobs)),
    FS(hp_run, actions, n_actions),
};
static const type run_type = TYPE(hp_run, run_fields, NO_OFF);

static const field summary_fields[] = {
    F(hp_service_summary, name, K_STR, 0),
    F(hp_service_summary, description, K_STR_NULL, 1),
    FE(hp_service_summary, status, service_states, 0),
    {"wanted", K_ENUM, 0, offsetof(hp_service_summary, wanted_start), NO_OFF, NO_OFF, NULL, wanted,
     COUNT(wanted)},
    F(hp_service_summary, run_id, K_I64_NULL, 1),
    F(hp_service_summary, actions, K_I64, 1),
    {"pids", K_I64S, 1, offsetof(hp_service_summary, pids), offsetof(hp_service_summary, n_pids),
     NO_OFF, NULL, NULL, 0},
    F(hp_service_summary, restarts, K_I64, 1),
    F(hp_service_summary, crash_loop, K_BOOL, 1),
    F(hp_service_summary, started_at_ms, K_I64_NULL, 1),
    F(hp_service_summary, updated_at_ms, K_I64, 1),
    F(hp_service_summary, cpu_pct, K_F64_NULL, 1),
    F(hp_service_summary, rss_bytes, K_I64_NULL, 1),
    F(hp_service_summary, threads, K_I64_NULL, 1),
    F(hp_service_summary, procs, K_I64_NULL, 1),
    {"requires", K_STRS, 1, offsetof(hp_service_summary, requires),
     offsetof(hp_service_summary, n_requires), NO_OFF, NULL, NULL, 0},
};
static const type summary_type = TYPE(hp_service_summary, summary_fields, NO_OFF);

static const field status_fields[] = {
    F(hp_service_status, name, K_STR, 0),
    FE(hp_service_status, status, service_states, 0),
    {"wanted", K_ENUM, 0, offsetof(hp_service_status, wanted_start), NO_OFF, NO_OFF, NULL, wanted,
     COUNT(wanted)},
    F(hp_service_status, run_id, K_I64_NULL, 1),
    FA(hp_service_status, jobs, n_jobs, job_type, 1, NO_OFF),
    F(hp_service_status, restarts, K_I64, 1),
    F(hp_service_status, crash_loop, K_BOOL, 1),
    F(hp_service_status, cpu_pct, K_F64_NULL, 1),
    F(hp_service_status, rss_bytes, K_I64_NULL, 1),
    F(hp_service_status, threads, K_I64_NULL, 1),
    F(hp_service_status, procs, K_I64_NULL, 1),
};
static const type status_type = TYPE(hp_service_status, status_fields, NO_OFF);

static const field line_fields[] = {
    F(hp_log_line, seq, K_I64, 0),       F(hp_log_line, ts_ms, K_I64, 0),
    F(hp_log_line, src, K_STR, 0),       F(hp_log_line, job_id, K_I64_NULL, 1),
    FE(hp_log_line, stream, streams, 0), F(hp_log_line, line, K_STR, 0),
};
static const type line_type = TYPE(hp_log_line, line_fields, NO_OFF);

static const field page_fields[] = {
    FA(hp_log_page, lines, n_lines, line_type, 0, NO_OFF),
    F(hp_log_page, next_seq, K_I64, 0),
    F(hp_log_page, dropped, K_I64, 1),
    F(hp_log_page, truncated, K_BOOL, 1),
};
static const type page_type = TYPE(hp_log_page, page_fields, NO_OFF);

static const field event_fields[] = {
    F(hp_event, seq, K_I64, 0),
    F(hp_event, ts_ms, K_I64, 0),
    F(hp_event, kind, K_STR, 0),
    F(hp_event, service, K_STR_NULL, 1),
    F(hp_event, run_id, K_I64_NULL, 1),
    F(hp_event, job_id, K_I64_NULL, 1),
    F(hp_event, action, K_STR_NULL, 1),
    FH(hp_event, exit_code, 1),
    FH(hp_event, signal, 1),
    F(hp_event, failed, K_BOOL, 1),
    F(hp_event, text, K_STR, 0),
};
static const type event_type = TYPE(hp_event, event_fields, NO_OFF);

static const field event_page_fields[] = {
    FA(hp_event_page, events, n_events, event_type, 0, NO_OFF),
    F(hp_event_page, last_seq, K_I64, 0),
    F(hp_event_page, dropped, K_I64, 1),
    F(hp_event_page, dropped_total, K_I64, 1),
};
static const type event_page_type = TYPE(hp_event_page, event_page_fields, NO_OFF);

static const field match_fields[] = {
    FO(hp_log_match, line, line_type),
    FA(hp_log_match, before, n_before, line_type, 1, NO_OFF),
    FA(hp_log_match, after, n_after, line_type, 1, NO_OFF),
};
static const type match_type = TYPE(hp_log_match, match_fields, NO_OFF);

static const field matches_fields[] = {
    FA(hp_log_matches, matches, n_matches, match_type, 0, NO_OFF),
    F(hp_log_matches, scanned, K_I64, 1),
    F(hp_log_matches, complete, K_BOOL, 0),
    F(hp_log_matches, next_job_id, K_I64, 1),
    F(hp_log_matches, next_before_seq, K_I64, 1),
};
static const type matches_type = TYPE(hp_log_matches, matches_fields, NO_OFF);

static const field meta_fields[] = {
    F(hp_secret_meta, name, K_STR, 0),
    F(hp_secret_meta, created_at_ms, K_I64, 1),
    F(hp_secret_meta, updated_at_ms, K_I64, 1),
};
static const type meta_type = TYPE(hp_secret_meta, meta_fields, NO_OFF);

static const field secret_fields[] = {
    F(hp_secret, name, K_STR, 0),
    F(hp_secret, value, K_STR, 0),
    F(hp_secret, created_at_ms, K_I64, 1),
    F(hp_secret, updated_at_ms, K_I64, 1),
};
static const type secret_type = TYPE(hp_secret, secret_fields, NO_OFF);

static const field sys_counts_fields[] = {
    F(hp_system_counts, services, K_I64, 1), F(hp_system_counts, runs, K_I64, 1),
    F(hp_system_counts, jobs, K_I64, 1),     F(hp_system_counts, running_jobs, K_I64, 1),
    F(hp_system_counts, secrets, K_I64, 1),  F(hp_system_counts, log_lines, K_I64, 1),
};
static const type sys_counts_type = TYPE(hp_system_counts, sys_counts_fields, NO_OFF);

static const field store_fields[] = {
    F(hp_store_health, ok, K_BOOL, 0),
    F(hp_store_health, error, K_STR_NULL, 1),
    F(hp_store_health, since_ms, K_I64, 1),
    F(hp_store_health, failures, K_I64, 1),
    F(hp_store_health, pending, K_I64, 1),
    F(hp_store_health, dropped_lines, K_I64, 1),
    F(hp_store_health, dropped_writes, K_I64, 1),
};
static const type store_type = TYPE(hp_store_health, store_fields, NO_OFF);

static const field info_fields[] = {
    F(hp_system_info, version, K_STR, 0),
    F(hp_system_info, pid, K_I64, 0),
    F(hp_system_info, started_at_ms, K_I64, 1),
    F(hp_system_info, uptime_ms, K_I64, 1),
    F(hp_system_info, rev, K_I64, 0),
    F(hp_system_info, data_dir, K_STR, 1),
    F(hp_system_info, socket, K_STR_NULL, 1),
    FO(hp_system_info, counts, sys_counts_type),
    F(hp_system_info, dropped_log_lines, K_I64, 1),
    FOO(hp_system_info, store, store_type, offsetof(hp_system_info, store_known)),
    F(hp_system_info, role, K_STR, 1),
};
static const type info_type = TYPE(hp_system_info, info_fields, NO_OFF);

static const field pong_fields[] = {
    F(hp_pong, version, K_STR, 0),
    F(hp_pong, ts_ms, K_I64, 1),
};
static const type pong_type = TYPE(hp_pong, pong_fields, NO_OFF);

static const field service_list_fields[] = {
    F(hp_service_list, rev, K_I64, 0),
    FA(hp_service_list, services, n_services, summary_type, 0, NO_OFF),
};
static const type service_list_type =
    TYPE(hp_service_list, service_list_fields, offsetof(hp_service_list, unchanged));

static const field run_list_fields[] = {
    F(hp_run_list, rev, K_I64, 0),
    FA(hp_run_list, runs, n_runs, run_type, 0, NO_OFF),
};
static const type run_list_type =
    TYPE(hp_run_list, run_list_fields, offsetof(hp_run_list, unchanged));

static const field job_list_fields[] = {
    F(hp_job_list, rev, K_I64, 0),
    FA(hp_job_list, jobs, n_jobs, job_type, 0, NO_OFF),
};
static const type job_list_type =
    TYPE(hp_job_list, job_list_fields, offsetof(hp_job_list, unchanged));

static const field secret_list_fields[] = {
    F(hp_secret_list, rev, K_I64, 0),
    FA(hp_secret_list, secrets, n_secrets, meta_type, 0, NO_OFF),
};
static const type secret_list_type =
    TYPE(hp_secret_list, secret_list_fields, offsetof(hp_secret_list, unchanged));

/* ---- the engine ------------------------------------------------------------------- */

#define AT(base, off, T)  ((T *)(void *)((char *)(base) + (off)))
#define CAT(base, off, T) ((T const *)(const void *)((const char *)(base) + (off)))

static int json_int64(const cJSON *j, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(j))
        return 0;
    d = j->valuedouble;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return 0;
    *out = (int64_t)d;
    return 1;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

static void clear(const type *t, void *v)
{
    for (size_t i = 0; i < t->n_fields; i++) {
        const field *f = &t->fields[i];
        switch (f->kind) {
        case K_STR:
        case K_STR_NULL:
            free(*AT(v, f->off, char *));
            break;
        case K_OBJ:
            clear(f->sub, AT(v, f->off, char));
            break;
        case K_OBJS: {
            char *items = *AT(v, f->off, char *);
            size_t n = *AT(v, f->aux, size_t);
            for (size_t k = 0; items && k < n; k++)
                clear(f->sub, items + k * f->sub->size);
            free(items);
            break;
        }
        case K_I64S:
            free(*AT(v, f->off, int64_t *));
            break;
        case K_STRS: {
            char **items = *AT(v, f->off, char **);
            for (size_t k = 0; items && k < *AT(v, f->aux, size_t); k++)
                free(items[k]);
            free(items);
            break;
        }
        case K_SPECS:
            hp_actions_free(*AT(v, f->off, hp_action_spec *), *AT(v, f->aux, size_t));
            break;
        default:
            break;
        }
    }
    memset(v, 0, t->size);
}

static int parse(const type *t, const cJSON *json, void *v, hp_error *err);

static int bad(hp_error *err, const type *t, const field *f, const char *what)
{
    hp_error_set(err, HP_E_PROTOCOL, "malformed %s from the server: '%s' %s", t->name + 3, f->key,
                 what);
    return -1;
}

/* An ActionSpec array, checked like a request's by common/spec.c (types and
 * representability); its first problem is the error. What it read stays in v for clear. */
static int parse_specs(const type *t, const field *f, const cJSON *j, void *v, hp_error *err)
{
    hp_problems pb = {0};

    if (hp_actions_from_json_lenient(j, AT(v, f->off, hp_action_spec *), AT(v, f->aux, size_t),
                                     &pb) == 0)
        return 0;
    hp_error_set(err, HP_E_PROTOCOL, "malformed %s from the server: %s", t->name + 3,
                 pb.count ? pb.items[0] : "out of memory");
    hp_problems_free(&pb);
    return -1;
}

static int parse_field(const type *t, const field *f, const cJSON *j, void *v, hp_error *err)
{
    int64_t n;

    switch (f->kind) {
    case K_STR:
    case K_STR_NULL:
        if (cJSON_IsNull(j) && f->kind == K_STR_NULL)
            return 0;
        if (!cJSON_IsString(j))
            return bad(err, t, f, "must be a string");
        if (!(*AT(v, f->off, char *) = dup_str(j->valuestring)))
            return hp_error_set_code(err, HP_E_NOMEM), -1;
        return 0;
    case K_I64:
    case K_I64_NULL:
        if (cJSON_IsNull(j) && f->kind == K_I64_NULL)
            return 0;
        if (!json_int64(j, &n))
            return bad(err, t, f, "must be an integer");
        *AT(v, f->off, int64_t) = n;
        if (f->flag != NO_OFF)
            *AT(v, f->flag, int) = 1;
        return 0;
    case K_F64_NULL:
        if (cJSON_IsNull(j))
            return 0;
        if (!cJSON_IsNumber(j))
            return bad(err, t, f, "must be a number");
        *AT(v, f->off, double) = j->valuedouble;
        return 0;
    case K_BOOL:
        if (!cJSON_IsBool(j))
            return bad(err, t, f, "must be a boolean");
        *AT(v, f->off, int) = cJSON_IsTrue(j);
        return 0;
    case K_ENUM:
        for (size_t k = 0; cJSON_IsString(j) && k < f->n_names; k++)
            if (strcmp(j->valuestring, f->names[k]) == 0) {
                *AT(v, f->off, int) = (int)k;
                return 0;
            }
        return bad(err, t, f, "has an unknown value");
    case K_OBJ:
        if (parse(f->sub, j, AT(v, f->off, char), err) != 0)
            return -1;
        if (f->flag != NO_OFF)
            *AT(v, f->flag, int) = 1;
        return 0;
    case K_OBJS: {
        int count = cJSON_GetArraySize(j);
        char *items;
        const cJSON *e;
        size_t k = 0;
        if (!cJSON_IsArray(j))
            return bad(err, t, f, "must be an array");
        items = calloc(count ? (size_t)count : 1, f->sub->size);
        if (!items)
            return hp_error_set_code(err, HP_E_NOMEM), -1;
        *AT(v, f->off, char *) = items;
        cJSON_ArrayForEach (e, j) {
            /* Counted before it is parsed, so that clear() also frees what a failed
             * item had already taken (its calloc'd slot is safe to clear). */
            *AT(v, f->aux, size_t) = ++k;
            if (parse(f->sub, e, items + (k - 1) * f->sub->size, err) != 0)
                return -1;
        }
        if (f->flag != NO_OFF)
            *AT(v, f->flag, int) = 1;
        return 0;
    }
    case K_STRS: {
        int count = cJSON_GetArraySize(j);
        char **items;
        const cJSON *e;
        if (!cJSON_IsArray(j))
            return bad(err, t, f, "must be an array");
        items = calloc(count ? (size_t)count : 1, sizeof(*items));
        if (!items)
            return hp_error_set_code(err, HP_E_NOMEM), -1;
        *AT(v, f->off, char **) = items;
        cJSON_ArrayForEach (e, j) {
            if (!cJSON_IsString(e) || !e->valuestring)
                return bad(err, t, f, "must hold strings");
            items[*AT(v, f->aux, size_t)] = strdup(e->valuestring);
            if (!items[*AT(v, f->aux, size_t)])
                return hp_error_set_code(err, HP_E_NOMEM), -1;
            ++*AT(v, f->aux, size_t);
        }
        return 0;
    }
    case K_I64S: {
        int count = cJSON_GetArraySize(j);
        int64_t *items;
        const cJSON *e;
        size_t k = 0;
        if (!cJSON_IsArray(j))
            return bad(err, t, f, "must be an array");
        items = calloc(count ? (size_t)count : 1, sizeof(*items));
        if (!items)
            return hp_error_set_code(err, HP_E_NOMEM), -1;
        *AT(v, f->off, int64_t *) = items;
        cJSON_ArrayForEach (e, j) {
            if (!json_int64(e, &items[k]))
                return bad(err, t, f, "must hold integers");
            *AT(v, f->aux, size_t) = ++k;
        }
        return 0;
    }
    case K_SPECS:
        return parse_specs(t, f, j, v, err);
    }
    return -1;
}

/* Fills the zeroed v; on failure v is left freeable by clear. */
static int parse(const type *t, const cJSON *json, void *v, hp_error *err)
{
    if (!cJSON_IsObject(json)) {
        hp_error_set(err, HP_E_PROTOCOL, "malformed %s from the server: not an object",
                     t->name + 3);
        return -1;
    }
    if (t->unchanged != NO_OFF && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "unchanged")))
        *AT(v, t->unchanged, int) = 1;
    for (size_t i = 0; i < t->n_fields; i++) {
        const field *f = &t->fields[i];
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(json, f->key);
        int unchanged = t->unchanged != NO_OFF && *AT(v, t->unchanged, int);
        if (!j ||
            (cJSON_IsNull(j) && f->optional && f->kind != K_STR_NULL && f->kind != K_I64_NULL)) {
            if (f->optional || (unchanged && f->kind == K_OBJS))
                continue;
            hp_error_set(err, HP_E_PROTOCOL, "malformed %s from the server: '%s' is missing",
                         t->name + 3, f->key);
            return -1;
        }
        if (parse_field(t, f, j, v, err) != 0)
            return -1;
    }
    return 0;
}

static void *from_json(const type *t, const cJSON *json, hp_error *err)
{
    void *v = calloc(1, t->size);

    if (!v) {
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    if (parse(t, json, v, err) != 0) {
        clear(t, v);
        free(v);
        return NULL;
    }
    return v;
}

static void free_value(const type *t, void *v)
{
    if (!v)
        return;
    clear(t, v);
    free(v);
}

static cJSON *to_json(const type *t, const void *v);

static cJSON *field_json(const field *f, const void *v)
{
    switch (f->kind) {
    case K_STR:
    case K_STR_NULL: {
        const char *s = *CAT(v, f->off, char *);
        return s ? cJSON_CreateString(s) : cJSON_CreateNull();
    }
    case K_I64:
        return cJSON_CreateNumber((double)*CAT(v, f->off, int64_t));
    case K_I64_NULL: {
        int64_t n = *CAT(v, f->off, int64_t);
        int has = f->flag != NO_OFF ? *CAT(v, f->flag, int) : n != 0;
        return has ? cJSON_CreateNumber((double)n) : cJSON_CreateNull();
    }
    case K_F64_NULL: /* 0 reads back the same as null: not sampled, or nothing running */
        return *CAT(v, f->off, double) != 0 ? cJSON_CreateNumber(*CAT(v, f->off, double))
                                            : cJSON_CreateNull();
    case K_BOOL:
        return cJSON_CreateBool(*CAT(v, f->off, int));
    case K_ENUM:
        return cJSON_CreateString(name_of(f->names, f->n_names, *CAT(v, f->off, int)));
    case K_OBJ:
        return to_json(f->sub, CAT(v, f->off, char));
    case K_OBJS: {
        const char *items = *CAT(v, f->off, char *);
        size_t n = *CAT(v, f->aux, size_t);
        cJSON *a = cJSON_CreateArray();
        for (size_t k = 0; a && k < n; k++) {
            cJSON *e = to_json(f->sub, items + k * f->sub->size);
            if (!e || !cJSON_AddItemToArray(a, e)) {
                cJSON_Delete(e);
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    case K_STRS: {
        char *const *items = *CAT(v, f->off, char **);
        size_t n = *CAT(v, f->aux, size_t);
        cJSON *a = cJSON_CreateArray();
        for (size_t k = 0; a && k < n; k++) {
            cJSON *e = cJSON_CreateString(items[k]);
            if (!e || !cJSON_AddItemToArray(a, e)) {
                cJSON_Delete(e);
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    case K_I64S: {
        const int64_t *items = *CAT(v, f->off, int64_t *);
        size_t n = *CAT(v, f->aux, size_t);
        cJSON *a = cJSON_CreateArray();
        for (size_t k = 0; a && k < n; k++) {
            cJSON *e = cJSON_CreateNumber((double)items[k]);
            if (!e || !cJSON_AddItemToArray(a, e)) {
                cJSON_Delete(e);
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    case K_SPECS: {
        const hp_action_spec *items = *CAT(v, f->off, hp_action_spec *);
        size_t n = *CAT(v, f->aux, size_t);
        cJSON *a = cJSON_CreateArray();
        for (size_t k = 0; a && k < n; k++) {
            cJSON *e = hp_action_spec_to_json(&items[k]);
            if (!e || !cJSON_AddItemToArray(a, e)) {
                cJSON_Delete(e);
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    }
    return NULL;
}

static cJSON *to_json(const type *t, const void *v)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return NULL;
    if (t->unchanged != NO_OFF && *CAT(v, t->unchanged, int)) {
        if (!cJSON_AddTrueToObject(o, "unchanged") ||
            !cJSON_AddNumberToObject(o, "rev", (double)*CAT(v, t->fields[0].off, int64_t))) {
            cJSON_Delete(o);
            return NULL;
        }
        return o;
    }
    for (size_t i = 0; i < t->n_fields; i++) {
        const field *f = &t->fields[i];
        cJSON *j;
        if (((f->kind == K_OBJS || f->kind == K_OBJ) && f->flag != NO_OFF &&
             !*CAT(v, f->flag, int)) ||
            ((f->kind == K_SPECS || f->kind == K_STRS) && !*CAT(v, f->aux, size_t)) ||
            (f->kind == K_STR && f->optional && !*CAT(v, f->off, char *)))
            continue; /* an optional member that was absent stays absent */
        j = field_json(f, v);
        if (!j || !cJSON_AddItemToObject(o, f->key, j)) {
            cJSON_Delete(j);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

#define DEFINE_TYPE_API(T, table)                                                                  \
    hp_##T *hp_##T##_from_json(const cJSON *json, hp_error *err)                                   \
    {                                                                                              \
        return from_json(&table, json, err);                                                       \
    }                                                                                              \
    cJSON *hp_##T##_to_json(const hp_##T *v)                                                       \
    {                                                                                              \
        return v ? to_json(&table, v) : NULL;                                                      \
    }                                                                                              \
    void hp_##T##_free(hp_##T *v)                                                                  \
    {                                                                                              \
        free_value(&table, v);                                                                     \
    }

DEFINE_TYPE_API(job, job_type)
DEFINE_TYPE_API(run, run_type)
DEFINE_TYPE_API(service_summary, summary_type)
DEFINE_TYPE_API(service_status, status_type)
DEFINE_TYPE_API(log_line, line_type)
DEFINE_TYPE_API(log_page, page_type)
DEFINE_TYPE_API(log_matches, matches_type)
DEFINE_TYPE_API(secret_meta, meta_type)
DEFINE_TYPE_API(secret, secret_type)
DEFINE_TYPE_API(pong, pong_type)
DEFINE_TYPE_API(service_list, service_list_type)
DEFINE_TYPE_API(run_list, run_list_type)
DEFINE_TYPE_API(job_list, job_list_type)
DEFINE_TYPE_API(secret_list, secret_list_type)
DEFINE_TYPE_API(event, event_type)
DEFINE_TYPE_API(event_page, event_page_type)

/* system.info by hand for one default: a server older than the store's health does not
 * send store, and a store nobody reported on is taken as ok (store_known says which). */
hp_system_info *hp_system_info_from_json(const cJSON *json, hp_error *err)
{
    hp_system_info *info = from_json(&info_type, json, err);

    if (info && !info->store_known)
        info->store.ok = 1;
    return info;
}

cJSON *hp_system_info_to_json(const hp_system_info *v)
{
    return v ? to_json(&info_type, v) : NULL;
}

void hp_system_info_free(hp_system_info *v)
{
    free_value(&info_type, v);
}

/* ---- service.get: the shared ServiceConfig plus its times ------------------------- */

hp_service_record *hp_service_record_from_json(const cJSON *json, hp_error *err)
{
    hp_service_record *r;
    hp_problems pb = {0};
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(json, "created_at_ms");
    const cJSON *updated = cJSON_GetObjectItemCaseSensitive(json, "updated_at_ms");

    if (!cJSON_IsObject(json) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "name")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(json, "actions"))) {
        hp_error_set(err, HP_E_PROTOCOL,
                     "malformed service record from the server: needs a name and actions");
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        hp_error_set_code(err, HP_E_NOMEM);
        return NULL;
    }
    if (hp_service_config_from_json_lenient(json, &r->config, &pb) != 0) {
        hp_error_set(err, HP_E_PROTOCOL, "malformed service record from the server: %s",
                     pb.count ? pb.items[0] : "out of memory");
        hp_problems_free(&pb);
        hp_service_record_free(r);
        return NULL;
    }
    if ((created && !json_int64(created, &r->created_at_ms)) ||
        (updated && !json_int64(updated, &r->updated_at_ms))) {
        hp_error_set(err, HP_E_PROTOCOL,
                     "malformed service record from the server: times must be integers");
        hp_service_record_free(r);
        return NULL;
    }
    return r;
}

cJSON *hp_service_record_to_json(const hp_service_record *v)
{
    cJSON *o = v ? hp_service_config_to_json(&v->config) : NULL;

    if (o && (!cJSON_AddNumberToObject(o, "created_at_ms", (double)v->created_at_ms) ||
              !cJSON_AddNumberToObject(o, "updated_at_ms", (double)v->updated_at_ms))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void hp_service_record_free(hp_service_record *v)
{
    if (!v)
        return;
    hp_service_config_free(&v->config);
    free(v);
}
