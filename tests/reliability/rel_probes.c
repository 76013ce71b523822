/* SPDX-License-Identifier: Apache-2.0 */
/* Reliability: health probes against a real daemon. A port that opens late turns a job
 * from unknown to healthy; one that never opens makes the service degraded, and restarted
 * with on_unhealthy; an http server answering 500 then 200; an exec probe that hangs is
 * killed without a trace; an exec probe runs in its job's cgroup and what it leaves behind
 * goes with a stop; a dependant waits until its dependency is healthy. */
#include "config.h"

#include "tests/check_common.h"
#include "tests/server_harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { DEADLINE_MS = 20000 };

/* A TCP port nobody listens on now (the kernel's pick, released at once). */
/* A restart-always service of one action "main" (script) with probe (a JSON object text)
 * and extra action fields (a JSON text to merge, may be NULL), started. */
static void start_probed(const char *service, const char *script, const char *probe,
                         const char *extra)
{
    cJSON *a = hpt_script("main", script), *more;

    cJSON_AddStringToObject(a, "restart", "always");
    cJSON_AddItemToObject(a, "probe", hpt_jsonf("%s", probe));
    if (extra) {
        more = hpt_jsonf("%s", extra);
        for (cJSON *it = more->child; it; it = it->next)
            cJSON_AddItemToObject(a, it->string, cJSON_Duplicate(it, 1));
        cJSON_Delete(more);
    }
    hpt_service_set(service, NULL, a, NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name(service)));
}

typedef struct seen {
    const char *service, *action;
    const char *want_service; /* service status to wait for, or NULL */
    const char *want_health;  /* job health to wait for, or NULL */
    const char *want_detail;  /* job health_detail to wait for, or NULL */
    int min_restarts;
    char status[32], health[32], detail[256];
    int restarts;
} seen;

static int look(void *ud)
{
    seen *s = ud;
    cJSON *st = hpt_ok("service.status", hpt_name(s->service));
    const cJSON *job = hpt_job_of(st, s->action ? s->action : "main");
    const char *h = job ? hpt_str(job, "health") : NULL,
               *d = job ? hpt_str(job, "health_detail") : NULL;

    snprintf(s->status, sizeof(s->status), "%s", hpt_str(st, "status"));
    snprintf(s->health, sizeof(s->health), "%s", h ? h : "(null)");
    snprintf(s->detail, sizeof(s->detail), "%s", d ? d : "");
    s->restarts = job ? (int)hpt_int(job, "restarts") : 0;
    cJSON_Delete(st);
    return (!s->want_service || strcmp(s->status, s->want_service) == 0) &&
           (!s->want_health || strcmp(s->health, s->want_health) == 0) &&
           (!s->want_detail || strcmp(s->detail, s->want_detail) == 0) &&
           s->restarts >= s->min_restarts;
}

START_TEST(tcp_probe_on_a_port_that_opens_late_goes_from_unknown_to_healthy)
{
    int port = hpt_free_port();
    char script[256], probe[128];
    seen s = {.service = "late", .want_health = "healthy", .want_service = "running"};
    int64_t t0 = hpt_now_ms();

    snprintf(script, sizeof(script),
             "sleep 2; exec /usr/bin/python3 -m http.server %d --bind 127.0.0.1 >/dev/null 2>&1",
             port);
    snprintf(probe, sizeof(probe),
             "{\"tcp\":\"127.0.0.1:%d\",\"interval_ms\":200,\"retries\":50,\"timeout_ms\":500}",
             port);
    start_probed("late", script, probe, NULL);
    look(&s);
    ck_assert_str_eq(s.health, "unknown");
    ck_assert_str_eq(s.status, "running");
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s (%s)", s.status,
                  s.health, s.detail);
    ck_assert_int_ge(hpt_now_ms() - t0, 1500); /* not before the port opened */
    /* The failures before the port opened are kept as the last one. */
    ck_assert_msg(s.detail[0] != '\0', "no health_detail");
}
END_TEST

START_TEST(port_that_never_opens_makes_the_service_degraded)
{
    char probe[128];
    seen s = {.service = "deaf", .want_service = "degraded", .want_health = "unhealthy"};

    snprintf(probe, sizeof(probe), "{\"tcp\":\"127.0.0.1:%d\",\"interval_ms\":100,\"retries\":2}",
             hpt_free_port());
    start_probed("deaf", "exec sleep 1000", probe, NULL);
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s", s.status, s.health);
    ck_assert_msg(strstr(s.detail, "onnect") != NULL, "detail '%s'", s.detail);
    /* Without on_unhealthy it is left running. */
    ck_assert_int_eq(s.restarts, 0);
    {
        cJSON *list = hpt_ok("service.list", NULL);
        ck_assert(hpt_json_contains(list, "\"status\":\"degraded\""));
        cJSON_Delete(list);
    }
}
END_TEST

START_TEST(on_unhealthy_restart_restarts_the_job_after_its_retries)
{
    char probe[128];
    seen s = {.service = "deaf", .min_restarts = 1};
    cJSON *st, *lines;
    int status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);

    /* A job up longer than this restarts at once, without the back-off. */
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    hpt_server_extra_args("--min-uptime-ms", "100");
    hpt_server_start();
    snprintf(probe, sizeof(probe), "{\"tcp\":\"127.0.0.1:%d\",\"interval_ms\":100,\"retries\":3}",
             hpt_free_port());
    start_probed("deaf", "exec sleep 1000", probe, "{\"on_unhealthy\":\"restart\"}");
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "restarts %d status %s health %s",
                  s.restarts, s.status, s.health);
    st = hpt_ok("service.status", hpt_name("deaf"));
    lines = hpt_job_lines(hpt_int(hpt_job_of(st, "main"), "id"));
    ck_assert_int_ge(hpt_find_line(lines, "system", "unhealthy after 3 failed probes", 1), 0);
    ck_assert_int_ge(hpt_find_line(lines, "system", "on_unhealthy restart", 1), 0);
    cJSON_Delete(lines);
    cJSON_Delete(st);
}
END_TEST

static const char HTTP_500_THEN_200[] =
    "import http.server, sys\n"
    "n = [0]\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        n[0] += 1\n"
    "        self.send_response(500 if n[0] <= 5 else 200)\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b'x')\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";

START_TEST(http_probe_sees_500_then_200)
{
    int port = hpt_free_port();
    char *path = hpt_path("serve.py"), script[256], probe[160];
    FILE *f = fopen(path, "w");
    /* Before python listens the probes are refused; then five 500s, then 200s. */
    seen s = {.service = "web",
              .want_service = "degraded",
              .want_health = "unhealthy",
              .want_detail = "HTTP 500"};

    ck_assert_ptr_nonnull(f);
    fputs(HTTP_500_THEN_200, f);
    fclose(f);
    snprintf(script, sizeof(script), "exec /usr/bin/python3 %s %d", path, port);
    snprintf(probe, sizeof(probe),
             "{\"http\":\"http://127.0.0.1:%d/health\",\"interval_ms\":150,\"retries\":3}", port);
    start_probed("web", script, probe, NULL);
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s (%s)", s.status,
                  s.health, s.detail);
    s.want_service = "running";
    s.want_health = "healthy";
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s (%s)", s.status,
                  s.health, s.detail);
    free(path);
}
END_TEST

static int no_hung_probe(void *ud)
{
    (void)ud;
    return hpt_count_cmdline("sleep 31.5") == 0 && hpt_zombie_children(hpt_server_pid()) == 0;
}

START_TEST(exec_probe_that_hangs_is_killed_and_leaves_nothing)
{
    seen s = {.service = "hang", .want_service = "degraded", .want_health = "unhealthy"};

    start_probed("hang", "exec sleep 1000",
                 "{\"exec\":\"sh -c 'sleep 31.5; true'\",\"interval_ms\":100,\"timeout_ms\":300,"
                 "\"retries\":2}",
                 NULL);
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s (%s)", s.status,
                  s.health, s.detail);
    ck_assert_str_eq(s.detail, "timed out after 300 ms");
    cJSON_Delete(hpt_ok("service.stop", hpt_name("hang")));
    ck_assert_msg(hpt_wait_until(no_hung_probe, NULL, DEADLINE_MS),
                  "%d probe processes, %d zombies left", hpt_count_cmdline("sleep 31.5"),
                  hpt_zombie_children(hpt_server_pid()));
}
END_TEST

/* Healthy only when the probe sees the action's env and cwd, and no fd past stderr. */
START_TEST(exec_probe_runs_with_the_actions_env_and_cwd)
{
    seen s = {.service = "envy", .want_service = "running", .want_health = "healthy"};
    char *marker = hpt_path("marker");
    FILE *f = fopen(marker, "w");

    ck_assert_ptr_nonnull(f);
    fclose(f);
    start_probed("envy", "exec sleep 1000",
                 "{\"exec\":\"sh -c 'test \\\"$FOO\\\" = bar && test -f marker && "
                 "test ! -e /proc/$$/fd/3'\","
                 "\"interval_ms\":100}",
                 "{\"env\":{\"FOO\":\"bar\"}}");
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s (%s)", s.status,
                  s.health, s.detail);
    free(marker);
}
END_TEST

static int probe_leftover(void *ud)
{
    (void)ud;
    return hpt_count_cmdline("sleep 31.7") == 1;
}

static int no_probe_leftover(void *ud)
{
    (void)ud;
    return hpt_count_cmdline("sleep 31.7") == 0;
}

/* The probe writes its cgroup and, once, leaves a process behind in a session of its own
 * (out of reach of its process group); the job writes its cgroup. With cgroups both are
 * the job's, and the stop's cgroup.kill takes the leftover; without (_i = 1:
 * --no-cgroups), the job's marker, which the probe's environment carries. */
START_TEST(exec_probe_runs_in_the_jobs_cgroup_and_leaves_nothing_after_a_stop)
{
    seen s = {.service = "cg", .want_service = "running", .want_health = "healthy"};
    char *job_cg, *probe_cg;

    if (_i) {
        int status = hpt_server_signal_and_wait(SIGTERM, DEADLINE_MS);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
        hpt_server_extra_args("--no-cgroups", NULL);
        hpt_server_start();
    }

    start_probed("cg", "cat /proc/self/cgroup > job.cg; exec sleep 1000",
                 "{\"exec\":\"sh -c 'cat /proc/self/cgroup > probe.cg.new && "
                 "mv probe.cg.new probe.cg; test -e left || { touch left; "
                 "setsid sleep 31.7 >/dev/null 2>&1 & }; true'\",\"interval_ms\":200}",
                 NULL);
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s (%s)", s.status,
                  s.health, s.detail);
    ck_assert_msg(hpt_wait_until(probe_leftover, NULL, DEADLINE_MS), "the probe left %d processes",
                  hpt_count_cmdline("sleep 31.7"));
    job_cg = hpt_read("job.cg");
    probe_cg = hpt_read("probe.cg");
    ck_assert_ptr_nonnull(job_cg);
    ck_assert_ptr_nonnull(probe_cg);
    if (strstr(job_cg, "/job-")) /* the daemon has cgroups here */
        ck_assert_str_eq(probe_cg, job_cg);
    cJSON_Delete(hpt_ok("service.stop", hpt_name("cg")));
    ck_assert_msg(hpt_wait_until(no_probe_leftover, NULL, DEADLINE_MS),
                  "%d processes the probe left outlived the stop", hpt_count_cmdline("sleep 31.7"));
    free(job_cg);
    free(probe_cg);
}
END_TEST

/* The dependant "app" of a probed restart-always "db" is pending while db runs unhealthy
 * or unknown, and starts once db's probe passes. */
typedef struct deps {
    char db[32], db_health[32], app[32];
} deps;

static int app_running(void *ud)
{
    deps *d = ud;
    cJSON *st = hpt_ok("service.status", hpt_name("stack"));
    const char *h = hpt_str(hpt_job_of(st, "db"), "health");

    snprintf(d->db, sizeof(d->db), "%s", hpt_str(hpt_job_of(st, "db"), "status"));
    snprintf(d->db_health, sizeof(d->db_health), "%s", h ? h : "(null)");
    snprintf(d->app, sizeof(d->app), "%s", hpt_str(hpt_job_of(st, "app"), "status"));
    cJSON_Delete(st);
    return strcmp(d->app, "running") == 0;
}

START_TEST(dependant_waits_until_its_dependency_is_healthy)
{
    cJSON *db = hpt_script("db", "sleep 1.5; touch ready; exec sleep 1000");
    cJSON *app = hpt_depends(hpt_script("app", "test -f ready && exec sleep 1000"), "db");
    deps d;

    cJSON_AddStringToObject(db, "restart", "always");
    cJSON_AddItemToObject(db, "probe",
                          hpt_jsonf("{\"exec\":\"test -f ready\",\"interval_ms\":100,"
                                    "\"retries\":100}"));
    cJSON_AddStringToObject(app, "restart", "always");
    hpt_service_set("stack", NULL, db, app, NULL);
    cJSON_Delete(hpt_ok("service.start", hpt_name("stack")));
    app_running(&d);
    ck_assert_str_eq(d.db, "running");
    ck_assert_str_eq(d.app, "pending");
    ck_assert_msg(hpt_wait_until(app_running, &d, DEADLINE_MS), "db %s (%s), app %s", d.db,
                  d.db_health, d.app);
    ck_assert_str_eq(d.db_health, "healthy");
    {
        cJSON *st = hpt_ok("service.status", hpt_name("stack"));
        ck_assert_int_eq(hpt_int(hpt_job_of(st, "app"), "restarts"), 0); /* found ready */
        cJSON_Delete(st);
    }
}
END_TEST

static int reexeced(void *ud)
{
    cJSON *info = hpt_ok("system.info", NULL);
    int64_t n = hpt_int_or0(info, "reexecs");

    (void)ud;
    cJSON_Delete(info);
    return n >= 1;
}

/* An in-place upgrade (SIGHUP) keeps a probed job's verdict and goes on probing it: the
 * new image must take the probes back, or the job would read "unknown" for ever and a
 * dependant waiting for it would never start. The change is an event too. */
START_TEST(an_upgrade_keeps_the_health_and_the_probes_going)
{
    char *marker = hpt_path("up"), probe[512], *cmd;
    seen s = {.service = "kept", .want_health = "healthy"};
    cJSON *page;
    FILE *f = fopen(marker, "w");

    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(probe, sizeof(probe), "{\"exec\":\"test -e %s\",\"interval_ms\":100,\"retries\":1}",
             marker);
    start_probed("kept", "exec sleep 1000", probe, NULL);
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "health %s", s.health);
    ck_assert_int_eq(kill(hpt_server_pid(), SIGHUP), 0);
    ck_assert_msg(hpt_wait_until(reexeced, NULL, DEADLINE_MS), "no re-exec seen");
    look(&s);
    ck_assert_str_eq(s.health, "healthy");
    ck_assert_int_eq(unlink(marker), 0);
    s.want_health = "unhealthy";
    s.want_service = "degraded";
    ck_assert_msg(hpt_wait_until(look, &s, DEADLINE_MS), "status %s health %s", s.status, s.health);
    page = hpt_ok("events.wait", hpt_jsonf("{\"after_seq\":0,\"timeout_ms\":0}"));
    cmd = cJSON_PrintUnformatted(page);
    ck_assert_msg(strstr(cmd, "\"job_unhealthy\"") != NULL, "%s", cmd);
    free(cmd);
    cJSON_Delete(page);
    free(marker);
}
END_TEST

static Suite *rel_probes_suite(void)
{
    Suite *s = suite_create("rel_probes");
    TCase *tc = tcase_create("probes");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tcp_probe_on_a_port_that_opens_late_goes_from_unknown_to_healthy);
    tcase_add_test(tc, port_that_never_opens_makes_the_service_degraded);
    tcase_add_test(tc, on_unhealthy_restart_restarts_the_job_after_its_retries);
    tcase_add_test(tc, http_probe_sees_500_then_200);
    tcase_add_test(tc, exec_probe_that_hangs_is_killed_and_leaves_nothing);
    tcase_add_test(tc, exec_probe_runs_with_the_actions_env_and_cwd);
    tcase_add_loop_test(tc, exec_probe_runs_in_the_jobs_cgroup_and_leaves_nothing_after_a_stop, 0,
                        2);
    tcase_add_test(tc, dependant_waits_until_its_dependency_is_healthy);
    tcase_add_test(tc, an_upgrade_keeps_the_health_and_the_probes_going);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(rel_probes_suite());
}
