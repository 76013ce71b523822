/* SPDX-License-Identifier: Apache-2.0 */
/* ActionSpec and ServiceConfig from JSON (strict for requests, lenient for a server's answers)
 * and back. It checks types and representability only; the rules are hp_spec_validate's. */
#include "config.h"

#include "common/spec_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_STORABLE 1e9 /* JSON numbers beyond this are out of every bound */

/* --- JSON parse ----------------------------------------------------------------------- */

/* The item of key, or NULL when it is absent or JSON null (both mean "not set"). */
static const cJSON *field(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    return it && !cJSON_IsNull(it) ? it : NULL;
}

static void oom(reporter *r)
{
    hp__report(r, HP_PROBLEM_NO_MEMORY, "", NULL, "out of memory while reading the JSON");
}

static const char *const action_fields[] = {
    "name",    "script",       "interpreter", "command",      "cwd",
    "env",     "timeout_secs", "depends_on",  "retry",        "retry_delay_ms",
    "restart", "tags",         "probe",       "on_unhealthy", NULL};
static const char *const probe_fields[] = {"exec",       "tcp",     "http",           "interval_ms",
                                           "timeout_ms", "retries", "start_grace_ms", NULL};
static const char *const config_fields[] = {"name",   "description", "actions",
                                            "wanted", "requires",    NULL};

/* Levenshtein distance, cut off at 3: only "close" matters here. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[HP_NAME_MAX + 1];

    if (la > HP_NAME_MAX || lb > HP_NAME_MAX || (la > lb ? la - lb : lb - la) > 2)
        return 3;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] < 3 ? row[lb] : 3;
}

/* The known field a typo most likely meant: within two edits, or a prefix either way. */
static const char *closest_field(const char *key, const char *const *known)
{
    const char *best = NULL;
    size_t best_d = 3;

    for (; *known; known++) {
        size_t d = edit_distance(key, *known);
        if (d == 3 && *key &&
            (strncmp(key, *known, strlen(key)) == 0 || strncmp(key, *known, strlen(*known)) == 0))
            d = 2;
        if (d < best_d) {
            best_d = d;
            best = *known;
        }
    }
    return best;
}

/* The design refuses fields it does not define: a typo such as "timeout_sec" would
 * otherwise be stored and silently do nothing. path is "" or "actions[0]." */
static void check_fields(reporter *r, const char *who, size_t pos, const char *path,
                         const cJSON *obj, const char *const *known)
{
    const cJSON *it;
    char shown[HP_NAME_SHOW_SIZE];
    where w;

    if (r->lenient)
        return;
    cJSON_ArrayForEach (it, obj) {
        const char *const *k = known;
        const char *key = it->string ? it->string : "", *meant;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (*k)
            continue;
        char at[HP_NAME_SHOW_SIZE + 48] = "";
        hp_name_show(key, shown, sizeof(shown));
        if (*path)
            snprintf(at, sizeof(at), " (at %s%s)", path, shown);
        meant = closest_field(key, known);
        hp__where_action(&w, pos, NULL);
        hp__report(r, HP_PROBLEM_FIELD_UNKNOWN, hp__where_key(&w, key), who,
                   "unknown field '%s'%s%s%s%s", shown, at, meant ? "; did you mean " : "",
                   meant ? meant : "", meant ? "?" : "");
    }
}

static void get_string(reporter *r, const char *who, size_t pos, const cJSON *obj, const char *key,
                       char **out)
{
    const cJSON *it = field(obj, key);
    where w;

    if (!it)
        return;
    if (!cJSON_IsString(it) || !it->valuestring) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, hp__where_action(&w, pos, key), who,
                   "%s must be a string", key);
        return;
    }
    if (hp__copy_str(out, it->valuestring) != 0)
        oom(r);
}

/* Stores integers within +-NUMBER_STORABLE; beyond that the bounds are the message. */
static void get_integer(reporter *r, const char *who, size_t pos, const cJSON *obj, const char *key,
                        long max, long *out)
{
    const cJSON *it = field(obj, key);
    double d;
    long long v;
    where w;

    if (!it)
        return;
    hp__where_action(&w, pos, key);
    if (!cJSON_IsNumber(it)) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, w.s, who, "%s must be an integer", key);
        return;
    }
    d = it->valuedouble;
    if (!(d >= -NUMBER_STORABLE && d <= NUMBER_STORABLE)) {
        hp__report(r, HP_PROBLEM_VALUE_RANGE, w.s, who, "%s must be between 0 and %ld", key, max);
        return;
    }
    v = (long long)d;
    if ((double)v != d) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, w.s, who, "%s must be an integer", key);
        return;
    }
    *out = (long)v;
}

static void get_string_array(reporter *r, const char *who, size_t pos, const cJSON *obj,
                             const char *key, char ***out, size_t *n)
{
    const cJSON *it = field(obj, key), *el;
    size_t count = 0;
    where w;

    if (!it)
        return;
    hp__where_action(&w, pos, key);
    if (!cJSON_IsArray(it)) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, w.s, who, "%s must be an array of strings", key);
        return;
    }
    cJSON_ArrayForEach (el, it) {
        if (!cJSON_IsString(el) || !el->valuestring) {
            hp__report(r, HP_PROBLEM_FIELD_TYPE, hp__where_index(&w, count), who,
                       "%s must be an array of strings", key);
            return;
        }
        count++;
    }
    if (count == 0)
        return;
    *out = calloc(count, sizeof(**out));
    if (!*out) {
        oom(r);
        return;
    }
    *n = count;
    count = 0;
    cJSON_ArrayForEach (el, it) {
        if (hp__copy_str(&(*out)[count++], el->valuestring) != 0) {
            oom(r);
            return;
        }
    }
}

static void get_env(reporter *r, const char *who, size_t pos, const cJSON *obj, hp_action_spec *out)
{
    const cJSON *it = field(obj, "env"), *el;
    char shown[HP_NAME_SHOW_SIZE];
    size_t count = 0;
    int bad = 0;
    where w;

    if (!it)
        return;
    if (!cJSON_IsObject(it)) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, hp__where_action(&w, pos, "env"), who,
                   "env must be an object");
        return;
    }
    cJSON_ArrayForEach (el, it) {
        if (!cJSON_IsString(el) || !el->valuestring) {
            hp__where_action(&w, pos, "env");
            hp__report(r, HP_PROBLEM_FIELD_TYPE, hp__where_key(&w, el->string), who,
                       "env value of '%s' must be a string",
                       hp_name_show(el->string, shown, sizeof(shown)));
            bad = 1;
        }
        count++;
    }
    if (bad || count == 0)
        return;
    out->env = calloc(count, sizeof(*out->env));
    if (!out->env) {
        oom(r);
        return;
    }
    out->n_env = count;
    count = 0;
    cJSON_ArrayForEach (el, it) {
        hp_env_var *e = &out->env[count++];
        if (hp__copy_str(&e->key, el->string ? el->string : "") != 0 ||
            hp__copy_str(&e->value, el->valuestring) != 0) {
            oom(r);
            return;
        }
    }
}

/* A number of the probe object into *out; its path is /actions/N/probe/<key>. */
static void get_probe_number(reporter *r, const char *who, size_t pos, const cJSON *obj,
                             const char *key, long *out)
{
    const cJSON *it = field(obj, key);
    where w;

    if (!it)
        return;
    hp__where_action(&w, pos, "probe");
    hp__where_key(&w, key);
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(long long)it->valuedouble) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, w.s, who, "probe %s must be an integer", key);
        return;
    }
    if (!(it->valuedouble >= -NUMBER_STORABLE && it->valuedouble <= NUMBER_STORABLE)) {
        hp__report(r, HP_PROBLEM_VALUE_RANGE, w.s, who, "probe %s is out of range", key);
        return;
    }
    *out = (long)it->valuedouble;
}

/* probe: {"exec"|"tcp"|"http": target, interval_ms, timeout_ms, retries, start_grace_ms};
 * the numbers left out take their defaults. More than one kind is hp_spec_validate's to
 * refuse: the parse keeps the first and counts them in kinds. */
static void parse_probe(reporter *r, const char *who, size_t pos, const cJSON *json,
                        hp_action_spec *out)
{
    static const hp_probe_kind kinds[] = {HP_PROBE_EXEC, HP_PROBE_TCP, HP_PROBE_HTTP};
    const cJSON *it = field(json, "probe"), *el;
    hp_probe *p = &out->probe;
    long number;
    int given = 0;
    where w;

    if (!it)
        return;
    hp__where_action(&w, pos, "probe");
    if (!cJSON_IsObject(it)) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, w.s, who, "probe must be an object");
        return;
    }
    for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
        const char *name = hp_probe_kind_name(kinds[k]);
        const cJSON *t = field(it, name);
        if (!t)
            continue;
        given++;
        if (!cJSON_IsString(t) || !t->valuestring) {
            hp__where_action(&w, pos, "probe");
            hp__report(r, HP_PROBLEM_FIELD_TYPE, hp__where_key(&w, name), who,
                       "probe %s must be a string", name);
            continue;
        }
        if (given == 1 && hp_probe_set(p, kinds[k], t->valuestring) != 0)
            oom(r);
    }
    if (given > 1) {
        hp__where_action(&w, pos, "probe");
        hp__report(r, HP_PROBLEM_VALUE_CHOICE, w.s, who,
                   "probe must have exactly one of exec, tcp, http (got %d)", given);
    } else if (given == 0) {
        hp__where_action(&w, pos, "probe");
        hp__report(r, HP_PROBLEM_VALUE_MISSING, hp__where_key(&w, "exec"), who,
                   "probe needs one of exec, tcp, http");
    }
    get_probe_number(r, who, pos, it, "interval_ms", &p->interval_ms);
    get_probe_number(r, who, pos, it, "timeout_ms", &p->timeout_ms);
    number = p->retries;
    get_probe_number(r, who, pos, it, "retries", &number);
    p->retries = (int)number;
    get_probe_number(r, who, pos, it, "start_grace_ms", &p->start_grace_ms);
    if (r->lenient)
        return;
    cJSON_ArrayForEach (el, it) {
        const char *const *k = probe_fields, *key = el->string ? el->string : "";
        char shown[HP_NAME_SHOW_SIZE];
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (*k)
            continue;
        hp__where_action(&w, pos, "probe");
        hp__report(r, HP_PROBLEM_FIELD_UNKNOWN, hp__where_key(&w, key), who,
                   "unknown probe field '%s'", hp_name_show(key, shown, sizeof(shown)));
    }
}

/* position is 1-based in an actions array, 0 for a lone action. */
static void parse_action(reporter *r, const cJSON *json, hp_action_spec *out, size_t position)
{
    label l;
    const char *who;
    const cJSON *it;
    long number;
    char path[40] = "";
    where w;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(json)) {
        hp__report_by(r, HP_PROBLEM_FIELD_TYPE, hp__where_action(&w, position, NULL),
                      hp__action_label(&l, NULL, position), "must be an object");
        return;
    }
    it = field(json, "name");
    if (it && (!cJSON_IsString(it) || !it->valuestring))
        hp__report(r, HP_PROBLEM_FIELD_TYPE, hp__where_action(&w, position, "name"),
                   hp__action_label(&l, NULL, position), "name must be a string");
    else if (it && hp__copy_str(&out->name, it->valuestring) != 0)
        oom(r);
    who = hp__action_label(&l, out->name, position);
    get_string(r, who, position, json, "script", &out->script);
    get_string(r, who, position, json, "interpreter", &out->interpreter);
    get_string(r, who, position, json, "command", &out->command);
    get_string(r, who, position, json, "cwd", &out->cwd);
    get_env(r, who, position, json, out);
    get_integer(r, who, position, json, "timeout_secs", HP_TIMEOUT_MAX_SECS, &out->timeout_secs);
    get_string_array(r, who, position, json, "depends_on", &out->depends_on, &out->n_depends_on);
    number = 0;
    get_integer(r, who, position, json, "retry", HP_RETRY_MAX, &number);
    out->retry = (int)number;
    get_integer(r, who, position, json, "retry_delay_ms", HP_RETRY_DELAY_MAX_MS,
                &out->retry_delay_ms);
    it = field(json, "restart");
    hp__where_action(&w, position, "restart");
    if (it && (!cJSON_IsString(it) || !it->valuestring)) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, w.s, who, "restart must be a string");
    } else if (it && hp_restart_parse(it->valuestring, &out->restart) != 0) {
        char shown[HP_NAME_SHOW_SIZE];
        hp__report(r, HP_PROBLEM_VALUE_CHOICE, w.s, who,
                   "restart must be one of never, on_failure, always (got '%s')",
                   hp_name_show(it->valuestring, shown, sizeof(shown)));
    }
    get_string_array(r, who, position, json, "tags", &out->tags, &out->n_tags);
    parse_probe(r, who, position, json, out);
    it = field(json, "on_unhealthy");
    hp__where_action(&w, position, "on_unhealthy");
    if (it && (!cJSON_IsString(it) || !it->valuestring))
        hp__report(r, HP_PROBLEM_FIELD_TYPE, w.s, who, "on_unhealthy must be a string");
    else if (it && strcmp(it->valuestring, "restart") == 0)
        out->on_unhealthy_restart = 1;
    else if (it && strcmp(it->valuestring, "none") != 0)
        hp__report(r, HP_PROBLEM_VALUE_CHOICE, w.s, who,
                   "on_unhealthy must be one of none, restart");
    if (position)
        snprintf(path, sizeof(path), "actions[%zu].", position - 1);
    check_fields(r, who, position, path, json, action_fields);
}

int hp_action_spec_from_json(const cJSON *json, hp_action_spec *out, const char *owner,
                             hp_problems *pb)
{
    reporter r = {pb, 0, owner, 0};

    if (!out)
        return -1;
    parse_action(&r, json, out, 0);
    return r.found ? -1 : 0;
}

static void parse_actions(reporter *r, const cJSON *array, hp_action_spec **out, size_t *n)
{
    const cJSON *el;
    int size;

    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(array)) {
        hp__report(r, HP_PROBLEM_FIELD_TYPE, "/actions", NULL, "actions must be an array");
        return;
    }
    size = cJSON_GetArraySize(array);
    if (size <= 0)
        return;
    *out = calloc((size_t)size, sizeof(**out));
    if (!*out) {
        oom(r);
        return;
    }
    cJSON_ArrayForEach (el, array) {
        if (*n == (size_t)size)
            break;
        parse_action(r, el, &(*out)[*n], *n + 1);
        (*n)++;
    }
}

static int actions_from_json(const cJSON *array, hp_action_spec **out, size_t *n, const char *owner,
                             int lenient, hp_problems *pb)
{
    reporter r = {pb, 0, owner, lenient};

    if (!out || !n)
        return -1;
    parse_actions(&r, array, out, n);
    return r.found ? -1 : 0;
}

int hp_actions_from_json(const cJSON *array, hp_action_spec **out, size_t *n, const char *owner,
                         hp_problems *pb)
{
    return actions_from_json(array, out, n, owner, 0, pb);
}

int hp_actions_from_json_lenient(const cJSON *array, hp_action_spec **out, size_t *n,
                                 hp_problems *pb)
{
    return actions_from_json(array, out, n, NULL, 1, pb);
}

static int config_from_json(const cJSON *json, hp_service_config *out, int lenient, hp_problems *pb)
{
    label owner;
    reporter r = {pb, 0, NULL, lenient};
    const cJSON *it;

    if (!out)
        return -1;
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(json)) {
        hp__report_raw(&r, HP_PROBLEM_FIELD_TYPE, "", "service config must be an object");
        return -1;
    }
    it = field(json, "name");
    if (it && (!cJSON_IsString(it) || !it->valuestring))
        hp__report_raw(&r, HP_PROBLEM_FIELD_TYPE, "/name", "service name must be a string");
    else if (it && hp__copy_str(&out->name, it->valuestring) != 0)
        oom(&r);
    r.owner = hp__owner_label(&owner, "service", out->name);
    it = field(json, "description");
    if (it && (!cJSON_IsString(it) || !it->valuestring))
        hp__report(&r, HP_PROBLEM_FIELD_TYPE, "/description", NULL, "description must be a string");
    else if (it && hp__copy_str(&out->description, it->valuestring) != 0)
        oom(&r);
    it = field(json, "actions");
    if (it)
        parse_actions(&r, it, &out->actions, &out->n_actions);
    it = field(json, "wanted");
    if (it) {
        if (cJSON_IsString(it) && it->valuestring && strcmp(it->valuestring, "start") == 0)
            out->wanted_start = 1;
        else if (!cJSON_IsString(it) || !it->valuestring || strcmp(it->valuestring, "stop") != 0)
            hp__report(&r, HP_PROBLEM_VALUE_CHOICE, "/wanted", NULL,
                       "wanted must be 'start' or 'stop'");
    }
    get_string_array(&r, NULL, 0, json, "requires", &out->requires, &out->n_requires);
    check_fields(&r, NULL, 0, "", json, config_fields);
    return r.found ? -1 : 0;
}

int hp_service_config_from_json(const cJSON *json, hp_service_config *out, hp_problems *pb)
{
    return config_from_json(json, out, 0, pb);
}

int hp_service_config_from_json_lenient(const cJSON *json, hp_service_config *out, hp_problems *pb)
{
    return config_from_json(json, out, 1, pb);
}

/* --- JSON emit ------------------------------------------------------------------------ */

static int add_string(cJSON *obj, const char *key, const char *value)
{
    if (!value)
        return 0;
    return cJSON_AddStringToObject(obj, key, value) ? 0 : -1;
}

static int add_number(cJSON *obj, const char *key, long value)
{
    if (value == 0)
        return 0;
    return cJSON_AddNumberToObject(obj, key, (double)value) ? 0 : -1;
}
cJSON *hp_json_add_int(cJSON *o, const char *key, int64_t v)
{
    char digits[24];
    char *p = digits + sizeof(digits) - 1;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    *p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    return cJSON_AddRawToObject(o, key, p);
}

cJSON *hp_action_spec_to_json(const hp_action_spec *a)
{
    cJSON *o, *env;

    if (!a)
        return NULL;
    o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!(a->name ? cJSON_AddStringToObject(o, "name", a->name) : cJSON_AddNullToObject(o, "name")))
        goto fail;
    if (add_string(o, "script", a->script) || add_string(o, "interpreter", a->interpreter) ||
        add_string(o, "command", a->command) || add_string(o, "cwd", a->cwd))
        goto fail;
    if (a->env && a->n_env) {
        env = cJSON_AddObjectToObject(o, "env");
        if (!env)
            goto fail;
        for (size_t i = 0; i < a->n_env; i++) {
            const hp_env_var *e = &a->env[i];
            if (!e->key)
                continue;
            if (!(e->value ? cJSON_AddStringToObject(env, e->key, e->value)
                           : cJSON_AddNullToObject(env, e->key)))
                goto fail;
        }
    }
    if (add_number(o, "timeout_secs", a->timeout_secs) ||
        hp__add_string_array(o, "depends_on", a->depends_on, a->n_depends_on) ||
        add_number(o, "retry", a->retry) || add_number(o, "retry_delay_ms", a->retry_delay_ms))
        goto fail;
    if (a->restart != HP_RESTART_NEVER &&
        !cJSON_AddStringToObject(o, "restart", hp_restart_name(a->restart)))
        goto fail;
    if (hp__add_string_array(o, "tags", a->tags, a->n_tags))
        goto fail;
    if (a->probe.kind != HP_PROBE_NONE) {
        cJSON *p = cJSON_AddObjectToObject(o, "probe");
        if (!p || add_string(p, hp_probe_kind_name(a->probe.kind), a->probe.target) ||
            !cJSON_AddNumberToObject(p, "interval_ms", (double)a->probe.interval_ms) ||
            !cJSON_AddNumberToObject(p, "timeout_ms", (double)a->probe.timeout_ms) ||
            !cJSON_AddNumberToObject(p, "retries", a->probe.retries) ||
            !cJSON_AddNumberToObject(p, "start_grace_ms", (double)a->probe.start_grace_ms))
            goto fail;
    }
    if (a->on_unhealthy_restart && !cJSON_AddStringToObject(o, "on_unhealthy", "restart"))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

cJSON *hp_service_config_to_json(const hp_service_config *c)
{
    cJSON *o, *arr;

    if (!c)
        return NULL;
    o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!(c->name ? cJSON_AddStringToObject(o, "name", c->name) : cJSON_AddNullToObject(o, "name")))
        goto fail;
    if (add_string(o, "description", c->description))
        goto fail;
    arr = cJSON_AddArrayToObject(o, "actions");
    if (!arr)
        goto fail;
    for (size_t i = 0; c->actions && i < c->n_actions; i++) {
        cJSON *a = hp_action_spec_to_json(&c->actions[i]);
        if (!a)
            goto fail;
        cJSON_AddItemToArray(arr, a);
    }
    if (!cJSON_AddStringToObject(o, "wanted", c->wanted_start ? "start" : "stop") ||
        hp__add_string_array(o, "requires", c->requires, c->n_requires))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}
