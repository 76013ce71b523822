/* SPDX-License-Identifier: Apache-2.0 */
/* A form mapped onto the builders of src/builders, field by field, so the form accepts
 * exactly what the C API accepts. It keeps no rule of its own, but for the numbers and env
 * lines it cannot pass on as typed: those become problems with their field's path. */
#include "config.h"

#include "tui/form_int.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tui__form_mapper_init(mapper *m, const tui_form *f, const char *kind, plist *out)
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
        text = tui__form_format("%s: action '%s': %s", m->owner,
                                hp_name_show(m->f->actions[i].name, shown, sizeof(shown)), what);
    }
    if (text)
        tui__form_plist_add(m->out, code, (int)i, field, text, what, 0);
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

/* A probe number as typed: "" keeps the default, else a whole number (its bounds are the
 * builder's to check). */
static int probe_number(mapper *m, size_t i, tui_field field, const char *text, const char *what,
                        long *out)
{
    char shown[HP_NAME_SHOW_SIZE];
    int rc;

    if (!*text)
        return 0;
    hp_name_show(text, shown, sizeof(shown));
    if ((rc = read_number(text, INT_MAX, out)) == 0)
        return 1;
    if (rc < 0)
        map_problem(m, i, field, HP_PROBLEM_FIELD_TYPE, "probe %s '%s' is not a whole number", what,
                    shown);
    else
        map_problem(m, i, field, HP_PROBLEM_VALUE_RANGE, "probe %s '%s' is too large", what, shown);
    return 0;
}

static void map_probe(mapper *m, hp_action *a, size_t i)
{
    const tui_form_action *fa = &m->f->actions[i];
    long v = 0;

    if (fa->probe == HP_PROBE_EXEC)
        hp_action_probe_exec(a, fa->probe_target);
    else if (fa->probe == HP_PROBE_TCP)
        hp_action_probe_tcp(a, fa->probe_target);
    else if (fa->probe == HP_PROBE_HTTP)
        hp_action_probe_http(a, fa->probe_target);
    if (fa->probe != HP_PROBE_NONE) {
        if (probe_number(m, i, TUI_F_A_PROBE_INTERVAL, fa->probe_interval, "interval", &v))
            hp_action_probe_interval_ms(a, v);
        if (probe_number(m, i, TUI_F_A_PROBE_TIMEOUT, fa->probe_timeout, "timeout", &v))
            hp_action_probe_timeout_ms(a, v);
        if (probe_number(m, i, TUI_F_A_PROBE_RETRIES, fa->probe_retries, "retries", &v))
            hp_action_probe_retries(a, (int)v);
        if (probe_number(m, i, TUI_F_A_PROBE_GRACE, fa->probe_grace, "start grace", &v))
            hp_action_probe_start_grace_ms(a, v);
    }
    if (fa->on_unhealthy_restart)
        hp_action_on_unhealthy_restart(a);
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
    map_probe(m, a, i);
}

hp_service_builder *tui__form_service_builder(const tui_form *f, hp_client *client, mapper *m)
{
    hp_service_builder *sb = hp_service_builder_new(client, f->name);

    if (!sb)
        return NULL;
    if (*f->description)
        hp_service_builder_description(sb, f->description);
    hp_service_builder_wanted_start(sb, f->wanted_start);
    for (const char *p = f->requires; p && *p;) {
        /* Blanks or commas between the names; each one is the builder's to check. */
        char name[HP_NAME_MAX + 8];
        size_t len = strcspn(p, " \t,");
        if (len > 0) {
            snprintf(name, sizeof(name), "%.*s",
                     (int)(len < sizeof(name) - 1 ? len : sizeof(name) - 1), p);
            hp_service_builder_requires(sb, name);
        }
        p += len;
        p += strspn(p, " \t,");
    }
    for (size_t i = 0; i < f->n_actions && !m->nomem; i++)
        map_action(m, hp_service_builder_action(sb, f->actions[i].name), i);
    if (m->nomem) {
        hp_service_builder_free(sb);
        return NULL;
    }
    return sb;
}

hp_run_builder *tui__form_run_builder(const tui_form *f, hp_client *client, mapper *m)
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
const char *const tui__form_field_keys[TUI_F_COUNT] = {
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
    [TUI_F_A_PROBE] = "probe",
    [TUI_F_A_PROBE_TARGET] = "probe/exec", /* and probe/tcp, probe/http: see form_check.c */
    [TUI_F_A_PROBE_INTERVAL] = "probe/interval_ms",
    [TUI_F_A_PROBE_TIMEOUT] = "probe/timeout_ms",
    [TUI_F_A_PROBE_RETRIES] = "probe/retries",
    [TUI_F_A_PROBE_GRACE] = "probe/start_grace_ms",
    [TUI_F_A_ON_UNHEALTHY] = "on_unhealthy",
};

static void give_problems(plist *pl, hp_problems *pb)
{
    char path[64];

    for (size_t i = 0; i < pl->n; i++) {
        const tui_form_problem *p = &pl->items[i];
        const char *key = (unsigned)p->field < TUI_F_COUNT ? tui__form_field_keys[p->field] : NULL;
        snprintf(path, sizeof(path), "/actions/%d/%s", p->action, key ? key : "");
        hp_problems_add_at(pb, p->code, key && p->action >= 0 ? path : "", "%s", p->text);
    }
    tui__form_plist_free(pl);
}

hp_service_builder *tui_form_service_builder(const tui_form *f, hp_client *client, hp_problems *pb)
{
    plist pl = {0};
    mapper m;
    hp_service_builder *sb;

    tui__form_mapper_init(&m, f, "service", pb ? &pl : NULL);
    sb = tui__form_service_builder(f, client, &m);
    give_problems(&pl, pb);
    return sb;
}

hp_run_builder *tui_form_run_builder(const tui_form *f, hp_client *client, hp_problems *pb)
{
    plist pl = {0};
    mapper m;
    hp_run_builder *rb;

    tui__form_mapper_init(&m, f, "run", pb ? &pl : NULL);
    rb = tui__form_run_builder(f, client, &m);
    give_problems(&pl, pb);
    return rb;
}
