/* The one key table of hero_proc_tui and the help and hints generated from it. Key
 * handling itself is the app's and the views' (tui_cmd); this file only maps and
 * describes. */
#include "config.h"

#include "tui/keys.h"

#include <stdio.h>
#include <string.h>

#define ESC_KEY 27
#define TAB_KEY '\t'

const tui_key tui_keys[] = {
    {'?', 0, "?", TUI_CMD_HELP, TUI_SCOPE_ALL, TUI_KEY_HINT, "help: the keys of this view"},
    {'q', 0, "q", TUI_CMD_QUIT, TUI_SCOPE_ALL, TUI_KEY_HINT, "quit (back in a sub-view)"},
    {ESC_KEY, 0, "Esc", TUI_CMD_BACK, TUI_SCOPE_ALL, 0, "back to the previous view"},
    {'1', 0, "1", TUI_CMD_VIEW_SERVICES, TUI_SCOPE_ALL, 0, "services"},
    {'2', 0, "2", TUI_CMD_VIEW_RUNS, TUI_SCOPE_ALL, 0, "runs"},
    {'3', 0, "3", TUI_CMD_VIEW_JOBS, TUI_SCOPE_ALL, 0, "jobs"},
    {'4', 0, "4", TUI_CMD_VIEW_SECRETS, TUI_SCOPE_ALL, 0, "secrets (names and times only)"},
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
    {'\n', 0, "Enter", TUI_CMD_ENTER, TUI_SCOPE_SERVICES | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS,
     TUI_KEY_HINT, "open: service -> its jobs, run -> its jobs, job -> its log"},
    {'\r', 0, NULL, TUI_CMD_ENTER, TUI_SCOPE_SERVICES | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS, 0, NULL},
    {KEY_ENTER, 1, NULL, TUI_CMD_ENTER, TUI_SCOPE_SERVICES | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS, 0,
     NULL},
    {'/', 0, "/", TUI_CMD_FILTER, TUI_SCOPE_LISTS, TUI_KEY_HINT,
     "filter rows by name or status (Esc clears)"},
    {'l', 0, "l", TUI_CMD_LOGS, TUI_SCOPE_SERVICES | TUI_SCOPE_RUNS | TUI_SCOPE_JOBS, TUI_KEY_HINT,
     "log of the job; of a run or a service's run: every action's lines"},
    {'/', 0, "/", TUI_CMD_SEARCH, TUI_SCOPE_LOGS, TUI_KEY_HINT,
     "search: matches highlighted, n/N next/previous (Esc clears)"},
    {'n', 0, "n", TUI_CMD_SEARCH_NEXT, TUI_SCOPE_LOGS, 0, "next match (later lines)"},
    {'N', 0, "N", TUI_CMD_SEARCH_PREV, TUI_SCOPE_LOGS, 0, "previous match (earlier lines)"},
    {'&', 0, "&", TUI_CMD_GREP, TUI_SCOPE_LOGS, TUI_KEY_HINT,
     "filter: only the lines that match (empty or Esc clears)"},
    {'F', 0, "F", TUI_CMD_FOLLOW, TUI_SCOPE_LOGS, TUI_KEY_HINT, "follow new lines"},
    {'w', 0, "w", TUI_CMD_WRAP, TUI_SCOPE_LOGS, TUI_KEY_HINT, "wrap long lines (on/off)"},
    {'t', 0, "t", TUI_CMD_TIMESTAMPS, TUI_SCOPE_LOGS, TUI_KEY_HINT, "timestamps (on/off)"},
    {'s', 0, "s", TUI_CMD_START, TUI_SCOPE_SERVICES, TUI_KEY_ACTION | TUI_KEY_HINT,
     "start the service"},
    {'S', 0, "S", TUI_CMD_STOP, TUI_SCOPE_SERVICES, TUI_KEY_ACTION | TUI_KEY_HINT,
     "stop the service (asks first)"},
    {'r', 0, "r", TUI_CMD_RESTART, TUI_SCOPE_SERVICES, TUI_KEY_ACTION | TUI_KEY_HINT,
     "restart the service (asks first)"},
    {'D', 0, "D", TUI_CMD_DELETE, TUI_SCOPE_SERVICES, TUI_KEY_ACTION | TUI_KEY_HINT,
     "delete the service (asks first)"},
    {'c', 0, "c", TUI_CMD_CANCEL, TUI_SCOPE_RUNS, TUI_KEY_ACTION | TUI_KEY_HINT,
     "cancel the run (asks first)"},
    {'>', 0, ">", TUI_CMD_SORT_RIGHT, TUI_SCOPE_LISTS, TUI_KEY_HINT,
     "sort by the column to the right"},
    {'<', 0, "<", TUI_CMD_SORT_LEFT, TUI_SCOPE_LISTS, 0, "sort by the column to the left"},
    {'I', 0, "I", TUI_CMD_SORT_INVERT, TUI_SCOPE_LISTS, 0, "invert the sort order"},
    {KEY_F(5), 1, "F5", TUI_CMD_REFRESH, TUI_SCOPE_ALL, 0, "refresh now"},
    {'R' - '@', 0, "Ctrl-R", TUI_CMD_REFRESH, TUI_SCOPE_ALL, 0, "refresh now"},
};
const size_t tui_n_keys = sizeof(tui_keys) / sizeof(tui_keys[0]);

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

    for (size_t i = 0; i < tui_n_keys && n < max; i++) {
        const tui_key *k = &tui_keys[i];
        if (!k->label || !(k->scope & scope))
            continue;
        if (read_only && (k->flags & TUI_KEY_ACTION))
            continue;
        snprintf(lines[n++], 96, "%-8s %s", k->label, k->help);
    }
    if (read_only && n < max)
        snprintf(lines[n++], 96, "--read-only: the keys that change anything are off");
    return n;
}
