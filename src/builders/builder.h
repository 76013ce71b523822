/* SPDX-License-Identifier: Apache-2.0 */
/* The builders of hero_proc_factory: a service, a run and their actions composed one
 * setter per statement, with the first error kept (sticky, like curl's options) and
 * everything validated by build/save/start with the same rules the server applies
 * (common/spec.h). Builders hide ActionSpec; they do no I/O except save and start. */
#ifndef HP_BUILDERS_BUILDER_H
#define HP_BUILDERS_BUILDER_H

#include "../common/spec.h"
#include "../common/status.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hp_client;
typedef struct hp_service_builder hp_service_builder;
typedef struct hp_run_builder hp_run_builder;
typedef struct hp_action hp_action; /* borrowed from its builder, valid until it is freed */

/* ---- actions (setters never fail loudly: a problem sticks to the builder) ---------- */
void hp_action_script(hp_action *a, const char *script); /* copied */
void hp_action_interpreter(hp_action *a, const char *interpreter);
void hp_action_command(hp_action *a, const char *command);
void hp_action_cwd(hp_action *a, const char *cwd);
void hp_action_env(hp_action *a, const char *key, const char *value); /* adds or replaces */
void hp_action_timeout_secs(hp_action *a, long secs);
/* Names of actions of the same service or run; the list ends with NULL. */
void hp_action_depends_on(hp_action *a, const char *name, ...) __attribute__((sentinel));
void hp_action_retry(hp_action *a, int extra_attempts);
void hp_action_retry_delay_ms(hp_action *a, long delay_ms);
void hp_action_restart_always(hp_action *a); /* services only */
void hp_action_restart_on_failure(hp_action *a);
void hp_action_tag(hp_action *a, const char *tag);
/* A health probe (one of the three, the last wins): an exec command line, "host:port", or
 * an http(s) URL; then its numbers, in any order (defaults in common/spec.h). */
void hp_action_probe_exec(hp_action *a, const char *command);
void hp_action_probe_tcp(hp_action *a, const char *host_port);
void hp_action_probe_http(hp_action *a, const char *url);
void hp_action_probe_interval_ms(hp_action *a, long ms);
void hp_action_probe_timeout_ms(hp_action *a, long ms);
void hp_action_probe_retries(hp_action *a, int failures);
void hp_action_probe_start_grace_ms(hp_action *a, long ms);
void hp_action_on_unhealthy_restart(hp_action *a); /* needs a probe and a restart policy */

/* ---- service builder ------------------------------------------------------------- */
/* client (borrowed) may be NULL for an offline build. NULL without memory; every builder
 * function accepts NULL, so a chain of setters needs no checks. */
hp_service_builder *hp_service_builder_new(struct hp_client *client, const char *name);
void hp_service_builder_free(hp_service_builder *sb); /* NULL safe; frees its actions */
void hp_service_builder_description(hp_service_builder *sb, const char *description);
void hp_service_builder_wanted_start(hp_service_builder *sb, int start);
/* Adds service (copied) to what this one requires: started first and ready before its
 * jobs start. The server checks that it exists and closes no cycle. */
void hp_service_builder_requires(hp_service_builder *sb, const char *service);
/* A new action named name (copied), kept in insertion order. */
hp_action *hp_service_builder_action(hp_service_builder *sb, const char *name);
/* Validates everything and fills *out (caller frees with hp_service_config_free) with
 * the actions in dependency order (Kahn, ties by insertion). HP_E_VALIDATION with the
 * first problem as the message; every problem in hp_service_builder_problems. */
hp_status hp_service_builder_build(hp_service_builder *sb, hp_service_config *out, hp_error *err);
/* Builds and puts the service on the server (service.set). */
hp_status hp_service_builder_save(hp_service_builder *sb, hp_error *err);
/* Every problem of the last build (borrowed; empty when it succeeded): records[i] with
 * its code, the path of the field in the config ("/actions/1/timeout_secs") and the
 * sentence, items[i] the sentence alone. A sticky error (a NULL given to a setter) is
 * one problem too. */
const hp_problems *hp_service_builder_problems(const hp_service_builder *sb);

/* ---- run builder ----------------------------------------------------------------- */
hp_run_builder *hp_run_builder_new(struct hp_client *client, const char *name);
void hp_run_builder_free(hp_run_builder *rb);
hp_action *hp_run_builder_action(hp_run_builder *rb, const char *name);
/* Validated, ordered actions into *actions and *n (caller frees with hp_actions_free). */
hp_status hp_run_builder_build(hp_run_builder *rb, hp_action_spec **actions, size_t *n,
                               hp_error *err);
/* Builds and submits the run; *run_id (may be NULL) gets its id. */
hp_status hp_run_builder_start(hp_run_builder *rb, int64_t *run_id, hp_error *err);
/* As hp_service_builder_problems; paths are relative to the run ({name, actions}). */
const hp_problems *hp_run_builder_problems(const hp_run_builder *rb);

/* ---- the flat spec shortcut (designated initializers) ---------------------------- */
typedef struct hp_action_def {
    const char *name;
    const char *script;
    const char *command;
    const char *interpreter;
    const char *cwd;
    const char *const *env;        /* "KEY=VALUE" strings, NULL-terminated, may be NULL */
    const char *const *depends_on; /* NULL-terminated, may be NULL */
    long timeout_secs;
    int retry;
    long retry_delay_ms;
    hp_restart restart;
} hp_action_def;

typedef struct hp_service_def {
    const char *name;
    const char *description;
    int wanted_start;
    const hp_action_def *actions; /* ends with an entry whose name is NULL */
} hp_service_def;

typedef struct hp_run_def {
    const char *name;
    const hp_action_def *actions; /* ends with an entry whose name is NULL */
} hp_run_def;

/* Builders filled from a definition (copied); the same rules apply at build. */
hp_service_builder *hp_service_builder_from_def(struct hp_client *client,
                                                const hp_service_def *def);
hp_run_builder *hp_run_builder_from_def(struct hp_client *client, const hp_run_def *def);

#ifdef __cplusplus
}
#endif

#endif
