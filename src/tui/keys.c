/* SPDX-License-Identifier: Apache-2.0 */
/* The one key table of hero_proc_tui and the help and hints generated from it. Key
 * handling itself is the app's and the views' (tui_cmd); this file only maps and
 * describes. */
#include "config.h"

#include "tui/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESC_KEY 27
#define TAB_KEY '\t'
#define CTRL(c) ((c)&0x1f)

tui_key tui_keys[] = {
    {'?', 0, "?", TUI_CMD_HELP, TUI_SCOPE_ALL, TUI_KEY_HINT, "help: the keys of this view"},
    {'q', 0, "q", TUI_CMD_QUIT, TUI_SCOPE_ALL, TUI_KEY_HINT, "quit (back in a sub-view)"},
    {':', 0, ":", TUI_CMD_COMMAND, TUI_SCOPE_ALL, TUI_KEY_HINT,
     "command line: :runs, :restart NAME, ... (Tab completes)"},
    {ESC_KEY, 0, "Esc", TUI_CMD_BACK, TUI_SCOPE_ALL, 0, "back to the previous view"},
    {'1', 0, "1", TUI_CMD_VIEW_SERVICES, TUI_SCOPE_ALL, 0, "services"},
    {'2', 0, "2", TUI_CMD_VIEW_RUNS, TUI_SCOPE_ALL, 0, "runs"},
    {'3', 0, "3", TUI_CMD_VIEW_JOBS, TUI_SCOPE_ALL, 0, "jobs"},
    {'4', 0, "4", TUI_CMD_VIEW_SECRETS, TUI_SCOPE_ALL, 0, "secrets (names and times only)"},
    {'5', 0, "5", TUI_CMD_VIEW_EVENTS, TUI_SCOPE_ALL, 0, "events: starts, exits, failures"},
    {'0', 0, "0", TUI_CMD_VIEW_FLEET, TUI_SCOPE_ALL, 0,
     "fleet: every context's services in one list (/host:NAME filters)"},
    {TAB_KEY, 0, "Tab", TUI_CMD_NEXT_VIEW, TUI_SCOPE_ALL, 0, "next view"},
    {'k', 0, "k/Up", TUI_CMD_UP, TUI_SCOPE_ALL, 0, "move up"},
    {KEY_UP, 1, NULL, TUI_CMD_UP, TUI_SCOPE_ALL, 0, NULL},
    {'j', 0, "j/Down", TUI_CMD_DOWN, TUI_SCOPE_ALL, 0, "move down"},
    {KEY_DOWN, 1, NULL, TUI_CMD_DOWN, TUI_SCOPE_ALL, 0, NULL},
    {KEY_PPAGE, 1, "PgUp", TUI_CMD_PAGE_UP, TUI_SCOPE_ALL, 0, "page up"},
    {KEY_NPAGE, 1, "PgDn", TUI_CMD_PAGE_DOWN, TUI_SCOPE_ALL, 0, "page down"},
    {'g', 0, "g/Home", TUI_CMD_TOP, TUI_SCOPE_ALL, 0, "first line"},
    {KEY_HOME, 1, NULL, TUI_CMD_TOP, TUI_SCOPE_ALL, 0, NULL},
    {'G', 0, "G/End", TUI_CMD_BOTTOM, TUI_SCOPE_ALL, 0, "last line (logs: follow again)"},
    {KEY_END, 1, NULL, TUI_CMD_BOTTOM, TUI_SCOPE_ALL, 0, NULL},
    {'\n', 0, "Enter", TUI_CMD_ENTER,
     TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS, TUI_KEY_HINT,
     "open: service -> its jobs, run -> its jobs, job -> its log"},
    {'\r', 0, NULL, TUI_CMD_ENTER,
     TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS, 0, NULL},
    {KEY_ENTER, 1, NULL, TUI_CMD_ENTER,
     TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS, 0, NULL},
    {'/', 0, "/", TUI_CMD_FILTER, TUI_SCOPE_LISTS, TUI_KEY_HINT,
     "filter rows by name or status (Esc clears)"},
    {'l', 0, "l", TUI_CMD_LOGS,
     TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS, TUI_KEY_HINT,
     "log of the job; of a run or a service's run: every action's lines"},
    {'/', 0, "/", TUI_CMD_SEARCH, TUI_SCOPE_LOGS, TUI_KEY_HINT,
     "search: matches highlighted, n/N next/previous (Esc clears)"},
    {'n', 0, "n", TUI_CMD_SEARCH_NEXT, TUI_SCOPE_LOGS, 0, "next match (later lines)"},
    {'N', 0, "N", TUI_CMD_SEARCH_PREV, TUI_SCOPE_LOGS, 0, "previous match (earlier lines)"},
    {'&', 0, "&", TUI_CMD_GREP, TUI_SCOPE_LOGS, TUI_KEY_HINT,
     "filter: only the lines that match (empty or Esc clears)"},
    {'F', 0, "F", TUI_CMD_FOLLOW, TUI_SCOPE_LOGS, TUI_KEY_HINT, "follow new lines"},
    {'w', 0, "w", TUI_CMD_WRAP, TUI_SCOPE_LOGS, TUI_KEY_HINT, "wrap long lines (on/off)"},
    {'t', 0, "t", TUI_CMD_TIMESTAMPS, TUI_SCOPE_LOGS, TUI_KEY_HINT,
     "timestamps: off, time, date and time"},
    {CTRL('s'), 0, "Ctrl-S", TUI_CMD_SAVE, TUI_SCOPE_LOGS, 0,
     "save the lines shown to a file (asks its name; as :w)"},
    {'s', 0, "s", TUI_CMD_START, TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET,
     TUI_KEY_ACTION | TUI_KEY_HINT, "start the service"},
    {'S', 0, "S", TUI_CMD_STOP, TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET, TUI_KEY_ACTION | TUI_KEY_HINT,
     "stop the service (asks first)"},
    {'r', 0, "r", TUI_CMD_RESTART, TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET,
     TUI_KEY_ACTION | TUI_KEY_HINT, "restart the service (asks first)"},
    {'D', 0, "D", TUI_CMD_DELETE, TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET,
     TUI_KEY_ACTION | TUI_KEY_HINT, "delete the service (asks first)"},
    {'c', 0, "c", TUI_CMD_CANCEL, TUI_SCOPE_RUNS, TUI_KEY_ACTION | TUI_KEY_HINT,
     "cancel the run (asks first)"},
    {'D', 0, "D", TUI_CMD_DELETE, TUI_SCOPE_RUNS, TUI_KEY_ACTION,
     "delete the run with its jobs and logs (asks first)"},
    {'c', 0, "c", TUI_CMD_CANCEL, TUI_SCOPE_JOBS, TUI_KEY_ACTION | TUI_KEY_HINT,
     "cancel the job (asks first)"},
    {'n', 0, "n", TUI_CMD_NEW, TUI_SCOPE_SECRETS, TUI_KEY_ACTION | TUI_KEY_HINT,
     "new secret or new value: its name, then the value (typed hidden)"},
    {'D', 0, "D", TUI_CMD_DELETE, TUI_SCOPE_SECRETS, TUI_KEY_ACTION | TUI_KEY_HINT,
     "delete the secret (asks first)"},
    {' ', 0, "Space", TUI_CMD_MARK, TUI_SCOPE_LISTS, 0,
     "mark the row (or unmark it): the verbs then act on every marked row"},
    {'*', 0, "*", TUI_CMD_MARK_ALL, TUI_SCOPE_LISTS, 0,
     "mark every row shown (after the / filter)"},
    {'u', 0, "u", TUI_CMD_UNMARK, TUI_SCOPE_LISTS, 0, "clear the marks"},
    {'n', 0, "n", TUI_CMD_NEW, TUI_SCOPE_SERVICES | TUI_SCOPE_RUNS, TUI_KEY_ACTION | TUI_KEY_HINT,
     "new: a form for a service (Services) or a one-shot run (Runs)"},
    {'h', 0, "h", TUI_CMD_HISTORY, TUI_SCOPE_SERVICES | TUI_SCOPE_FLEET, 0,
     "history: the runs of the service (old ones too when kept)"},
    {'e', 0, "e", TUI_CMD_EDIT, TUI_SCOPE_SERVICES, TUI_KEY_ACTION | TUI_KEY_HINT,
     "edit the service in a form"},
    {'R', 0, "R", TUI_CMD_RERUN, TUI_SCOPE_RUNS, TUI_KEY_ACTION | TUI_KEY_HINT,
     "rerun: a form with the run's actions, to change and start again"},
    {'>', 0, ">", TUI_CMD_SORT_RIGHT, TUI_SCOPE_LISTS, TUI_KEY_HINT,
     "sort by the column to the right"},
    {'<', 0, "<", TUI_CMD_SORT_LEFT, TUI_SCOPE_LISTS, 0, "sort by the column to the left"},
    {'I', 0, "I", TUI_CMD_SORT_INVERT, TUI_SCOPE_LISTS, 0, "invert the sort order"},
    {KEY_F(5), 1, "F5", TUI_CMD_REFRESH, TUI_SCOPE_ALL, 0, "refresh now"},
    {'R' - '@', 0, "Ctrl-R", TUI_CMD_REFRESH, TUI_SCOPE_ALL, 0, "refresh now"},
    {KEY_F(1), 1, "F1", TUI_CMD_HELP, TUI_SCOPE_ALL, 0, "help: the keys of this view"},
    {CTRL('l'), 0, "Ctrl-L", TUI_CMD_REDRAW_ALL, TUI_SCOPE_ALL, 0, "redraw the whole screen"},
    {'Z', 0, "Z", TUI_CMD_PAUSE, TUI_SCOPE_ALL, 0,
     "pause live updates (the header says paused); Z again resumes"},
    /* Forms: typed keys are text in a text field, so the form's commands are control
     * keys; the letters below work on the actions list, choices and buttons. */
    {TAB_KEY, 0, "Tab", TUI_CMD_FORM_NEXT, TUI_SCOPE_FORM, TUI_KEY_HINT,
     "next field (the field left is checked)"},
    {KEY_BTAB, 1, "S-Tab", TUI_CMD_FORM_PREV, TUI_SCOPE_FORM, 0, "previous field"},
    {KEY_DOWN, 1, "Down", TUI_CMD_DOWN, TUI_SCOPE_FORM, 0,
     "next field; the next line in a script or env; the next action in the list"},
    {'j', 0, NULL, TUI_CMD_DOWN, TUI_SCOPE_FORM, 0, NULL},
    {KEY_UP, 1, "Up", TUI_CMD_UP, TUI_SCOPE_FORM, 0, "previous field, line or action"},
    {'k', 0, NULL, TUI_CMD_UP, TUI_SCOPE_FORM, 0, NULL},
    {'\n', 0, "Enter", TUI_CMD_ENTER, TUI_SCOPE_FORM, 0,
     "next field; a new line in a script or env; presses a button"},
    {'\r', 0, NULL, TUI_CMD_ENTER, TUI_SCOPE_FORM, 0, NULL},
    {KEY_ENTER, 1, NULL, TUI_CMD_ENTER, TUI_SCOPE_FORM, 0, NULL},
    {CTRL('s'), 0, "Ctrl-S", TUI_CMD_FORM_SUBMIT, TUI_SCOPE_FORM, TUI_KEY_HINT,
     "submit: save the service (started when wanted is start), or start the run"},
    {KEY_F(2), 1, NULL, TUI_CMD_FORM_SUBMIT, TUI_SCOPE_FORM, 0, NULL},
    {CTRL('p'), 0, "Ctrl-P", TUI_CMD_FORM_PREVIEW, TUI_SCOPE_FORM, TUI_KEY_HINT,
     "preview the JSON that will be sent and the equivalent hero_proc command"},
    {'p', 0, "p", TUI_CMD_FORM_PREVIEW, TUI_SCOPE_FORM, 0, "preview, outside a text field"},
    {CTRL('e'), 0, "Ctrl-E", TUI_CMD_FORM_EDITOR, TUI_SCOPE_FORM, TUI_KEY_HINT,
     "edit the script, command or env in $EDITOR"},
    {'a', 0, "a", TUI_CMD_FORM_ADD, TUI_SCOPE_FORM, 0, "add an action (in the Actions list)"},
    {'x', 0, "x/Del", TUI_CMD_FORM_REMOVE, TUI_SCOPE_FORM, 0,
     "remove the selected action (in the Actions list)"},
    {KEY_DC, 1, NULL, TUI_CMD_FORM_REMOVE, TUI_SCOPE_FORM, 0, NULL},
    {'K', 0, "K", TUI_CMD_FORM_MOVE_UP, TUI_SCOPE_FORM, 0, "move the selected action up"},
    {'J', 0, "J", TUI_CMD_FORM_MOVE_DOWN, TUI_SCOPE_FORM, 0, "move the selected action down"},
    {' ', 0, "Space", TUI_CMD_FORM_TOGGLE, TUI_SCOPE_FORM, 0,
     "choose: the next choice, tick a dependency (Left/Right move), press a button"},
    {ESC_KEY, 0, "Esc", TUI_CMD_BACK, TUI_SCOPE_FORM, TUI_KEY_HINT,
     "close the form (asks first when something is not saved; so does Ctrl-C)"},
    {KEY_F(1), 1, "F1", TUI_CMD_HELP, TUI_SCOPE_FORM, TUI_KEY_HINT, "help: the keys of a form"},
};
const size_t tui_n_keys = sizeof(tui_keys) / sizeof(tui_keys[0]);

const tui_command tui_commands[] = {
    {"services", "svc", NULL, 0, TUI_CMD_VIEW_SERVICES, 0, "the services"},
    {"runs", NULL, NULL, 0, TUI_CMD_VIEW_RUNS, 0, "the runs"},
    {"jobs", NULL, NULL, 0, TUI_CMD_VIEW_JOBS, 0, "the jobs"},
    {"logs", "log", "[all]", 0, TUI_CMD_LOGS, 0,
     "the log of the selected row (as l); all: every service's lines by time"},
    {"secrets", "sec", NULL, 0, TUI_CMD_VIEW_SECRETS, 0, "the secrets (names only)"},
    {"events", "ev", NULL, 0, TUI_CMD_VIEW_EVENTS, 0, "the events since the dashboard opened"},
    {"fleet", NULL, NULL, 0, TUI_CMD_VIEW_FLEET, 0,
     "every context's services in one list; Enter opens a host's"},
    {"start", NULL, "NAME", 1, TUI_CMD_START, TUI_KEY_ACTION, "start a service"},
    {"stop", NULL, "NAME", 1, TUI_CMD_STOP, TUI_KEY_ACTION, "stop a service (asks first)"},
    {"restart", NULL, "NAME", 1, TUI_CMD_RESTART, TUI_KEY_ACTION, "restart a service (asks first)"},
    {"new", NULL, "service|run", 0, TUI_CMD_NEW, TUI_KEY_ACTION,
     "a form: a new service, or a one-shot run (as n)"},
    {"edit", NULL, "NAME", 1, TUI_CMD_EDIT, TUI_KEY_ACTION, "a form to edit service NAME (as e)"},
    {"rerun", NULL, "ID", 1, TUI_CMD_RERUN, TUI_KEY_ACTION, "a form to run run ID again (as R)"},
    {"run", NULL, "ID", 1, TUI_CMD_OPEN_RUN, 0, "the jobs of run ID"},
    {"job", NULL, "ID", 1, TUI_CMD_OPEN_JOB, 0, "the log of job ID"},
    {"filter", NULL, "TEXT", 0, TUI_CMD_FILTER, 0, "as /: filter (search in logs)"},
    {"w", NULL, "FILE", 1, TUI_CMD_WRITE, 0, "logs: save the lines shown to a new FILE"},
    {"w!", NULL, "FILE", 1, TUI_CMD_WRITE_FORCE, 0, "logs: the same, over FILE if it exists"},
    {"since", NULL, "WHEN", 0, TUI_CMD_SINCE, 0,
     "logs: the lines from WHEN on (10m, 2h, 14:05; none: all)"},
    {"quit", "q", NULL, 0, TUI_CMD_QUIT, 0, "quit the dashboard"},
    {"help", NULL, NULL, 0, TUI_CMD_HELP, 0, "this help"},
};
const size_t tui_n_commands = sizeof(tui_commands) / sizeof(tui_commands[0]);

tui_cmd tui_key_lookup(int code, int func, unsigned scope, int read_only)
{
    for (size_t i = 0; i < tui_n_keys; i++) {
        const tui_key *k = &tui_keys[i];
        if (k->code != code || k->func != func || !(k->scope & scope))
            continue;
        if (read_only && (k->flags & TUI_KEY_ACTION))
            continue;
        return k->cmd;
    }
    return TUI_CMD_NONE;
}

void tui_key_hints(unsigned scope, int read_only, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < tui_n_keys && len < size; i++) {
        const tui_key *k = &tui_keys[i];
        const char *word = k->help;
        char first[24];
        size_t n = 0;

        if (!k->label || !(k->flags & TUI_KEY_HINT) || !(k->scope & scope))
            continue;
        if (read_only && (k->flags & TUI_KEY_ACTION))
            continue;
        /* The first word of the help is the hint: "restart", "log", "open:". */
        while (word[n] && word[n] != ' ' && word[n] != ':' && n + 1 < sizeof(first)) {
            first[n] = word[n];
            n++;
        }
        first[n] = '\0';
        len += (size_t)snprintf(buf + len, size - len, "%s%s %s", len ? "  " : "", k->label, first);
    }
    if (read_only && len < size)
        snprintf(buf + len, size - len, "  [read-only]");
}

size_t tui_key_help(unsigned scope, int read_only, char lines[][96], size_t max)
{
    size_t n = 0;

    /* First, so it shows however long the help grows. */
    if (read_only && n < max)
        snprintf(lines[n++], 96, "--read-only: the keys that change anything are off");
    for (size_t i = 0; i < tui_n_keys && n < max; i++) {
        const tui_key *k = &tui_keys[i];
        if (!k->label || !(k->scope & scope))
            continue;
        if (read_only && (k->flags & TUI_KEY_ACTION))
            continue;
        snprintf(lines[n++], 96, "%-8s %s", k->label, k->help);
    }
    if (scope == TUI_SCOPE_FORM) /* no command line in a form */
        return n;
    if (n < max)
        snprintf(lines[n++], 96, "Commands (: then Enter; a prefix will do, Tab completes)");
    for (size_t i = 0; i < tui_n_commands && n < max; i++) {
        const tui_command *c = &tui_commands[i];
        char name[48];
        if (read_only && (c->flags & TUI_KEY_ACTION))
            continue;
        snprintf(name, sizeof(name), ":%s%s%s", c->name, c->arg ? " " : "", c->arg ? c->arg : "");
        snprintf(lines[n++], 96, "%-15s %s%s%s%s", name, c->help, c->alias ? " (:" : "",
                 c->alias ? c->alias : "", c->alias ? ")" : "");
    }
    return n;
}

/* ---- the `:` command line ------------------------------------------------------------ */

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

int tui_command_parse(const char *line, int read_only, const tui_command **cmd, char *arg,
                      size_t arg_size, char *msg, size_t msg_size)
{
    char word[32];
    size_t len = 0, end;
    const tui_command *found = NULL, *fits = NULL;
    size_t n_found = 0, n_fits = 0;
    int has_arg;

    *cmd = NULL;
    arg[0] = '\0';
    msg[0] = '\0';
    while (is_space(*line) || *line == ':')
        line++;
    while (line[len] && !is_space(line[len]))
        len++;
    if (len == 0)
        return 1;
    snprintf(word, sizeof(word), "%.*s", (int)len, line);
    line += len;
    while (is_space(*line))
        line++;
    end = strlen(line);
    while (end > 0 && is_space(line[end - 1]))
        end--;
    snprintf(arg, arg_size, "%.*s", (int)end, line);
    has_arg = end > 0;
    if (len >= sizeof(word)) {
        snprintf(msg, msg_size, "unknown command '%s...': try :help", word);
        return -1;
    }
    for (size_t i = 0; i < tui_n_commands && !found; i++) {
        const tui_command *c = &tui_commands[i];
        if (strcmp(word, c->name) == 0 || (c->alias && strcmp(word, c->alias) == 0)) {
            found = c;
            n_found = 1;
        }
    }
    for (size_t i = 0; i < tui_n_commands && !found; i++) {
        const tui_command *c = &tui_commands[i];
        if (strncmp(word, c->name, len) != 0)
            continue;
        n_found++;
        if (has_arg ? c->arg != NULL : !c->arg_needed) {
            fits = c;
            n_fits++;
        }
    }
    if (!found && n_fits == 1)
        found = fits;
    if (!found && n_found == 0) {
        snprintf(msg, msg_size, "unknown command '%s': try :help", word);
        return -1;
    }
    if (!found) {
        size_t used = (size_t)snprintf(msg, msg_size, "ambiguous command '%s': ", word);
        int first = 1;
        for (size_t i = 0; i < tui_n_commands && used < msg_size; i++) {
            if (strncmp(word, tui_commands[i].name, len) != 0)
                continue;
            used += (size_t)snprintf(msg + used, msg_size - used, "%s:%s", first ? "" : " ",
                                     tui_commands[i].name);
            first = 0;
        }
        return -1;
    }
    if (read_only && (found->flags & TUI_KEY_ACTION)) {
        snprintf(msg, msg_size, "read-only: :%s is off (started with --read-only)", found->name);
        return -1;
    }
    if (found->arg_needed && !has_arg) {
        snprintf(msg, msg_size, "usage: :%s %s", found->name, found->arg);
        return -1;
    }
    if (!found->arg && has_arg) {
        snprintf(msg, msg_size, ":%s takes no argument (not '%s')", found->name, arg);
        return -1;
    }
    *cmd = found;
    return 0;
}

size_t tui_command_complete(char *line, size_t size, int read_only, char *list, size_t list_size)
{
    size_t len = strlen(line), n = 0, common = 0, used = 0;
    const tui_command *last = NULL;

    if (list && list_size)
        list[0] = '\0';
    if (strchr(line, ' '))
        return 0; /* the name is typed: nothing to complete */
    for (size_t i = 0; i < tui_n_commands; i++) {
        const tui_command *c = &tui_commands[i];
        if (strncmp(line, c->name, len) != 0 || (read_only && (c->flags & TUI_KEY_ACTION)))
            continue;
        if (!last) {
            common = strlen(c->name);
        } else {
            size_t k = len;
            while (k < common && c->name[k] == last->name[k])
                k++;
            common = k;
        }
        if (list && used < list_size)
            used += (size_t)snprintf(list + used, list_size - used, "%s:%s", n ? " " : "", c->name);
        last = c;
        n++;
    }
    if (n == 1)
        snprintf(line, size, "%s%s", last->name, last->arg ? " " : "");
    else if (n > 1 && common > len && common < size) {
        memcpy(line + len, last->name + len, common - len);
        line[common] = '\0';
    }
    return n;
}

/* ---- keys from the settings file -------------------------------------------------------- */

/* Labels of the keys bound, which the table points at. */
static char bound_labels[64][16];
static size_t n_bound_labels;

/* The binding entries of table (n entries) take: 1 when entry k is cmd's and may change. */
static int rebindable(const tui_key *k, tui_cmd cmd)
{
    return k->cmd == cmd && k->label && !(k->scope & TUI_SCOPE_FORM);
}

/* Applies b to table in place; labels point at the bindings' own (b outlives the use). */
static void apply(tui_key *table, const tui_key_binding *b, size_t n, const char *const *labels)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t e = 0; e < tui_n_keys; e++) {
            if (!rebindable(&table[e], b[i].cmd))
                continue;
            table[e].code = b[i].code;
            table[e].func = b[i].func;
            table[e].label = labels[i];
        }
    }
}

int tui_key_check(const tui_key_binding *b, size_t n, char *msg, size_t size)
{
    tui_key *copy = malloc(sizeof(tui_keys));
    const char *labels[64] = {0};
    int rc = -1;

    if (!copy) {
        snprintf(msg, size, "out of memory");
        return -1;
    }
    if (n > sizeof(labels) / sizeof(labels[0])) {
        snprintf(msg, size, "too many keys");
        goto out;
    }
    memcpy(copy, tui_keys, sizeof(tui_keys));
    for (size_t i = 0; i < n; i++) {
        size_t e = 0;
        while (e < tui_n_keys && !rebindable(&copy[e], b[i].cmd))
            e++;
        if (e == tui_n_keys) {
            snprintf(msg, size, "key of \"%s\": that command has no key to change", b[i].label);
            goto out;
        }
        labels[i] = b[i].label;
    }
    apply(copy, b, n, labels);
    for (size_t i = 0; i < n; i++) {
        for (size_t e = 0; e < tui_n_keys; e++) {
            const tui_key *k = &copy[e];
            if (k->cmd == b[i].cmd || k->code != b[i].code || k->func != b[i].func ||
                (k->scope & TUI_SCOPE_FORM))
                continue;
            for (size_t m = 0; m < tui_n_keys; m++) {
                if (!rebindable(&copy[m], b[i].cmd) || !(copy[m].scope & k->scope))
                    continue;
                snprintf(msg, size, "key \"%s\" is already %s's (%s)", b[i].label,
                         k->label ? k->label : "another key", k->help ? k->help : "an alias");
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(copy);
    return rc;
}

void tui_key_bind(const tui_key_binding *b, size_t n)
{
    const char *labels[64] = {0};
    size_t k = 0;

    /* Bound once at start; past the label slots the rest keep their keys. */
    while (k < n && k < sizeof(labels) / sizeof(labels[0]) &&
           n_bound_labels < sizeof(bound_labels) / sizeof(bound_labels[0])) {
        snprintf(bound_labels[n_bound_labels], sizeof(bound_labels[0]), "%s", b[k].label);
        labels[k++] = bound_labels[n_bound_labels++];
    }
    apply(tui_keys, b, k, labels);
}
