/* SPDX-License-Identifier: Apache-2.0 */
/* Loads the demo services and runs of data/demo into a server for --demo. It reads
 * JSON files with the shared spec parser and calls the SDK; it never draws. */
#include "config.h"

#include "tui/demo.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef TUI_PKGDATA_DIR
#define TUI_PKGDATA_DIR ""
#endif

/* snprintf for messages: cut to fit, on purpose. */
static void say(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

static int is_dir(const char *path)
{
    struct stat st;

    return path[0] && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *tui_demo_dir(char *buf, size_t size)
{
    const char *env = getenv("HERO_PROC_DATA");

    if (env && *env) {
        snprintf(buf, size, "%s/demo", env);
        if (is_dir(buf))
            return buf;
        snprintf(buf, size, "%s", env);
        if (is_dir(buf))
            return buf;
    }
    snprintf(buf, size, "%s/demo", TUI_PKGDATA_DIR);
    if (TUI_PKGDATA_DIR[0] && is_dir(buf))
        return buf;
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The parsed JSON of a file, NULL with msg. */
static cJSON *read_json(const char *path, char *msg, size_t size)
{
    FILE *fp = fopen(path, "r");
    char *text = NULL;
    long len;
    cJSON *json = NULL;

    if (!fp) {
        say(msg, size, "demo: cannot open %s", path);
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 && len < (1L << 20) &&
        fseek(fp, 0, SEEK_SET) == 0 && (text = malloc((size_t)len + 1)) &&
        fread(text, 1, (size_t)len, fp) == (size_t)len) {
        text[len] = '\0';
        json = cJSON_Parse(text);
    }
    fclose(fp);
    free(text);
    if (!json)
        say(msg, size, "demo: %s is not readable JSON", path);
    return json;
}

static int load_service(hp_sdk *sdk, const cJSON *json, const char *path, char *msg, size_t size)
{
    hp_service_config cfg = {0};
    hp_problems pb = {0};
    hp_service_status *st = NULL;
    hp_error err = {0};
    int rc = -1;

    if (hp_service_config_from_json(json, &cfg, &pb) != 0) {
        say(msg, size, "demo: %s: %s", path, pb.count ? pb.items[0] : "invalid");
        goto out;
    }
    if (hp_services_put(sdk, &cfg, NULL, &err) != HP_OK) {
        say(msg, size, "demo: %s", err.message);
        goto out;
    }
    rc = 0;
    if (!cfg.wanted_start)
        goto out;
    if (hp_services_status(sdk, cfg.name, &st, &err) == HP_OK &&
        (st->run_id == 0 || st->status == HP_SERVICE_INACTIVE) &&
        hp_services_start(sdk, cfg.name, NULL, &err) != HP_OK) {
        say(msg, size, "demo: %s", err.message);
        rc = -1;
    }
out:
    hp_service_status_free(st);
    hp_problems_free(&pb);
    hp_service_config_free(&cfg);
    return rc;
}

static int load_run(hp_sdk *sdk, const cJSON *json, const char *path, char *msg, size_t size)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "name");
    hp_action_spec *actions = NULL;
    size_t n = 0;
    hp_problems pb = {0};
    hp_run_list *runs = NULL;
    hp_run_filter filter = {.limit = 1000};
    hp_error err = {0};
    int rc = -1;

    if (!cJSON_IsString(name)) {
        say(msg, size, "demo: %s: a run needs a name", path);
        return -1;
    }
    if (hp_actions_from_json(cJSON_GetObjectItemCaseSensitive(json, "actions"), &actions, &n,
                             name->valuestring, &pb) != 0) {
        say(msg, size, "demo: %s: %s", path, pb.count ? pb.items[0] : "invalid");
        goto out;
    }
    if (hp_runs_list(sdk, &filter, &runs, &err) != HP_OK) {
        say(msg, size, "demo: %s", err.message);
        goto out;
    }
    for (size_t i = 0; i < runs->n_runs; i++)
        if (!runs->runs[i].service && strcmp(runs->runs[i].name, name->valuestring) == 0) {
            rc = 0; /* already there: a second --demo adds nothing */
            goto out;
        }
    if (hp_runs_submit(sdk, name->valuestring, actions, n, NULL, &err) != HP_OK) {
        say(msg, size, "demo: %s", err.message);
        goto out;
    }
    rc = 0;
out:
    hp_run_list_free(runs);
    hp_problems_free(&pb);
    hp_actions_free(actions, n);
    return rc;
}

int tui_demo_load(hp_sdk *sdk, const char *dir, char *msg, size_t size)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort), failed = 0, services = 0, runs = 0;

    msg[0] = '\0';
    if (n < 0) {
        say(msg, size, "demo: cannot read %s", dir);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *base = names[i]->d_name;
        int is_service = ends_with(base, ".service.json"), is_run = ends_with(base, ".run.json");
        char path[4096], one[256] = "";
        cJSON *json;

        if (is_service || is_run) {
            snprintf(path, sizeof(path), "%s/%s", dir, base);
            json = read_json(path, one, sizeof(one));
            if (json && is_service && load_service(sdk, json, path, one, sizeof(one)) == 0)
                services++;
            else if (json && is_run && load_run(sdk, json, path, one, sizeof(one)) == 0)
                runs++;
            else if (!failed++)
                say(msg, size, "%s", one);
            cJSON_Delete(json);
        }
        free(names[i]);
    }
    free(names);
    if (!failed)
        say(msg, size, "demo: %d service%s and %d run%s loaded from %s", services,
            services == 1 ? "" : "s", runs, runs == 1 ? "" : "s", dir);
    return failed ? -1 : 0;
}
