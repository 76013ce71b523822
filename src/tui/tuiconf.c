/* SPDX-License-Identifier: Apache-2.0 */
/* The settings file of hero_proc_tui: parsed with cJSON into a tui_conf, every problem
 * named with the file and the key, then applied to the key table and the theme. It
 * never draws and never decides what the app does with a bad file (the defaults). */
#include "config.h"

#include "tui/tuiconf.h"

#include "tui/keys.h"
#include "common/file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

enum { MAX_FILE = 1 << 16 };

/* The commands a key can be given to, by the name the file uses. */
static const struct {
    const char *name;
    tui_cmd cmd;
} commands[] = {
    {"quit", TUI_CMD_QUIT},
    {"back", TUI_CMD_BACK},
    {"help", TUI_CMD_HELP},
    {"services", TUI_CMD_VIEW_SERVICES},
    {"runs", TUI_CMD_VIEW_RUNS},
    {"jobs", TUI_CMD_VIEW_JOBS},
    {"secrets", TUI_CMD_VIEW_SECRETS},
    {"events", TUI_CMD_VIEW_EVENTS},
    {"next_view", TUI_CMD_NEXT_VIEW},
    {"up", TUI_CMD_UP},
    {"down", TUI_CMD_DOWN},
    {"page_up", TUI_CMD_PAGE_UP},
    {"page_down", TUI_CMD_PAGE_DOWN},
    {"top", TUI_CMD_TOP},
    {"bottom", TUI_CMD_BOTTOM},
    {"open", TUI_CMD_ENTER},
    {"logs", TUI_CMD_LOGS},
    {"follow", TUI_CMD_FOLLOW},
    {"wrap", TUI_CMD_WRAP},
    {"timestamps", TUI_CMD_TIMESTAMPS},
    {"refresh", TUI_CMD_REFRESH},
    {"filter", TUI_CMD_FILTER},
    {"sort_left", TUI_CMD_SORT_LEFT},
    {"sort_right", TUI_CMD_SORT_RIGHT},
    {"sort_invert", TUI_CMD_SORT_INVERT},
    {"search", TUI_CMD_SEARCH},
    {"search_next", TUI_CMD_SEARCH_NEXT},
    {"search_prev", TUI_CMD_SEARCH_PREV},
    {"grep", TUI_CMD_GREP},
    {"start", TUI_CMD_START},
    {"stop", TUI_CMD_STOP},
    {"restart", TUI_CMD_RESTART},
    {"delete", TUI_CMD_DELETE},
    {"cancel", TUI_CMD_CANCEL},
    {"command", TUI_CMD_COMMAND},
    {"new", TUI_CMD_NEW},
    {"edit", TUI_CMD_EDIT},
    {"rerun", TUI_CMD_RERUN},
    {"history", TUI_CMD_HISTORY},
    {"mark", TUI_CMD_MARK},
    {"mark_all", TUI_CMD_MARK_ALL},
    {"unmark", TUI_CMD_UNMARK},
    {"redraw", TUI_CMD_REDRAW_ALL},
    {"pause", TUI_CMD_PAUSE},
    {"save", TUI_CMD_SAVE},
};

/* The theme's roles: what each colour slot of draw.h is for. */
static const struct {
    const char *name;
    int slot;
} roles[] = {
    {"good", TUI_C_GREEN},  /* running, succeeded, connected */
    {"bad", TUI_C_RED},     /* failed, stderr, unreachable */
    {"warn", TUI_C_YELLOW}, /* pending, retrying, marks, paused */
    {"info", TUI_C_CYAN},   /* the system's lines in a log */
    {"cancelled", TUI_C_MAGENTA}, {"accent", TUI_C_BLUE},
    {"bar", TUI_C_BAR}, /* "FG on BG": the header and the hint bar */
};

static const char *const colour_names[] = {"black", "red",     "green", "yellow",
                                           "blue",  "magenta", "cyan",  "white"};

static void say(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

const char *tui_conf_path(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

    if (xdg && xdg[0] == '/')
        snprintf(buf, size, "%s/hero_proc/tui.json", xdg);
    else if (home && home[0])
        snprintf(buf, size, "%s/.config/hero_proc/tui.json", home);
    else
        return NULL;
    return buf;
}

/* A colour: a name of colour_names, "default", or 0-255. -2 when it is none. */
static short colour_of(const char *s)
{
    char *end;
    long n;

    if (strcasecmp(s, "default") == 0)
        return -1;
    for (size_t i = 0; i < sizeof(colour_names) / sizeof(colour_names[0]); i++)
        if (strcasecmp(s, colour_names[i]) == 0)
            return (short)i;
    errno = 0;
    n = strtol(s, &end, 10);
    if (!errno && end != s && !*end && n >= 0 && n <= 255)
        return (short)n;
    return -2;
}

/* A key as the file writes it: one character, "Space", "Tab", "Ctrl-X" or "F1".."F12". */
static int key_of(const char *s, tui_key_binding *k)
{
    wchar_t wc;
    mbstate_t st;
    size_t n;
    int f;

    memset(&st, 0, sizeof(st));
    k->func = 0;
    if (strcasecmp(s, "Space") == 0) {
        k->code = ' ';
    } else if (strcasecmp(s, "Tab") == 0) {
        k->code = '\t';
    } else if (strncasecmp(s, "Ctrl-", 5) == 0 && s[5] && !s[6] &&
               ((s[5] >= 'a' && s[5] <= 'z') || (s[5] >= 'A' && s[5] <= 'Z'))) {
        k->code = s[5] & 0x1f;
    } else if ((s[0] == 'F' || s[0] == 'f') && sscanf(s + 1, "%d", &f) == 1 && f >= 1 && f <= 12 &&
               strlen(s) <= 3) {
        k->code = KEY_F(f);
        k->func = 1;
    } else if ((n = mbrtowc(&wc, s, strlen(s), &st)) > 0 && n != (size_t)-1 && n != (size_t)-2 &&
               !s[n] && wc > ' ' && wc != 127) {
        k->code = (int)wc;
    } else {
        return -1;
    }
    snprintf(k->label, sizeof(k->label), "%s", s);
    return 0;
}

static int read_refresh(const cJSON *v, tui_conf *c)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.1 && v->valuedouble <= 3600))
        return -1;
    c->interval_ms = (long)(v->valuedouble * 1000);
    return 0;
}

static int read_view(const cJSON *v, tui_conf *c)
{
    static const struct {
        const char *name;
        const tui_view_ops *ops;
    } views[] = {{"services", &tui_view_services},
                 {"runs", &tui_view_runs},
                 {"jobs", &tui_view_jobs},
                 {"secrets", &tui_view_secrets},
                 {"events", &tui_view_events}};

    for (size_t i = 0; cJSON_IsString(v) && i < sizeof(views) / sizeof(views[0]); i++) {
        if (strcasecmp(v->valuestring, views[i].name) == 0) {
            c->view = views[i].ops;
            return 0;
        }
    }
    return -1;
}

/* "NAME" or "-NAME": a column header of the first view, descending with '-'. */
static int read_sort(const cJSON *v, tui_conf *c)
{
    const tui_view_ops *ops = c->view ? c->view : &tui_view_services;
    const char *name;

    if (!cJSON_IsString(v))
        return -1;
    name = v->valuestring + (v->valuestring[0] == '-');
    for (int i = 0; ops->columns && i < ops->n_columns; i++) {
        if (strcasecmp(name, ops->columns[i].header) == 0) {
            c->sort_col = i + 1;
            c->sort_desc = v->valuestring[0] == '-';
            return 0;
        }
    }
    return -1;
}

static int read_theme(const cJSON *theme, tui_conf *c, const char *path, char *msg, size_t size)
{
    const cJSON *v;

    if (!cJSON_IsObject(theme)) {
        say(msg, size, "%s: \"theme\" must be an object of colours, e.g. {\"good\": \"blue\"}",
            path);
        return -1;
    }
    cJSON_ArrayForEach (v, theme) {
        size_t r = 0;
        char fg[32] = "", bg[32] = "";
        while (r < sizeof(roles) / sizeof(roles[0]) && strcmp(v->string, roles[r].name) != 0)
            r++;
        if (r == sizeof(roles) / sizeof(roles[0])) {
            say(msg, size,
                "%s: unknown key \"theme.%s\" (good, bad, warn, info, cancelled, accent, bar)",
                path, v->string);
            return -1;
        }
        if (!cJSON_IsString(v) ||
            (roles[r].slot == TUI_C_BAR
                 ? sscanf(v->valuestring, "%31s on %31s", fg, bg) != 2
                 : sscanf(v->valuestring, "%31s", fg) != 1 || strchr(v->valuestring, ' ')) ||
            colour_of(fg) == -2 || (bg[0] && colour_of(bg) == -2)) {
            say(msg, size,
                "%s: \"theme.%s\" must be %s (black red green yellow blue magenta cyan white "
                "default or 0-255)",
                path, v->string, roles[r].slot == TUI_C_BAR ? "\"FG on BG\"" : "a colour");
            return -1;
        }
        c->fg[roles[r].slot] = colour_of(fg);
        if (bg[0])
            c->bg[roles[r].slot] = colour_of(bg);
    }
    return 0;
}

static int read_keys(const cJSON *keys, tui_conf *c, const char *path, char *msg, size_t size)
{
    const cJSON *v;

    if (!cJSON_IsObject(keys)) {
        say(msg, size, "%s: \"keys\" must be an object, e.g. {\"restart\": \"x\"}", path);
        return -1;
    }
    cJSON_ArrayForEach (v, keys) {
        size_t i = 0;
        tui_key_binding *k = &c->keys[c->n_keys];
        while (i < sizeof(commands) / sizeof(commands[0]) && strcmp(v->string, commands[i].name))
            i++;
        if (i == sizeof(commands) / sizeof(commands[0])) {
            say(msg, size, "%s: unknown command \"keys.%s\" (e.g. restart, stop, pause, quit)",
                path, v->string);
            return -1;
        }
        if (c->n_keys == TUI_CONF_KEYS) {
            say(msg, size, "%s: \"keys\" gives more than %d keys", path, TUI_CONF_KEYS);
            return -1;
        }
        if (!cJSON_IsString(v) || key_of(v->valuestring, k) != 0) {
            say(msg, size,
                "%s: \"keys.%s\" must be one character, \"Space\", \"Tab\", \"Ctrl-X\" or "
                "\"F1\"..\"F12\"",
                path, v->string);
            return -1;
        }
        k->cmd = commands[i].cmd;
        c->n_keys++;
    }
    return 0;
}

static void unset(tui_conf *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i <= TUI_C_BAR; i++)
        c->fg[i] = c->bg[i] = -2;
}

/* The whole file as text, NULL with msg (or with errno ENOENT and no msg: no file). */
static char *slurp(const char *path, char *msg, size_t size)
{
    char *text = hp__read_small_file(path, MAX_FILE, NULL);

    if (!text && errno == EFBIG)
        say(msg, size, "%s: larger than 64 KiB", path);
    else if (!text && errno != ENOENT)
        say(msg, size, "%s: %s", path, strerror(errno));
    return text;
}

int tui_conf_load(const char *path, tui_conf *c, char *msg, size_t size)
{
    char *text;
    cJSON *json = NULL, *v;
    int rc = -1;

    unset(c);
    msg[0] = '\0';
    text = slurp(path, msg, size);
    if (!text)
        return msg[0] ? -1 : 1;
    json = cJSON_Parse(text);
    if (!cJSON_IsObject(json)) {
        say(msg, size, "%s: not a JSON object%s%.20s", path,
            json || !cJSON_GetErrorPtr() ? "" : " near: ", json ? "" : cJSON_GetErrorPtr());
        goto out;
    }
    /* view before sort: the sort names a column of the first view */
    if ((v = cJSON_GetObjectItemCaseSensitive(json, "view")) && read_view(v, c) != 0) {
        say(msg, size, "%s: \"view\" must be services, runs, jobs or secrets", path);
        goto out;
    }
    cJSON_ArrayForEach (v, json) {
        if (strcmp(v->string, "view") == 0)
            continue;
        if (strcmp(v->string, "refresh") == 0) {
            if (read_refresh(v, c) != 0) {
                say(msg, size, "%s: \"refresh\" must be seconds between 0.1 and 3600", path);
                goto out;
            }
        } else if (strcmp(v->string, "sort") == 0) {
            if (read_sort(v, c) != 0) {
                say(msg, size,
                    "%s: \"sort\" must name a column of the %s view (e.g. \"name\" or \"-name\")",
                    path, c->view ? c->view->name : "Services");
                goto out;
            }
        } else if (strcmp(v->string, "theme") == 0) {
            if (read_theme(v, c, path, msg, size) != 0)
                goto out;
        } else if (strcmp(v->string, "keys") == 0) {
            if (read_keys(v, c, path, msg, size) != 0)
                goto out;
        } else {
            say(msg, size, "%s: unknown key \"%s\" (refresh, view, sort, theme, keys)", path,
                v->string);
            goto out;
        }
    }
    /* A key given twice, or to a command that has none in the table, is found when the
     * table takes it: try it now on a copy so a bad file changes nothing. */
    if (tui_key_check(c->keys, c->n_keys, msg, size) != 0) {
        char why[200];
        snprintf(why, sizeof(why), "%s", msg);
        say(msg, size, "%s: %s", path, why);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        unset(c);
    cJSON_Delete(json);
    free(text);
    return rc;
}

void tui_conf_apply(const tui_conf *c)
{
    for (int i = 0; i <= TUI_C_BAR; i++)
        if (c->fg[i] != -2 || c->bg[i] != -2)
            tui_draw_theme(i, c->fg[i], c->bg[i]);
    tui_key_bind(c->keys, c->n_keys);
}
