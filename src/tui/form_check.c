/* SPDX-License-Identifier: Apache-2.0 */
/* A form's check: built offline, every problem (the mapping's, then the builder's) placed
 * on the field its record's path names ("/actions/2/timeout_secs"); a cycle's record
 * lists its actions. No sentence is read. */
#include "config.h"

#include "tui/form_int.h"

#include <string.h>

typedef struct reader {
    const tui_form *f;
    plist *out;
    int added; /* entries made for the current problem */
} reader;

static void emit(reader *r, const hp_problem *p, int action, tui_field field)
{
    tui__form_plist_add(r->out, p->code, action, field, p->message, p->message + p->detail,
                        r->added++ > 0);
}

/* The field of an action's member (the path's segment after "/actions/N/"). */
static tui_field action_field(const char *key, size_t len)
{
    for (int f = 0; f < TUI_F_COUNT; f++)
        if (tui__form_field_keys[f] && strlen(tui__form_field_keys[f]) == len &&
            strncmp(key, tui__form_field_keys[f], len) == 0)
            return (tui_field)f;
    if (len == 7 && strncmp(key, "command", len) == 0)
        return TUI_F_A_BODY;
    if ((len == 9 || len == 10) &&
        (strncmp(key, "probe/tcp", len) == 0 || strncmp(key, "probe/http", len) == 0))
        return TUI_F_A_PROBE_TARGET;
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
               {"/requires", TUI_F_REQUIRES},
               {"/actions", TUI_F_ACTIONS}};
    const char *p = path, *key;
    unsigned long i = 0;

    *action = -1;
    for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
        if (strcmp(path, own[k].path) == 0)
            return own[k].field;
    if (strncmp(p, "/requires/", 10) == 0)
        return TUI_F_REQUIRES;
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
    /* A probe's member has a field of its own ("probe/retries"); else the first segment. */
    if (action_field(key, strlen(key)) != TUI_F_OTHER)
        return action_field(key, strlen(key));
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

    tui__form_problems_clear(f);
    hp_error_clear(&err);
    tui__form_mapper_init(&m, f, tui_form_kind_word(f->kind), &pl);
    if (f->kind == TUI_FORM_SERVICE) {
        if ((sb = tui__form_service_builder(f, NULL, &m)) &&
            (rc = hp_service_builder_build(sb, &cfg, &err)) == HP_OK)
            hp_service_config_free(&cfg);
        pb = hp_service_builder_problems(sb);
    } else {
        if ((rb = tui__form_run_builder(f, NULL, &m)) &&
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

const tui_form_problem *tui_form_problem_at(const tui_form *f, int action, tui_field field)
{
    for (size_t i = 0; f && i < f->n_problems; i++)
        if (f->problems[i].action == action && f->problems[i].field == field)
            return &f->problems[i];
    return NULL;
}
