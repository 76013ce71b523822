/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-RPC 2.0 envelope handling: bounds and raw-text checks (control bytes, strings
 * carrying NUL), parse, batch, params checked against each method's table, dispatch,
 * deferred answers. Methods themselves live in methods.c. */
#include "config.h"

#include "server/rpc.h"

#include "common/spec.h"
#include "server/auth.h"
#include "server/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hpd_batch {
    cJSON **replies; /* one per request; NULL for notifications */
    size_t n;
    size_t waiting; /* deferred calls not answered yet */
    int is_batch;
    int abandoned;
    hpd_pending *pendings; /* still waiting */
    hpd_rpc_done_fn done;
    void *ud;
};

struct hpd_pending {
    hpd_batch *batch;
    size_t slot;
    cJSON *id; /* owned copy; NULL for a notification */
    void (*cancel)(hpd_pending *p, void *data);
    void *data;
    hpd_pending *next;
};

int hpd_rpc_check_bounds(const char *text, size_t len, char *why, size_t why_len)
{
    int depth = 0, in_string = 0;
    size_t string_start = 0;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"') {
                in_string = 0;
                if (i - string_start > HPD_MAX_STRING) {
                    snprintf(why, why_len, "a string in the request is longer than %d bytes",
                             HPD_MAX_STRING);
                    return -1;
                }
            }
        } else if (c == '"') {
            in_string = 1;
            string_start = i;
        } else if (c == '{' || c == '[') {
            if (++depth > HPD_MAX_DEPTH) {
                snprintf(why, why_len, "the request nests deeper than %d levels", HPD_MAX_DEPTH);
                return -1;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

/* Raw bytes below 0x20 may not appear inside a JSON string, and outside one only as the
 * whitespace \t \n \r; cJSON would take them (cutting a string at a NUL, skipping the
 * others as blanks), so they are refused here. */
static int has_raw_control(const char *text, size_t len)
{
    int in_string = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0)
            return 1;
        if (!in_string) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return 1;
            in_string = c == '"';
        } else if (c == '\\') {
            i++;
        } else if (c == '"') {
            in_string = 0;
        } else if (c < 0x20) {
            return 1;
        }
    }
    return 0;
}

/* Walks text that cJSON has parsed already (so it is valid JSON within the bounds), with
 * the path of the value it is in, looking for \u0000 escapes. */
typedef struct nul_scan {
    const char *p, *end;
    hp_problems *pbs;
    size_t n_slots, slot, found;
    char path[192];
    size_t plen;
} nul_scan;

static void path_push(nul_scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void path_push(nul_scan *s, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(s->path + s->plen, sizeof(s->path) - s->plen, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->plen = s->plen + (size_t)n < sizeof(s->path) ? s->plen + (size_t)n : sizeof(s->path) - 1;
}

static void skip_space(nul_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Steps over the string at s->p (its opening quote); *raw and *len get its raw text.
 * Returns 1 when it holds a \u0000 escape. */
static int scan_string(nul_scan *s, const char **raw, size_t *len)
{
    int nul = 0;

    *raw = ++s->p;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\') {
            if (s->end - s->p >= 6 && memcmp(s->p, "\\u0000", 6) == 0)
                nul = 1;
            s->p++;
        }
        s->p++;
    }
    *len = (size_t)(s->p - *raw);
    if (s->p < s->end)
        s->p++;
    return nul;
}

static void nul_found(nul_scan *s, const char *what)
{
    s->found++;
    if (s->slot < s->n_slots)
        hp_problems_add_at(&s->pbs[s->slot], HP_PROBLEM_VALUE_CONTROL, "",
                           "%s %s%s contains a NUL character (\\u0000)", what,
                           s->plen ? "at " : "of ", s->plen ? s->path : "the request");
}

/* After a member or an element: back to the container's path, past the comma. */
static void end_item(nul_scan *s, size_t saved)
{
    s->plen = saved;
    s->path[saved] = 0;
    skip_space(s);
    if (s->p < s->end && *s->p == ',')
        s->p++;
    skip_space(s);
}

static void scan_value(nul_scan *s, int batch)
{
    const char *raw;
    size_t len, saved = s->plen, i = 0;

    skip_space(s);
    if (s->p >= s->end)
        return;
    if (*s->p == '"') {
        if (scan_string(s, &raw, &len))
            nul_found(s, "the value");
    } else if (*s->p == '{') {
        s->p++;
        for (skip_space(s); s->p < s->end && *s->p == '"'; i++) {
            int nul = scan_string(s, &raw, &len);
            path_push(s, "%s%.*s", s->plen ? "." : "", len > 40 ? 40 : (int)len, raw);
            if (nul)
                nul_found(s, "the field name");
            skip_space(s);
            s->p += s->p < s->end; /* ':' */
            scan_value(s, 0);
            end_item(s, saved);
        }
        s->p += s->p < s->end; /* '}' */
    } else if (*s->p == '[') {
        s->p++;
        for (skip_space(s); s->p < s->end && *s->p != ']'; i++) {
            const char *before = s->p;
            if (batch)
                s->slot = i;
            else
                path_push(s, "[%zu]", i);
            scan_value(s, 0);
            end_item(s, saved);
            if (s->p == before) /* not JSON after all: stop rather than spin */
                break;
        }
        s->p += s->p < s->end; /* ']' */
    } else {
        while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
            s->p++;
    }
}

size_t hpd_rpc_find_nuls(const char *text, size_t len, hp_problems *pbs, size_t n_slots)
{
    nul_scan s = {.p = text, .end = text + len, .pbs = pbs, .n_slots = n_slots};

    if (!memmem(text, len, "\\u0000", 6))
        return 0;
    skip_space(&s);
    scan_value(&s, s.p < s.end && *s.p == '[');
    return s.found;
}

static cJSON *error_object(int code, const char *message, cJSON *data)
{
    cJSON *err = cJSON_CreateObject();

    cJSON_AddNumberToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", message);
    if (data)
        cJSON_AddItemToObject(err, "data", data);
    return err;
}

static cJSON *reply(cJSON *id, cJSON *result, cJSON *error)
{
    cJSON *r = cJSON_CreateObject();

    cJSON_AddStringToObject(r, "jsonrpc", "2.0");
    if (error)
        cJSON_AddItemToObject(r, "error", error);
    else
        cJSON_AddItemToObject(r, "result", result ? result : cJSON_CreateNull());
    cJSON_AddItemToObject(r, "id", id ? id : cJSON_CreateNull());
    return r;
}

char *hpd_rpc_error_body(int code, const char *message)
{
    cJSON *r = reply(NULL, NULL, error_object(code, message, NULL));
    char *text = cJSON_PrintUnformatted(r);

    cJSON_Delete(r);
    return text;
}

cJSON *hpd_rpc_fail(hpd_rpc_ctx *ctx, int code, cJSON *data, const char *fmt, ...)
{
    va_list ap;

    ctx->code = code;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
    va_end(ap);
    cJSON_Delete(ctx->data);
    ctx->data = data;
    return NULL;
}

hpd_pending *hpd_rpc_defer(hpd_rpc_ctx *ctx, void (*cancel)(hpd_pending *p, void *data), void *data)
{
    hpd_pending *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->cancel = cancel;
    p->data = data;
    ctx->pending = p;
    return p;
}

static const char *type_name(hpd_param_type t)
{
    switch (t) {
    case HPD_P_STRING:
    case HPD_P_NAME:
        return "a string";
    case HPD_P_INT:
        return "an integer";
    case HPD_P_BOOL:
        return "a boolean";
    case HPD_P_OBJECT:
        return "an object";
    case HPD_P_ARRAY:
        return "an array";
    }
    return "a value";
}

static int type_matches(const cJSON *v, hpd_param_type t)
{
    switch (t) {
    case HPD_P_STRING:
    case HPD_P_NAME:
        return cJSON_IsString(v);
    case HPD_P_INT:
        /* Range first: casting a double beyond int64_t is undefined. */
        return cJSON_IsNumber(v) && v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18 &&
               v->valuedouble == (double)(int64_t)v->valuedouble;
    case HPD_P_BOOL:
        return cJSON_IsBool(v);
    case HPD_P_OBJECT:
        return cJSON_IsObject(v);
    case HPD_P_ARRAY:
        return cJSON_IsArray(v);
    }
    return 0;
}

static void check_bounds(const hpd_param *p, const cJSON *item, hp_problems *pb)
{
    double n = p->type == HPD_P_INT      ? item->valuedouble
               : p->type == HPD_P_STRING ? (double)strlen(item->valuestring)
               : p->type == HPD_P_ARRAY  ? (double)cJSON_GetArraySize(item)
                                         : 0;
    const char *unit = p->type == HPD_P_STRING  ? " bytes long"
                       : p->type == HPD_P_ARRAY ? " items"
                                                : "";
    hp_problem_code code = p->type == HPD_P_INT      ? HP_PROBLEM_VALUE_RANGE
                           : p->type == HPD_P_STRING ? HP_PROBLEM_VALUE_LENGTH
                                                     : HP_PROBLEM_COUNT_RANGE;
    char path[80];

    hp_json_pointer_key(path, sizeof(path), "", p->name);

    if (p->type == HPD_P_INT || p->type == HPD_P_STRING || p->type == HPD_P_ARRAY) {
        if (p->max && (n < (double)p->min || n > (double)p->max))
            hp_problems_add_at(pb, code, path, "param '%s' must be %sbetween %lld and %lld%s",
                               p->name, p->type == HPD_P_ARRAY ? "an array of " : "",
                               (long long)p->min, (long long)p->max, unit);
        else if (n < (double)p->min)
            hp_problems_add_at(pb, code, path, "param '%s' must be %sat least %lld%s", p->name,
                               p->type == HPD_P_ARRAY ? "an array of " : "", (long long)p->min,
                               unit);
    }
    if (p->type == HPD_P_STRING && p->choices) {
        const char *const *c = p->choices;
        char list[256] = "";
        while (*c && strcmp(*c, item->valuestring) != 0)
            c++;
        if (*c)
            return;
        for (c = p->choices; *c; c++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                     c == p->choices ? "" : ", ", *c);
        hp_problems_add_at(pb, HP_PROBLEM_VALUE_CHOICE, path, "param '%s' must be one of %s",
                           p->name, list);
    }
}

/* Checks params against the method's table; every problem goes into pb. */
static void check_params(const hpd_method *m, const cJSON *params, hp_problems *pb)
{
    const cJSON *item;
    char path[160];

    cJSON_ArrayForEach (item, params) {
        const hpd_param *p = m->params;
        while (p->name && strcmp(p->name, item->string) != 0)
            p++;
        hp_json_pointer_key(path, sizeof(path), "", item->string);
        if (!p->name) {
            hp_problems_add_at(pb, HP_PROBLEM_FIELD_UNKNOWN, path,
                               "%s does not take a param named '%.64s'", m->name, item->string);
            continue;
        }
        if (cJSON_IsNull(item) && !p->required)
            continue;
        if (!type_matches(item, p->type)) {
            hp_problems_add_at(pb, HP_PROBLEM_FIELD_TYPE, path, "param '%s' must be %s", p->name,
                               type_name(p->type));
            continue;
        }
        if (p->type == HPD_P_NAME && !hp_name_is_valid(item->valuestring))
            hp_problems_add_at(pb, HP_PROBLEM_NAME_INVALID, path,
                               "param '%s' must be a name of 1 to 64 characters A-Z a-z 0-9 _ . "
                               "- (not . or ..)",
                               p->name);
        check_bounds(p, item, pb);
    }
    for (const hpd_param *p = m->params; p->name; p++)
        if (p->required && !cJSON_HasObjectItem(params, p->name))
            hp_problems_add_at(pb, HP_PROBLEM_VALUE_MISSING,
                               hp_json_pointer_key(path, sizeof(path), "", p->name),
                               "param '%s' is required", p->name);
}

static int valid_id(const cJSON *id)
{
    return !id || cJSON_IsString(id) || cJSON_IsNumber(id) || cJSON_IsNull(id);
}

/* Answers one request object; returns the reply (NULL for a notification) or, when the
 * call was deferred, registers the pending in the batch and returns NULL. */
static cJSON *call_one(struct hpd_server *srv, const hpd_method *methods, const cJSON *req,
                       const hp_problems *nuls, hpd_batch *batch, size_t slot)
{
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(req, "jsonrpc");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(req, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    cJSON *empty = NULL, *result;
    int notification = id == NULL;
    const hpd_method *m;
    hp_problems pb = {0};
    hpd_rpc_ctx ctx = {.srv = srv};
    hpd_role needed = HPD_ROLE_ADMIN;

    if (!cJSON_IsObject(req) || !valid_id(id))
        return reply(NULL, NULL,
                     error_object(HPD_INVALID_REQUEST, "a request must be a JSON object", NULL));
    if (nuls && nuls->count > 0)
        /* Before anything is read: every string here may have been cut short. */
        return notification ? NULL
                            : reply(cJSON_Duplicate(id, 1), NULL,
                                    error_object(HPD_INVALID_PARAMS, nuls->items[0],
                                                 hp_problems_to_json(nuls)));
    if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0)
        return reply(
            cJSON_Duplicate(id, 1), NULL,
            error_object(HPD_INVALID_REQUEST, "the request must say \"jsonrpc\": \"2.0\"", NULL));
    if (!cJSON_IsString(method))
        return reply(cJSON_Duplicate(id, 1), NULL,
                     error_object(HPD_INVALID_REQUEST, "the request has no method name", NULL));
    if (params && !cJSON_IsObject(params) &&
        !(cJSON_IsArray(params) && cJSON_GetArraySize(params) == 0))
        return notification ? NULL
                            : reply(cJSON_Duplicate(id, 1), NULL,
                                    error_object(HPD_INVALID_PARAMS,
                                                 "params must be an object of named params", NULL));
    for (m = methods; m->name && strcmp(m->name, method->valuestring) != 0; m++)
        ;
    if (!m->name) {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown method '%.64s'", method->valuestring);
        return notification ? NULL
                            : reply(cJSON_Duplicate(id, 1), NULL,
                                    error_object(HPD_METHOD_NOT_FOUND, msg, NULL));
    }
    if (srv && !hpd_auth_allows(srv->auth, m->name, &needed)) {
        char msg[200];
        cJSON *data = cJSON_CreateObject();
        snprintf(msg, sizeof(msg), "%s needs the %s role; this caller has %s", m->name,
                 hpd_role_name(needed), hpd_role_name(hpd_auth_caller(srv->auth)));
        cJSON_AddStringToObject(data, "required_role", hpd_role_name(needed));
        cJSON_AddStringToObject(data, "role", hpd_role_name(hpd_auth_caller(srv->auth)));
        return notification
                   ? (cJSON_Delete(data), NULL)
                   : reply(cJSON_Duplicate(id, 1), NULL, error_object(HPD_UNAUTHORIZED, msg, data));
    }
    if (!cJSON_IsObject(params))
        params = empty = cJSON_CreateObject();
    check_params(m, params, &pb);
    if (pb.count > 0) {
        cJSON *err = error_object(HPD_INVALID_PARAMS, pb.items[0], hp_problems_to_json(&pb));
        hp_problems_free(&pb);
        cJSON_Delete(empty);
        return notification ? (cJSON_Delete(err), NULL) : reply(cJSON_Duplicate(id, 1), NULL, err);
    }
    ctx.params = params;
    if (srv) /* --log-level debug: every call, by method and the caller's role */
        hpd_log(srv, 3, "call %s by %s", m->name, hpd_role_name(hpd_auth_caller(srv->auth)));
    result = m->fn(&ctx);
    cJSON_Delete(empty);
    if (ctx.pending) {
        hpd_pending *p = ctx.pending;
        p->batch = batch;
        p->slot = slot;
        p->id = notification ? NULL : cJSON_Duplicate(id, 1);
        p->next = batch->pendings;
        batch->pendings = p;
        batch->waiting++;
        return NULL;
    }
    if (notification) {
        cJSON_Delete(result);
        cJSON_Delete(ctx.data);
        return NULL;
    }
    if (!result && ctx.code == 0)
        hpd_rpc_fail(&ctx, HPD_INTERNAL_ERROR, NULL, "%s failed without a reason", m->name);
    if (ctx.code != 0) {
        cJSON_Delete(result);
        return reply(cJSON_Duplicate(id, 1), NULL, error_object(ctx.code, ctx.message, ctx.data));
    }
    return reply(cJSON_Duplicate(id, 1), result, NULL);
}

static char *batch_body(hpd_batch *b)
{
    cJSON *out;
    char *text;

    if (!b->is_batch) {
        out = b->replies[0];
        b->replies[0] = NULL;
    } else {
        out = cJSON_CreateArray();
        for (size_t i = 0; i < b->n; i++)
            if (b->replies[i]) {
                cJSON_AddItemToArray(out, b->replies[i]);
                b->replies[i] = NULL;
            }
        if (cJSON_GetArraySize(out) == 0) {
            cJSON_Delete(out);
            out = NULL;
        }
    }
    text = out ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return text;
}

static void batch_free(hpd_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        cJSON_Delete(b->replies[i]);
    free(b->replies);
    free(b);
}

hpd_batch *hpd_rpc_handle(struct hpd_server *srv, const hpd_method *methods, const char *body,
                          size_t len, char **out, hpd_rpc_done_fn done, void *ud)
{
    char why[160];
    cJSON *req;
    hpd_batch *b;
    hp_problems none = {0}, *nuls = &none; /* one list per request of a batch */

    *out = NULL;
    if (has_raw_control(body, len)) {
        *out = hpd_rpc_error_body(HPD_PARSE_ERROR, "the request is not valid JSON: it holds a "
                                                   "raw control character or NUL byte");
        return NULL;
    }
    if (hpd_rpc_check_bounds(body, len, why, sizeof(why)) != 0) {
        *out = hpd_rpc_error_body(HPD_INVALID_REQUEST, why);
        return NULL;
    }
    req = cJSON_ParseWithLength(body, len);
    if (!req) {
        *out = hpd_rpc_error_body(HPD_PARSE_ERROR, "the request is not valid JSON");
        return NULL;
    }
    if (cJSON_IsArray(req) && cJSON_GetArraySize(req) == 0) {
        cJSON_Delete(req);
        *out = hpd_rpc_error_body(HPD_INVALID_REQUEST, "an empty batch holds no request");
        return NULL;
    }
    if (cJSON_IsArray(req) && cJSON_GetArraySize(req) > HPD_MAX_BATCH) {
        cJSON_Delete(req);
        snprintf(why, sizeof(why), "a batch holds at most %d requests", HPD_MAX_BATCH);
        *out = hpd_rpc_error_body(HPD_INVALID_REQUEST, why);
        return NULL;
    }
    b = calloc(1, sizeof(*b));
    if (b) {
        b->is_batch = cJSON_IsArray(req);
        b->n = b->is_batch ? (size_t)cJSON_GetArraySize(req) : 1;
        b->replies = calloc(b->n, sizeof(*b->replies));
    }
    if (b && b->replies && memmem(body, len, "\\u0000", 6)) {
        nuls = calloc(b->n, sizeof(*nuls));
        if (nuls)
            hpd_rpc_find_nuls(body, len, nuls, b->n);
    }
    if (!b || !b->replies || !nuls) {
        free(b ? b->replies : NULL);
        free(b);
        cJSON_Delete(req);
        *out = hpd_rpc_error_body(HPD_INTERNAL_ERROR, "out of memory");
        return NULL;
    }
    if (b->is_batch) {
        size_t i = 0;
        const cJSON *r;
        cJSON_ArrayForEach (r, req)
            b->replies[i] = call_one(srv, methods, r, nuls == &none ? NULL : &nuls[i], b, i), i++;
    } else {
        b->replies[0] = call_one(srv, methods, req, nuls, b, 0);
    }
    cJSON_Delete(req);
    if (nuls != &none) {
        for (size_t i = 0; i < b->n; i++)
            hp_problems_free(&nuls[i]);
        free(nuls);
    }
    if (b->waiting > 0) {
        b->done = done;
        b->ud = ud;
        return b;
    }
    *out = batch_body(b);
    batch_free(b);
    return NULL;
}

static void pending_finish(hpd_pending *p, cJSON *r)
{
    hpd_batch *b = p->batch;
    hpd_pending **link = &b->pendings;

    while (*link != p)
        link = &(*link)->next;
    *link = p->next;
    if (p->id)
        b->replies[p->slot] = r;
    else
        cJSON_Delete(r);
    free(p);
    if (--b->waiting == 0) {
        b->done(b->ud, batch_body(b));
        batch_free(b);
    }
}

void hpd_pending_resolve(hpd_pending *p, cJSON *result)
{
    pending_finish(p, reply(p->id, result, NULL));
}

void hpd_pending_reject(hpd_pending *p, int code, cJSON *data, const char *message)
{
    pending_finish(p, reply(p->id, NULL, error_object(code, message, data)));
}

void hpd_rpc_abandon(hpd_batch *b)
{
    while (b->pendings) {
        hpd_pending *p = b->pendings;
        b->pendings = p->next;
        if (p->cancel)
            p->cancel(p, p->data);
        cJSON_Delete(p->id);
        free(p);
    }
    batch_free(b);
}
