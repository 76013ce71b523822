/* SPDX-License-Identifier: Apache-2.0 */
/* The problem records: their codes' wire names, adding, copying, nesting and freeing them,
 * a field's JSON pointer, error.data in and out. It decides nothing about the input. */
#include "config.h"

#include "common/spec_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const problem_wire[] = {
#define HP__PROBLEM_WIRE(code, wire) wire,
    HP_PROBLEM_TABLE(HP__PROBLEM_WIRE)
#undef HP__PROBLEM_WIRE
};

const char *hp_problem_code_name(hp_problem_code code)
{
    if ((unsigned)code >= HP_PROBLEM__COUNT)
        return problem_wire[HP_PROBLEM_INVALID];
    return problem_wire[code];
}

int hp_problem_code_parse(const char *s, hp_problem_code *out)
{
    hp_problem_code code = HP_PROBLEM_INVALID;
    int rc = -1;

    for (unsigned i = 0; s && i < HP_PROBLEM__COUNT; i++)
        if (strcmp(s, problem_wire[i]) == 0) {
            code = (hp_problem_code)i;
            rc = 0;
            break;
        }
    if (out)
        *out = code;
    return rc;
}
void hp__problem_free(hp_problem *p)
{
    free(p->path);
    free(p->message);
    hp__free_strv(p->cycle, p->n_cycle);
    memset(p, 0, sizeof(*p));
}

/* Appends *p, whose members it takes on every path (freed when it cannot be stored). */
int hp__problems_take(hp_problems *pb, hp_problem *p)
{
    hp_problem *records;
    char **items;

    if (!p->path || !p->message)
        goto fail;
    items = realloc(pb->items, (pb->count + 1) * sizeof(*items));
    if (!items)
        goto fail;
    pb->items = items;
    records = realloc(pb->records, (pb->count + 1) * sizeof(*records));
    if (!records)
        goto fail;
    pb->records = records;
    pb->records[pb->count] = *p;
    pb->items[pb->count] = p->message;
    pb->count++;
    return 0;
fail:
    hp__problem_free(p);
    return -1;
}

/* 1 when pb takes one more problem; at the limit, adds the entry that says so once. */
int hp__problems_room(hp_problems *pb)
{
    char more[96];
    hp_problem p = {.code = HP_PROBLEM_TRUNCATED};

    if (!pb || pb->count > HP_PROBLEMS_MAX)
        return 0;
    if (pb->count < HP_PROBLEMS_MAX)
        return 1;
    snprintf(more, sizeof(more), "more problems were found; only the first %d are shown",
             HP_PROBLEMS_MAX);
    p.path = hp__dup_str("");
    p.message = hp__dup_str(more);
    hp__problems_take(pb, &p);
    return 0;
}

static void problems_vadd(hp_problems *pb, hp_problem_code code, const char *path, size_t detail,
                          const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void problems_vadd(hp_problems *pb, hp_problem_code code, const char *path, size_t detail,
                          const char *fmt, va_list ap)
{
    hp_problem p = {.code = code, .detail = detail};

    if (!hp__problems_room(pb))
        return;
    p.path = hp__dup_str(path ? path : "");
    p.message = hp__vformat(fmt, ap);
    hp__problems_take(pb, &p);
}

void hp_problems_add(hp_problems *pb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    problems_vadd(pb, HP_PROBLEM_INVALID, "", 0, fmt, ap);
    va_end(ap);
}

void hp_problems_add_at(hp_problems *pb, hp_problem_code code, const char *path, const char *fmt,
                        ...)
{
    va_list ap;

    va_start(ap, fmt);
    problems_vadd(pb, code, path, 0, fmt, ap);
    va_end(ap);
}

int hp_problems_push(hp_problems *pb, const hp_problem *p)
{
    hp_problem copy = {0};

    if (!p || !p->message || !hp__problems_room(pb))
        return -1;
    copy.code = (unsigned)p->code < HP_PROBLEM__COUNT ? p->code : HP_PROBLEM_INVALID;
    copy.detail = p->detail <= strlen(p->message) ? p->detail : 0;
    copy.path = hp__dup_str(p->path ? p->path : "");
    copy.message = hp__dup_str(p->message);
    if (p->cycle && p->n_cycle &&
        hp__copy_strv(&copy.cycle, &copy.n_cycle, p->cycle, p->n_cycle) != 0) {
        hp__problem_free(&copy);
        return -1;
    }
    return hp__problems_take(pb, &copy);
}

int hp_problems_nest(hp_problems *pb, size_t from, const char *prefix)
{
    size_t plen = prefix ? strlen(prefix) : 0;

    if (!pb || plen == 0)
        return 0;
    for (size_t i = from; i < pb->count; i++) {
        size_t len = strlen(pb->records[i].path);
        char *path = malloc(plen + len + 1);
        if (!path)
            return -1;
        memcpy(path, prefix, plen);
        memcpy(path + plen, pb->records[i].path, len + 1);
        free(pb->records[i].path);
        pb->records[i].path = path;
    }
    return 0;
}

void hp_problems_free(hp_problems *pb)
{
    if (!pb)
        return;
    for (size_t i = 0; i < pb->count; i++)
        hp__problem_free(&pb->records[i]);
    free(pb->records);
    free(pb->items);
    pb->records = NULL;
    pb->items = NULL;
    pb->count = 0;
}

cJSON *hp_problems_to_json(const hp_problems *pb)
{
    cJSON *data = cJSON_CreateObject(), *list, *details;

    if (!data || !(list = cJSON_AddArrayToObject(data, "problems")) ||
        !(details = cJSON_AddArrayToObject(data, "details")))
        goto fail;
    for (size_t i = 0; pb && i < pb->count; i++) {
        const hp_problem *p = &pb->records[i];
        cJSON *s = cJSON_CreateString(p->message), *d = cJSON_CreateObject();
        if (s)
            cJSON_AddItemToArray(list, s);
        if (d)
            cJSON_AddItemToArray(details, d);
        if (!s || !d || !cJSON_AddStringToObject(d, "code", hp_problem_code_name(p->code)) ||
            !cJSON_AddStringToObject(d, "path", p->path) ||
            !cJSON_AddStringToObject(d, "message", p->message) ||
            (p->cycle && hp__add_string_array(d, "cycle", p->cycle, p->n_cycle) != 0))
            goto fail;
    }
    return data;
fail:
    cJSON_Delete(data);
    return NULL;
}

/* One element of error.data.details into pb; 0 when it was not a record. */
static int detail_from_json(const cJSON *d, hp_problems *pb)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(d, "code");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(d, "path");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(d, "message");
    const cJSON *cycle = cJSON_GetObjectItemCaseSensitive(d, "cycle"), *el;
    hp_problem p = {0};
    size_t n = 0;

    if (!cJSON_IsString(msg) || !msg->valuestring || !hp__problems_room(pb))
        return 0;
    hp_problem_code_parse(cJSON_IsString(code) ? code->valuestring : NULL, &p.code);
    p.path = hp__dup_str(cJSON_IsString(path) && path->valuestring ? path->valuestring : "");
    p.message = hp__dup_str(msg->valuestring);
    if (cJSON_IsArray(cycle) && (n = (size_t)cJSON_GetArraySize(cycle)) > 0 &&
        (p.cycle = calloc(n, sizeof(*p.cycle))) != NULL) {
        cJSON_ArrayForEach (el, cycle)
            if (cJSON_IsString(el) && el->valuestring && p.n_cycle < n &&
                (p.cycle[p.n_cycle] = hp__dup_str(el->valuestring)) != NULL)
                p.n_cycle++;
    }
    return hp__problems_take(pb, &p) == 0;
}

size_t hp_problems_from_json(const cJSON *data, hp_problems *pb)
{
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(data, "details");
    const cJSON *problems = cJSON_GetObjectItemCaseSensitive(data, "problems"), *el;
    size_t added = 0;

    if (!pb || !cJSON_IsObject(data))
        return 0;
    if (cJSON_IsArray(details) && cJSON_GetArraySize(details) > 0) {
        cJSON_ArrayForEach (el, details)
            added += (size_t)detail_from_json(el, pb);
        return added;
    }
    cJSON_ArrayForEach (el, problems)
        if (cJSON_IsString(el) && el->valuestring) {
            hp_problems_add(pb, "%s", el->valuestring);
            added++;
        }
    return added;
}

const char *hp_json_pointer_key(char *buf, size_t size, const char *prefix, const char *token)
{
    size_t used = 0;

    if (!buf || size == 0)
        return buf;
    if (prefix && buf != prefix)
        snprintf(buf, size, "%s", prefix);
    else if (!prefix)
        buf[0] = '\0';
    used = strlen(buf);
    if (used + 1 < size)
        buf[used++] = '/';
    for (const char *t = token ? token : ""; *t && used + 2 < size; t++) {
        if (*t == '~' || *t == '/') {
            buf[used++] = '~';
            buf[used++] = *t == '~' ? '0' : '1';
        } else {
            buf[used++] = *t;
        }
    }
    buf[used] = '\0';
    return buf;
}
