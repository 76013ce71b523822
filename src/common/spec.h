/* The shared model of an ActionSpec and a ServiceConfig (DESIGN section 2): the structs,
 * their JSON parse and emit, the validation rules used by both the server and the
 * builders, the deterministic dependency order, and the shell-style command split.
 * Every problem is a record: a stable code, the JSON-pointer path of the field that caused
 * it, and a readable sentence that names the service or run and the action. */
#ifndef HP_COMMON_SPEC_H
#define HP_COMMON_SPEC_H

#include "common/status.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

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
#define HP_PROBLEMS_MAX       100  /* problems kept in an hp_problems; one more says so */
#define HP_NAME_SHOW_SIZE     72   /* a buffer that holds any hp_name_show result */

typedef enum hp_restart { HP_RESTART_NEVER, HP_RESTART_ON_FAILURE, HP_RESTART_ALWAYS } hp_restart;

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
} hp_action_spec;

/* Owns its strings and its actions array (each element owned too). Zeroed = empty. */
typedef struct hp_service_config {
    char *name;
    char *description; /* may be NULL; at most HP_DESCRIPTION_MAX bytes */
    hp_action_spec *actions;
    size_t n_actions; /* 1..HP_ACTIONS_MAX */
    int wanted_start; /* 1 = "start", 0 = "stop" (the default) */
} hp_service_config;

/* X(code, wire): what a problem is about. The wire strings are the contract's
 * (error.data.details[].code in data/openrpc.json): stable, never reworded. */
#define HP_PROBLEM_TABLE(X)                                                                        \
    X(HP_PROBLEM_INVALID, "invalid")              /* generic: hp_problems_add */                   \
    X(HP_PROBLEM_NO_MEMORY, "no_memory")          /* the check itself ran out of memory */         \
    X(HP_PROBLEM_TRUNCATED, "problems_truncated") /* more than HP_PROBLEMS_MAX were found */       \
    X(HP_PROBLEM_FIELD_UNKNOWN, "field_unknown")  /* a field or param the contract lacks */        \
    X(HP_PROBLEM_FIELD_TYPE, "field_type")        /* a field of the wrong JSON type */             \
    X(HP_PROBLEM_VALUE_MISSING, "value_missing")  /* a required value is absent */                 \
    X(HP_PROBLEM_VALUE_EMPTY, "value_empty")      /* an empty script, command, cwd... */           \
    X(HP_PROBLEM_VALUE_RANGE, "value_range")      /* a number out of its bounds */                 \
    X(HP_PROBLEM_VALUE_CHOICE, "value_choice")    /* not one of the allowed words */               \
    X(HP_PROBLEM_VALUE_LENGTH, "value_length")    /* a string too long or too short */             \
    X(HP_PROBLEM_VALUE_CONTROL, "value_control")  /* a control (or NUL) character */               \
    X(HP_PROBLEM_COUNT_RANGE, "count_range")      /* too many actions, env vars, tags... */        \
    X(HP_PROBLEM_NAME_MISSING, "name_missing")                                                     \
    X(HP_PROBLEM_NAME_INVALID, "name_invalid")                                                     \
    X(HP_PROBLEM_NAME_DUPLICATE, "name_duplicate") /* a later action reuses a name */              \
    X(HP_PROBLEM_ACTIONS_EMPTY, "actions_empty")                                                   \
    X(HP_PROBLEM_PROGRAM_BOTH, "program_both")                 /* script and command both given */ \
    X(HP_PROBLEM_PROGRAM_MISSING, "program_missing")           /* neither script nor command */    \
    X(HP_PROBLEM_COMMAND_SPLIT, "command_split")               /* hp_split_command refused it */   \
    X(HP_PROBLEM_RESTART_SERVICE_ONLY, "restart_service_only") /* 'always' in a run */             \
    X(HP_PROBLEM_ENV_KEY_INVALID, "env_key_invalid")                                               \
    X(HP_PROBLEM_ENV_KEY_DUPLICATE, "env_key_duplicate")                                           \
    X(HP_PROBLEM_DEP_UNKNOWN, "dep_unknown")                                                       \
    X(HP_PROBLEM_DEP_SELF, "dep_self")   /* an action depends on itself */                         \
    X(HP_PROBLEM_DEP_CYCLE, "dep_cycle") /* a longer cycle: see hp_problem.cycle */

typedef enum hp_problem_code {
#define HP__PROBLEM_ENUM(code, wire) code,
    HP_PROBLEM_TABLE(HP__PROBLEM_ENUM)
#undef HP__PROBLEM_ENUM
        HP_PROBLEM__COUNT
} hp_problem_code;

/* One problem; every pointer owned by the hp_problems that holds it. */
typedef struct hp_problem {
    hp_problem_code code;
    char *path;    /* JSON pointer of the field that caused it, relative to the object checked
                    * (a service config, a run's {name, actions}, a request's params):
                    * "/actions/2/depends_on/0", "/name"; "" = the object itself. Never NULL. */
    char *message; /* the sentence, e.g. "run 'ci': action 'test' depends on unknown action 'b'" */
    size_t detail; /* message + detail is the sentence without the service, run or action it
                    * opens with ("depends on unknown action 'b'"); 0 when unknown */
    char **cycle;  /* HP_PROBLEM_DEP_CYCLE/SELF: the actions on the cycle in order, from its
                    * earliest action, the first not repeated at the end; else NULL */
    size_t n_cycle;
} hp_problem;

/* The problems of one check, owned by the struct. Start from {0}. At most HP_PROBLEMS_MAX
 * are kept, then one HP_PROBLEM_TRUNCATED saying that more were found. */
typedef struct hp_problems {
    hp_problem *records;
    char **items; /* the sentences: items[i] is records[i].message (borrowed from it) */
    size_t count;
} hp_problems;

/* The wire string of a code ("dep_unknown"); "invalid" when out of range. Static. */
const char *hp_problem_code_name(hp_problem_code code);

/* Reads a wire string into *out. Returns 0, or -1 when s is NULL or unknown (*out is then
 * HP_PROBLEM_INVALID: a newer server's code reads as the generic one). */
int hp_problem_code_parse(const char *s, hp_problem_code *out);

/* Appends a formatted sentence (copied) with code HP_PROBLEM_INVALID and path "". pb may
 * be NULL. On allocation failure the problem is dropped: callers count problems
 * themselves, never from pb->count. */
void hp_problems_add(hp_problems *pb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same with its code and path (copied; NULL = ""). */
void hp_problems_add_at(hp_problems *pb, hp_problem_code code, const char *path, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

/* Appends a copy of p (its path, message and cycle). Returns 0, -1 when pb or p is NULL,
 * p->message is NULL, memory ran out, or pb is full (then the HP_PROBLEM_TRUNCATED entry
 * is added once). */
int hp_problems_push(hp_problems *pb, const hp_problem *p);

/* Prefixes the path of the records from index from on with prefix (e.g. "/config" for the
 * problems of a service config inside service.set's params). Returns 0, -1 without memory
 * (the paths not done stay as they were). */
int hp_problems_nest(hp_problems *pb, size_t from, const char *prefix);

/* Writes prefix then "/" and token into buf (size bytes, caller-owned), with '~' as "~0"
 * and '/' as "~1" (RFC 6901); cut, never overflowing. NULL token = "". Returns buf. */
const char *hp_json_pointer_key(char *buf, size_t size, const char *prefix, const char *token);

/* Frees every record and leaves pb empty and reusable. NULL safe. */
void hp_problems_free(hp_problems *pb);

/* The InvalidParams error.data of data/openrpc.json: {"problems": [sentences],
 * "details": [{code, path, message[, cycle]}]}. Caller frees with cJSON_Delete; NULL
 * without memory. */
cJSON *hp_problems_to_json(const hp_problems *pb);

/* Reads an error.data (may be NULL or anything) into pb: its "details" records when it
 * has them (an unknown code reads as HP_PROBLEM_INVALID), else its "problems" sentences
 * (code HP_PROBLEM_INVALID, path ""). Entries of the wrong shape are skipped. Returns the
 * number of problems added. */
size_t hp_problems_from_json(const cJSON *data, hp_problems *pb);

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

/* Frees every member (not a itself) and zeroes *a. NULL safe. */
void hp_action_spec_free(hp_action_spec *a);

/* hp_action_spec_free on each of n elements, then free(actions). NULL safe. */
void hp_actions_free(hp_action_spec *actions, size_t n);

/* Frees every member (not c itself) and zeroes *c. NULL safe. */
void hp_service_config_free(hp_service_config *c);

/* Deep copy of src into dst, which is overwritten (not freed first). Returns 0, or -1
 * on allocation failure with dst zeroed (nothing leaks). */
int hp_action_spec_copy(hp_action_spec *dst, const hp_action_spec *src);

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

/* Fields name, description, actions, wanted ("start" | "stop"). As above; the owner
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

/* Adds key: v to the object o as a JSON integer; returns the item, NULL without memory.
 * cJSON prints a number with %1.15g and parses it back to check the digits; an integer
 * written once as text (a raw item) costs a fraction of that, and the daemon's job, run
 * and log lists are mostly integers. (A raw item prints as given; read numbers from a
 * parsed copy, not from the object built.) */
cJSON *hp_json_add_int(cJSON *o, const char *key, int64_t v);

/* JSON emit: a new object the caller frees with cJSON_Delete, NULL on allocation
 * failure. Fields at their default (NULL, 0, empty, never) are omitted; name is always
 * present (null when NULL). */
cJSON *hp_action_spec_to_json(const hp_action_spec *a);

/* name, description (when set), actions and wanted; caller frees with cJSON_Delete. */
cJSON *hp_service_config_to_json(const hp_service_config *c);

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

/* hp_spec_validate("service", ...) plus the description length. Returns the count. */
size_t hp_service_config_validate(const hp_service_config *c, hp_problems *pb);

/* Deterministic topological order (Kahn; among the actions ready at once, the earliest
 * inserted first): order (caller-owned, n slots) gets the indexes, dependencies before
 * their dependents. A duplicated name resolves to its first action. Returns 0, or -1
 * when there is a cycle, an unknown dependency, or no memory (order then unspecified). */
int hp_spec_order(const hp_action_spec *actions, size_t n, size_t *order);

/* --- common/cmdline.c ---------------------------------------------------------------- */

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

#endif
