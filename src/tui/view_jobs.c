/* SPDX-License-Identifier: Apache-2.0 */
/* The Jobs view: every job (or a service's, or a run's), newest first, with its run,
 * action, status, health, attempt, pid, exit and duration; Enter or l opens its log. It
 * draws the model's list only. */
#include "config.h"

#include "tui/draw.h"
#include "tui/tui.h"
#include "tui/view.h"

#include <stdio.h>
#include <string.h>

static const tui_column cols[] = {
    {"ID", 6},     {"RUN", 6},     {"SERVICE", 12}, {"ACTION", 14}, {"STATUS", 12},
    {"HEALTH", 9}, {"ATTEMPT", 7}, {"PID", 8},      {"EXIT", 6},    {"DURATION", 9},
    {"CPU%", 6},   {"MEM", 6},     {"ERROR", 0},
};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

static size_t rows(tui_app *app, const tui_frame *f)
{
    const tui_model *m = tui_app_model(app);

    return m->jobs ? m->jobs->n_jobs : 0;
}

static void title(const tui_frame *f, char *buf, size_t size)
{
    if (f->run_id)
        snprintf(buf, size, "Jobs of run %lld", (long long)f->run_id);
    else if (f->service[0])
        snprintf(buf, size, "Jobs of %s", f->service);
    else
        snprintf(buf, size, "Jobs");
}

static int match(tui_app *app, const tui_frame *f, size_t i, const char *needle)
{
    const hp_job *j = &tui_app_model(app)->jobs->jobs[i];

    return strstr(j->action, needle) || (j->service && strstr(j->service, needle)) ||
           strstr(tui_status_word(tui_status_of_job(j->status)), needle);
}

static int unhealthy(const hp_job *j)
{
    return j->status == HP_JOB_RUNNING && j->health && strcmp(j->health, "unhealthy") == 0;
}

static int rank(tui_app *app, const tui_frame *f, size_t i)
{
    const hp_job *j = &tui_app_model(app)->jobs->jobs[i];
    hp_job_state st = j->status;

    return st == HP_JOB_FAILED || st == HP_JOB_TIMED_OUT || st == HP_JOB_RETRYING || unhealthy(j)
               ? 0
               : 1;
}

/* The health column's order: unhealthy, unknown, healthy, then jobs without a probe. */
static int health_key(const hp_job *j)
{
    if (!j->health)
        return 3;
    return strcmp(j->health, "unhealthy") == 0 ? 0 : strcmp(j->health, "unknown") == 0 ? 1 : 2;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int64_t duration(const hp_job *j)
{
    if (!j->started_at_ms)
        return -1;
    return (j->ended_at_ms ? j->ended_at_ms : tui_wall_ms()) - j->started_at_ms;
}

/* The exit column as a number: codes, then signals, then nothing. */
static int64_t exit_key(const hp_job *j)
{
    if (j->has_exit_code)
        return j->exit_code;
    return j->has_signal ? 1000 + j->signal : -1;
}

/* Ascending on col; the status column ranks problems first (the default order). */
static int cmp(tui_app *app, const tui_frame *f, int col, size_t a, size_t b)
{
    const hp_job *x = &tui_app_model(app)->jobs->jobs[a];
    const hp_job *y = &tui_app_model(app)->jobs->jobs[b];

    switch (col) {
    case 0:
        return cmp_i64(x->id, y->id);
    case 1:
        return cmp_i64(x->run_id, y->run_id);
    case 2:
        return cmp_str(x->service, y->service);
    case 3:
        return cmp_str(x->action, y->action);
    case 4:
        return rank(app, f, a) - rank(app, f, b);
    case 5:
        return health_key(x) - health_key(y);
    case 6:
        return cmp_i64(x->attempt, y->attempt);
    case 7:
        return cmp_i64(x->has_pid ? x->pid : 0, y->has_pid ? y->pid : 0);
    case 8:
        return cmp_i64(exit_key(x), exit_key(y));
    case 9:
        return cmp_i64(duration(x), duration(y));
    case 10:
        return x->cpu_pct < y->cpu_pct ? -1 : x->cpu_pct > y->cpu_pct;
    case 11:
        return cmp_i64(x->rss_bytes, y->rss_bytes);
    default:
        return cmp_str(x->error, y->error);
    }
}

static int update(tui_app *app, tui_frame *f, int force)
{
    return tui_model_jobs(tui_app_model(app), f->service, f->run_id, force);
}

static void draw_row(tui_cells *t, const hp_job *j)
{
    char buf[64];
    int64_t end = j->ended_at_ms ? j->ended_at_ms : tui_wall_ms();

    snprintf(buf, sizeof(buf), "%lld", (long long)j->id);
    tui_cell(t, buf);
    snprintf(buf, sizeof(buf), "%lld", (long long)j->run_id);
    tui_cell(t, buf);
    tui_cell_name(t, j->service ? j->service : "-");
    tui_cell(t, j->action);
    tui_cell_status(t, tui_status_of_job(j->status));
    tui_cell_attr(t, j->health ? j->health : "-",
                  unhealthy(j)                                     ? tui_attr(TUI_C_RED)
                  : j->health && strcmp(j->health, "healthy") == 0 ? tui_attr(TUI_C_GREEN)
                                                                   : 0);
    snprintf(buf, sizeof(buf), "%lld", (long long)j->attempt);
    tui_cell(t, buf);
    if (j->has_pid && j->pid > 0)
        snprintf(buf, sizeof(buf), "%lld", (long long)j->pid);
    else
        snprintf(buf, sizeof(buf), "-");
    tui_cell(t, buf);
    if (j->has_exit_code)
        snprintf(buf, sizeof(buf), "%lld", (long long)j->exit_code);
    else if (j->has_signal)
        snprintf(buf, sizeof(buf), "sig%lld", (long long)j->signal);
    else
        snprintf(buf, sizeof(buf), "-");
    tui_cell_attr(
        t, buf, (j->has_exit_code && j->exit_code != 0) || j->has_signal ? tui_attr(TUI_C_RED) : 0);
    if (j->started_at_ms)
        tui_fmt_duration(end - j->started_at_ms, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "-");
    tui_cell(t, buf);
    if (j->status == HP_JOB_RUNNING && j->procs > 0)
        snprintf(buf, sizeof(buf), "%5.1f", j->cpu_pct);
    else
        snprintf(buf, sizeof(buf), "-");
    tui_cell(t, buf);
    tui_fmt_bytes(j->status == HP_JOB_RUNNING ? j->rss_bytes : 0, buf, sizeof(buf));
    tui_cell(t, buf);
    /* Running, the last probe failure says more than the previous attempt's exit. */
    tui_cell(t, j->status == HP_JOB_RUNNING && j->health_detail ? j->health_detail
                : j->error                                      ? j->error
                                                                : "");
}

static void row(tui_cells *t, const void *items, size_t i)
{
    draw_row(t, &((const hp_job_list *)items)->jobs[i]);
}

/* A service's jobs end with its CPU over the last samples and its figures now. */
static void draw(tui_app *app, tui_frame *f, WINDOW *w, int y, int x, int h, int width)
{
    const tui_model *m = tui_app_model(app);
    int spark = f->service[0] && !f->run_id && h > 3 && m->n_spark &&
                strcmp(m->spark_service, f->service) == 0;

    tui_list_draw(app, f, w, y, x, spark ? h - 1 : h, width, m->jobs, "no jobs", row);
    if (spark) {
        char now[64], mem[16];
        int64_t rss = 0;
        int used = tui_put(w, y + h - 1, x, width, " CPU ");
        for (size_t i = 0; m->jobs && i < m->jobs->n_jobs; i++)
            if (m->jobs->jobs[i].status == HP_JOB_RUNNING)
                rss += m->jobs->jobs[i].rss_bytes;
        if (width - used > 24)
            used += tui_put_spark(w, y + h - 1, x + used, width - used - 24, m->spark, m->n_spark);
        tui_fmt_bytes(rss, mem, sizeof(mem));
        snprintf(now, sizeof(now), " %.1f%%  MEM %s", m->spark[m->n_spark - 1], mem);
        tui_put(w, y + h - 1, x + used, width - used, now);
    }
}

static int key(tui_app *app, tui_frame *f, tui_cmd cmd)
{
    const tui_model *m = tui_app_model(app);
    tui_frame proto = {0};

    size_t i = tui_frame_selected(app, f);

    if (i == (size_t)-1 || (cmd != TUI_CMD_ENTER && cmd != TUI_CMD_LOGS))
        return 0;
    proto.job_id = m->jobs->jobs[i].id;
    tui_app_push(app, &tui_view_logs, &proto);
    return TUI_HANDLED | TUI_REFRESH;
}

/* c cancels the selected job or every marked one. */
static int action(tui_app *app, const tui_frame *f, size_t i, tui_cmd cmd, tui_action *act)
{
    if (cmd != TUI_CMD_CANCEL)
        return 0;
    act->kind = TUI_ACT_JOB_CANCEL;
    act->job_id = tui_app_model(app)->jobs->jobs[i].id;
    return 1;
}
static void row_key(tui_app *app, const tui_frame *f, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%lld", (long long)tui_app_model(app)->jobs->jobs[i].id);
}

const tui_view_ops tui_view_jobs = {
    .name = "Jobs",
    .scope = TUI_SCOPE_JOBS,
    .title = title,
    .update = update,
    .rows = rows,
    .match = match,
    .rank = rank,
    .columns = cols,
    .n_columns = (int)N_COLS,
    .default_sort = 4,
    .cmp = cmp,
    .draw = draw,
    .row_key = row_key,
    .key = key,
    .action = action,
};
