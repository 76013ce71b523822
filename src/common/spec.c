/* SPDX-License-Identifier: Apache-2.0 */
/* The types' lifetime (free and copy of an ActionSpec and a ServiceConfig) and their names:
 * what a valid name is, a name shown safely in a message, the restart policy's words.
 * JSON is spec_json.c's, the rules spec_validate.c's, the problems problems.c's. */
#include "config.h"

#include "common/spec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_LIMIT 64 /* characters of a shown name before it is cut */

static int is_name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

int hp_name_is_valid(const char *name)
{
    size_t i;

    if (!name)
        return 0;
    for (i = 0; name[i]; i++)
        if (i >= HP_NAME_MAX || !is_name_char((unsigned char)name[i]))
            return 0;
    /* Names become folder names (logs on disk), where these two mean something else. */
    return i > 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* The shown form of one byte in piece (5 bytes); returns its length. */
static size_t show_byte(unsigned char c, char *piece)
{
    if (c < 0x20 || c >= 0x7f) {
        snprintf(piece, 5, "\\x%02x", c);
        return 4;
    }
    if (c == '\\') {
        memcpy(piece, "\\\\", 3);
        return 2;
    }
    piece[0] = (char)c;
    piece[1] = '\0';
    return 1;
}

const char *hp_name_show(const char *s, char *buf, size_t size)
{
    const unsigned char *p;
    size_t limit, total = 0, used = 0, plen;
    char piece[5];

    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!s)
        return buf;
    limit = size - 1 < SHOW_LIMIT ? size - 1 : SHOW_LIMIT;
    for (p = (const unsigned char *)s; *p; p++)
        total += show_byte(*p, piece);
    if (total > limit)
        limit = limit >= 3 ? limit - 3 : 0; /* room for "..." */
    for (p = (const unsigned char *)s; *p; p++) {
        plen = show_byte(*p, piece);
        if (used + plen > limit)
            break;
        memcpy(buf + used, piece, plen);
        used += plen;
    }
    buf[used] = '\0';
    if (*p && size - used >= 4)
        memcpy(buf + used, "...", 4);
    return buf;
}

/* --- restart -------------------------------------------------------------------------- */

static const char *const restart_names[] = {"never", "on_failure", "always"};

const char *hp_restart_name(hp_restart r)
{
    if ((unsigned)r > HP_RESTART_ALWAYS)
        return "unknown";
    return restart_names[r];
}

int hp_restart_parse(const char *s, hp_restart *out)
{
    if (!s || !out)
        return -1;
    for (unsigned i = 0; i <= HP_RESTART_ALWAYS; i++)
        if (strcmp(s, restart_names[i]) == 0) {
            *out = (hp_restart)i;
            return 0;
        }
    return -1;
}

/* --- probe --------------------------------------------------------------------------- */

static const char *const probe_names[] = {"none", "exec", "tcp", "http"};

const char *hp_probe_kind_name(hp_probe_kind k)
{
    if ((unsigned)k > HP_PROBE_HTTP)
        return "unknown";
    return probe_names[k];
}

int hp_probe_set(hp_probe *p, hp_probe_kind kind, const char *target)
{
    if (!p)
        return -1;
    free(p->target);
    memset(p, 0, sizeof(*p));
    if (kind == HP_PROBE_NONE)
        return 0;
    if (hp__copy_str(&p->target, target) != 0)
        return -1;
    p->kind = kind;
    p->interval_ms = HP_PROBE_INTERVAL_MS;
    p->timeout_ms = HP_PROBE_TIMEOUT_MS;
    p->retries = HP_PROBE_RETRIES;
    return 0;
}

/* --- free and copy ------------------------------------------------------------------ */

void hp_action_spec_free(hp_action_spec *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->script);
    free(a->interpreter);
    free(a->command);
    free(a->cwd);
    if (a->env)
        for (size_t i = 0; i < a->n_env; i++) {
            free(a->env[i].key);
            free(a->env[i].value);
        }
    free(a->env);
    hp__free_strv(a->depends_on, a->n_depends_on);
    hp__free_strv(a->tags, a->n_tags);
    free(a->probe.target);
    memset(a, 0, sizeof(*a));
}

void hp_actions_free(hp_action_spec *actions, size_t n)
{
    if (!actions)
        return;
    for (size_t i = 0; i < n; i++)
        hp_action_spec_free(&actions[i]);
    free(actions);
}

void hp_service_config_free(hp_service_config *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->description);
    hp_actions_free(c->actions, c->n_actions);
    hp__free_strv(c->requires, c->n_requires);
    memset(c, 0, sizeof(*c));
}

int hp_action_spec_copy(hp_action_spec *dst, const hp_action_spec *src)
{
    if (!dst)
        return -1;
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return -1;
    dst->timeout_secs = src->timeout_secs;
    dst->retry = src->retry;
    dst->retry_delay_ms = src->retry_delay_ms;
    dst->restart = src->restart;
    dst->probe = src->probe;
    dst->probe.target = NULL;
    dst->on_unhealthy_restart = src->on_unhealthy_restart;
    if (hp__copy_str(&dst->probe.target, src->probe.target) ||
        hp__copy_str(&dst->name, src->name) || hp__copy_str(&dst->script, src->script) ||
        hp__copy_str(&dst->interpreter, src->interpreter) ||
        hp__copy_str(&dst->command, src->command) || hp__copy_str(&dst->cwd, src->cwd) ||
        hp__copy_strv(&dst->depends_on, &dst->n_depends_on, src->depends_on, src->n_depends_on) ||
        hp__copy_strv(&dst->tags, &dst->n_tags, src->tags, src->n_tags))
        goto fail;
    if (src->env && src->n_env) {
        dst->env = calloc(src->n_env, sizeof(*dst->env));
        if (!dst->env)
            goto fail;
        dst->n_env = src->n_env;
        for (size_t i = 0; i < src->n_env; i++)
            if (hp__copy_str(&dst->env[i].key, src->env[i].key) ||
                hp__copy_str(&dst->env[i].value, src->env[i].value))
                goto fail;
    }
    return 0;
fail:
    hp_action_spec_free(dst);
    return -1;
}
