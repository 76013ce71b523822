/* SPDX-License-Identifier: Apache-2.0 */
/* The contexts file: read strictly (an unknown key is an error, so a typo never silently
 * points a command at the wrong host), written whole through a rename, and turned into
 * an endpoint for the SDK. Every error names the file. */
#include "client/context.h"
#include "common/file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_FILE = 1 << 20 };

static const char *const context_keys[] = {"name", "url", "socket", "token_file", "pin", "cacert"};

static char *dup_str(const char *s)
{
    size_t n;
    char *d;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static char *env_dir(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? dup_str(v) : NULL;
}

char *hp_contexts_path(void)
{
    char *base = env_dir("XDG_CONFIG_HOME"), *path;
    const char *home = getenv("HOME");
    size_t n;

    if (!base) {
        const char *h = home && *home ? home : "/tmp";
        n = strlen(h) + sizeof("/.config");
        base = malloc(n);
        if (!base)
            return NULL;
        snprintf(base, n, "%s/.config", h);
    }
    n = strlen(base) + sizeof("/hero_proc/contexts.json");
    path = malloc(n);
    if (path)
        snprintf(path, n, "%s/hero_proc/contexts.json", base);
    free(base);
    return path;
}

static void context_free(hp_context *c)
{
    free(c->name);
    free(c->url);
    free(c->socket);
    free(c->token_file);
    free(c->pin);
    free(c->cacert);
    memset(c, 0, sizeof(*c));
}

void hp_contexts_clear(hp_contexts *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++)
        context_free(&c->items[i]);
    free(c->items);
    free(c->path);
    free(c->current);
    memset(c, 0, sizeof(*c));
}

hp_context *hp_contexts_find(const hp_contexts *c, const char *name)
{
    for (size_t i = 0; name && i < c->count; i++)
        if (strcmp(c->items[i].name, name) == 0)
            return &c->items[i];
    return NULL;
}

static char **field(hp_context *c, const char *key)
{
    char **fields[] = {&c->name, &c->url, &c->socket, &c->token_file, &c->pin, &c->cacert};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(context_keys[i], key) == 0)
            return fields[i];
    return NULL;
}

/* Checks what every context needs, for the file and for `context add` alike. */
static hp_status check_context(const hp_context *c, const char *where, hp_status code,
                               hp_error *err)
{
    if (!c->name || !*c->name)
        return hp_error_set(err, code, "%s: a context needs a \"name\"", where);
    if (strcmp(c->name, "local") == 0)
        return hp_error_set(err, code,
                            "%s: \"local\" is the default socket and cannot be redefined", where);
    if (!c->url == !c->socket)
        return hp_error_set(err, code,
                            "%s: context '%s' needs exactly one of \"url\" and \"socket\"", where,
                            c->name);
    if (c->url && strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
        return hp_error_set(err, code,
                            "%s: context '%s': the url must start with https:// or "
                            "http://",
                            where, c->name);
    if (c->pin && strncmp(c->pin, "sha256//", 8) != 0)
        return hp_error_set(err, code, "%s: context '%s': the pin must look like sha256//BASE64",
                            where, c->name);
    return HP_OK;
}

static hp_status parse_context(const cJSON *obj, const char *path, size_t index, hp_context *out,
                               hp_error *err)
{
    const cJSON *it;

    if (!cJSON_IsObject(obj))
        return hp_error_set(err, HP_E_PARSE, "%s: contexts[%zu] is not an object", path, index);
    cJSON_ArrayForEach (it, obj) {
        char **slot = field(out, it->string);
        if (!slot)
            return hp_error_set(err, HP_E_PARSE,
                                "%s: contexts[%zu] has an unknown key \"%s\" (known: name, url, "
                                "socket, token_file, pin, cacert)",
                                path, index, it->string);
        if (!cJSON_IsString(it))
            return hp_error_set(err, HP_E_PARSE, "%s: contexts[%zu].%s must be a string", path,
                                index, it->string);
        free(*slot);
        if (!(*slot = dup_str(it->valuestring)))
            return hp_error_set_code(err, HP_E_NOMEM);
    }
    return check_context(out, path, HP_E_PARSE, err);
}

static char *read_file(const char *path, int *missing, hp_error *err)
{
    char *buf = hp__read_small_file(path, MAX_FILE, NULL);

    *missing = !buf && errno == ENOENT;
    if (!buf)
        hp_error_set_errno(err, errno == EFBIG ? HP_E_PARSE : HP_E_SYSTEM, errno,
                           "cannot read the contexts file %s", path);
    return buf;
}

hp_status hp_contexts_load(const char *path, int must_exist, hp_contexts *out, hp_error *err)
{
    cJSON *root = NULL;
    const cJSON *it, *list = NULL;
    char *text;
    int missing = 0;
    hp_status st = HP_OK;

    memset(out, 0, sizeof(*out));
    out->path = path ? dup_str(path) : hp_contexts_path();
    if (!out->path)
        return hp_error_set_code(err, HP_E_NOMEM);
    text = read_file(out->path, &missing, err);
    if (!text) {
        if (missing && !must_exist) {
            hp_error_clear(err);
            return HP_OK;
        }
        if (missing)
            hp_error_set(err, HP_E_SYSTEM,
                         "there is no contexts file %s (add one with "
                         "hero_proc context add)",
                         out->path);
        st = err ? err->code : HP_E_SYSTEM;
        goto out;
    }
    root = cJSON_Parse(text);
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        st = hp_error_set(err, HP_E_PARSE, "%s is not a JSON object", out->path);
        goto out;
    }
    cJSON_ArrayForEach (it, root) {
        if (strcmp(it->string, "current") == 0 && (cJSON_IsString(it) || cJSON_IsNull(it))) {
            free(out->current);
            out->current = cJSON_IsString(it) ? dup_str(it->valuestring) : NULL;
        } else if (strcmp(it->string, "contexts") == 0 && cJSON_IsArray(it)) {
            list = it;
        } else if (strcmp(it->string, "current") == 0 || strcmp(it->string, "contexts") == 0) {
            st = hp_error_set(err, HP_E_PARSE, "%s: \"%s\" must be %s", out->path, it->string,
                              it->string[1] == 'u' ? "a string" : "an array");
            goto out;
        } else {
            st = hp_error_set(err, HP_E_PARSE,
                              "%s has an unknown key \"%s\" (known: current, contexts)", out->path,
                              it->string);
            goto out;
        }
    }
    if (list) {
        size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
        out->items = calloc(n ? n : 1, sizeof(*out->items));
        if (!out->items) {
            st = hp_error_set_code(err, HP_E_NOMEM);
            goto out;
        }
        cJSON_ArrayForEach (it, list) {
            if ((st = parse_context(it, out->path, i, &out->items[i], err)) != HP_OK) {
                out->count = i + 1;
                goto out;
            }
            if (hp_contexts_find(out, out->items[i].name)) {
                out->count = i + 1;
                st = hp_error_set(err, HP_E_PARSE, "%s: context '%s' is defined twice", out->path,
                                  out->items[i].name);
                goto out;
            }
            out->count = ++i;
        }
    }
    if (out->current && strcmp(out->current, "local") != 0 && !hp_contexts_find(out, out->current))
        st = hp_error_set(err, HP_E_PARSE, "%s: the current context '%s' is not defined", out->path,
                          out->current);
out:
    cJSON_Delete(root);
    if (st != HP_OK)
        hp_contexts_clear(out);
    return st;
}

static int make_parent(const char *path)
{
    char *dir = dup_str(path), *p;
    int rc = 0;

    if (!dir)
        return -1;
    for (p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    free(dir);
    return rc;
}

hp_status hp_contexts_save(const hp_contexts *c, hp_error *err)
{
    cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "contexts");
    char *text = NULL, *tmp = NULL;
    size_t n;
    int fd = -1;
    hp_status st = HP_OK;

    if (!root || !list || (c->current && !cJSON_AddStringToObject(root, "current", c->current))) {
        st = hp_error_set_code(err, HP_E_NOMEM);
        goto out;
    }
    for (size_t i = 0; i < c->count; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            st = hp_error_set_code(err, HP_E_NOMEM);
            goto out;
        }
        for (size_t k = 0; k < sizeof(context_keys) / sizeof(context_keys[0]); k++) {
            char **v = field(&c->items[i], context_keys[k]);
            if (*v && !cJSON_AddStringToObject(o, context_keys[k], *v)) {
                st = hp_error_set_code(err, HP_E_NOMEM);
                goto out;
            }
        }
    }
    text = cJSON_Print(root);
    n = strlen(c->path) + 5;
    tmp = malloc(n);
    if (!text || !tmp) {
        st = hp_error_set_code(err, HP_E_NOMEM);
        goto out;
    }
    snprintf(tmp, n, "%s.tmp", c->path);
    if (make_parent(c->path) != 0 ||
        (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
        write(fd, text, strlen(text)) != (ssize_t)strlen(text) || write(fd, "\n", 1) != 1 ||
        fsync(fd) != 0 || rename(tmp, c->path) != 0) {
        st = hp_error_set_errno(err, HP_E_SYSTEM, errno, "cannot write the contexts file %s",
                                c->path);
        unlink(tmp);
    }
out:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(text);
    cJSON_Delete(root);
    return st;
}

hp_status hp_contexts_add(hp_contexts *c, const hp_context *ctx, hp_error *err)
{
    hp_context copy = {0}, *grown;
    hp_status st = check_context(ctx, "context add", HP_E_USAGE, err);

    if (st != HP_OK)
        return st;
    if (hp_contexts_find(c, ctx->name))
        return hp_error_set(err, HP_E_CONFLICT, "context '%s' exists in %s; remove it first",
                            ctx->name, c->path);
    for (size_t k = 0; k < sizeof(context_keys) / sizeof(context_keys[0]); k++) {
        char **from = field((hp_context *)(uintptr_t)ctx, context_keys[k]);
        char **to = field(&copy, context_keys[k]);
        if (*from && !(*to = dup_str(*from))) {
            context_free(&copy);
            return hp_error_set_code(err, HP_E_NOMEM);
        }
    }
    grown = realloc(c->items, (c->count + 1) * sizeof(*grown));
    if (!grown) {
        context_free(&copy);
        return hp_error_set_code(err, HP_E_NOMEM);
    }
    c->items = grown;
    c->items[c->count++] = copy;
    return HP_OK;
}

hp_status hp_contexts_remove(hp_contexts *c, const char *name, hp_error *err)
{
    hp_context *found = hp_contexts_find(c, name);
    size_t i;

    if (!found)
        return hp_error_set(err, HP_E_NOT_FOUND, "no context '%s' in %s", name, c->path);
    i = (size_t)(found - c->items);
    context_free(found);
    memmove(&c->items[i], &c->items[i + 1], (c->count - i - 1) * sizeof(*c->items));
    c->count--;
    if (c->current && strcmp(c->current, name) == 0) {
        free(c->current);
        c->current = NULL;
    }
    return HP_OK;
}

/* The first line of a token file. */
static hp_status read_token(const char *path, const char *ctx, char **out, hp_error *err)
{
    char buf[512];
    FILE *f = fopen(path, "re");

    if (!f)
        return hp_error_set_errno(err, HP_E_SYSTEM, errno,
                                  "cannot read the token file %s of context '%s'", path, ctx);
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0])
        return hp_error_set(err, HP_E_SYSTEM, "the token file %s of context '%s' is empty", path,
                            ctx);
    *out = dup_str(buf);
    return *out ? HP_OK : hp_error_set_code(err, HP_E_NOMEM);
}

hp_status hp__context_endpoint(const char *name, hp_endpoint *out, hp_error *err)
{
    hp_contexts all;
    const hp_context *c;
    hp_status st;

    if (name && strcmp(name, "local") == 0)
        return HP_OK;
    st = hp_contexts_load(NULL, name != NULL, &all, err);
    if (st != HP_OK)
        return st;
    if (!name)
        name = all.current;
    if (!name || strcmp(name, "local") == 0) {
        hp_contexts_clear(&all);
        return HP_OK;
    }
    c = hp_contexts_find(&all, name);
    if (!c) {
        st = hp_error_set(err, HP_E_USAGE, "no context '%s' in %s (hero_proc context list)", name,
                          all.path);
        hp_contexts_clear(&all);
        return st;
    }
    out->context = dup_str(c->name);
    out->socket_path = dup_str(c->socket);
    out->url = dup_str(c->url);
    out->pin = dup_str(c->pin);
    out->cacert = dup_str(c->cacert);
    if (!out->context || (c->socket && !out->socket_path) || (c->url && !out->url) ||
        (c->pin && !out->pin) || (c->cacert && !out->cacert))
        st = hp_error_set_code(err, HP_E_NOMEM);
    else if (c->token_file)
        st = read_token(c->token_file, c->name, &out->token, err);
    hp_contexts_clear(&all);
    if (st != HP_OK) {
        /* Freed here, not by endpoint.c's clear: endpoint.c calls this file, not back. */
        char **fields[] = {&out->context, &out->socket_path, &out->url,
                           &out->pin,     &out->cacert,      &out->token};
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            free(*fields[i]);
            *fields[i] = NULL;
        }
    }
    return st;
}
