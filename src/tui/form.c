/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's forms as data (form.h): the fields as typed, filled from a service's
 * config or a run's actions, and the edits of the action list (add, remove, move, rename,
 * depends on), plus the problems list the check fills. It draws nothing and builds
 * nothing: form_builders.c maps it onto the builders, form_check.c places their problems,
 * form_send.c says what a submit sends and sends it. */
#include "config.h"

#include "tui/form_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new string (caller frees), NULL without memory. */
char *tui__form_format(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
    char *copy = strdup(s);
    char **grown = copy ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;

    if (!grown) {
        free(copy);
        return -1;
    }
    grown[(*n)++] = copy;
    *v = grown;
    return 0;
}

static void strv_drop(char **v, size_t *n, size_t k)
{
    free(v[k]);
    memmove(&v[k], &v[k + 1], (*n - k - 1) * sizeof(*v));
    (*n)--;
}

static int strv_copy(char ***dst, size_t *dn, char *const *src, size_t n)
{
    *dst = NULL;
    *dn = 0;
    for (size_t i = 0; src && i < n; i++)
        if (src[i] && strv_push(dst, dn, src[i]) != 0)
            return -1;
    return 0;
}

static long strv_find(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return (long)i;
    return -1;
}

const char *tui_form_kind_word(tui_form_kind kind)
{
    return kind == TUI_FORM_RUN ? "run" : "service";
}

int tui_form_set(char **slot, const char *text)
{
    char *copy = strdup(text ? text : "");

    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

static void action_free(tui_form_action *a)
{
    free(a->name);
    free(a->body);
    free(a->interpreter);
    free(a->cwd);
    free(a->env);
    free(a->timeout);
    free(a->retry);
    free(a->retry_delay);
    free(a->probe_target);
    free(a->probe_interval);
    free(a->probe_timeout);
    free(a->probe_retries);
    free(a->probe_grace);
    strv_free(a->depends_on, a->n_depends_on);
    strv_free(a->tags, a->n_tags);
    memset(a, 0, sizeof(*a));
}

static int action_init(tui_form_action *a, const char *name)
{
    memset(a, 0, sizeof(*a));
    if (tui_form_set(&a->name, name) || tui_form_set(&a->body, "") ||
        tui_form_set(&a->interpreter, "") || tui_form_set(&a->cwd, "") ||
        tui_form_set(&a->env, "") || tui_form_set(&a->timeout, "") || tui_form_set(&a->retry, "") ||
        tui_form_set(&a->retry_delay, "") || tui_form_set(&a->probe_target, "") ||
        tui_form_set(&a->probe_interval, "") || tui_form_set(&a->probe_timeout, "") ||
        tui_form_set(&a->probe_retries, "") || tui_form_set(&a->probe_grace, "")) {
        action_free(a);
        return -1;
    }
    return 0;
}

void tui__form_plist_add(plist *pl, hp_problem_code code, int action, tui_field field,
                         const char *text, const char *shown, int again)
{
    tui_form_problem *grown = realloc(pl->items, (pl->n + 1) * sizeof(*grown));
    tui_form_problem p = {action, field, strdup(text), strdup(shown), again, code};

    if (grown)
        pl->items = grown;
    if (!grown || !p.text || !p.shown) {
        free(p.text);
        free(p.shown);
        pl->nomem = 1;
        return;
    }
    pl->items[pl->n++] = p;
}

void tui__form_plist_free(plist *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->items[i].text);
        free(pl->items[i].shown);
    }
    free(pl->items);
    memset(pl, 0, sizeof(*pl));
}

void tui__form_problems_clear(tui_form *f)
{
    for (size_t i = 0; i < f->n_problems; i++) {
        free(f->problems[i].text);
        free(f->problems[i].shown);
    }
    free(f->problems);
    f->problems = NULL;
    f->n_problems = 0;
}

int tui_form_init(tui_form *f, tui_form_kind kind)
{
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    if (tui_form_set(&f->name, "") || tui_form_set(&f->description, "") ||
        tui_form_set(&f->requires, "")) {
        tui_form_free(f);
        f->kind = kind;
        return -1;
    }
    return 0;
}

void tui_form_free(tui_form *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->description);
    free(f->requires);
    for (size_t i = 0; i < f->n_actions; i++)
        action_free(&f->actions[i]);
    free(f->actions);
    tui__form_problems_clear(f);
    memset(f, 0, sizeof(*f));
}

int tui_form_add_action(tui_form *f, const char *name)
{
    tui_form_action *grown = realloc(f->actions, (f->n_actions + 1) * sizeof(*grown));

    if (!grown)
        return -1;
    f->actions = grown;
    if (action_init(&f->actions[f->n_actions], name) != 0)
        return -1;
    return (int)f->n_actions++;
}

/* The number written as decimal text, "" for 0 (the form's "not set"). */
static int set_number(char **slot, long v)
{
    char text[32] = "";

    if (v != 0)
        snprintf(text, sizeof(text), "%ld", v);
    return tui_form_set(slot, text);
}

/* "KEY=VALUE\n" for each variable. */
static char *env_text(const hp_action_spec *s)
{
    size_t cap = 1, used = 0;
    char *text;

    for (size_t i = 0; s->env && i < s->n_env; i++)
        cap += strlen(s->env[i].key ? s->env[i].key : "") +
               strlen(s->env[i].value ? s->env[i].value : "") + 2;
    if (!(text = malloc(cap)))
        return NULL;
    text[0] = '\0';
    for (size_t i = 0; s->env && i < s->n_env; i++)
        used +=
            (size_t)snprintf(text + used, cap - used, "%s=%s\n", s->env[i].key ? s->env[i].key : "",
                             s->env[i].value ? s->env[i].value : "");
    return text;
}

static int add_spec(tui_form *f, const hp_action_spec *s)
{
    tui_form_action *a;
    char *env;
    int i = tui_form_add_action(f, s->name);

    if (i < 0)
        return -1;
    a = &f->actions[i];
    /* A valid spec has exactly one; with both the script wins, as a shell would run it. */
    a->is_command = s->command && !s->script;
    env = env_text(s);
    if (!env)
        return -1;
    free(a->env);
    a->env = env;
    a->restart = s->restart;
    if (tui_form_set(&a->body, a->is_command ? s->command : s->script) ||
        tui_form_set(&a->interpreter, s->interpreter) || tui_form_set(&a->cwd, s->cwd) ||
        set_number(&a->timeout, s->timeout_secs) || set_number(&a->retry, s->retry) ||
        set_number(&a->retry_delay, s->retry_delay_ms) ||
        strv_copy(&a->depends_on, &a->n_depends_on, s->depends_on, s->n_depends_on) ||
        strv_copy(&a->tags, &a->n_tags, s->tags, s->n_tags))
        return -1;
    a->probe = s->probe.kind;
    a->on_unhealthy_restart = s->on_unhealthy_restart;
    if (s->probe.kind != HP_PROBE_NONE && (tui_form_set(&a->probe_target, s->probe.target) ||
                                           set_number(&a->probe_interval, s->probe.interval_ms) ||
                                           set_number(&a->probe_timeout, s->probe.timeout_ms) ||
                                           set_number(&a->probe_retries, s->probe.retries) ||
                                           set_number(&a->probe_grace, s->probe.start_grace_ms)))
        return -1;
    return 0;
}

int tui_form_from_service(tui_form *f, const hp_service_config *cfg)
{
    if (tui_form_init(f, TUI_FORM_SERVICE) != 0)
        return -1;
    if (!cfg)
        return -1;
    f->wanted_start = cfg->wanted_start;
    if (tui_form_set(&f->name, cfg->name) || tui_form_set(&f->description, cfg->description))
        goto fail;
    for (size_t i = 0; cfg->requires && i < cfg->n_requires; i++) {
        /* One line, the names separated by a blank, as the field takes them back. */
        size_t have = strlen(f->requires), add = strlen(cfg->requires[i]);
        char *grown = realloc(f->requires, have + add + 2);
        if (!grown)
            goto fail;
        f->requires = grown;
        snprintf(grown + have, add + 2, "%s%s", have ? " " : "", cfg->requires[i]);
    }
    for (size_t i = 0; cfg->actions && i < cfg->n_actions; i++)
        if (add_spec(f, &cfg->actions[i]) != 0)
            goto fail;
    return 0;
fail:
    tui_form_free(f);
    return -1;
}

int tui_form_from_run(tui_form *f, const char *name, const hp_action_spec *actions, size_t n)
{
    if (tui_form_init(f, TUI_FORM_RUN) != 0)
        return -1;
    if (tui_form_set(&f->name, name) != 0)
        goto fail;
    for (size_t i = 0; actions && i < n; i++)
        if (add_spec(f, &actions[i]) != 0)
            goto fail;
    return 0;
fail:
    tui_form_free(f);
    return -1;
}

/* 1 when an action other than i is named name: references to that name stay valid. */
static int name_kept(const tui_form *f, size_t i, const char *name)
{
    for (size_t j = 0; j < f->n_actions; j++)
        if (j != i && strcmp(f->actions[j].name, name) == 0)
            return 1;
    return 0;
}

void tui_form_remove_action(tui_form *f, size_t i)
{
    size_t kept = 0;

    if (!f || i >= f->n_actions)
        return;
    if (!name_kept(f, i, f->actions[i].name))
        for (size_t j = 0; j < f->n_actions; j++) {
            tui_form_action *a = &f->actions[j];
            long k;
            while ((k = strv_find(a->depends_on, a->n_depends_on, f->actions[i].name)) >= 0)
                strv_drop(a->depends_on, &a->n_depends_on, (size_t)k);
        }
    action_free(&f->actions[i]);
    memmove(&f->actions[i], &f->actions[i + 1], (f->n_actions - i - 1) * sizeof(*f->actions));
    f->n_actions--;
    /* The last check's problems keep pointing at the same actions until the next one. */
    for (size_t k = 0; k < f->n_problems; k++) {
        tui_form_problem p = f->problems[k];
        if (p.action == (int)i) {
            if (k + 1 < f->n_problems && !p.again)
                f->problems[k + 1].again = 0;
            free(p.text);
            free(p.shown);
            continue;
        }
        if (p.action > (int)i)
            p.action--;
        f->problems[kept++] = p;
    }
    f->n_problems = kept;
}

int tui_form_move_action(tui_form *f, size_t i, int delta)
{
    size_t j;
    tui_form_action t;

    if (!f || i >= f->n_actions || (delta != -1 && delta != 1))
        return -1;
    if ((delta < 0 && i == 0) || (delta > 0 && i + 1 >= f->n_actions))
        return -1;
    j = delta < 0 ? i - 1 : i + 1;
    t = f->actions[i];
    f->actions[i] = f->actions[j];
    f->actions[j] = t;
    for (size_t k = 0; k < f->n_problems; k++)
        if (f->problems[k].action == (int)i)
            f->problems[k].action = (int)j;
        else if (f->problems[k].action == (int)j)
            f->problems[k].action = (int)i;
    return 0;
}

int tui_form_rename_action(tui_form *f, size_t i, const char *name)
{
    char *old, **copies = NULL;
    size_t refs = 0, used = 0;
    int follow;

    if (!f || i >= f->n_actions)
        return -1;
    if (!name)
        name = "";
    old = f->actions[i].name;
    /* With another action of the old name left, the references still name that one. */
    follow = strcmp(old, name) != 0 && !name_kept(f, i, old);
    for (size_t j = 0; follow && j < f->n_actions; j++)
        for (size_t d = 0; d < f->actions[j].n_depends_on; d++)
            refs += strcmp(f->actions[j].depends_on[d], old) == 0;
    /* Every copy first, so that running out of memory changes nothing. */
    copies = calloc(refs + 1, sizeof(*copies));
    for (size_t k = 0; copies && k <= refs; k++)
        if (!(copies[k] = strdup(name))) {
            strv_free(copies, k);
            copies = NULL;
        }
    if (!copies)
        return -1;
    for (size_t j = 0; follow && j < f->n_actions; j++) {
        tui_form_action *a = &f->actions[j];
        int has_new = strv_find(a->depends_on, a->n_depends_on, name) >= 0;
        for (size_t d = 0; d < a->n_depends_on;) {
            if (strcmp(a->depends_on[d], old) != 0) {
                d++;
            } else if (has_new) {
                strv_drop(a->depends_on, &a->n_depends_on, d);
            } else {
                free(a->depends_on[d]);
                a->depends_on[d++] = copies[used++];
                has_new = 1;
            }
        }
    }
    free(old);
    f->actions[i].name = copies[refs];
    for (size_t k = used; k < refs; k++)
        free(copies[k]);
    free(copies);
    return 0;
}

int tui_form_toggle_depends(tui_form *f, size_t i, const char *dep)
{
    tui_form_action *a;
    long k;

    if (!f || i >= f->n_actions || !dep)
        return -1;
    a = &f->actions[i];
    k = strv_find(a->depends_on, a->n_depends_on, dep);
    if (k >= 0) {
        strv_drop(a->depends_on, &a->n_depends_on, (size_t)k);
        return 0;
    }
    return strv_push(&a->depends_on, &a->n_depends_on, dep);
}

int tui_form_depends(const tui_form *f, size_t i, const char *dep)
{
    if (!f || i >= f->n_actions || !dep)
        return 0;
    return strv_find(f->actions[i].depends_on, f->actions[i].n_depends_on, dep) >= 0;
}
