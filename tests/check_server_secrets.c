/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets at rest and one server per data dir, against a real hero_proc_server: the
 * database and its WAL never hold a secret's value, the key file is private, plaintext
 * secrets of the current release are sealed at start and still resolve, a server without
 * its key or with a loose one refuses to start, and a second server on the same data dir
 * exits 111 naming the first one's pid without touching its jobs. */
#include "config.h"

#include "check_common.h"
#include "server_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RUN_DEADLINE_MS = 20000, EXIT_DEADLINE_MS = 20000 };

static const char *const VALUE = "correct-horse-battery-staple-4711";

/* ---- helpers --------------------------------------------------------------------------- */

/* 1 when the file at path holds needle anywhere in its raw bytes. */
static int file_holds(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, len = 0, n, nl = strlen(needle);
    char *buf;
    int found = 0;

    if (!f)
        return 0;
    buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    found = len >= nl && memmem(buf, len, needle, nl) != NULL;
    free(buf);
    return found;
}

/* Which store file (db, -wal) holds needle, or NULL. */
static const char *store_file_holding(const char *needle)
{
    static const char *const names[] = {"hero_proc.db", "hero_proc.db-wal", "hero_proc.db-shm"};
    static char where[4096];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(where, sizeof(where), "%s/%s", hpt_data_dir(), names[i]);
        if (file_holds(where, needle))
            return where;
    }
    return NULL;
}

static char *data_path(const char *name)
{
    return hp_test_join(hpt_data_dir(), name);
}

static void set_secret(const char *name, const char *value)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddStringToObject(p, "value", value);
    cJSON_Delete(hpt_ok("secret.set", p));
}

static void assert_secret(const char *name, const char *value)
{
    cJSON *got = hpt_ok("secret.get", hpt_name(name));

    ck_assert_str_eq(hpt_str(got, "value"), value);
    cJSON_Delete(got);
}

/* Runs a job whose env X is "${secret:name}" and which writes $X into a file; returns
 * what the job saw (caller frees). The job's log must not show the value. */
static char *job_sees(const char *name, const char *value)
{
    char ref[160], *seen;
    cJSON *a = hpt_script("show", "printf %s \"$X\" > seen.txt"), *env, *run, *lines;
    int64_t id;

    snprintf(ref, sizeof(ref), "${secret:%s}", name);
    env = cJSON_AddObjectToObject(a, "env");
    cJSON_AddStringToObject(env, "X", ref);
    id = hpt_submit("show", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    ck_assert_str_eq(hpt_str(run, "status"), "succeeded");
    lines = hpt_job_lines(hpt_int(hpt_job_of(run, "show"), "id"));
    ck_assert_msg(!hpt_json_contains(lines, value), "the job's log shows the secret");
    cJSON_Delete(lines);
    cJSON_Delete(run);
    seen = hpt_read("seen.txt");
    ck_assert_ptr_nonnull(seen);
    return seen;
}

typedef struct child {
    pid_t pid;
    int status;
} child;

static int child_exited(void *ud)
{
    child *c = ud;

    return waitpid(c->pid, &c->status, WNOHANG) == c->pid;
}

/* Runs hero_proc_server with --socket sock_name --data-dir (the test's) and up to two
 * more arguments, stderr into "<tmpdir>/<log_name>"; returns its wait status. */
static int run_server(const char *sock_name, const char *log_name, const char *a, const char *b)
{
    char *sock = hpt_path(sock_name), *log = hpt_path(log_name);
    child c = {0, 0};

    c.pid = fork();
    ck_assert_int_ge(c.pid, 0);
    if (c.pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execl(hpt_server_binary(), hpt_server_binary(), "--socket", sock, "--data-dir",
              hpt_data_dir(), a, b, (char *)NULL);
        _exit(127);
    }
    if (!hpt_wait_until(child_exited, &c, EXIT_DEADLINE_MS)) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &c.status, 0);
        ck_abort_msg("the server kept running");
    }
    free(sock);
    free(log);
    return c.status;
}

static void stop_server(void)
{
    int status = hpt_server_signal_and_wait(SIGTERM, EXIT_DEADLINE_MS);

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
}

static void assert_exit_111_saying(int status, const char *log_name, const char *words)
{
    char *log = hpt_read(log_name);

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 111, "wait status 0x%x: %s", status,
                  log ? log : "");
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, words), "'%s' not in: %s", words, log);
    free(log);
}

/* ---- secrets at rest ------------------------------------------------------------------- */

START_TEST(secret_value_is_neither_in_the_database_nor_in_its_wal)
{
    const char *where;

    set_secret("API_TOKEN", VALUE);
    where = store_file_holding(VALUE);
    ck_assert_msg(where == NULL, "%s holds the secret's value", where);
    assert_secret("API_TOKEN", VALUE);
    /* A stop checkpoints the WAL into the database file: still nothing there. */
    stop_server();
    where = store_file_holding(VALUE);
    ck_assert_msg(where == NULL, "%s holds the secret's value after a checkpoint", where);
    hpt_server_start();
    assert_secret("API_TOKEN", VALUE);
}
END_TEST

START_TEST(key_file_is_made_on_first_use_0600_with_32_bytes)
{
    char *key = data_path("secrets.key");
    struct stat st;

    ck_assert_int_ne(stat(key, &st), 0); /* no secret yet, no key */
    set_secret("A", VALUE);
    ck_assert_int_eq(stat(key, &st), 0);
    ck_assert_msg(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600, "mode %o",
                  (unsigned)st.st_mode);
    ck_assert_int_eq(st.st_size, 32);
    free(key);
}
END_TEST

/* Mappings of the process marked "dd" (MADV_DONTDUMP) in /proc/PID/smaps. */
static int dontdump_mappings(pid_t pid)
{
    char path[64], line[512];
    FILE *f;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%ld/smaps", (long)pid);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " dd"))
            n++;
    fclose(f);
    return n;
}

START_TEST(the_key_lives_in_memory_a_core_dump_leaves_out)
{
    /* Under valgrind the mappings are valgrind's own: nothing to learn there. */
    int before;

    if (getenv("HPT_SERVER_WRAPPER") && *getenv("HPT_SERVER_WRAPPER"))
        return;
    before = dontdump_mappings(hpt_server_pid());
    set_secret("A", VALUE);
    assert_secret("A", VALUE);
    ck_assert_int_gt(dontdump_mappings(hpt_server_pid()), before);
}
END_TEST

START_TEST(secret_in_a_job_env_resolves)
{
    char *seen;

    set_secret("DB_PASSWORD", VALUE);
    seen = job_sees("DB_PASSWORD", VALUE);
    ck_assert_str_eq(seen, VALUE);
    free(seen);
}
END_TEST

/* The value is only ever in the job's environment: not in the daemon's own log at debug
 * level, not in system lines, not in an error. */
START_TEST(secret_value_never_reaches_the_daemon_log_or_an_error)
{
    cJSON *a, *env, *run;
    char *seen, *log, *long_value;
    int64_t id;

    stop_server();
    hpt_server_extra_args("--log-level", "debug");
    hpt_server_start();
    set_secret("TOKEN", VALUE);
    seen = job_sees("TOKEN", VALUE);
    ck_assert_str_eq(seen, VALUE);
    free(seen);
    /* A run naming a secret that is not set fails naming it, and only it. */
    a = hpt_script("bad", "true");
    env = cJSON_AddObjectToObject(a, "env");
    cJSON_AddStringToObject(env, "X", "${secret:TOKEN}${secret:NOT_SET}");
    id = hpt_submit("bad", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    ck_assert_str_eq(hpt_str(run, "status"), "failed");
    ck_assert(hpt_json_contains(run, "NOT_SET"));
    ck_assert(!hpt_json_contains(run, VALUE));
    {
        cJSON *lines = hpt_job_lines(hpt_int(hpt_job_of(run, "bad"), "id"));
        ck_assert(!hpt_json_contains(lines, VALUE));
        cJSON_Delete(lines);
    }
    cJSON_Delete(run);
    /* A value refused for its length is not quoted back. */
    long_value = malloc(70000);
    ck_assert_ptr_nonnull(long_value);
    memset(long_value, 'q', 69999);
    long_value[69999] = '\0';
    {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", "BIG");
        cJSON_AddStringToObject(p, "value", long_value);
        ck_assert_int_ne(hpt_fail("secret.set", p), 0);
        ck_assert_ptr_null(strstr(hpt_error_message(), "qqqqqqqq"));
    }
    free(long_value);
    assert_secret("TOKEN", VALUE);
    stop_server();
    log = hpt_read("server.log");
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, VALUE) == NULL, "the daemon's log holds the value:\n%s", log);
    free(log);
    hpt_server_start();
}
END_TEST

/* A stored value damaged behind the server's back: the job fails saying the secret cannot
 * be read, not that it is missing. */
START_TEST(damaged_secret_fails_the_job_saying_it_cannot_be_read)
{
    char *db_path = data_path("hero_proc.db");
    sqlite3 *db = NULL;
    cJSON *a, *env, *run;
    const char *error;
    int64_t id;

    set_secret("A", VALUE);
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "UPDATE secrets SET value = 'sb1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==' WHERE name = 'A'",
                     NULL, NULL, NULL),
        SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
    a = hpt_script("use", "true");
    env = cJSON_AddObjectToObject(a, "env");
    cJSON_AddStringToObject(env, "X", "${secret:A}");
    id = hpt_submit("use", a, NULL);
    run = hpt_wait_run(id, RUN_DEADLINE_MS);
    ck_assert_str_eq(hpt_str(run, "status"), "failed");
    error = hpt_str(hpt_job_of(run, "use"), "error");
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error, "secret 'A', which cannot be read"), "error: %s", error);
    cJSON_Delete(run);
    free(db_path);
}
END_TEST

START_TEST(plaintext_secrets_of_the_current_release_are_sealed_at_start)
{
    char *db_path = data_path("hero_proc.db"), *key = data_path("secrets.key"), *seen;
    sqlite3 *db = NULL;
    const char *where;
    struct stat st;

    /* The current release's data dir: the same schema, values in plain text, no key. */
    stop_server();
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "INSERT INTO secrets(name, value, created_at_ms, updated_at_ms)"
                                  " VALUES('OLD', 'correct-horse-battery-staple-4711', 5, 6),"
                                  " ('EMPTY', '', 7, 7)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
    ck_assert_msg(store_file_holding(VALUE) != NULL, "the old data dir should hold the value");
    ck_assert_int_ne(stat(key, &st), 0);

    hpt_server_start();
    where = store_file_holding(VALUE);
    ck_assert_msg(where == NULL, "%s still holds the value after the start", where);
    ck_assert_int_eq(stat(key, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    assert_secret("OLD", VALUE);
    assert_secret("EMPTY", "");
    seen = job_sees("OLD", VALUE);
    ck_assert_str_eq(seen, VALUE);
    free(seen);
    {
        cJSON *got = hpt_ok("secret.get", hpt_name("OLD"));
        ck_assert_int_eq(hpt_int(got, "created_at_ms"), 5); /* the rows keep their times */
        cJSON_Delete(got);
    }
    /* And a second start finds nothing left to seal. */
    stop_server();
    hpt_server_start();
    assert_secret("OLD", VALUE);
    free(db_path);
    free(key);
}
END_TEST

START_TEST(missing_key_with_sealed_secrets_refuses_to_start)
{
    char *key = data_path("secrets.key"), *moved = hpt_path("key.saved");
    int status;

    set_secret("A", VALUE);
    stop_server();
    ck_assert_int_eq(rename(key, moved), 0);
    status = run_server("other.sock", "nokey.log", NULL, NULL);
    assert_exit_111_saying(status, "nokey.log", "cannot be read without it");
    /* The same key given elsewhere with --secrets-key works. */
    hpt_server_extra_args("--secrets-key", moved);
    hpt_server_start();
    assert_secret("A", VALUE);
    free(key);
    free(moved);
}
END_TEST

START_TEST(key_readable_by_others_refuses_to_start)
{
    char *key = data_path("secrets.key");
    int status;

    set_secret("A", VALUE);
    stop_server();
    ck_assert_int_eq(chmod(key, 0640), 0);
    status = run_server("other.sock", "loose.log", NULL, NULL);
    assert_exit_111_saying(status, "loose.log", "it must be 0600");
    ck_assert_int_eq(chmod(key, 0600), 0);
    hpt_server_start();
    assert_secret("A", VALUE);
    free(key);
}
END_TEST

START_TEST(key_of_the_wrong_size_refuses_to_start)
{
    char *key = data_path("secrets.key");
    int status, fd;

    set_secret("A", VALUE);
    stop_server();
    fd = open(key, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    close(fd);
    status = run_server("other.sock", "size.log", NULL, NULL);
    assert_exit_111_saying(status, "size.log", "has 33 bytes");
    ck_assert_int_eq(truncate(key, 32), 0);
    hpt_server_start();
    assert_secret("A", VALUE);
    free(key);
}
END_TEST

/* ---- one server per data dir ------------------------------------------------------------- */

typedef struct want_pid {
    int64_t run_id;
    pid_t pid;
} want_pid;

static int job_has_pid(void *ud)
{
    want_pid *w = ud;
    cJSON *run = hpt_ok("run.get", hpt_id(w->run_id));
    const cJSON *job = hpt_job_of(run, "sleeper");

    w->pid = job ? (pid_t)hpt_int_or0(job, "pid") : 0;
    cJSON_Delete(run);
    return w->pid > 0;
}

START_TEST(second_server_on_the_same_data_dir_exits_111_naming_the_first)
{
    want_pid w = {0, 0};
    char words[64];
    int status;

    w.run_id = hpt_submit("sleeper", hpt_command("sleeper", "sleep 300"), NULL);
    ck_assert(hpt_wait_until(job_has_pid, &w, RUN_DEADLINE_MS));
    status = run_server("second.sock", "second.log", NULL, NULL);
    snprintf(words, sizeof(words), "is in use by hero_proc_server pid %ld", (long)hpt_server_pid());
    assert_exit_111_saying(status, "second.log", words);
    ck_assert_msg(hpt_pid_alive(w.pid), "the first server's job was killed");
    ck_assert(job_has_pid(&w));
    cJSON_Delete(hpt_ok("run.cancel", hpt_id(w.run_id)));
}
END_TEST

static int socket_answers(void *ud)
{
    const char *sock = ud;
    char cmd[4200];

    snprintf(cmd, sizeof(cmd), "test -S '%s'", sock);
    return system(cmd) == 0;
}

static int pid_gone(void *ud)
{
    return !hpt_pid_exists(*(pid_t *)ud);
}

START_TEST(daemon_holds_the_lock_in_the_process_that_stays)
{
    char *sock = hpt_path("daemon.sock"), *lock = data_path("lock"), *text;
    pid_t pid;
    int status;

    stop_server();
    status = run_server("daemon.sock", "daemon.log", "--daemon", NULL);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status 0x%x", status);
    ck_assert(hpt_wait_until(socket_answers, sock, RUN_DEADLINE_MS));
    text = hp_test_read_file(lock, NULL);
    ck_assert_ptr_nonnull(text);
    pid = (pid_t)atol(text);
    free(text);
    ck_assert_msg(pid > 0 && hpt_pid_alive(pid), "the lock names pid %ld", (long)pid);
    /* The detached server holds it: another start is refused and names it. */
    status = run_server("third.sock", "third.log", NULL, NULL);
    {
        char words[64];
        snprintf(words, sizeof(words), "pid %ld", (long)pid);
        assert_exit_111_saying(status, "third.log", words);
    }
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    ck_assert(hpt_wait_until(pid_gone, &pid, EXIT_DEADLINE_MS));
    hpt_server_start(); /* the lock went with it */
    free(sock);
    free(lock);
}
END_TEST

static Suite *server_secrets_suite(void)
{
    Suite *s = suite_create("server_secrets");
    TCase *tc = tcase_create("server_secrets");

    tcase_add_checked_fixture(tc, hpt_setup, hpt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, secret_value_is_neither_in_the_database_nor_in_its_wal);
    tcase_add_test(tc, key_file_is_made_on_first_use_0600_with_32_bytes);
    tcase_add_test(tc, the_key_lives_in_memory_a_core_dump_leaves_out);
    tcase_add_test(tc, secret_in_a_job_env_resolves);
    tcase_add_test(tc, secret_value_never_reaches_the_daemon_log_or_an_error);
    tcase_add_test(tc, damaged_secret_fails_the_job_saying_it_cannot_be_read);
    tcase_add_test(tc, plaintext_secrets_of_the_current_release_are_sealed_at_start);
    tcase_add_test(tc, missing_key_with_sealed_secrets_refuses_to_start);
    tcase_add_test(tc, key_readable_by_others_refuses_to_start);
    tcase_add_test(tc, key_of_the_wrong_size_refuses_to_start);
    tcase_add_test(tc, second_server_on_the_same_data_dir_exits_111_naming_the_first);
    tcase_add_test(tc, daemon_holds_the_lock_in_the_process_that_stays);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_test_run(server_secrets_suite());
}
