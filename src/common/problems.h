/* SPDX-License-Identifier: Apache-2.0 */
/* A problem as a record (a stable code from one X-macro table, the JSON-pointer path of its
 * field, the sentence, a cycle's actions), the lists of them and their error.data form. */
#ifndef HP_COMMON_PROBLEMS_H
#define HP_COMMON_PROBLEMS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HP_PROBLEMS_MAX 100 /* problems kept in an hp_problems; one more says so */

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
    X(HP_PROBLEM_DEP_SELF, "dep_self")     /* an action depends on itself */                       \
    X(HP_PROBLEM_DEP_CYCLE, "dep_cycle")   /* a longer cycle: see hp_problem.cycle */              \
    X(HP_PROBLEM_VALUE_FORM, "value_form") /* not of its form: host:port, a URL */

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

#ifdef __cplusplus
}
#endif

#endif
