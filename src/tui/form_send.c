/* SPDX-License-Identifier: Apache-2.0 */
/* What a submit of a form sends: the JSON-RPC request, the equivalent hero_proc command
 * lines, and the submit itself (the only place the forms talk to a server). */
#include "config.h"

#include "tui/form_int.h"

#include "client/sdk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The form built offline into cfg (a service) or specs (a run); -1 when it has a problem
 * or without memory. */
static int build_offline(const tui_form *f, hp_service_config *cfg, hp_action_spec **specs,
                         size_t *n)
{
    mapper m;
    hp_status rc = HP_E_NOMEM;

    tui__form_mapper_init(&m, f, tui_form_kind_word(f->kind), NULL);
    memset(cfg, 0, sizeof(*cfg));
    *specs = NULL;
    *n = 0;
    if (f->kind == TUI_FORM_SERVICE) {
        hp_service_builder *sb = tui__form_service_builder(f, NULL, &m);
        if (sb && !m.found)
            rc = hp_service_builder_build(sb, cfg, NULL);
        hp_service_builder_free(sb);
    } else {
        hp_run_builder *rb = tui__form_run_builder(f, NULL, &m);
        if (rb && !m.found)
            rc = hp_run_builder_build(rb, specs, n, NULL);
        hp_run_builder_free(rb);
    }
    return rc == HP_OK ? 0 : -1;
}

cJSON *tui_form_request(const tui_form *f, const char **method)
{
    hp_service_config cfg;
    hp_action_spec *specs;
    size_t n;
    cJSON *params = NULL, *config, *actions;

    if (method)
        *method = NULL;
    if (!f || build_offline(f, &cfg, &specs, &n) != 0)
        return NULL;
    params = cJSON_CreateObject();
    if (!params)
        goto out;
    if (f->kind == TUI_FORM_SERVICE) {
        config = hp_service_config_to_json(&cfg);
        if (!config || !cJSON_AddItemToObject(params, "config", config)) {
            cJSON_Delete(config);
            goto fail;
        }
    } else {
        if (!cJSON_AddStringToObject(params, "name", f->name) ||
            !(actions = cJSON_AddArrayToObject(params, "actions")))
            goto fail;
        for (size_t i = 0; i < n; i++) {
            cJSON *one = hp_action_spec_to_json(&specs[i]);
            if (!one || !cJSON_AddItemToArray(actions, one)) {
                cJSON_Delete(one);
                goto fail;
            }
        }
    }
    if (method)
        *method = f->kind == TUI_FORM_SERVICE ? "service.set" : "run.submit";
    goto out;
fail:
    cJSON_Delete(params);
    params = NULL;
out:
    hp_service_config_free(&cfg);
    hp_actions_free(specs, n);
    return params;
}

char *tui_form_command(const tui_form *f)
{
    cJSON *params = tui_form_request(f, NULL);
    char *json = NULL, *text = NULL;

    if (!params)
        return NULL;
    /* `service set` reads the ServiceConfig itself; `run submit` reads {name, actions}.
     * Pretty JSON has no line that is only "EOF", so the quoted heredoc holds it as is. */
    json = cJSON_Print(
        f->kind == TUI_FORM_SERVICE ? cJSON_GetObjectItemCaseSensitive(params, "config") : params);
    if (json && f->kind == TUI_FORM_RUN)
        text = tui__form_format("hero_proc run submit - <<'EOF'\n%s\nEOF\n", json);
    else if (json && f->wanted_start) /* "--": a valid name may start with '-' */
        text = tui__form_format(
            "hero_proc service set - <<'EOF'\n%s\nEOF\nhero_proc service start %s%s\n", json,
            f->name[0] == '-' ? "-- " : "", f->name);
    else if (json)
        text = tui__form_format("hero_proc service set - <<'EOF'\n%s\nEOF\n", json);
    free(json);
    cJSON_Delete(params);
    return text;
}

static void say(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (!msg || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

int tui_form_submit(tui_form *f, hp_client *client, int64_t *run_id, char *msg, size_t size)
{
    char shown[HP_NAME_SHOW_SIZE];
    hp_error err;
    hp_status rc;
    int64_t id = 0;
    mapper m;
    int count;

    if (run_id)
        *run_id = 0;
    say(msg, size, "%s", "");
    count = tui_form_check(f);
    if (count < 0) {
        say(msg, size, "out of memory while checking the form");
        return -1;
    }
    if (count > 0) {
        say(msg, size, "%d problem%s: %s", count, count == 1 ? "" : "s", f->problems[0].text);
        return -1;
    }
    hp_error_clear(&err);
    hp_name_show(f->name, shown, sizeof(shown));
    tui__form_mapper_init(&m, f, tui_form_kind_word(f->kind), NULL);
    if (f->kind == TUI_FORM_RUN) {
        hp_run_builder *rb = tui__form_run_builder(f, client, &m);
        rc = rb ? hp_run_builder_start(rb, &id, &err) : hp_error_set_code(&err, HP_E_NOMEM);
        hp_run_builder_free(rb);
        if (rc != HP_OK) {
            say(msg, size, "%s", err.message);
            return -1;
        }
        say(msg, size, "started run '%s' (run %lld)", shown, (long long)id);
    } else {
        hp_service_builder *sb = tui__form_service_builder(f, client, &m);
        rc = sb ? hp_service_builder_save(sb, &err) : hp_error_set_code(&err, HP_E_NOMEM);
        hp_service_builder_free(sb);
        if (rc != HP_OK) {
            say(msg, size, "%s", err.message);
            return -1;
        }
        if (!f->wanted_start) {
            say(msg, size, "saved service '%s'", shown);
            return 0;
        }
        {
            /* A running service keeps its run: the new actions are for the next one. */
            hp_service_status *st = NULL;
            int running = hp_services_status(hp_client_sdk(client), f->name, &st, NULL) == HP_OK &&
                          (st->status == HP_SERVICE_RUNNING || st->status == HP_SERVICE_DEGRADED);
            int64_t current = running ? st->run_id : 0;
            hp_service_status_free(st);
            if (running) {
                say(msg, size,
                    "saved service '%s': run %lld goes on with the old actions, r restarts it "
                    "with these",
                    shown, (long long)current);
                if (run_id)
                    *run_id = current;
                return 0;
            }
        }
        if (hp_client_service_start(client, f->name, &id, &err) != HP_OK) {
            say(msg, size, "saved service '%s' but could not start it: %s", shown, err.message);
            return -1;
        }
        say(msg, size, "saved service '%s' and started it (run %lld)", shown, (long long)id);
    }
    if (run_id)
        *run_id = id;
    return 0;
}
