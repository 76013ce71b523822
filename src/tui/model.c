/* SPDX-License-Identifier: Apache-2.0 */
/* The dashboard's data source: every SDK call of hero_proc_tui goes through here, so
 * connection state, backoff and the cached lists live in one place. It keeps plain SDK
 * structs for the views and never touches the terminal. */
#include "config.h"

#include "tui/model.h"

#include "tui/form.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BACKOFF_MIN_MS = 500, BACKOFF_MAX_MS = 8000 };

long long tui_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tui_model_init(tui_model *m, hp_client *client, const char *endpoint, const char *reason)
{
    const char *home = getenv("HOME");
    size_t n = home ? strlen(home) : 0;

    memset(m, 0, sizeof(*m));
    /* Shown in the header and the banner: ~ keeps the long default path readable. */
    if (endpoint && n > 1 && strncmp(endpoint, home, n) == 0 && endpoint[n] == '/')
        snprintf(m->endpoint, sizeof(m->endpoint), "~%s", endpoint + n);
    else
        snprintf(m->endpoint, sizeof(m->endpoint), "%s", endpoint ? endpoint : "?");
    snprintf(m->endpoint_full, sizeof(m->endpoint_full), "%s", endpoint ? endpoint : "?");
    m->client = client;
    /* The calls run on the screen's thread: a server that is away fails them at once
     * (the banner says so and the backoff retries), never a 2 s freeze of every key. */
    if (client)
        hp_sdk_set_restart_wait(hp_client_sdk(client), 0);
    snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
    m->backoff_ms = BACKOFF_MIN_MS;
    m->store.ok = 1;
}

void tui_model_free(tui_model *m)
{
    if (!m)
        return;
    hp_service_list_free(m->services);
    hp_run_list_free(m->runs);
    hp_job_list_free(m->jobs);
    hp_secret_list_free(m->secrets);
    for (size_t i = 0; i < m->n_events; i++) {
        free(m->events[i].kind);
        free(m->events[i].service);
        free(m->events[i].action);
        free(m->events[i].text);
    }
    free(m->events);
    free(m->store.error);
    hp_client_free(m->client);
    memset(m, 0, sizeof(*m));
}

static void event_clear(hp_event *e)
{
    free(e->kind);
    free(e->service);
    free(e->action);
    free(e->text);
    memset(e, 0, sizeof(*e));
}

void tui_model_events_add(tui_model *m, hp_event_page *page)
{
    size_t held = m->n_events, n, over;
    hp_event *all;

    if (!page)
        return;
    m->events_dropped += page->dropped;
    n = held + page->n_events;
    over = n > TUI_EVENTS_KEPT ? n - TUI_EVENTS_KEPT : 0;
    all = malloc((n - over) * sizeof(*all) + 1);
    if (!all) { /* no memory: the page is lost, what was held stays */
        hp_event_page_free(page);
        return;
    }
    /* The oldest go first: those held, then those of the page itself. */
    for (size_t i = 0; i < n; i++) {
        hp_event *e = i < held ? &m->events[i] : &page->events[i - held];
        if (i < over)
            event_clear(e);
        else
            all[i - over] = *e;
    }
    free(m->events);
    m->events = all;
    m->n_events = n - over;
    free(page->events); /* their strings moved into m->events */
    free(page);
}

int tui_model_ready(const tui_model *m)
{
    return m->client && (m->connected || tui_now_ms() >= m->retry_at_ms);
}

int tui_model_restarting(const tui_model *m)
{
    long long age = tui_now_ms() - m->restarting_at_ms;

    return m->restarting_at_ms &&
           (age < TUI_RESTART_SHOW_MS || (!m->restarting_answered && age < TUI_RESTART_GRACE_MS));
}

static int unreachable(hp_status rc)
{
    return rc == HP_E_CONNECT || rc == HP_E_TIMEOUT || rc == HP_E_HTTP || rc == HP_E_PROTOCOL ||
           rc == HP_E_UNAUTHORIZED || rc == HP_E_SYSTEM;
}

/* Books the outcome of one call: the connection state and the backoff. */
static hp_status note(tui_model *m, hp_status rc, const hp_error *err)
{
    m->calls++;
    if (rc == HP_OK || !unreachable(rc)) {
        m->connected = 1;
        m->ever_connected = 1;
        m->backoff_ms = BACKOFF_MIN_MS;
        m->restarting_answered = 1; /* the new image answers */
        return rc;
    }
    if (m->connected || tui_model_restarting(m)) /* an upgrade is brief: try again soon */
        m->backoff_ms = BACKOFF_MIN_MS;
    else if (m->backoff_ms < BACKOFF_MAX_MS)
        m->backoff_ms *= 2;
    m->connected = 0;
    m->store_at_ms = 0; /* the server that answers next may be another: ask it at once */
    snprintf(m->reason, sizeof(m->reason), "%s", err->message[0] ? err->message : hp_strerror(rc));
    m->retry_at_ms = tui_now_ms() + m->backoff_ms;
    return rc;
}

static hp_sdk *sdk(tui_model *m)
{
    return hp_client_sdk(m->client);
}

int tui_model_services(tui_model *m, int force)
{
    hp_service_list *l = NULL;
    hp_error err = {0};
    int64_t since = (!force && m->services && m->connected) ? m->services->rev : 0;

    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_services_list(sdk(m), since, &l, &err), &err) != HP_OK)
        return -1;
    if (l->unchanged) {
        hp_service_list_free(l);
        return 0;
    }
    hp_service_list_free(m->services);
    m->services = l;
    return 1;
}

int tui_model_runs(tui_model *m, const char *service, int force)
{
    hp_run_list *l = NULL;
    hp_error err = {0};
    hp_run_filter f = {.service = service && *service ? service : NULL, .limit = 1000};

    if (strcmp(m->runs_service, service ? service : "") != 0)
        force = 1;
    f.if_changed_since = (!force && m->runs && m->connected) ? m->runs->rev : 0;
    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_runs_list(sdk(m), &f, &l, &err), &err) != HP_OK)
        return -1;
    if (l->unchanged) {
        hp_run_list_free(l);
        return 0;
    }
    hp_run_list_free(m->runs);
    m->runs = l;
    snprintf(m->runs_service, sizeof(m->runs_service), "%s", service ? service : "");
    return 1;
}

/* A new list of a service's jobs: their CPU summed is the sparkline's next entry (the
 * server samples at most once a second and a list only changes with its rev). */
static void spark_add(tui_model *m)
{
    double sum = 0;

    if (!m->jobs_service[0] || m->jobs_run_id)
        return;
    if (strcmp(m->spark_service, m->jobs_service) != 0) {
        snprintf(m->spark_service, sizeof(m->spark_service), "%s", m->jobs_service);
        m->n_spark = 0;
    }
    for (size_t i = 0; i < m->jobs->n_jobs; i++)
        if (m->jobs->jobs[i].status == HP_JOB_RUNNING)
            sum += m->jobs->jobs[i].cpu_pct;
    if (m->n_spark == TUI_SPARK_MAX) {
        memmove(m->spark, m->spark + 1, (TUI_SPARK_MAX - 1) * sizeof(*m->spark));
        m->n_spark--;
    }
    m->spark[m->n_spark++] = sum;
}

int tui_model_jobs(tui_model *m, const char *service, int64_t run_id, int force)
{
    hp_job_list *l = NULL;
    hp_error err = {0};
    hp_job_filter f = {
        .service = service && *service ? service : NULL, .run_id = run_id, .limit = 10000};

    if (strcmp(m->jobs_service, service ? service : "") != 0 || m->jobs_run_id != run_id)
        force = 1;
    f.if_changed_since = (!force && m->jobs && m->connected) ? m->jobs->rev : 0;
    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_jobs_list(sdk(m), &f, &l, &err), &err) != HP_OK)
        return -1;
    if (l->unchanged) {
        hp_job_list_free(l);
        return 0;
    }
    hp_job_list_free(m->jobs);
    m->jobs = l;
    snprintf(m->jobs_service, sizeof(m->jobs_service), "%s", service ? service : "");
    m->jobs_run_id = run_id;
    spark_add(m);
    return 1;
}

int tui_model_secrets(tui_model *m, int force)
{
    hp_secret_list *l = NULL;
    hp_error err = {0};
    int64_t since = (!force && m->secrets && m->connected) ? m->secrets->rev : 0;

    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_secrets_list(sdk(m), since, &l, &err), &err) != HP_OK)
        return -1;
    if (l->unchanged) {
        hp_secret_list_free(l);
        return 0;
    }
    hp_secret_list_free(m->secrets);
    m->secrets = l;
    return 1;
}

int tui_model_store(tui_model *m)
{
    hp_system_info *info = NULL;
    hp_error err = {0};
    long long now = tui_now_ms();
    int changed;

    /* The dashboard's idle cost matters: one system.info per TUI_STORE_EVERY_MS at most,
     * and none while the server is away (the header says unreachable then). */
    if (!m->client || !m->connected ||
        (m->store_at_ms && now - m->store_at_ms < TUI_STORE_EVERY_MS))
        return 0;
    m->store_at_ms = now;
    if (note(m, hp_sdk_info(sdk(m), &info, &err), &err) != HP_OK)
        return -1;
    changed = info->store.ok != m->store.ok || strcmp(info->store.error ? info->store.error : "",
                                                      m->store.error ? m->store.error : "") != 0;
    free(m->store.error);
    m->store = info->store; /* takes its error */
    info->store.error = NULL;
    hp_system_info_free(info);
    return changed;
}

int tui_model_job_logs(tui_model *m, int64_t job_id, int64_t after_seq, hp_log_page **out,
                       char *msg, size_t size)
{
    hp_error err = {0};

    *out = NULL;
    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_jobs_logs(sdk(m), job_id, after_seq, 1000, 0, out, &err), &err) != HP_OK) {
        if (msg)
            snprintf(msg, size, "%s", err.message);
        return -1;
    }
    return 0;
}

int tui_model_all_logs(tui_model *m, int64_t after_seq, hp_log_page **out, char *msg, size_t size)
{
    hp_error err = {0};

    *out = NULL;
    if (!tui_model_ready(m))
        return -1;
    /* "service" matches every "service.<name>.<action>" by dotted segment, merged by seq. */
    if (note(m, hp_logs_tail(sdk(m), "service", after_seq, 1000, out, &err), &err) != HP_OK) {
        if (msg)
            snprintf(msg, size, "%s", err.message);
        return -1;
    }
    return 0;
}

int tui_model_job_page(tui_model *m, int64_t job_id, const hp_log_bounds *b, hp_log_page **out,
                       char *msg, size_t size)
{
    hp_error err = {0};

    *out = NULL;
    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_jobs_logs_page(sdk(m), job_id, b, out, &err), &err) != HP_OK) {
        if (msg)
            snprintf(msg, size, "%s", err.message);
        return -1;
    }
    return 0;
}

int tui_model_log_search(tui_model *m, const hp_log_search *q, hp_log_matches **out, char *msg,
                         size_t size)
{
    hp_error err = {0};

    *out = NULL;
    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_logs_search(sdk(m), q, out, &err), &err) != HP_OK) {
        if (msg)
            snprintf(msg, size, "%s", err.message);
        return -1;
    }
    return 0;
}

enum { RUN_LOG_PAGE = 1000 };

static int by_seq(const void *a, const void *b)
{
    const hp_log_line *x = a, *y = b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The lines of the n pages in seq order into *out; a page that came back full may have
 * more, so everything after its last line waits for the next call. */
static int merge_pages(const hp_run *run, hp_batch_call *calls, int64_t after_seq,
                       hp_log_page **out, hp_error *err)
{
    hp_log_page *all = calloc(1, sizeof(*all));
    int64_t limit = INT64_MAX;
    size_t keep;

    if (!all)
        return -1;
    all->next_seq = after_seq;
    for (size_t i = 0; i < run->n_jobs; i++) {
        hp_log_page *page = hp_log_page_from_json(calls[i].result, err);
        hp_log_line *grown;
        if (!page)
            goto fail;
        grown = realloc(all->lines, (all->n_lines + page->n_lines + 1) * sizeof(*grown));
        if (!grown) {
            hp_log_page_free(page);
            goto fail;
        }
        all->lines = grown;
        for (size_t k = 0; k < page->n_lines; k++) {
            hp_log_line *l = &page->lines[k];
            free(l->src); /* the prefix shown is the action's name */
            l->src = strdup(run->jobs[i].action ? run->jobs[i].action : "?");
            all->lines[all->n_lines++] = *l;
        }
        if (page->n_lines == RUN_LOG_PAGE && page->lines[RUN_LOG_PAGE - 1].seq < limit)
            limit = page->lines[RUN_LOG_PAGE - 1].seq;
        all->dropped += page->dropped;
        page->n_lines = 0; /* the lines moved out */
        hp_log_page_free(page);
    }
    qsort(all->lines, all->n_lines, sizeof(*all->lines), by_seq);
    keep = all->n_lines;
    while (keep > 0 && all->lines[keep - 1].seq > limit)
        keep--;
    for (size_t k = keep; k < all->n_lines; k++) {
        free(all->lines[k].src);
        free(all->lines[k].line);
    }
    all->n_lines = keep;
    if (keep)
        all->next_seq = all->lines[keep - 1].seq;
    *out = all;
    return 0;
fail:
    hp_log_page_free(all);
    return -1;
}

int tui_model_run_logs(tui_model *m, int64_t run_id, int64_t after_seq, hp_log_page **out,
                       int *ended, char *msg, size_t size)
{
    hp_error err = {0};
    hp_run *run = NULL;
    hp_batch_call *calls = NULL;
    int rc = -1;

    *out = NULL;
    if (!tui_model_ready(m))
        return -1;
    if (note(m, hp_runs_get(sdk(m), run_id, &run, &err), &err) != HP_OK)
        goto out;
    if (ended)
        *ended = hp_run_state_is_final(run->status);
    calls = calloc(run->n_jobs ? run->n_jobs : 1, sizeof(*calls));
    if (!calls)
        goto out;
    for (size_t i = 0; i < run->n_jobs; i++) {
        calls[i].method = "job.logs";
        calls[i].params = cJSON_CreateObject();
        cJSON_AddNumberToObject(calls[i].params, "id", (double)run->jobs[i].id);
        cJSON_AddNumberToObject(calls[i].params, "after_seq", (double)after_seq);
        cJSON_AddNumberToObject(calls[i].params, "limit", RUN_LOG_PAGE);
    }
    if (run->n_jobs && note(m, hp_sdk_batch(sdk(m), calls, run->n_jobs, &err), &err) != HP_OK)
        goto out;
    rc = merge_pages(run, calls, after_seq, out, &err);
out:
    if (rc != 0 && msg)
        snprintf(msg, size, "%s", err.message[0] ? err.message : "out of memory");
    for (size_t i = 0; calls && i < run->n_jobs; i++) {
        cJSON_Delete(calls[i].params);
        cJSON_Delete(calls[i].result);
    }
    free(calls);
    hp_run_free(run);
    return rc;
}

int64_t tui_model_service_run(tui_model *m, const char *service)
{
    hp_service_status *st = NULL;
    hp_error err = {0};
    int64_t id;

    if (!tui_model_ready(m))
        return 0;
    if (note(m, hp_services_status(sdk(m), service, &st, &err), &err) != HP_OK)
        return 0;
    id = st->run_id;
    hp_service_status_free(st);
    return id;
}

int64_t tui_model_latest_job(tui_model *m, const char *service)
{
    hp_job_list *l = NULL;
    hp_error err = {0};
    hp_job_filter f = {.service = service, .limit = 1};
    int64_t id = 0;

    if (!tui_model_ready(m))
        return 0;
    if (note(m, hp_jobs_list(sdk(m), &f, &l, &err), &err) != HP_OK)
        return 0;
    for (size_t i = 0; i < l->n_jobs; i++)
        if (l->jobs[i].id > id)
            id = l->jobs[i].id;
    hp_job_list_free(l);
    return id;
}

int tui_model_act(tui_model *m, const tui_action *act, char *msg, size_t size)
{
    hp_error err = {0};
    hp_run *run = NULL;
    hp_status rc;

    if (!m->client) {
        snprintf(msg, size, "not connected: %s", m->reason);
        return -1;
    }
    switch (act->kind) {
    case TUI_ACT_START:
        rc = hp_services_start(sdk(m), act->service, &run, &err);
        if (rc == HP_OK)
            snprintf(msg, size, "started service '%s': run %lld", act->service, (long long)run->id);
        break;
    case TUI_ACT_STOP:
        rc = act->cascade ? hp_services_stop_cascade(sdk(m), act->service, NULL, &err)
                          : hp_services_stop(sdk(m), act->service, NULL, &err);
        if (rc == HP_OK)
            snprintf(msg, size, "stopped service '%s'", act->service);
        break;
    case TUI_ACT_RESTART:
        rc = hp_services_restart(sdk(m), act->service, act->keep_history, &run, &err);
        if (rc == HP_OK)
            snprintf(msg, size, "restarted service '%s': run %lld%s", act->service,
                     (long long)run->id, act->keep_history ? " (history kept)" : "");
        break;
    case TUI_ACT_DELETE:
        rc = act->cascade ? hp_services_delete_cascade(sdk(m), act->service, &err)
                          : hp_services_delete(sdk(m), act->service, &err);
        if (rc == HP_OK)
            snprintf(msg, size, "deleted service '%s'", act->service);
        break;
    case TUI_ACT_RUN_DELETE:
        rc = hp_runs_delete(sdk(m), act->run_id, &err);
        if (rc == HP_OK)
            snprintf(msg, size, "deleted run %lld", (long long)act->run_id);
        break;
    case TUI_ACT_JOB_CANCEL: {
        hp_job *job = NULL;
        rc = hp_jobs_cancel(sdk(m), act->job_id, &job, &err);
        hp_job_free(job);
        if (rc == HP_OK)
            snprintf(msg, size, "cancelled job %lld", (long long)act->job_id);
        break;
    }
    case TUI_ACT_SECRET_DELETE:
        rc = hp_secrets_delete(sdk(m), act->service, &err);
        if (rc == HP_OK)
            snprintf(msg, size, "deleted secret '%s'", act->service);
        break;
    case TUI_ACT_CANCEL:
    default:
        rc = hp_runs_cancel(sdk(m), act->run_id, &run, &err);
        if (rc == HP_OK)
            snprintf(msg, size, "cancelled run %lld", (long long)act->run_id);
        break;
    }
    hp_run_free(run);
    if (note(m, rc, &err) != HP_OK) {
        snprintf(msg, size, "%s", err.message[0] ? err.message : hp_strerror(rc));
        return -1;
    }
    return 0;
}

size_t tui_model_dependants(const tui_model *m, const char *service, int running, char *names,
                            size_t size)
{
    const hp_service_list *l = m->services;
    unsigned char *in;
    size_t count = 0, used = 0;
    int grew = 1;

    if (size)
        names[0] = '\0';
    if (!l || l->n_services == 0 || !(in = calloc(l->n_services, 1)))
        return 0;
    /* Rounds outwards from service: each adds the services requiring one already in. */
    while (grew) {
        grew = 0;
        for (size_t i = 0; i < l->n_services; i++) {
            const hp_service_summary *s = &l->services[i];
            for (size_t r = 0; !in[i] && r < s->n_requires; r++) {
                int hit = strcmp(s->requires[r], service) == 0;
                for (size_t j = 0; !hit && j < l->n_services; j++)
                    hit = in[j] && strcmp(l->services[j].name, s->requires[r]) == 0;
                if (!hit || strcmp(s->name, service) == 0)
                    continue;
                in[i] = 1;
                grew = 1;
                if (running && s->status != HP_SERVICE_RUNNING && s->status != HP_SERVICE_DEGRADED)
                    continue;
                count++;
                if (used < size)
                    used += (size_t)snprintf(names + used, size - used, "%s'%s'",
                                             count > 1 ? ", " : "", s->name);
            }
        }
    }
    free(in);
    return count;
}

int tui_model_service_config(tui_model *m, const char *name, hp_service_record **out, char *msg,
                             size_t size)
{
    hp_error err = {0};

    *out = NULL;
    if (!m->client) {
        snprintf(msg, size, "not connected: %s", m->reason);
        return -1;
    }
    if (note(m, hp_services_get(sdk(m), name, out, &err), &err) != HP_OK) {
        snprintf(msg, size, "cannot read service '%s': %s", name, err.message);
        return -1;
    }
    return 0;
}

int tui_model_run(tui_model *m, int64_t id, hp_run **out, char *msg, size_t size)
{
    hp_error err = {0};

    *out = NULL;
    if (!m->client) {
        snprintf(msg, size, "not connected: %s", m->reason);
        return -1;
    }
    if (note(m, hp_runs_get(sdk(m), id, out, &err), &err) != HP_OK) {
        snprintf(msg, size, "cannot read run %lld: %s", (long long)id, err.message);
        return -1;
    }
    return 0;
}

int tui_model_submit(tui_model *m, struct tui_form *form, int64_t *run_id, char *msg, size_t size)
{
    if (!m->client) {
        snprintf(msg, size, "not connected: %s", m->reason);
        return -1;
    }
    if (tui_form_submit(form, m->client, run_id, msg, size) == 0) {
        note(m, HP_OK, NULL);
        return 0;
    }
    tui_model_ping(m); /* why it failed may be that the server is gone: the header says so */
    return -1;
}

int tui_model_ping(tui_model *m)
{
    hp_error err = {0};

    if (!m->client)
        return -1;
    return note(m, hp_sdk_ping(sdk(m), NULL, &err), &err) == HP_OK ? 0 : -1;
}

const hp_service_summary *tui_model_find_service(const tui_model *m, const char *name)
{
    if (!m->services)
        return NULL;
    for (size_t i = 0; i < m->services->n_services; i++)
        if (strcmp(m->services->services[i].name, name) == 0)
            return &m->services->services[i];
    return NULL;
}

int tui_model_secret_set(tui_model *m, const char *name, const char *value, char *msg, size_t size)
{
    hp_error err = {0};
    hp_status rc;

    if (!m->client) {
        snprintf(msg, size, "not connected: %s", m->reason);
        return -1;
    }
    rc = hp_secrets_set(sdk(m), name, value, NULL, &err);
    if (note(m, rc, &err) != HP_OK) {
        snprintf(msg, size, "%s", err.message[0] ? err.message : hp_strerror(rc));
        return -1;
    }
    snprintf(msg, size, "saved secret '%s'", name);
    return 0;
}
