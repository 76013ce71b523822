/* SPDX-License-Identifier: Apache-2.0 */
/* The shared model of an ActionSpec and a ServiceConfig (DESIGN section 2): the structs,
 * their JSON parse and emit, the validation rules used by both the server and the
 * builders, the deterministic dependency order, and the shell-style command split; each
 * group below names the file that implements it.
 * Every problem is a record of common/problems.h: a stable code, the JSON-pointer path of
 * the field that caused it, and a readable sentence that names the service or run and the
 * action. */
#ifndef HP_COMMON_SPEC_H
#define HP_COMMON_SPEC_H

#include "problems.h"
#include "status.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The bounds of DESIGN section 2. */
#define HP_NAME_MAX           64      /* service, run and action names */
#define HP_ACTIONS_MAX        64      /* actions in a service or run (at least 1) */
#define HP_TIMEOUT_MAX_SECS   604800L /* one week; 0 = no timeout */
#define HP_RETRY_MAX          100
#define HP_RETRY_DELAY_MAX_MS 3600000L
#define HP_TAGS_MAX           32
#define HP_TAG_MAX            64 /* bytes per tag (at least 1) */
#define HP_ENV_MAX            64
#define HP_DESCRIPTION_MAX    1024 /* bytes */
#define HP_REQUIRES_MAX       64   /* services a service requires */
#define HP_NAME_SHOW_SIZE     72   /* a buffer that holds any hp_name_show result */

typedef enum hp_restart { HP_RESTART_NEVER, HP_RESTART_ON_FAILURE, HP_RESTART_ALWAYS } hp_restart;

/* A health probe (DESIGN section 9): what is checked, how often, and how many failures in a
 * row make the job unhealthy. HP_PROBE_NONE = no probe (the other fields are then unused). */
typedef enum hp_probe_kind {
    HP_PROBE_NONE,
    HP_PROBE_EXEC,
    HP_PROBE_TCP,
    HP_PROBE_HTTP
} hp_probe_kind;

#define HP_PROBE_INTERVAL_MS     5000L /* the defaults of a probe's numbers */
#define HP_PROBE_TIMEOUT_MS      2000L
#define HP_PROBE_RETRIES         3
#define HP_PROBE_INTERVAL_MIN_MS 100L
#define HP_PROBE_MS_MAX          86400000L /* one day: interval, timeout and start grace */

typedef struct hp_probe {
    hp_probe_kind kind;
    char *target;        /* exec: a command line; tcp: "host:port"; http: an http(s) URL */
    long interval_ms;    /* between the end of a probe and the next, HP_PROBE_INTERVAL_MIN_MS.. */
    long timeout_ms;     /* a probe still going after it has failed, 1..HP_PROBE_MS_MAX */
    int retries;         /* failures in a row before unhealthy, 1..HP_RETRY_MAX */
    long start_grace_ms; /* no probe before this much after the start, 0..HP_PROBE_MS_MAX */
} hp_probe;

typedef struct hp_env_var {
    char *key;
    char *value; /* may be "${secret:NAME}": resolved by the server at spawn time */
} hp_env_var;

/* Every pointer is owned by the struct and released by hp_action_spec_free.
 * A zeroed struct is an empty, freeable spec. */
typedef struct hp_action_spec {
    char *name;
    char *script;      /* exactly one of script and command */
    char *interpreter; /* NULL = "/bin/sh"; used with script only */
    char *command;     /* argv split by hp_split_command, executed without a shell */
    char *cwd;         /* NULL = the server's choice */
    hp_env_var *env;
    size_t n_env;
    long timeout_secs; /* 0 = none, 0..HP_TIMEOUT_MAX_SECS */
    char **depends_on; /* names of actions in the same service or run */
    size_t n_depends_on;
    int retry;           /* extra attempts on failure, 0..HP_RETRY_MAX */
    long retry_delay_ms; /* 0..HP_RETRY_DELAY_MAX_MS */
    hp_restart restart;  /* HP_RESTART_ALWAYS only in services */
    char **tags;         /* at most HP_TAGS_MAX tags of 1..HP_TAG_MAX bytes */
    size_t n_tags;
    hp_probe probe;           /* kind HP_PROBE_NONE = none */
    int on_unhealthy_restart; /* on_unhealthy "restart": needs a probe and a restart policy */
} hp_action_spec;

/* Owns its strings and its actions array (each element owned too). Zeroed = empty. */
typedef struct hp_service_config {
    char *name;
    char *description; /* may be NULL; at most HP_DESCRIPTION_MAX bytes */
    hp_action_spec *actions;
    size_t n_actions;  /* 1..HP_ACTIONS_MAX */
    int wanted_start;  /* 1 = "start", 0 = "stop" (the default) */
    char **requires;   /* names of other services started (and ready) before this one */
    size_t n_requires; /* 0..HP_REQUIRES_MAX */
} hp_service_config;

/* --- common/spec.c: names, restart words, free and copy ------------------------------- */

/* 1 when name matches [A-Za-z0-9_.-]{1,64} and is not "." or "..", else 0 (NULL gives 0). */
int hp_name_is_valid(const char *name);

/* Writes s into buf (size bytes, caller-owned) for a message: control characters,
 * DEL and bytes >= 0x80 as \xNN, a backslash as \\, cut with "..." past 64 characters.
 * NULL shows as an empty string. Returns buf. */
const char *hp_name_show(const char *s, char *buf, size_t size);

/* "never", "on_failure", "always"; "unknown" for a value outside the enum. Static. */
const char *hp_restart_name(hp_restart r);

/* Reads one of the three names into *out. Returns 0, or -1 when s is NULL or unknown
 * (*out untouched). */
int hp_restart_parse(const char *s, hp_restart *out);

/* "exec", "tcp", "http"; "none" for HP_PROBE_NONE, "unknown" outside the enum. Static. */
const char *hp_probe_kind_name(hp_probe_kind k);

/* Sets p to kind and target (copied) with the default numbers; kind HP_PROBE_NONE clears
 * it. Returns 0, or -1 without memory (p then cleared). */
int hp_probe_set(hp_probe *p, hp_probe_kind kind, const char *target);

/* Frees every member (not a itself) and zeroes *a. NULL safe. */
void hp_action_spec_free(hp_action_spec *a);

/* hp_action_spec_free on each of n elements, then free(actions). NULL safe. */
void hp_actions_free(hp_action_spec *actions, size_t n);

/* Frees every member (not c itself) and zeroes *c. NULL safe. */
void hp_service_config_free(hp_service_config *c);

/* Deep copy of src into dst, which is overwritten (not freed first). Returns 0, or -1
 * on allocation failure with dst zeroed (nothing leaks). */
int hp_action_spec_copy(hp_action_spec *dst, const hp_action_spec *src);

/* --- common/spec_json.c --------------------------------------------------------------- */

/* JSON parse. These check types and representability only: a field of the wrong type
 * ("timeout_secs must be an integer"), an unknown restart or wanted value, a number too
 * large to store, a non-string env value. Missing fields and the rules of section 2 are
 * hp_spec_validate's: a server runs both and answers every problem. A field that could
 * not be read is left unset. JSON null values are ignored; a field the contract does not
 * define is a problem ("unknown field 'timeout_sec' (at actions[0].timeout_sec); did you
 * mean timeout_secs?"). Every
 * problem is added to pb (may be NULL) prefixed by owner, e.g. "run 'ci'" (may be NULL).
 * Returns 0 when nothing was found, -1 otherwise (also on allocation failure, reported
 * as a problem). *out is overwritten and always left freeable; strings are copied, json
 * stays the caller's. */
int hp_action_spec_from_json(const cJSON *json, hp_action_spec *out, const char *owner,
                             hp_problems *pb);

/* Fields name, description, actions, wanted ("start" | "stop"), requires. As above; the owner
 * prefix is "service '<name>'". Free *out with hp_service_config_free. */
int hp_service_config_from_json(const cJSON *json, hp_service_config *out, hp_problems *pb);

/* An actions array for a run (its name is checked by the caller). *out gets a new array
 * of *n specs that the caller frees with hp_actions_free, on every path (NULL when
 * *n is 0). Returns 0 or -1 as above. */
int hp_actions_from_json(const cJSON *array, hp_action_spec **out, size_t *n, const char *owner,
                         hp_problems *pb);

/* The same, skipping fields they do not know: for reading a server's answers (a service
 * record carries its times; a newer server may add fields). */
int hp_service_config_from_json_lenient(const cJSON *json, hp_service_config *out, hp_problems *pb);
int hp_actions_from_json_lenient(const cJSON *array, hp_action_spec **out, size_t *n,
                                 hp_problems *pb);

/* JSON emit: a new object the caller frees with cJSON_Delete, NULL on allocation
 * failure. Fields at their default (NULL, 0, empty, never) are omitted; name is always
 * present (null when NULL). */
cJSON *hp_action_spec_to_json(const hp_action_spec *a);

/* name, description (when set), actions, wanted and requires (when any); caller frees
 * with cJSON_Delete. */
cJSON *hp_service_config_to_json(const hp_service_config *c);

/* --- common/spec_validate.c: the rules, the order ------------------------------------- */

/* The validation rules of DESIGN section 2, every problem at once, added to pb (may be
 * NULL), each with its code and the path of the field that caused it, relative to the
 * service config or the run ({name, actions}): "/name", "/actions/2/depends_on/0",
 * "/actions/1/env/PORT"; a cycle's is the dependency that leaves its earliest action, and
 * its record lists the actions on it. The JSON parse above fills them the same way. kind is
 * "service" or "run" (NULL = "run"): it prefixes the messages with the name, and only a service may
 * use restart 'always'. Checks: the service/run name and every action name; no duplicate action
 * names; every depends_on names an action of the set; no dependency cycle (each cycle the
 * depth-first walk meets is reported once as its path, "a -> b -> a", starting from its earliest
 * action; a self-dependency is "a -> a"); exactly one of script/command, non-empty; the command
 * splits; numeric bounds; restart values; 1..64 actions; env keys [A-Za-z_][A-Za-z0-9_]*, unique,
 * at most 64, with a value; tags; no control characters in cwd and interpreter. Returns the number
 * of problems found (0 = valid), whatever pb could store. */
size_t hp_spec_validate(const char *kind, const char *name, const hp_action_spec *actions, size_t n,
                        hp_problems *pb);

/* hp_spec_validate("service", ...) plus the description length and the requires list: valid
 * names, no duplicate, not the service itself ("requires cycle: a -> a"), at most
 * HP_REQUIRES_MAX. Whether the required services exist and form no cycle across services is
 * the server's check (it knows them all). Returns the count. */
size_t hp_service_config_validate(const hp_service_config *c, hp_problems *pb);

/* Deterministic topological order (Kahn; among the actions ready at once, the earliest
 * inserted first): order (caller-owned, n slots) gets the indexes, dependencies before
 * their dependents. A duplicated name resolves to its first action. Returns 0, or -1
 * when there is a cycle, an unknown dependency, or no memory (order then unspecified). */
int hp_spec_order(const hp_action_spec *actions, size_t n, size_t *order);

/* --- common/cmdline.c ----------------------------------------------------------------- */

/* Shell-style split of a command line without a shell: blanks separate words;
 * 'single quotes' are literal; "double quotes" honour \\ \" \$ \` (other backslashes
 * stay); a backslash outside quotes escapes the next character (backslash-newline joins
 * lines); no globbing, no variables, no operators. Returns a new NULL-terminated argv
 * that the caller frees with hp_argv_free, or NULL with err (may be NULL) set:
 * HP_E_VALIDATION "unterminated quote", "empty command" (also for NULL) or "trailing
 * backslash"; HP_E_NOMEM. */
char **hp_split_command(const char *cmd, hp_error *err);

/* Frees an argv from hp_split_command. NULL safe. */
void hp_argv_free(char **argv);

#ifdef __cplusplus
}
#endif

#endif
