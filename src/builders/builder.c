/* SPDX-License-Identifier: Apache-2.0 */
/* Service, run and action builders: setters copy their input into an hp_action_spec
 * kept in insertion order; the first error sticks; build validates with the shared
 * rules (common/spec_validate.c) and orders the actions. save/start hand the result to the SDK
 * through the factory's client; nothing else here talks to a server. */
#include "config.h"

#include "builders/builder.h"

#include "builders/factory.h"
#include "client/sdk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hp_action {
    hp_action_spec spec;
    struct core *owner;
};

typedef struct core {
    struct hp_client *client;
    const char *kind; /* "service" or "run" */
    char *name;
    hp_action **actions;
    size_t n, cap;
    hp_error sticky;                /* the first error, code HP_OK while none */
    hp_problem_code sticky_problem; /* what it is about, for the problem build reports */
    char sticky_path[96];           /* the field it is about, a JSON pointer */
    hp_problems problems;
} core;

struct hp_service_builder {
    core c;
    char *description;
    int wanted_start;
    char **requires; /* names of services, in the order given */
    size_t n_requires;
};

struct hp_run_builder {
    core c;
};

static int stick(core *c, hp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the sticky error unless one is set; returns 1 when it did. */
static int stick(core *c, hp_status code, const char *fmt, ...)
{
    va_list ap;

    if (!c || c->sticky.code != HP_OK)
        return 0;
    va_start(ap, fmt);
    hp_error_setv(&c->sticky, code, fmt, ap);
    va_end(ap);
    c->sticky_problem = code == HP_E_NOMEM ? HP_PROBLEM_NO_MEMORY : HP_PROBLEM_INVALID;
    c->sticky_path[0] = '\0';
    return 1;
}

/* The index of a in its builder (its position in the config's actions array). */
static size_t action_index(const hp_action *a)
{
    size_t i = 0;

    while (i < a->owner->n && a->owner->actions[i] != a)
        i++;
    return i;
}

/* Copies s into *slot (replacing); NULL clears. Sticks an error without memory. */
static void set_string(core *c, char **slot, const char *s)
{
    char *copy = NULL;

    if (s && !(copy = strdup(s))) {
        stick(c, HP_E_NOMEM, "%s '%s': out of memory", c->kind, c->name ? c->name : "");
        return;
    }
    free(*slot);
    *slot = copy;
}

static int append_string(core *c, char ***list, size_t *n, const char *s)
{
    char **grown;
    char *copy = strdup(s);

    grown = copy ? realloc(*list, (*n + 1) * sizeof(**list)) : NULL;
    if (!grown) {
        free(copy);
        stick(c, HP_E_NOMEM, "%s '%s': out of memory", c->kind, c->name ? c->name : "");
        return -1;
    }
    grown[(*n)++] = copy;
    *list = grown;
    return 0;
}

static void core_init(core *c, struct hp_client *client, const char *kind, const char *name)
{
    c->client = client;
    c->kind = kind;
    hp_error_clear(&c->sticky);
    if (!name) {
        stick(c, HP_E_INVALID, "%s name is missing", kind);
        c->sticky_problem = HP_PROBLEM_NAME_MISSING;
        snprintf(c->sticky_path, sizeof(c->sticky_path), "/name");
        return;
    }
    set_string(c, &c->name, name);
}

static void core_free(core *c)
{
    for (size_t i = 0; i < c->n; i++) {
        hp_action_spec_free(&c->actions[i]->spec);
        free(c->actions[i]);
    }
    free(c->actions);
    free(c->name);
    hp_problems_free(&c->problems);
}

/* Sticky-error stand-in returned when an action cannot be added: setters on it only
 * record nothing further (the builder already carries the error). */
static hp_action *core_action(core *c, const char *name)
{
    hp_action *a;

    if (!c)
        return NULL;
    if (!name) {
        if (stick(c, HP_E_INVALID, "%s '%s': an action name is missing", c->kind,
                  c->name ? c->name : "")) {
            c->sticky_problem = HP_PROBLEM_NAME_MISSING;
            snprintf(c->sticky_path, sizeof(c->sticky_path), "/actions/%zu/name", c->n);
        }
        return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        hp_action **grown = realloc(c->actions, cap * sizeof(*grown));
        if (!grown) {
            stick(c, HP_E_NOMEM, "%s '%s': out of memory", c->kind, c->name ? c->name : "");
            return NULL;
        }
        c->actions = grown;
        c->cap = cap;
    }
    a = calloc(1, sizeof(*a));
    if (!a || !(a->spec.name = strdup(name))) {
        free(a);
        stick(c, HP_E_NOMEM, "%s '%s': out of memory", c->kind, c->name ? c->name : "");
        return NULL;
    }
    a->owner = c;
    c->actions[c->n++] = a;
    return a;
}

/* A NULL string given to a setter names the setter in the sticky error, and field (the
 * spec's) in its problem. */
static int check_arg(hp_action *a, const void *arg, const char *what, const char *field)
{
    core *c;

    if (!a)
        return 0;
    if (!arg) {
        c = a->owner;
        if (stick(c, HP_E_INVALID, "%s '%s': action '%s': %s is NULL", c->kind,
                  c->name ? c->name : "", a->spec.name, what)) {
            c->sticky_problem = HP_PROBLEM_VALUE_MISSING;
            snprintf(c->sticky_path, sizeof(c->sticky_path), "/actions/%zu/%s", action_index(a),
                     field);
        }
        return 0;
    }
    return 1;
}

void hp_action_script(hp_action *a, const char *script)
{
    if (check_arg(a, script, "script", "script"))
        set_string(a->owner, &a->spec.script, script);
}

void hp_action_interpreter(hp_action *a, const char *interpreter)
{
    if (check_arg(a, interpreter, "interpreter", "interpreter"))
        set_string(a->owner, &a->spec.interpreter, interpreter);
}

void hp_action_command(hp_action *a, const char *command)
{
    if (check_arg(a, command, "command", "command"))
        set_string(a->owner, &a->spec.command, command);
}

void hp_action_cwd(hp_action *a, const char *cwd)
{
    if (check_arg(a, cwd, "cwd", "cwd"))
        set_string(a->owner, &a->spec.cwd, cwd);
}

void hp_action_env(hp_action *a, const char *key, const char *value)
{
    hp_env_var *grown;

    if (!check_arg(a, key, "env key", "env") || !check_arg(a, value, "env value", "env"))
        return;
    for (size_t i = 0; i < a->spec.n_env; i++)
        if (strcmp(a->spec.env[i].key, key) == 0) {
            set_string(a->owner, &a->spec.env[i].value, value);
            return;
        }
    grown = realloc(a->spec.env, (a->spec.n_env + 1) * sizeof(*grown));
    if (!grown) {
        stick(a->owner, HP_E_NOMEM, "out of memory");
        return;
    }
    a->spec.env = grown;
    grown[a->spec.n_env] = (hp_env_var){strdup(key), strdup(value)};
    if (!grown[a->spec.n_env].key || !grown[a->spec.n_env].value) {
        free(grown[a->spec.n_env].key);
        free(grown[a->spec.n_env].value);
        stick(a->owner, HP_E_NOMEM, "out of memory");
        return;
    }
    a->spec.n_env++;
}

void hp_action_timeout_secs(hp_action *a, long secs)
{
    if (a)
        a->spec.timeout_secs = secs;
}

void hp_action_depends_on(hp_action *a, const char *name, ...)
{
    va_list ap;

    if (!a)
        return;
    va_start(ap, name);
    for (const char *n = name; n; n = va_arg(ap, const char *)) {
        int seen = 0;
        for (size_t i = 0; i < a->spec.n_depends_on; i++)
            seen |= strcmp(a->spec.depends_on[i], n) == 0;
        if (!seen && append_string(a->owner, &a->spec.depends_on, &a->spec.n_depends_on, n) != 0)
            break;
    }
    va_end(ap);
}

void hp_action_retry(hp_action *a, int extra_attempts)
{
    if (a)
        a->spec.retry = extra_attempts;
}

void hp_action_retry_delay_ms(hp_action *a, long delay_ms)
{
    if (a)
        a->spec.retry_delay_ms = delay_ms;
}

void hp_action_restart_always(hp_action *a)
{
    if (a)
        a->spec.restart = HP_RESTART_ALWAYS;
}

void hp_action_restart_on_failure(hp_action *a)
{
    if (a)
        a->spec.restart = HP_RESTART_ON_FAILURE;
}

void hp_action_tag(hp_action *a, const char *tag)
{
    if (check_arg(a, tag, "tag", "tags"))
        append_string(a->owner, &a->spec.tags, &a->spec.n_tags, tag);
}

/* The numbers set before the kind are kept; the others take their defaults. */
static void set_probe(hp_action *a, hp_probe_kind kind, const char *target)
{
    hp_probe before = a->spec.probe; /* its numbers only: hp_probe_set frees the target */

    if (hp_probe_set(&a->spec.probe, kind, target) != 0) {
        stick(a->owner, HP_E_NOMEM, "%s '%s': out of memory", a->owner->kind,
              a->owner->name ? a->owner->name : "");
        return;
    }
    if (before.interval_ms)
        a->spec.probe.interval_ms = before.interval_ms;
    if (before.timeout_ms)
        a->spec.probe.timeout_ms = before.timeout_ms;
    if (before.retries)
        a->spec.probe.retries = before.retries;
    a->spec.probe.start_grace_ms = before.start_grace_ms;
}

void hp_action_probe_exec(hp_action *a, const char *command)
{
    if (check_arg(a, command, "probe exec", "probe/exec"))
        set_probe(a, HP_PROBE_EXEC, command);
}

void hp_action_probe_tcp(hp_action *a, const char *host_port)
{
    if (check_arg(a, host_port, "probe tcp", "probe/tcp"))
        set_probe(a, HP_PROBE_TCP, host_port);
}

void hp_action_probe_http(hp_action *a, const char *url)
{
    if (check_arg(a, url, "probe http", "probe/http"))
        set_probe(a, HP_PROBE_HTTP, url);
}

void hp_action_probe_interval_ms(hp_action *a, long ms)
{
    if (a)
        a->spec.probe.interval_ms = ms;
}

void hp_action_probe_timeout_ms(hp_action *a, long ms)
{
    if (a)
        a->spec.probe.timeout_ms = ms;
}

void hp_action_probe_retries(hp_action *a, int failures)
{
    if (a)
        a->spec.probe.retries = failures;
}

void hp_action_probe_start_grace_ms(hp_action *a, long ms)
{
    if (a)
        a->spec.probe.start_grace_ms = ms;
}

void hp_action_on_unhealthy_restart(hp_action *a)
{
    if (a)
        a->spec.on_unhealthy_restart = 1;
}

/* Copies the actions, validates them with the shared rules (plus extra, for a service's
 * own fields), and orders them. */
static hp_status core_build(core *c, const hp_service_config *svc, hp_action_spec **out,
                            size_t *n_out, hp_error *err)
{
    hp_action_spec *specs = NULL, *ordered = NULL;
    size_t *order = NULL, n = c->n, problems;

    *out = NULL;
    *n_out = 0;
    hp_problems_free(&c->problems);
    if (c->sticky.code != HP_OK) {
        /* Also a problem, so that a reader of the list (a form) can place it. */
        if (c->sticky.code != HP_E_NOMEM)
            hp_problems_add_at(&c->problems, c->sticky_problem, c->sticky_path, "%s",
                               c->sticky.message);
        if (err)
            *err = c->sticky;
        return c->sticky.code;
    }
    specs = calloc(n ? n : 1, sizeof(*specs));
    if (!specs)
        return hp_error_set_code(err, HP_E_NOMEM);
    for (size_t i = 0; i < n; i++)
        if (hp_action_spec_copy(&specs[i], &c->actions[i]->spec) != 0) {
            hp_actions_free(specs, n);
            return hp_error_set_code(err, HP_E_NOMEM);
        }
    if (svc) {
        hp_service_config cfg = *svc;
        cfg.actions = specs;
        cfg.n_actions = n;
        problems = hp_service_config_validate(&cfg, &c->problems);
    } else {
        problems = hp_spec_validate(c->kind, c->name, specs, n, &c->problems);
    }
    if (problems > 0) {
        hp_actions_free(specs, n);
        if (problems > 1 && c->problems.count > 0)
            return hp_error_set(err, HP_E_VALIDATION, "%s (and %zu more problem%s)",
                                c->problems.items[0], problems - 1, problems > 2 ? "s" : "");
        return hp_error_set(err, HP_E_VALIDATION, "%s",
                            c->problems.count ? c->problems.items[0] : "validation failed");
    }
    order = calloc(n ? n : 1, sizeof(*order));
    ordered = calloc(n ? n : 1, sizeof(*ordered));
    if (!order || !ordered || hp_spec_order(specs, n, order) != 0) {
        free(order);
        free(ordered);
        hp_actions_free(specs, n);
        return hp_error_set_code(err, HP_E_NOMEM);
    }
    for (size_t i = 0; i < n; i++)
        ordered[i] = specs[order[i]]; /* moves: each spec ends up in exactly one slot */
    free(specs);
    free(order);
    *out = ordered;
    *n_out = n;
    return HP_OK;
}

/* ---- service builder ------------------------------------------------------------- */

hp_service_builder *hp_service_builder_new(struct hp_client *client, const char *name)
{
    hp_service_builder *sb = calloc(1, sizeof(*sb));

    if (!sb)
        return NULL;
    core_init(&sb->c, client, "service", name);
    return sb;
}

void hp_service_builder_free(hp_service_builder *sb)
{
    if (!sb)
        return;
    core_free(&sb->c);
    free(sb->description);
    for (size_t i = 0; i < sb->n_requires; i++)
        free(sb->requires[i]);
    free(sb->requires);
    free(sb);
}

void hp_service_builder_description(hp_service_builder *sb, const char *description)
{
    if (sb)
        set_string(&sb->c, &sb->description, description);
}

void hp_service_builder_wanted_start(hp_service_builder *sb, int start)
{
    if (sb)
        sb->wanted_start = start != 0;
}

void hp_service_builder_requires(hp_service_builder *sb, const char *service)
{
    char **grown, *copy;

    if (!sb)
        return;
    if (!service) {
        stick(&sb->c, HP_E_VALIDATION, "service '%s': requires needs a service name",
              sb->c.name ? sb->c.name : "");
        return;
    }
    grown = realloc(sb->requires, (sb->n_requires + 1) * sizeof(*grown));
    copy = strdup(service);
    if (grown)
    sb->requires = grown;
    if (!grown || !copy) {
        free(copy);
        stick(&sb->c, HP_E_NOMEM, "service builder: out of memory");
        return;
    }
    sb->requires[sb->n_requires++] = copy;
}

hp_action *hp_service_builder_action(hp_service_builder *sb, const char *name)
{
    return sb ? core_action(&sb->c, name) : NULL;
}

hp_status hp_service_builder_build(hp_service_builder *sb, hp_service_config *out, hp_error *err)
{
    hp_service_config shape = {0};
    hp_status rc;

    memset(out, 0, sizeof(*out));
    if (!sb)
        return hp_error_set(err, HP_E_NOMEM, "service builder: out of memory");
    shape.name = sb->c.name;
    shape.description = sb->description;
    shape.wanted_start = sb->wanted_start;
    shape.requires = sb->requires;
    shape.n_requires = sb->n_requires;
    rc = core_build(&sb->c, &shape, &out->actions, &out->n_actions, err);
    if (rc != HP_OK)
        return rc;
    out->name = strdup(sb->c.name);
    out->description = sb->description ? strdup(sb->description) : NULL;
    out->wanted_start = sb->wanted_start;
    out->requires = sb->n_requires ? calloc(sb->n_requires, sizeof(char *)) : NULL;
    for (size_t i = 0; out->requires && i < sb->n_requires; i++)
        if ((out->requires[i] = strdup(sb->requires[i])) != NULL)
            out->n_requires++;
    if (!out->name || (sb->description && !out->description) || out->n_requires != sb->n_requires) {
        hp_service_config_free(out);
        return hp_error_set_code(err, HP_E_NOMEM);
    }
    return HP_OK;
}

hp_status hp_service_builder_save(hp_service_builder *sb, hp_error *err)
{
    hp_service_config cfg;
    hp_status rc = hp_service_builder_build(sb, &cfg, err);

    if (rc != HP_OK)
        return rc;
    if (!sb->c.client) {
        hp_service_config_free(&cfg);
        return hp_error_set(err, HP_E_INVALID, "service '%s': the builder has no client to save to",
                            sb->c.name);
    }
    rc = hp_services_put(hp_client_sdk(sb->c.client), &cfg, NULL, err);
    hp_service_config_free(&cfg);
    return rc;
}

const hp_problems *hp_service_builder_problems(const hp_service_builder *sb)
{
    static const hp_problems none = {0};

    return sb ? &sb->c.problems : &none;
}

/* ---- run builder ----------------------------------------------------------------- */

hp_run_builder *hp_run_builder_new(struct hp_client *client, const char *name)
{
    hp_run_builder *rb = calloc(1, sizeof(*rb));

    if (!rb)
        return NULL;
    core_init(&rb->c, client, "run", name);
    return rb;
}

void hp_run_builder_free(hp_run_builder *rb)
{
    if (!rb)
        return;
    core_free(&rb->c);
    free(rb);
}

hp_action *hp_run_builder_action(hp_run_builder *rb, const char *name)
{
    return rb ? core_action(&rb->c, name) : NULL;
}

hp_status hp_run_builder_build(hp_run_builder *rb, hp_action_spec **actions, size_t *n,
                               hp_error *err)
{
    *actions = NULL;
    *n = 0;
    if (!rb)
        return hp_error_set(err, HP_E_NOMEM, "run builder: out of memory");
    return core_build(&rb->c, NULL, actions, n, err);
}

hp_status hp_run_builder_start(hp_run_builder *rb, int64_t *run_id, hp_error *err)
{
    hp_action_spec *actions;
    hp_run *run = NULL;
    size_t n;
    hp_status rc = hp_run_builder_build(rb, &actions, &n, err);

    if (run_id)
        *run_id = 0;
    if (rc != HP_OK)
        return rc;
    if (!rb->c.client) {
        hp_actions_free(actions, n);
        return hp_error_set(err, HP_E_INVALID, "run '%s': the builder has no client to start on",
                            rb->c.name);
    }
    rc = hp_runs_submit(hp_client_sdk(rb->c.client), rb->c.name, actions, n, &run, err);
    hp_actions_free(actions, n);
    if (rc == HP_OK && run_id)
        *run_id = run->id;
    hp_run_free(run);
    return rc;
}

const hp_problems *hp_run_builder_problems(const hp_run_builder *rb)
{
    static const hp_problems none = {0};

    return rb ? &rb->c.problems : &none;
}

/* ---- definitions ------------------------------------------------------------------ */

static void apply_def(hp_action *a, const hp_action_def *d)
{
    if (d->script)
        hp_action_script(a, d->script);
    if (d->command)
        hp_action_command(a, d->command);
    if (d->interpreter)
        hp_action_interpreter(a, d->interpreter);
    if (d->cwd)
        hp_action_cwd(a, d->cwd);
    for (const char *const *e = d->env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        char key[256];
        if (!eq || (size_t)(eq - *e) >= sizeof(key)) {
            if (a) /* else the builder already holds its error */
                stick(a->owner, HP_E_INVALID,
                      "%s '%s': action '%s': env entry '%.64s' is not KEY=VALUE", a->owner->kind,
                      a->owner->name ? a->owner->name : "", d->name, *e);
            continue;
        }
        memcpy(key, *e, (size_t)(eq - *e));
        key[eq - *e] = '\0';
        hp_action_env(a, key, eq + 1);
    }
    for (const char *const *dep = d->depends_on; dep && *dep; dep++)
        hp_action_depends_on(a, *dep, NULL);
    hp_action_timeout_secs(a, d->timeout_secs);
    hp_action_retry(a, d->retry);
    hp_action_retry_delay_ms(a, d->retry_delay_ms);
    if (a)
        a->spec.restart = d->restart;
}

hp_service_builder *hp_service_builder_from_def(struct hp_client *client, const hp_service_def *def)
{
    hp_service_builder *sb = hp_service_builder_new(client, def->name);

    if (!sb)
        return NULL;
    hp_service_builder_description(sb, def->description);
    hp_service_builder_wanted_start(sb, def->wanted_start);
    for (const hp_action_def *d = def->actions; d && d->name; d++)
        apply_def(hp_service_builder_action(sb, d->name), d);
    return sb;
}

hp_run_builder *hp_run_builder_from_def(struct hp_client *client, const hp_run_def *def)
{
    hp_run_builder *rb = hp_run_builder_new(client, def->name);

    if (!rb)
        return NULL;
    for (const hp_action_def *d = def->actions; d && d->name; d++)
        apply_def(hp_run_builder_action(rb, d->name), d);
    return rb;
}
