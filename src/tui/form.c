/* The dashboard's forms as data (form.h): the fields as typed, their mapping onto the
 * builders, the problems of a check attributed to fields by the paths of the builders'
 * problem records, and the request and hero_proc command a submit stands for. It draws
 * nothing, keeps no rule of its own that the builders do not apply (the numbers and env
 * lines it cannot pass on are the exception), and talks to a server only in submit. */
#include "config.h"

#include "tui/form.h"

#include "client/sdk.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "service '<name as shown>'" */
#define OWNER_SIZE (HP_NAME_SHOW_SIZE + 16)

/* ---- strings ------------------------------------------------------------------------ */

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new string (caller frees), NULL without memory. */
static char *format(const char *fmt, ...)
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

/* ---- the form ------------------------------------------------------------------------ */

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
        tui_form_set(&a->retry_delay, "")) {
        action_free(a);
        return -1;
    }
    return 0;
}

static void problems_clear(tui_form *f)
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
    if (tui_form_set(&f->name, "") || tui_form_set(&f->description, "")) {
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
    for (size_t i = 0; i < f->n_actions; i++)
        action_free(&f->actions[i]);
    free(f->actions);
    problems_clear(f);
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

const tui_form_problem *tui_form_problem_at(const tui_form *f, int action, tui_field field)
{
    for (size_t i = 0; f && i < f->n_problems; i++)
        if (f->problems[i].action == action && f->problems[i].field == field)
            return &f->problems[i];
    return NULL;
}

/* ---- problems with their fields ------------------------------------------------------ */

typedef struct plist {
    tui_form_problem *items;
    size_t n;
    int nomem;
} plist;

static void plist_add(plist *pl, hp_problem_code code, int action, tui_field field,
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

static void plist_free(plist *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->items[i].text);
        free(pl->items[i].shown);
    }
    free(pl->items);
    memset(pl, 0, sizeof(*pl));
}

/* ---- the mapping onto the builders ----------------------------------------------------- */

typedef struct mapper {
    const tui_form *f;
    char owner[OWNER_SIZE];
    plist *out;   /* the mapping's problems with their fields; NULL: only counted */
    size_t found; /* counted even when out could not keep them */
    int nomem;
} mapper;

static void mapper_init(mapper *m, const tui_form *f, const char *kind, plist *out)
{
    char shown[HP_NAME_SHOW_SIZE];

    m->f = f;
    m->out = out;
    m->found = 0;
    m->nomem = 0;
    snprintf(m->owner, sizeof(m->owner), "%s '%s'", kind,
             hp_name_show(f->name, shown, sizeof(shown)));
}

static void map_problem(mapper *m, size_t i, tui_field field, hp_problem_code code, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

/* A sentence like the builders' own: "<owner>: action '<a>': <what>". */
static void map_problem(mapper *m, size_t i, tui_field field, hp_problem_code code, const char *fmt,
                        ...)
{
    char *what, *text = NULL;
    va_list ap;

    m->found++;
    if (!m->out)
        return;
    va_start(ap, fmt);
    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    va_end(ap);
    if (what) {
        char shown[HP_NAME_SHOW_SIZE];
        text = format("%s: action '%s': %s", m->owner,
                      hp_name_show(m->f->actions[i].name, shown, sizeof(shown)), what);
    }
    if (text)
        plist_add(m->out, code, (int)i, field, text, what, 0);
    else
        m->out->nomem = 1;
    free(what);
    free(text);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Blanks, digits, blanks into *out (all blank = 0). Returns 0, -1 when the text is not
 * such a number, 1 when it is above max (what long or int can hold). */
static int read_number(const char *text, long max, long *out)
{
    const char *p = text;
    long v = 0;
    int over = 0;

    while (is_blank(*p))
        p++;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (v > (max - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    while (is_blank(*p))
        p++;
    if (*p)
        return -1;
    if (over)
        return 1;
    *out = v;
    return 0;
}

/* The command line on one line: a backslash-newline joins lines as it does in a shell
 * (dropped), any other newline separates words (a blank). */
static char *command_line(const char *body)
{
    char *line = malloc(strlen(body) + 1), *o = line;

    if (!line)
        return NULL;
    for (const char *p = body; *p; p++) {
        if (p[0] == '\\' && p[1] == '\n')
            p++;
        else
            *o++ = *p == '\n' ? ' ' : *p;
    }
    *o = '\0';
    return line;
}

/* Each non-blank line split at its first '='; a line without one is a problem. */
static void map_env(mapper *m, hp_action *a, size_t i)
{
    char shown[HP_NAME_SHOW_SIZE];

    for (const char *p = m->f->actions[i].env; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line, *eq;
        int blank = 1;

        if (len && p[len - 1] == '\r') /* pasted from a CRLF file */
            len--;
        if (!(line = strndup(p, len))) {
            m->nomem = 1;
            return;
        }
        for (const char *c = line; *c; c++)
            blank &= is_blank(*c);
        if (!blank && !(eq = strchr(line, '='))) {
            map_problem(m, i, TUI_F_A_ENV, HP_PROBLEM_FIELD_TYPE, "env line '%s' is not KEY=VALUE",
                        hp_name_show(line, shown, sizeof(shown)));
        } else if (!blank) {
            *eq = '\0';
            hp_action_env(a, line, eq + 1);
        }
        free(line);
        p = nl ? nl + 1 : p + strlen(p);
    }
}

static void map_action(mapper *m, hp_action *a, size_t i)
{
    const tui_form_action *fa = &m->f->actions[i];
    char shown[HP_NAME_SHOW_SIZE];
    long v = 0;
    int rc;

    if (fa->is_command) {
        char *line = command_line(fa->body);
        if (!line) {
            m->nomem = 1;
            return;
        }
        hp_action_command(a, line);
        free(line);
    } else {
        hp_action_script(a, fa->body);
        if (*fa->interpreter)
            hp_action_interpreter(a, fa->interpreter);
    }
    if (*fa->cwd)
        hp_action_cwd(a, fa->cwd);
    map_env(m, a, i);
    hp_name_show(fa->timeout, shown, sizeof(shown));
    if ((rc = read_number(fa->timeout, LONG_MAX, &v)) == 0)
        hp_action_timeout_secs(a, v);
    else if (rc < 0)
        map_problem(m, i, TUI_F_A_TIMEOUT, HP_PROBLEM_FIELD_TYPE,
                    "timeout '%s' is not a whole number of seconds", shown);
    else
        map_problem(m, i, TUI_F_A_TIMEOUT, HP_PROBLEM_VALUE_RANGE,
                    "timeout '%s' is too large: at most %ld seconds", shown, HP_TIMEOUT_MAX_SECS);
    hp_name_show(fa->retry, shown, sizeof(shown));
    if ((rc = read_number(fa->retry, INT_MAX, &v)) == 0)
        hp_action_retry(a, (int)v);
    else if (rc < 0)
        map_problem(m, i, TUI_F_A_RETRY, HP_PROBLEM_FIELD_TYPE, "retry '%s' is not a whole number",
                    shown);
    else
        map_problem(m, i, TUI_F_A_RETRY, HP_PROBLEM_VALUE_RANGE,
                    "retry '%s' is too large: at most %d extra attempts", shown, HP_RETRY_MAX);
    hp_name_show(fa->retry_delay, shown, sizeof(shown));
    if ((rc = read_number(fa->retry_delay, LONG_MAX, &v)) == 0)
        hp_action_retry_delay_ms(a, v);
    else if (rc < 0)
        map_problem(m, i, TUI_F_A_RETRY_DELAY, HP_PROBLEM_FIELD_TYPE,
                    "retry delay '%s' is not a whole number of milliseconds", shown);
    else
        map_problem(m, i, TUI_F_A_RETRY_DELAY, HP_PROBLEM_VALUE_RANGE,
                    "retry delay '%s' is too large: at most %ld milliseconds", shown,
                    HP_RETRY_DELAY_MAX_MS);
    if (fa->restart == HP_RESTART_ALWAYS)
        hp_action_restart_always(a);
    else if (fa->restart == HP_RESTART_ON_FAILURE)
        hp_action_restart_on_failure(a);
    else if (fa->restart != HP_RESTART_NEVER) /* no setter could pass it on */
        map_problem(m, i, TUI_F_A_RESTART, HP_PROBLEM_VALUE_CHOICE,
                    "restart has an unknown value %d", (int)fa->restart);
    for (size_t d = 0; d < fa->n_depends_on; d++)
        if (fa->depends_on[d])
            hp_action_depends_on(a, fa->depends_on[d], NULL);
    for (size_t t = 0; t < fa->n_tags; t++)
        if (fa->tags[t])
            hp_action_tag(a, fa->tags[t]);
}

static hp_service_builder *service_builder(const tui_form *f, hp_client *client, mapper *m)
{
    hp_service_builder *sb = hp_service_builder_new(client, f->name);

    if (!sb)
        return NULL;
    if (*f->description)
        hp_service_builder_description(sb, f->description);
    hp_service_builder_wanted_start(sb, f->wanted_start);
    for (size_t i = 0; i < f->n_actions && !m->nomem; i++)
        map_action(m, hp_service_builder_action(sb, f->actions[i].name), i);
    if (m->nomem) {
        hp_service_builder_free(sb);
        return NULL;
    }
    return sb;
}

static hp_run_builder *run_builder(const tui_form *f, hp_client *client, mapper *m)
{
    hp_run_builder *rb = hp_run_builder_new(client, f->name);

    if (!rb)
        return NULL;
    for (size_t i = 0; i < f->n_actions && !m->nomem; i++)
        map_action(m, hp_run_builder_action(rb, f->actions[i].name), i);
    if (m->nomem) {
        hp_run_builder_free(rb);
        return NULL;
    }
    return rb;
}

/* The spec's member that a field of an action shows (NULL: none), for a problem's path. */
static const char *const field_keys[TUI_F_COUNT] = {
    [TUI_F_A_NAME] = "name",
    [TUI_F_A_BODY] = "script",
    [TUI_F_A_INTERPRETER] = "interpreter",
    [TUI_F_A_CWD] = "cwd",
    [TUI_F_A_ENV] = "env",
    [TUI_F_A_TIMEOUT] = "timeout_secs",
    [TUI_F_A_RETRY] = "retry",
    [TUI_F_A_RETRY_DELAY] = "retry_delay_ms",
    [TUI_F_A_RESTART] = "restart",
    [TUI_F_A_DEPENDS] = "depends_on",
};

static void give_problems(plist *pl, hp_problems *pb)
{
    char path[64];

    for (size_t i = 0; i < pl->n; i++) {
        const tui_form_problem *p = &pl->items[i];
        const char *key = (unsigned)p->field < TUI_F_COUNT ? field_keys[p->field] : NULL;
        snprintf(path, sizeof(path), "/actions/%d/%s", p->action, key ? key : "");
        hp_problems_add_at(pb, p->code, key && p->action >= 0 ? path : "", "%s", p->text);
    }
    plist_free(pl);
}

hp_service_builder *tui_form_service_builder(const tui_form *f, hp_client *client, hp_problems *pb)
{
    plist pl = {0};
    mapper m;
    hp_service_builder *sb;

    mapper_init(&m, f, "service", pb ? &pl : NULL);
    sb = service_builder(f, client, &m);
    give_problems(&pl, pb);
    return sb;
}

hp_run_builder *tui_form_run_builder(const tui_form *f, hp_client *client, hp_problems *pb)
{
    plist pl = {0};
    mapper m;
    hp_run_builder *rb;

    mapper_init(&m, f, "run", pb ? &pl : NULL);
    rb = run_builder(f, client, &m);
    give_problems(&pl, pb);
    return rb;
}

/* ---- placing the builders' problems ------------------------------------------------------
 * Each record's path says which field of which action caused it ("/actions/2/timeout_secs"),
 * and a cycle's record lists its actions: no sentence is read. */

typedef struct reader {
    const tui_form *f;
    plist *out;
    int added; /* entries made for the current problem */
} reader;

static void emit(reader *r, const hp_problem *p, int action, tui_field field)
{
    plist_add(r->out, p->code, action, field, p->message, p->message + p->detail, r->added++ > 0);
}

/* The field of an action's member (the path's segment after "/actions/N/"). */
static tui_field action_field(const char *key, size_t len)
{
    for (int f = 0; f < TUI_F_COUNT; f++)
        if (field_keys[f] && strlen(field_keys[f]) == len && strncmp(key, field_keys[f], len) == 0)
            return (tui_field)f;
    if (len == 7 && strncmp(key, "command", len) == 0)
        return TUI_F_A_BODY;
    return TUI_F_OTHER;
}

/* The action (-1 for the form's own fields) and field a path points at. */
static tui_field place(const tui_form *f, const char *path, int *action)
{
    static const struct {
        const char *path;
        tui_field field;
    } own[] = {{"/name", TUI_F_NAME},
               {"/description", TUI_F_DESCRIPTION},
               {"/wanted", TUI_F_WANTED},
               {"/actions", TUI_F_ACTIONS}};
    const char *p = path, *key;
    unsigned long i = 0;

    *action = -1;
    for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
        if (strcmp(path, own[k].path) == 0)
            return own[k].field;
    if (strncmp(p, "/actions/", 9) != 0 || p[9] < '0' || p[9] > '9')
        return TUI_F_OTHER;
    for (p += 9; *p >= '0' && *p <= '9' && i <= f->n_actions; p++)
        i = i * 10 + (unsigned long)(*p - '0');
    if (i >= f->n_actions || (*p && *p != '/'))
        return TUI_F_OTHER;
    *action = (int)i;
    if (!*p)
        return TUI_F_OTHER; /* the action as a whole: "must be an object" */
    key = p + 1;
    return action_field(key, strcspn(key, "/"));
}

/* The first action named name (the one a dependency on the name means), -1 when none. */
static int action_named(const tui_form *f, const char *name)
{
    for (size_t i = 0; name && i < f->n_actions; i++)
        if (strcmp(f->actions[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* One record into entries. */
static void read_problem(reader *r, const hp_problem *p)
{
    const tui_form *f = r->f;
    int action;
    tui_field field = place(f, p->path, &action);

    r->added = 0;
    if ((p->code == HP_PROBLEM_DEP_CYCLE || p->code == HP_PROBLEM_DEP_SELF) && p->cycle) {
        /* The depends_on of every action on the cycle. */
        for (size_t k = 0; k < p->n_cycle; k++) {
            int i = action_named(f, p->cycle[k]), seen = 0;
            for (size_t j = 0; j < k && i >= 0; j++)
                seen |= action_named(f, p->cycle[j]) == i;
            if (i >= 0 && !seen)
                emit(r, p, i, TUI_F_A_DEPENDS);
        }
    } else if (p->code == HP_PROBLEM_NAME_DUPLICATE && action >= 0) {
        /* Said of the second action of the name: every later one must be renamed too. */
        emit(r, p, action, field);
        for (size_t j = (size_t)action + 1; j < f->n_actions; j++)
            if (strcmp(f->actions[j].name, f->actions[action].name) == 0)
                emit(r, p, (int)j, TUI_F_A_NAME);
    } else {
        emit(r, p, action, field);
    }
    if (!r->added)
        emit(r, p, -1, TUI_F_OTHER);
}

/* The builder's problems (or, with none, its error) into r->out. */
static void read_builder(reader *r, const hp_problems *pb, const hp_error *err, hp_status rc)
{
    for (size_t k = 0; k < pb->count; k++)
        read_problem(r, &pb->records[k]);
    /* An error without a problem (no memory): never accepted silently. */
    if (rc != HP_OK && pb->count == 0) {
        hp_problems one = {0};
        hp_problems_add(&one, "%s", err->message[0] ? err->message : hp_strerror(rc));
        if (one.count)
            read_problem(r, &one.records[0]);
        else
            r->out->nomem = 1;
        hp_problems_free(&one);
    }
}

int tui_form_check(tui_form *f)
{
    plist pl = {0};
    reader r = {0};
    mapper m;
    hp_error err;
    hp_status rc = HP_E_NOMEM;
    hp_service_builder *sb = NULL;
    hp_run_builder *rb = NULL;
    const hp_problems *pb = NULL;
    hp_service_config cfg;
    hp_action_spec *specs;
    size_t n, sentences = 0;

    problems_clear(f);
    hp_error_clear(&err);
    mapper_init(&m, f, tui_form_kind_word(f->kind), &pl);
    if (f->kind == TUI_FORM_SERVICE) {
        if ((sb = service_builder(f, NULL, &m)) &&
            (rc = hp_service_builder_build(sb, &cfg, &err)) == HP_OK)
            hp_service_config_free(&cfg);
        pb = hp_service_builder_problems(sb);
    } else {
        if ((rb = run_builder(f, NULL, &m)) &&
            (rc = hp_run_builder_build(rb, &specs, &n, &err)) == HP_OK)
            hp_actions_free(specs, n);
        pb = hp_run_builder_problems(rb);
    }
    if (m.found > pl.n) /* a mapping problem was lost: the form must not look valid */
        pl.nomem = 1;
    if (sb || rb) {
        r.f = f;
        r.out = &pl;
        read_builder(&r, pb, &err, rc);
    }
    hp_service_builder_free(sb);
    hp_run_builder_free(rb);
    f->problems = pl.items;
    f->n_problems = pl.n;
    for (size_t i = 0; i < pl.n; i++)
        sentences += !pl.items[i].again;
    if (pl.nomem || rc == HP_E_NOMEM || (!sb && !rb))
        return -1;
    return (int)sentences;
}

/* ---- what a submit sends ---------------------------------------------------------------- */

/* The form built offline into cfg (a service) or specs (a run); -1 when it has a problem
 * or without memory. */
static int build_offline(const tui_form *f, hp_service_config *cfg, hp_action_spec **specs,
                         size_t *n)
{
    mapper m;
    hp_status rc = HP_E_NOMEM;

    mapper_init(&m, f, tui_form_kind_word(f->kind), NULL);
    memset(cfg, 0, sizeof(*cfg));
    *specs = NULL;
    *n = 0;
    if (f->kind == TUI_FORM_SERVICE) {
        hp_service_builder *sb = service_builder(f, NULL, &m);
        if (sb && !m.found)
            rc = hp_service_builder_build(sb, cfg, NULL);
        hp_service_builder_free(sb);
    } else {
        hp_run_builder *rb = run_builder(f, NULL, &m);
        if (rb && !m.found)
            rc = hp_run_builder_build(rb, specs, n, NULL);
        hp_run_builder_free(rb);
    }
    return rc == HP_OK ? 0 : -1;
}

cJSON *tui_form_request(const tui_form *f, const char **method)
{
    hp_service_config cfg;
    hp_action_spec *specs;
    size_t n;
    cJSON *params = NULL, *config, *actions;

    if (method)
        *method = NULL;
    if (!f || build_offline(f, &cfg, &specs, &n) != 0)
        return NULL;
    params = cJSON_CreateObject();
    if (!params)
        goto out;
    if (f->kind == TUI_FORM_SERVICE) {
        config = hp_service_config_to_json(&cfg);
        if (!config || !cJSON_AddItemToObject(params, "config", config)) {
            cJSON_Delete(config);
            goto fail;
        }
    } else {
        if (!cJSON_AddStringToObject(params, "name", f->name) ||
            !(actions = cJSON_AddArrayToObject(params, "actions")))
            goto fail;
        for (size_t i = 0; i < n; i++) {
            cJSON *one = hp_action_spec_to_json(&specs[i]);
            if (!one || !cJSON_AddItemToArray(actions, one)) {
                cJSON_Delete(one);
                goto fail;
            }
        }
    }
    if (method)
        *method = f->kind == TUI_FORM_SERVICE ? "service.set" : "run.submit";
    goto out;
fail:
    cJSON_Delete(params);
    params = NULL;
out:
    hp_service_config_free(&cfg);
    hp_actions_free(specs, n);
    return params;
}

char *tui_form_command(const tui_form *f)
{
    cJSON *params = tui_form_request(f, NULL);
    char *json = NULL, *text = NULL;

    if (!params)
        return NULL;
    /* `service set` reads the ServiceConfig itself; `run submit` reads {name, actions}.
     * Pretty JSON has no line that is only "EOF", so the quoted heredoc holds it as is. */
    json = cJSON_Print(
        f->kind == TUI_FORM_SERVICE ? cJSON_GetObjectItemCaseSensitive(params, "config") : params);
    if (json && f->kind == TUI_FORM_RUN)
        text = format("hero_proc run submit - <<'EOF'\n%s\nEOF\n", json);
    else if (json && f->wanted_start) /* "--": a valid name may start with '-' */
        text = format("hero_proc service set - <<'EOF'\n%s\nEOF\nhero_proc service start %s%s\n",
                      json, f->name[0] == '-' ? "-- " : "", f->name);
    else if (json)
        text = format("hero_proc service set - <<'EOF'\n%s\nEOF\n", json);
    free(json);
    cJSON_Delete(params);
    return text;
}

static void say(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (!msg || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

int tui_form_submit(tui_form *f, hp_client *client, int64_t *run_id, char *msg, size_t size)
{
    char shown[HP_NAME_SHOW_SIZE];
    hp_error err;
    hp_status rc;
    int64_t id = 0;
    mapper m;
    int count;

    if (run_id)
        *run_id = 0;
    say(msg, size, "%s", "");
    count = tui_form_check(f);
    if (count < 0) {
        say(msg, size, "out of memory while checking the form");
        return -1;
    }
    if (count > 0) {
        say(msg, size, "%d problem%s: %s", count, count == 1 ? "" : "s", f->problems[0].text);
        return -1;
    }
    hp_error_clear(&err);
    hp_name_show(f->name, shown, sizeof(shown));
    mapper_init(&m, f, tui_form_kind_word(f->kind), NULL);
    if (f->kind == TUI_FORM_RUN) {
        hp_run_builder *rb = run_builder(f, client, &m);
        rc = rb ? hp_run_builder_start(rb, &id, &err) : hp_error_set_code(&err, HP_E_NOMEM);
        hp_run_builder_free(rb);
        if (rc != HP_OK) {
            say(msg, size, "%s", err.message);
            return -1;
        }
        say(msg, size, "started run '%s' (run %lld)", shown, (long long)id);
    } else {
        hp_service_builder *sb = service_builder(f, client, &m);
        rc = sb ? hp_service_builder_save(sb, &err) : hp_error_set_code(&err, HP_E_NOMEM);
        hp_service_builder_free(sb);
        if (rc != HP_OK) {
            say(msg, size, "%s", err.message);
            return -1;
        }
        if (!f->wanted_start) {
            say(msg, size, "saved service '%s'", shown);
            return 0;
        }
        {
            /* A running service keeps its run: the new actions are for the next one. */
            hp_service_status *st = NULL;
            int running = hp_services_status(hp_client_sdk(client), f->name, &st, NULL) == HP_OK &&
                          st->status == HP_SERVICE_RUNNING;
            int64_t current = running ? st->run_id : 0;
            hp_service_status_free(st);
            if (running) {
                say(msg, size,
                    "saved service '%s': run %lld goes on with the old actions, r restarts it "
                    "with these",
                    shown, (long long)current);
                if (run_id)
                    *run_id = current;
                return 0;
            }
        }
        if (hp_client_service_start(client, f->name, &id, &err) != HP_OK) {
            say(msg, size, "saved service '%s' but could not start it: %s", shown, err.message);
            return -1;
        }
        say(msg, size, "saved service '%s' and started it (run %lld)", shown, (long long)id);
    }
    if (run_id)
        *run_id = id;
    return 0;
}
