/* SPDX-License-Identifier: Apache-2.0 */
/* The rules of DESIGN section 2 over a service or a run, every problem at once, and the
 * dependency graph behind them: unknown names, cycles and the deterministic Kahn order. */
#include "config.h"

#include "common/spec_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_RULE      "use 1 to 64 characters of A-Z a-z 0-9 _ . -"
#define CYCLE_SHOW_MAX 16 /* actions of a cycle path shown before "..." */
#define NONE           SIZE_MAX

static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

static int env_key_is_valid(const char *key)
{
    const unsigned char *p = (const unsigned char *)key;

    if (!key || !(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
        return 0;
    for (; *p; p++)
        if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

static int is_blank_str(const char *s)
{
    for (; *s; s++)
        if (!(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f'))
            return 0;
    return 1;
}

/* The rule an invalid name broke, as the end of a sentence. */
static const char *name_rule(const char *name)
{
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return "'.' and '..' are not names, as names become folder names";
    return NAME_RULE;
}

/* --- the dependency graph ------------------------------------------------------------- */

typedef struct named {
    const char *name;
    size_t index;
} named;

/* Edges go from an action to each distinct action it depends on, in depends_on order. */
typedef struct graph {
    size_t n;
    named *sorted; /* named actions by (name, index): the first of equal names wins */
    size_t m;
    size_t *start; /* n + 1 offsets into adj */
    size_t *adj;
    unsigned char *second; /* 1 at the second action of a duplicated name */
    int unknown;           /* some dependency names no action */
} graph;

static int named_cmp(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static size_t graph_resolve(const graph *g, const char *name)
{
    size_t lo = 0, hi = g->m;

    if (!name)
        return NONE;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(g->sorted[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < g->m && strcmp(g->sorted[lo].name, name) == 0)
        return g->sorted[lo].index;
    return NONE;
}

static void graph_free(graph *g)
{
    free(g->sorted);
    free(g->start);
    free(g->adj);
    free(g->second);
    memset(g, 0, sizeof(*g));
}

static int graph_build(graph *g, const hp_action_spec *a, size_t n)
{
    size_t edges = 0, k = 0, *mark = NULL;

    memset(g, 0, sizeof(*g));
    g->n = n;
    for (size_t i = 0; i < n; i++) {
        if (a[i].n_depends_on > SIZE_MAX / sizeof(size_t) - edges)
            return -1;
        edges += a[i].depends_on ? a[i].n_depends_on : 0;
    }
    g->sorted = malloc((n ? n : 1) * sizeof(*g->sorted));
    g->start = malloc((n + 1) * sizeof(*g->start));
    g->adj = malloc((edges ? edges : 1) * sizeof(*g->adj));
    g->second = calloc(n ? n : 1, 1);
    mark = calloc(n ? n : 1, sizeof(*mark));
    if (!g->sorted || !g->start || !g->adj || !g->second || !mark) {
        free(mark);
        graph_free(g);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i].name)
            g->sorted[g->m++] = (named){a[i].name, i};
    qsort(g->sorted, g->m, sizeof(*g->sorted), named_cmp);
    for (size_t p = 1; p < g->m; p++)
        if (strcmp(g->sorted[p].name, g->sorted[p - 1].name) == 0 &&
            (p == 1 || strcmp(g->sorted[p - 1].name, g->sorted[p - 2].name) != 0))
            g->second[g->sorted[p].index] = 1;
    for (size_t i = 0; i < n; i++) {
        g->start[i] = k;
        if (!a[i].depends_on)
            continue;
        for (size_t d = 0; d < a[i].n_depends_on; d++) {
            size_t j = graph_resolve(g, a[i].depends_on[d]);
            if (j == NONE) {
                g->unknown = 1;
                continue;
            }
            if (mark[j] == i + 1)
                continue;
            mark[j] = i + 1;
            g->adj[k++] = j;
        }
    }
    g->start[n] = k;
    free(mark);
    return 0;
}

static void report_cycle_record(reporter *r, hp_problem_code code, const char *path,
                                hp_problem *names, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "<owner>: <message>" with the cycle of names (taken). */
static void report_cycle_record(reporter *r, hp_problem_code code, const char *path,
                                hp_problem *names, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hp__vreport(r, code, path, SAY_OF, NULL, names, fmt, ap);
    va_end(ap);
}

/* Reports the cycle nodes[0] -> ... -> nodes[len-1] -> nodes[0], rotated to start at
 * its earliest action and shortened past CYCLE_SHOW_MAX actions. The buffer holds the
 * longest shown path; the clamp only keeps that true if the sizes ever change. */
static void report_cycle(reporter *r, const hp_action_spec *a, const graph *g, const size_t *nodes,
                         size_t len)
{
    char path[(HP_NAME_SHOW_SIZE + 8) * (CYCLE_SHOW_MAX + 2)];
    char shown[HP_NAME_SHOW_SIZE];
    size_t first = 0, used = 0, dep = 0;
    const hp_action_spec *from;
    hp_problem names = {0};
    where w;

    for (size_t t = 1; t < len; t++)
        if (nodes[t] < nodes[first])
            first = t;
    /* The record: every action on the cycle, and the dependency that leaves the first. */
    from = &a[nodes[first]];
    while (dep + 1 < from->n_depends_on &&
           graph_resolve(g, from->depends_on[dep]) != nodes[(first + 1) % len])
        dep++;
    names.cycle = calloc(len, sizeof(*names.cycle));
    for (size_t t = 0; names.cycle && t < len; t++)
        if (!(names.cycle[names.n_cycle++] = hp__dup_str(a[nodes[(first + t) % len]].name))) {
            hp__free_strv(names.cycle, names.n_cycle);
            names.cycle = NULL;
            names.n_cycle = 0;
        }
    path[0] = '\0';
    for (size_t t = 0; t <= len && t <= CYCLE_SHOW_MAX; t++) {
        const char *name = a[nodes[(first + t) % len]].name;
        int wrote;
        if (t == len || t == CYCLE_SHOW_MAX) /* the path closes on its first action */
            wrote = snprintf(path + used, sizeof(path) - used, "%s%s", t < len ? "... -> " : "",
                             hp_name_show(a[nodes[first]].name, shown, sizeof(shown)));
        else
            wrote = snprintf(path + used, sizeof(path) - used, "%s -> ",
                             hp_name_show(name, shown, sizeof(shown)));
        if (wrote > 0)
            used += (size_t)wrote;
        if (used >= sizeof(path))
            break;
    }
    hp__where_set(&w, "/actions/%zu/depends_on/%zu", nodes[first], dep);
    report_cycle_record(r, len == 1 ? HP_PROBLEM_DEP_SELF : HP_PROBLEM_DEP_CYCLE, w.s, &names,
                        "dependency cycle: %s", path);
}

/* Depth-first walk in insertion order; each back edge closes one cycle, reported once. */
static int report_cycles(reporter *r, const hp_action_spec *a, const graph *g)
{
    size_t n = g->n;
    unsigned char *color = calloc(n ? n : 1, 1); /* 0 new, 1 on the path, 2 done */
    size_t *stack = malloc((n ? n : 1) * sizeof(*stack));
    size_t *next = malloc((n ? n : 1) * sizeof(*next));
    size_t *at = malloc((n ? n : 1) * sizeof(*at));
    int rc = -1;

    if (!color || !stack || !next || !at)
        goto out;
    for (size_t root = 0; root < n; root++) {
        size_t depth = 1;

        if (color[root])
            continue;
        stack[0] = root;
        next[0] = g->start[root];
        at[root] = 0;
        color[root] = 1;
        while (depth) {
            size_t u = stack[depth - 1];
            if (next[depth - 1] < g->start[u + 1]) {
                size_t v = g->adj[next[depth - 1]++];
                if (color[v] == 0) {
                    color[v] = 1;
                    at[v] = depth;
                    stack[depth] = v;
                    next[depth] = g->start[v];
                    depth++;
                } else if (color[v] == 1) {
                    report_cycle(r, a, g, stack + at[v], depth - at[v]);
                }
            } else {
                color[u] = 2;
                depth--;
            }
        }
    }
    rc = 0;
out:
    free(color);
    free(stack);
    free(next);
    free(at);
    return rc;
}

/* A min-heap of action indexes: the earliest inserted ready action goes first. */
static void heap_push(size_t *h, size_t *len, size_t v)
{
    size_t i = (*len)++;

    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static size_t heap_pop(size_t *h, size_t *len)
{
    size_t top = h[0], last = h[--*len], i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *len)
            break;
        if (c + 1 < *len && h[c + 1] < h[c])
            c++;
        if (h[c] >= last)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*len)
        h[i] = last;
    return top;
}

int hp_spec_order(const hp_action_spec *actions, size_t n, size_t *order)
{
    graph g;
    size_t *remaining = NULL, *rstart = NULL, *radj = NULL, *heap = NULL;
    size_t heap_len = 0, done = 0, edges;
    int rc = -1;

    if (n == 0)
        return 0;
    if (!actions || !order || graph_build(&g, actions, n) != 0)
        return -1;
    if (g.unknown)
        goto out;
    edges = g.start[n];
    remaining = calloc(n, sizeof(*remaining));
    rstart = calloc(n + 1, sizeof(*rstart));
    radj = malloc((edges ? edges : 1) * sizeof(*radj));
    heap = malloc(n * sizeof(*heap));
    if (!remaining || !rstart || !radj || !heap)
        goto out;
    /* Dependents of each action, in insertion order (counting sort of the edges). */
    for (size_t e = 0; e < edges; e++)
        rstart[g.adj[e] + 1]++;
    for (size_t j = 0; j < n; j++)
        rstart[j + 1] += rstart[j];
    for (size_t i = 0; i < n; i++) {
        remaining[i] = g.start[i + 1] - g.start[i];
        for (size_t e = g.start[i]; e < g.start[i + 1]; e++)
            radj[rstart[g.adj[e]]++] = i;
    }
    for (size_t j = n; j > 0; j--)
        rstart[j] = rstart[j - 1];
    rstart[0] = 0;
    for (size_t i = 0; i < n; i++)
        if (remaining[i] == 0)
            heap_push(heap, &heap_len, i);
    while (heap_len) {
        size_t j = heap_pop(heap, &heap_len);
        order[done++] = j;
        for (size_t e = rstart[j]; e < rstart[j + 1]; e++)
            if (--remaining[radj[e]] == 0)
                heap_push(heap, &heap_len, radj[e]);
    }
    rc = done == n ? 0 : -1;
out:
    free(remaining);
    free(rstart);
    free(radj);
    free(heap);
    graph_free(&g);
    return rc;
}

/* --- validation ----------------------------------------------------------------------- */

static void validate_text(reporter *r, const char *who, size_t pos, const char *field,
                          const char *value)
{
    where w;

    if (!value)
        return;
    hp__where_action(&w, pos, field);
    if (!*value)
        hp__report(r, HP_PROBLEM_VALUE_EMPTY, w.s, who, "%s is empty", field);
    else if (has_control(value))
        hp__report(r, HP_PROBLEM_VALUE_CONTROL, w.s, who, "%s contains a control character", field);
}

static void validate_program(reporter *r, const char *who, size_t pos, const hp_action_spec *a)
{
    hp_error err;
    char **argv;
    where w;

    if (a->script && a->command) {
        hp__report_by(r, HP_PROBLEM_PROGRAM_BOTH, hp__where_action(&w, pos, "command"), who,
                      "has both script and command; give exactly one");
        return;
    }
    if (!a->script && !a->command) {
        hp__report_by(r, HP_PROBLEM_PROGRAM_MISSING, hp__where_action(&w, pos, "script"), who,
                      "has neither script nor command");
        return;
    }
    if (a->script) {
        if (is_blank_str(a->script))
            hp__report(r, HP_PROBLEM_VALUE_EMPTY, hp__where_action(&w, pos, "script"), who,
                       "script is empty");
        return;
    }
    hp__where_action(&w, pos, "command");
    hp_error_clear(&err);
    argv = hp_split_command(a->command, &err);
    if (argv)
        hp_argv_free(argv);
    else if (err.code == HP_E_VALIDATION && strcmp(err.message, "empty command") == 0)
        hp__report(r, HP_PROBLEM_VALUE_EMPTY, w.s, who, "command is empty");
    else
        hp__report(r, HP_PROBLEM_COMMAND_SPLIT, w.s, who, "command cannot be split: %s",
                   err.message);
}

static void validate_env(reporter *r, const char *who, size_t pos, const hp_action_spec *a)
{
    char shown[HP_NAME_SHOW_SIZE];
    where w;

    if (!a->env || a->n_env == 0)
        return;
    if (a->n_env > HP_ENV_MAX)
        hp__report_by(r, HP_PROBLEM_COUNT_RANGE, hp__where_action(&w, pos, "env"), who,
                      "has %zu env vars; at most %d are allowed", a->n_env, HP_ENV_MAX);
    for (size_t i = 0; i < a->n_env; i++) {
        const hp_env_var *e = &a->env[i];
        hp__where_action(&w, pos, "env");
        hp__where_key(&w, e->key);
        if (!env_key_is_valid(e->key)) {
            hp__report(r, HP_PROBLEM_ENV_KEY_INVALID, w.s, who,
                       "env key '%s' is invalid: use A-Z a-z 0-9 _ and do not start with a digit",
                       hp_name_show(e->key, shown, sizeof(shown)));
            continue;
        }
        if (!e->value)
            hp__report(r, HP_PROBLEM_VALUE_MISSING, w.s, who, "env '%s' has no value",
                       hp_name_show(e->key, shown, sizeof(shown)));
        /* Quadratic, so only within the bound (beyond it the count is already reported). */
        if (a->n_env <= HP_ENV_MAX)
            for (size_t j = 0; j < i; j++)
                if (a->env[j].key && strcmp(a->env[j].key, e->key) == 0) {
                    hp__report(r, HP_PROBLEM_ENV_KEY_DUPLICATE, w.s, who, "duplicate env key '%s'",
                               hp_name_show(e->key, shown, sizeof(shown)));
                    break;
                }
    }
}

static void validate_tags(reporter *r, const char *who, size_t pos, const hp_action_spec *a)
{
    char shown[HP_NAME_SHOW_SIZE];
    where w;

    if (!a->tags)
        return;
    if (a->n_tags > HP_TAGS_MAX)
        hp__report_by(r, HP_PROBLEM_COUNT_RANGE, hp__where_action(&w, pos, "tags"), who,
                      "has %zu tags; at most %d are allowed", a->n_tags, HP_TAGS_MAX);
    for (size_t i = 0; i < a->n_tags; i++) {
        const char *t = a->tags[i] ? a->tags[i] : "";
        size_t len = strlen(t);
        hp__where_action(&w, pos, "tags");
        hp__where_index(&w, i);
        if (len == 0 || len > HP_TAG_MAX)
            hp__report(r, HP_PROBLEM_VALUE_LENGTH, w.s, who, "tag '%s' must be 1 to %d bytes",
                       hp_name_show(t, shown, sizeof(shown)), HP_TAG_MAX);
        else if (has_control(t))
            hp__report(r, HP_PROBLEM_VALUE_CONTROL, w.s, who,
                       "tag '%s' contains a control character",
                       hp_name_show(t, shown, sizeof(shown)));
    }
}

static void validate_depends(reporter *r, const char *who, size_t pos, const hp_action_spec *a,
                             const graph *g)
{
    char shown[HP_NAME_SHOW_SIZE];
    where w;

    if (!a->depends_on)
        return;
    for (size_t d = 0; d < a->n_depends_on; d++) {
        const char *dep = a->depends_on[d];
        int again = 0;
        if (graph_resolve(g, dep) != NONE)
            continue;
        if (a->n_depends_on <= HP_ACTIONS_MAX)
            for (size_t e = 0; e < d && !again; e++)
                again = (!dep && !a->depends_on[e]) ||
                        (dep && a->depends_on[e] && strcmp(dep, a->depends_on[e]) == 0);
        if (!again) {
            hp__where_action(&w, pos, "depends_on");
            hp__report_by(r, HP_PROBLEM_DEP_UNKNOWN, hp__where_index(&w, d), who,
                          "depends on unknown action '%s'",
                          hp_name_show(dep, shown, sizeof(shown)));
        }
    }
}

static void probe_range(reporter *r, const char *who, size_t pos, const char *key, long v, long min,
                        long max)
{
    where w;

    if (v >= min && v <= max)
        return;
    hp__where_action(&w, pos, "probe");
    hp__report(r, HP_PROBLEM_VALUE_RANGE, hp__where_key(&w, key), who,
               "probe %s must be between %ld and %ld", key, min, max);
}

/* The target's form by kind (a command that splits, host:port with a port, an http(s) URL),
 * the numbers' bounds, and on_unhealthy's needs. */
static void validate_probe(reporter *r, const char *who, size_t pos, const hp_action_spec *a)
{
    const hp_probe *p = &a->probe;
    const char *t = p->target ? p->target : "", *kind = hp_probe_kind_name(p->kind), *colon;
    where w;

    if (p->kind == HP_PROBE_NONE) {
        if (a->on_unhealthy_restart)
            hp__report(r, HP_PROBLEM_VALUE_MISSING, hp__where_action(&w, pos, "on_unhealthy"), who,
                       "on_unhealthy 'restart' needs a probe");
        return;
    }
    hp__where_action(&w, pos, "probe");
    if ((unsigned)p->kind > HP_PROBE_HTTP) {
        hp__report(r, HP_PROBLEM_VALUE_CHOICE, w.s, who, "probe has an unknown kind %d",
                   (int)p->kind);
        return;
    }
    hp__where_key(&w, kind);
    if (is_blank_str(t)) {
        hp__report(r, HP_PROBLEM_VALUE_EMPTY, w.s, who, "probe %s is empty", kind);
    } else if (p->kind != HP_PROBE_EXEC && has_control(t)) {
        hp__report(r, HP_PROBLEM_VALUE_CONTROL, w.s, who, "probe %s contains a control character",
                   kind);
    } else if (p->kind == HP_PROBE_EXEC) {
        hp_error err;
        char **argv = hp_split_command(t, &err);
        if (!argv)
            hp__report(r, HP_PROBLEM_COMMAND_SPLIT, w.s, who, "probe exec: %s", err.message);
        hp_argv_free(argv);
    } else if (p->kind == HP_PROBE_TCP) {
        char *end = NULL;
        long port = 0;
        colon = strrchr(t, ':');
        if (colon)
            port = strtol(colon + 1, &end, 10);
        if (!colon || colon == t || !end || *end || end == colon + 1 || port < 1 || port > 65535)
            hp__report(r, HP_PROBLEM_VALUE_FORM, w.s, who,
                       "probe tcp must be host:port with a port 1..65535");
    } else if (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0) {
        hp__report(r, HP_PROBLEM_VALUE_FORM, w.s, who,
                   "probe http must be an http:// or https:// URL");
    }
    probe_range(r, who, pos, "interval_ms", p->interval_ms, HP_PROBE_INTERVAL_MIN_MS,
                HP_PROBE_MS_MAX);
    probe_range(r, who, pos, "timeout_ms", p->timeout_ms, 1, HP_PROBE_MS_MAX);
    probe_range(r, who, pos, "retries", p->retries, 1, HP_RETRY_MAX);
    probe_range(r, who, pos, "start_grace_ms", p->start_grace_ms, 0, HP_PROBE_MS_MAX);
    if (a->on_unhealthy_restart && a->restart == HP_RESTART_NEVER)
        hp__report(r, HP_PROBLEM_VALUE_CHOICE, hp__where_action(&w, pos, "on_unhealthy"), who,
                   "on_unhealthy 'restart' needs restart 'always' or 'on_failure'");
}

static void validate_action(reporter *r, int in_service, const hp_action_spec *a, size_t i,
                            const graph *g)
{
    label l;
    char shown[HP_NAME_SHOW_SIZE];
    const char *who = hp__action_label(&l, a->name, i + 1);
    size_t pos = i + 1;
    where w;

    if (!a->name)
        hp__report_by(r, HP_PROBLEM_NAME_MISSING, hp__where_action(&w, pos, "name"), who,
                      "has no name");
    else if (!hp_name_is_valid(a->name))
        hp__report(r, HP_PROBLEM_NAME_INVALID, hp__where_action(&w, pos, "name"), NULL,
                   "action name '%s' is invalid: %s", hp_name_show(a->name, shown, sizeof(shown)),
                   name_rule(a->name));
    if (g && g->second[i])
        hp__report(r, HP_PROBLEM_NAME_DUPLICATE, hp__where_action(&w, pos, "name"), NULL,
                   "duplicate action name '%s'", hp_name_show(a->name, shown, sizeof(shown)));
    validate_program(r, who, pos, a);
    validate_text(r, who, pos, "interpreter", a->interpreter);
    validate_text(r, who, pos, "cwd", a->cwd);
    if (a->timeout_secs < 0 || a->timeout_secs > HP_TIMEOUT_MAX_SECS)
        hp__report(r, HP_PROBLEM_VALUE_RANGE, hp__where_action(&w, pos, "timeout_secs"), who,
                   "timeout_secs must be between 0 and %ld", HP_TIMEOUT_MAX_SECS);
    if (a->retry < 0 || a->retry > HP_RETRY_MAX)
        hp__report(r, HP_PROBLEM_VALUE_RANGE, hp__where_action(&w, pos, "retry"), who,
                   "retry must be between 0 and %d", HP_RETRY_MAX);
    if (a->retry_delay_ms < 0 || a->retry_delay_ms > HP_RETRY_DELAY_MAX_MS)
        hp__report(r, HP_PROBLEM_VALUE_RANGE, hp__where_action(&w, pos, "retry_delay_ms"), who,
                   "retry_delay_ms must be between 0 and %ld", HP_RETRY_DELAY_MAX_MS);
    hp__where_action(&w, pos, "restart");
    if ((unsigned)a->restart > HP_RESTART_ALWAYS)
        hp__report(r, HP_PROBLEM_VALUE_CHOICE, w.s, who, "restart has an unknown value %d",
                   (int)a->restart);
    else if (a->restart == HP_RESTART_ALWAYS && !in_service)
        hp__report(r, HP_PROBLEM_RESTART_SERVICE_ONLY, w.s, who,
                   "restart 'always' is only allowed in services");
    validate_env(r, who, pos, a);
    validate_tags(r, who, pos, a);
    validate_probe(r, who, pos, a);
    if (g)
        validate_depends(r, who, pos, a, g);
}

size_t hp_spec_validate(const char *kind, const char *name, const hp_action_spec *actions, size_t n,
                        hp_problems *pb)
{
    label owner;
    char shown[HP_NAME_SHOW_SIZE];
    reporter r = {pb, 0, NULL, 0};
    graph g;
    int have_graph;

    if (!kind)
        kind = "run";
    if (!actions)
        n = 0;
    r.owner = hp__owner_label(&owner, kind, name);
    if (!name)
        hp__report_raw(&r, HP_PROBLEM_NAME_MISSING, "/name", "%s name is missing", kind);
    else if (!hp_name_is_valid(name))
        hp__report_raw(&r, HP_PROBLEM_NAME_INVALID, "/name", "%s name '%s' is invalid: %s", kind,
                       hp_name_show(name, shown, sizeof(shown)), name_rule(name));
    if (n == 0)
        hp__report_raw(&r, HP_PROBLEM_ACTIONS_EMPTY, "/actions",
                       "%s has no actions; give at least one", r.owner);
    else if (n > HP_ACTIONS_MAX)
        hp__report_raw(&r, HP_PROBLEM_COUNT_RANGE, "/actions",
                       "%s has %zu actions; at most %d are allowed", r.owner, n, HP_ACTIONS_MAX);
    have_graph = graph_build(&g, actions, n) == 0;
    for (size_t i = 0; i < n; i++)
        validate_action(&r, strcmp(kind, "service") == 0, &actions[i], i, have_graph ? &g : NULL);
    if (!have_graph || report_cycles(&r, actions, &g) != 0)
        hp__report(&r, HP_PROBLEM_NO_MEMORY, "", NULL,
                   "out of memory while checking the dependencies");
    if (have_graph)
        graph_free(&g);
    return r.found;
}

/* The list itself; what it names is the server's to check against the services it has. */
static void validate_requires(reporter *r, const hp_service_config *c)
{
    char shown[HP_NAME_SHOW_SIZE];
    where w;

    if (c->n_requires > HP_REQUIRES_MAX)
        hp__report(r, HP_PROBLEM_COUNT_RANGE, "/requires", NULL,
                   "requires names %zu services; at most %d are allowed", c->n_requires,
                   HP_REQUIRES_MAX);
    for (size_t i = 0; c->requires && i < c->n_requires; i++) {
        const char *req = c->requires[i];
        hp__where_set(&w, "/requires/%zu", i);
        if (!req || !hp_name_is_valid(req)) {
            hp__report(r, HP_PROBLEM_NAME_INVALID, w.s, NULL,
                       "requires names an invalid service name '%s'",
                       hp_name_show(req, shown, sizeof(shown)));
            continue;
        }
        if (c->name && strcmp(req, c->name) == 0) {
            hp__report(r, HP_PROBLEM_DEP_SELF, w.s, NULL, "requires cycle: %s -> %s",
                       hp_name_show(req, shown, sizeof(shown)), shown);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (c->requires[j] && strcmp(c->requires[j], req) == 0) {
                hp__report(r, HP_PROBLEM_NAME_DUPLICATE, w.s, NULL,
                           "requires names service '%s' twice",
                           hp_name_show(req, shown, sizeof(shown)));
                break;
            }
    }
}

size_t hp_service_config_validate(const hp_service_config *c, hp_problems *pb)
{
    label owner;
    reporter r = {pb, 0, NULL, 0};

    if (!c) {
        hp__report_raw(&r, HP_PROBLEM_VALUE_MISSING, "", "service config is missing");
        return r.found;
    }
    r.found = hp_spec_validate("service", c->name, c->actions, c->n_actions, pb);
    r.owner = hp__owner_label(&owner, "service", c->name);
    if (c->description && strlen(c->description) > HP_DESCRIPTION_MAX)
        hp__report(&r, HP_PROBLEM_VALUE_LENGTH, "/description", NULL,
                   "description is longer than %d bytes", HP_DESCRIPTION_MAX);
    validate_requires(&r, c);
    return r.found;
}
