/* SPDX-License-Identifier: Apache-2.0 */
/* The domain wrappers of hero_proc_sdk: one function per method of data/openrpc.json,
 * typed params in, typed results out (types.c). A wrapper whose request and answer are the
 * generated stub's (stubs.c) checks its arguments and delegates; the others build their own
 * params and go through hp__sdk_call (call.c). They check only what would make a request
 * impossible (NULL handle or name); every rule of the contract is the server's. */
#include "client/sdk.h"

#include "client/call_int.h"
#include "client/stubs.h"

#include <stdlib.h>
#include <string.h>

#define WAIT_MARGIN_MS 5000L /* run.wait: time for the answer beyond the wait itself */

/* Builders that tolerate a NULL object (an earlier allocation failed): -1 then. */
static int add_str(cJSON *o, const char *key, const char *v)
{
    return o && cJSON_AddStringToObject(o, key, v) ? 0 : -1;
}

static int add_int(cJSON *o, const char *key, int64_t v)
{
    return o && cJSON_AddNumberToObject(o, key, (double)v) ? 0 : -1;
}

static int add_item(cJSON *o, const char *key, cJSON *taken)
{
    if (o && taken && cJSON_AddItemToObject(o, key, taken))
        return 0;
    cJSON_Delete(taken);
    return -1;
}
/* Parses a result with the type's from_json, setting st and err on failure; deletes
 * result. A GNU statement expression: the one place that knows every type's name. */
#define TYPED(T, result, st, err)                                                                  \
    ({                                                                                             \
        hp_##T *v_ = NULL;                                                                         \
        if (result) {                                                                              \
            hp_error e_;                                                                           \
            v_ = hp_##T##_from_json(result, &e_);                                                  \
            if (!v_) {                                                                             \
                st = e_.code;                                                                      \
                if (err)                                                                           \
                    *(hp_error *)(err) = e_;                                                       \
            }                                                                                      \
            cJSON_Delete(result);                                                                  \
        }                                                                                          \
        v_;                                                                                        \
    })

/* Hands v to *out, or frees it when the caller did not want it (out NULL). A stub parses
 * only an answer it is asked for, so a wrapper whose out may be NULL always asks (a
 * malformed answer fails either way) and DELIVERs it. */
#define DELIVER(T, out, v)                                                                         \
    do {                                                                                           \
        if (out)                                                                                   \
            *(out) = (v);                                                                          \
        else                                                                                       \
            hp_##T##_free(v);                                                                      \
    } while (0)

static hp_status missing(hp_error *err, const char *method, const char *what)
{
    return hp_error_set(err, HP_E_INVALID, "%s needs %s", method, what);
}

static hp_status expect_object(cJSON *result, hp_status st, const char *method, hp_error *err)
{
    if (st == HP_OK && !cJSON_IsObject(result))
        st = hp_error_set(err, HP_E_PROTOCOL, "malformed answer to %s: not an object", method);
    cJSON_Delete(result);
    return st;
}

static cJSON *name_params(const char *key, const char *name)
{
    cJSON *p = cJSON_CreateObject();

    if (add_str(p, key, name) != 0) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

/* ---- system ----------------------------------------------------------------------- */

hp_status hp_sdk_ping(hp_sdk *sdk, hp_pong **out, hp_error *err)
{
    hp_pong *v;
    hp_status st = hp_stub_system_ping(sdk, &v, err);

    DELIVER(pong, out, v);
    return st;
}

hp_status hp_sdk_info(hp_sdk *sdk, hp_system_info **out, hp_error *err)
{
    if (!out)
        return missing(err, "system.info", "an out parameter");
    return hp_stub_system_info(sdk, out, err);
}

hp_status hp_sdk_reexec(hp_sdk *sdk, hp_error *err)
{
    cJSON *res = NULL;
    hp_status st = hp_stub_system_reexec(sdk, &res, err);

    cJSON_Delete(res);
    return st;
}

hp_status hp_sdk_discover(hp_sdk *sdk, cJSON **out, hp_error *err)
{
    hp_status st;

    if (!out)
        return missing(err, "rpc.discover", "an out parameter");
    st = hp_stub_rpc_discover(sdk, out, err);
    if (*out && !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return hp_error_set(err, HP_E_PROTOCOL, "malformed answer to rpc.discover");
    }
    return st;
}

/* ---- services --------------------------------------------------------------------- */

hp_status hp_services_put(hp_sdk *sdk, const hp_service_config *cfg, int *created, hp_error *err)
{
    hp_status st;
    cJSON *p, *r;
    const cJSON *c;

    if (created)
        *created = 0;
    if (!cfg)
        return missing(err, "service.set", "a service config");
    p = cJSON_CreateObject();
    r = hp__sdk_call(sdk, "service.set", 1, p,
                     add_item(p, "config", hp_service_config_to_json(cfg)), 0, &st, err);
    if (!r)
        return st;
    c = cJSON_GetObjectItemCaseSensitive(r, "created");
    if (!cJSON_IsBool(c)) {
        cJSON_Delete(r);
        return hp_error_set(err, HP_E_PROTOCOL,
                            "malformed answer to service.set: 'created' must be a boolean");
    }
    if (created)
        *created = cJSON_IsTrue(c);
    cJSON_Delete(r);
    return HP_OK;
}

hp_status hp_services_get(hp_sdk *sdk, const char *name, hp_service_record **out, hp_error *err)
{
    if (!out)
        return missing(err, "service.get", "an out parameter");
    *out = NULL;
    if (!name)
        return missing(err, "service.get", "a service name");
    return hp_stub_service_get(sdk, name, out, err);
}

hp_status hp_services_list(hp_sdk *sdk, int64_t if_changed_since, hp_service_list **out,
                           hp_error *err)
{
    hp_status st;
    cJSON *r;

    if (!out)
        return missing(err, "service.list", "an out parameter");
    *out = NULL;
    st = hp_stub_service_list(sdk, if_changed_since > 0, if_changed_since, &r, err);
    *out = TYPED(service_list, r, st, err);
    return st;
}

hp_status hp_services_status(hp_sdk *sdk, const char *name, hp_service_status **out, hp_error *err)
{
    if (!out)
        return missing(err, "service.status", "an out parameter");
    *out = NULL;
    if (!name)
        return missing(err, "service.status", "a service name");
    return hp_stub_service_status(sdk, name, out, err);
}

hp_status hp_services_start(hp_sdk *sdk, const char *name, hp_run **out, hp_error *err)
{
    hp_status st;
    hp_run *v;

    if (out)
        *out = NULL;
    if (!name)
        return missing(err, "service.start", "a service name");
    st = hp_stub_service_start(sdk, name, &v, err);
    DELIVER(run, out, v);
    return st;
}

hp_status hp_services_stop(hp_sdk *sdk, const char *name, hp_service_status **out, hp_error *err)
{
    hp_status st;
    hp_service_status *v;

    if (out)
        *out = NULL;
    if (!name)
        return missing(err, "service.stop", "a service name");
    st = hp_stub_service_stop(sdk, name, 0, 0, &v, err);
    DELIVER(service_status, out, v);
    return st;
}

hp_status hp_services_stop_cascade(hp_sdk *sdk, const char *name, hp_service_status **out,
                                   hp_error *err)
{
    hp_status st;
    hp_service_status *v;

    if (out)
        *out = NULL;
    if (!name)
        return missing(err, "service.stop", "a service name");
    st = hp_stub_service_stop(sdk, name, 1, 1, &v, err);
    DELIVER(service_status, out, v);
    return st;
}

hp_status hp_services_restart(hp_sdk *sdk, const char *name, int keep_history, hp_run **out,
                              hp_error *err)
{
    hp_status st;
    hp_run *v;

    if (out)
        *out = NULL;
    if (!name)
        return missing(err, "service.restart", "a service name");
    /* keep_history is sent only when set, and then as true. */
    st = hp_stub_service_restart(sdk, name, keep_history != 0, 1, &v, err);
    DELIVER(run, out, v);
    return st;
}

hp_status hp_services_delete(hp_sdk *sdk, const char *name, hp_error *err)
{
    hp_status st;
    cJSON *r;

    if (!name)
        return missing(err, "service.delete", "a service name");
    st = hp_stub_service_delete(sdk, name, 0, 0, &r, err);
    return expect_object(r, st, "service.delete", err);
}

hp_status hp_services_delete_cascade(hp_sdk *sdk, const char *name, hp_error *err)
{
    hp_status st;
    cJSON *r;

    if (!name)
        return missing(err, "service.delete", "a service name");
    st = hp_stub_service_delete(sdk, name, 1, 1, &r, err);
    return expect_object(r, st, "service.delete", err);
}

/* ---- runs ------------------------------------------------------------------------- */

hp_status hp_runs_submit(hp_sdk *sdk, const char *name, const hp_action_spec *actions, size_t n,
                         hp_run **out, hp_error *err)
{
    hp_status st;
    cJSON *p, *a, *r;
    hp_run *v;
    int bad = 0;

    if (out)
        *out = NULL;
    if (!name || (n && !actions))
        return missing(err, "run.submit", "a run name and its actions");
    p = name_params("name", name);
    a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *one = hp_action_spec_to_json(&actions[i]);
        if (!one || !cJSON_AddItemToArray(a, one)) {
            cJSON_Delete(one);
            bad = 1;
            break;
        }
    }
    bad |= add_item(p, "actions", a) != 0;
    r = hp__sdk_call(sdk, "run.submit", 1, p, bad, 0, &st, err);
    v = TYPED(run, r, st, err);
    DELIVER(run, out, v);
    return st;
}

hp_status hp_runs_get(hp_sdk *sdk, int64_t id, hp_run **out, hp_error *err)
{
    if (!out)
        return missing(err, "run.get", "an out parameter");
    return hp_stub_run_get(sdk, id, out, err);
}

/* A list's params, with if_changed_since when it is a rev (> 0). run.list and job.list build
 * theirs here, not through the stubs: they send it first, the stubs last. */
static cJSON *rev_params(int64_t if_changed_since)
{
    cJSON *p = cJSON_CreateObject();

    if (p && if_changed_since > 0 && add_int(p, "if_changed_since", if_changed_since) != 0) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

hp_status hp_runs_list(hp_sdk *sdk, const hp_run_filter *f, hp_run_list **out, hp_error *err)
{
    hp_status st;
    cJSON *p, *r;
    int bad = 0;

    if (!out)
        return missing(err, "run.list", "an out parameter");
    *out = NULL;
    p = rev_params(f ? f->if_changed_since : 0);
    if (f && f->service)
        bad |= add_str(p, "service", f->service);
    if (f && f->status)
        bad |= add_str(p, "status", f->status);
    if (f && f->limit)
        bad |= add_int(p, "limit", f->limit);
    r = hp__sdk_call(sdk, "run.list", 1, p, bad, 0, &st, err);
    *out = TYPED(run_list, r, st, err);
    return st;
}

hp_status hp_runs_wait(hp_sdk *sdk, int64_t id, long timeout_ms, hp_run **out, hp_error *err)
{
    hp_status st;
    cJSON *p, *r;
    hp_run *v;
    int bad;

    if (out)
        *out = NULL;
    if (timeout_ms < 0)
        timeout_ms = 0;
    /* Not through the stub: the call must outlast the wait. */
    p = cJSON_CreateObject();
    bad = add_int(p, "id", id);
    bad |= add_int(p, "timeout_ms", timeout_ms);
    r = hp__sdk_call(sdk, "run.wait", 1, p, bad, timeout_ms + WAIT_MARGIN_MS, &st, err);
    v = TYPED(run, r, st, err);
    DELIVER(run, out, v);
    return st;
}

hp_status hp_runs_cancel(hp_sdk *sdk, int64_t id, hp_run **out, hp_error *err)
{
    hp_run *v;
    hp_status st = hp_stub_run_cancel(sdk, id, &v, err);

    DELIVER(run, out, v);
    return st;
}

hp_status hp_runs_delete(hp_sdk *sdk, int64_t id, hp_error *err)
{
    cJSON *r;
    hp_status st = hp_stub_run_delete(sdk, id, &r, err);

    return expect_object(r, st, "run.delete", err);
}

/* ---- events ----------------------------------------------------------------------- */

hp_status hp_events_wait(hp_sdk *sdk, int64_t after_seq, long timeout_ms, int limit,
                         hp_event_page **out, hp_error *err)
{
    hp_status st;
    cJSON *p, *r;
    hp_event_page *v;
    int bad;

    if (out)
        *out = NULL;
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (timeout_ms > 60000)
        timeout_ms = 60000; /* the server's cap: the transport's deadline follows it */
    /* Not through the stub: the call must outlast the wait. */
    p = cJSON_CreateObject();
    bad = add_int(p, "after_seq", after_seq < 0 ? 0 : after_seq);
    bad |= add_int(p, "timeout_ms", timeout_ms);
    if (limit > 0)
        bad |= add_int(p, "limit", limit);
    r = hp__sdk_call(sdk, "events.wait", 1, p, bad, timeout_ms + WAIT_MARGIN_MS, &st, err);
    v = TYPED(event_page, r, st, err);
    DELIVER(event_page, out, v);
    return st;
}

/* ---- jobs ------------------------------------------------------------------------- */

hp_status hp_jobs_list(hp_sdk *sdk, const hp_job_filter *f, hp_job_list **out, hp_error *err)
{
    hp_status st;
    cJSON *p, *r;
    int bad = 0;

    if (!out)
        return missing(err, "job.list", "an out parameter");
    *out = NULL;
    p = rev_params(f ? f->if_changed_since : 0);
    if (f && f->run_id)
        bad |= add_int(p, "run_id", f->run_id);
    if (f && f->service)
        bad |= add_str(p, "service", f->service);
    if (f && f->status)
        bad |= add_str(p, "status", f->status);
    if (f && f->limit)
        bad |= add_int(p, "limit", f->limit);
    r = hp__sdk_call(sdk, "job.list", 1, p, bad, 0, &st, err);
    *out = TYPED(job_list, r, st, err);
    return st;
}

hp_status hp_jobs_get(hp_sdk *sdk, int64_t id, hp_job **out, hp_error *err)
{
    if (!out)
        return missing(err, "job.get", "an out parameter");
    return hp_stub_job_get(sdk, id, out, err);
}

hp_status hp_jobs_logs(hp_sdk *sdk, int64_t id, int64_t after_seq, int limit, int attempt,
                       hp_log_page **out, hp_error *err)
{
    if (!out)
        return missing(err, "job.logs", "an out parameter");
    return hp_stub_job_logs(sdk, id, after_seq != 0, after_seq, 0, 0, 0, 0, 0, 0, limit != 0, limit,
                            attempt != 0, attempt, out, err);
}

hp_status hp_jobs_cancel(hp_sdk *sdk, int64_t id, hp_job **out, hp_error *err)
{
    hp_job *v;
    hp_status st = hp_stub_job_cancel(sdk, id, &v, err);

    DELIVER(job, out, v);
    return st;
}

/* ---- logs ------------------------------------------------------------------------- */

hp_status hp_logs_tail(hp_sdk *sdk, const char *src, int64_t after_seq, int limit,
                       hp_log_page **out, hp_error *err)
{
    if (!out)
        return missing(err, "logs.tail", "an out parameter");
    return hp_stub_logs_tail(sdk, src, after_seq != 0, after_seq, 0, 0, 0, 0, 0, 0, limit != 0,
                             limit, out, err);
}

hp_status hp_jobs_logs_page(hp_sdk *sdk, int64_t id, const hp_log_bounds *b, hp_log_page **out,
                            hp_error *err)
{
    static const hp_log_bounds none;

    if (!out)
        return missing(err, "job.logs", "an out parameter");
    if (!b)
        b = &none;
    return hp_stub_job_logs(sdk, id, b->after_seq != 0, b->after_seq, b->before_seq != 0,
                            b->before_seq, b->since_ms != 0, b->since_ms, b->until_ms != 0,
                            b->until_ms, b->limit != 0, b->limit, b->attempt != 0, b->attempt, out,
                            err);
}

hp_status hp_logs_tail_page(hp_sdk *sdk, const char *src, const hp_log_bounds *b, hp_log_page **out,
                            hp_error *err)
{
    static const hp_log_bounds none;

    if (!out)
        return missing(err, "logs.tail", "an out parameter");
    if (!b)
        b = &none;
    return hp_stub_logs_tail(sdk, src, b->after_seq != 0, b->after_seq, b->before_seq != 0,
                             b->before_seq, b->since_ms != 0, b->since_ms, b->until_ms != 0,
                             b->until_ms, b->limit != 0, b->limit, out, err);
}

hp_status hp_logs_search(hp_sdk *sdk, const hp_log_search *q, hp_log_matches **out, hp_error *err)
{
    cJSON *r = NULL;
    hp_status st;

    if (!out || !q || !q->pattern)
        return missing(err, "logs.search", "a query with a pattern and an out parameter");
    *out = NULL;
    st = hp_stub_logs_search(sdk, q->pattern, q->job_id != 0, q->job_id, q->run_id != 0, q->run_id,
                             q->service, q->substring != 0, q->substring, q->ignore_case != 0,
                             q->ignore_case, q->before_seq != 0, q->before_seq, q->from_job_id != 0,
                             q->from_job_id, q->limit != 0, q->limit, q->context != 0, q->context,
                             &r, err);
    if (st != HP_OK)
        return st;
    *out = hp_log_matches_from_json(r, err);
    cJSON_Delete(r);
    return *out ? HP_OK : HP_E_PROTOCOL;
}

hp_status hp_logs_insert(hp_sdk *sdk, const char *src, const char *const *lines, size_t n,
                         hp_log_stream stream, int64_t *last_seq, hp_error *err)
{
    hp_status st;
    cJSON *p, *a, *r;
    const cJSON *seq;
    int bad = 0;

    if (last_seq)
        *last_seq = 0;
    if (!src || (n && !lines))
        return missing(err, "logs.insert", "a src and lines");
    p = name_params("src", src);
    a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *s = lines[i] ? cJSON_CreateString(lines[i]) : NULL;
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(p);
            cJSON_Delete(a);
            return lines[i] ? hp_error_set_code(err, HP_E_NOMEM)
                            : missing(err, "logs.insert", "no NULL line");
        }
    }
    bad |= add_item(p, "lines", a);
    if (stream != HP_STREAM_STDOUT)
        bad |= add_str(p, "stream", hp_log_stream_name(stream));
    r = hp__sdk_call(sdk, "logs.insert", 1, p, bad, 0, &st, err);
    if (!r)
        return st;
    seq = cJSON_GetObjectItemCaseSensitive(r, "last_seq");
    if (!cJSON_IsNumber(seq)) {
        cJSON_Delete(r);
        return hp_error_set(err, HP_E_PROTOCOL,
                            "malformed answer to logs.insert: 'last_seq' must be an integer");
    }
    if (last_seq)
        *last_seq = (int64_t)seq->valuedouble;
    cJSON_Delete(r);
    return HP_OK;
}

/* ---- secrets ---------------------------------------------------------------------- */

hp_status hp_secrets_set(hp_sdk *sdk, const char *name, const char *value, hp_secret_meta **out,
                         hp_error *err)
{
    hp_status st;
    hp_secret_meta *v;

    if (out)
        *out = NULL;
    if (!name || !value)
        return missing(err, "secret.set", "a name and a value");
    st = hp_stub_secret_set(sdk, name, value, &v, err);
    DELIVER(secret_meta, out, v);
    return st;
}

hp_status hp_secrets_get(hp_sdk *sdk, const char *name, hp_secret **out, hp_error *err)
{
    if (!out)
        return missing(err, "secret.get", "an out parameter");
    *out = NULL;
    if (!name)
        return missing(err, "secret.get", "a secret name");
    return hp_stub_secret_get(sdk, name, out, err);
}

hp_status hp_secrets_list(hp_sdk *sdk, int64_t if_changed_since, hp_secret_list **out,
                          hp_error *err)
{
    hp_status st;
    cJSON *r;

    if (!out)
        return missing(err, "secret.list", "an out parameter");
    *out = NULL;
    st = hp_stub_secret_list(sdk, if_changed_since > 0, if_changed_since, &r, err);
    *out = TYPED(secret_list, r, st, err);
    return st;
}

hp_status hp_secrets_delete(hp_sdk *sdk, const char *name, hp_error *err)
{
    hp_status st;
    cJSON *r;

    if (!name)
        return missing(err, "secret.delete", "a secret name");
    st = hp_stub_secret_delete(sdk, name, &r, err);
    return expect_object(r, st, "secret.delete", err);
}

/* ---- API tokens ---------------------------------------------------------------------- */

static char *dup_json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

hp_status hp_tokens_create(hp_sdk *sdk, const char *name, const char *role, char **token,
                           hp_error *err)
{
    hp_status st;
    cJSON *r = NULL;

    if (!token)
        return missing(err, "token.create", "an out parameter");
    *token = NULL;
    if (!name || !role)
        return missing(err, "token.create", "a name and a role");
    st = hp_stub_token_create(sdk, name, role, &r, err);
    if (st == HP_OK && !(*token = dup_json_str(r, "token")))
        st = hp_error_set(err, HP_E_PROTOCOL, "malformed answer to token.create: no token");
    cJSON_Delete(r);
    return st;
}

void hp_token_metas_free(hp_token_meta *tokens, size_t n)
{
    for (size_t i = 0; tokens && i < n; i++) {
        free(tokens[i].name);
        free(tokens[i].role);
    }
    free(tokens);
}

hp_status hp_tokens_list(hp_sdk *sdk, hp_token_meta **out, size_t *n, hp_error *err)
{
    const cJSON *list, *it;
    hp_status st;
    cJSON *r = NULL;
    size_t i = 0;

    if (!out || !n)
        return missing(err, "token.list", "out parameters");
    *out = NULL;
    *n = 0;
    st = hp_stub_token_list(sdk, &r, err);
    if (st != HP_OK)
        return st;
    list = cJSON_GetObjectItemCaseSensitive(r, "tokens");
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(r);
        return hp_error_set(err, HP_E_PROTOCOL, "malformed answer to token.list: no tokens");
    }
    *out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
    if (!*out) {
        cJSON_Delete(r);
        return hp_error_set_code(err, HP_E_NOMEM);
    }
    cJSON_ArrayForEach (it, list) {
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(it, "created_at_ms");
        (*out)[i].name = dup_json_str(it, "name");
        (*out)[i].role = dup_json_str(it, "role");
        (*out)[i].created_at_ms = cJSON_IsNumber(created) ? (int64_t)created->valuedouble : 0;
        if (!(*out)[i].name || !(*out)[i].role) {
            hp_token_metas_free(*out, i + 1);
            *out = NULL;
            cJSON_Delete(r);
            return hp_error_set(err, HP_E_PROTOCOL, "malformed answer to token.list");
        }
        i++;
    }
    *n = i;
    cJSON_Delete(r);
    return HP_OK;
}

hp_status hp_tokens_revoke(hp_sdk *sdk, const char *name, hp_error *err)
{
    hp_status st;
    cJSON *r;

    if (!name)
        return missing(err, "token.revoke", "a token name");
    st = hp_stub_token_revoke(sdk, name, &r, err);
    return expect_object(r, st, "token.revoke", err);
}
