/* SPDX-License-Identifier: Apache-2.0 */
/* The checkpointer thread (checkpoint.h). A passive checkpoint copies what it can without
 * waiting for the loop's writer or readers; the next writer starts the log over once all
 * of it is in the database file. */
#include "config.h"

#include "server/checkpoint.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>

struct hpd_checkpointer {
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int poked, running, stop;
    int64_t count;
};

static void *run(void *arg)
{
    hpd_checkpointer *c = arg;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->poked && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->poked = 0;
        c->running = 1;
        pthread_mutex_unlock(&c->mu);
        /* Busy or failing (a full disk): the next poke tries again. */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->running = 0;
        c->count++;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

hpd_checkpointer *hpd_checkpointer_start(const char *path, hp_error *err)
{
    hpd_checkpointer *c = calloc(1, sizeof(*c));
    int rc;

    if (!c) {
        hp_error_set(err, HP_E_NOMEM, "store: cannot start the checkpointer: out of memory");
        return NULL;
    }
    rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    /* A connection finds the write-ahead log at its first read: until then a checkpoint
     * does nothing. */
    if (rc != SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA wal_autocheckpoint = 0; SELECT COUNT(*) FROM sqlite_master",
                     NULL, NULL, NULL) != SQLITE_OK) {
        hp_error_set(err, HP_E_SYSTEM, "store: cannot open %s for checkpoints: %s", path,
                     c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        hp_error_set(err, HP_E_SYSTEM, "store: cannot start the checkpointer thread");
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    return c;
}

void hpd_checkpointer_poke(hpd_checkpointer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->poked = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

int hpd_checkpointer_busy(hpd_checkpointer *c)
{
    int busy;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    busy = c->poked || c->running;
    pthread_mutex_unlock(&c->mu);
    return busy;
}

int64_t hpd_checkpointer_count(hpd_checkpointer *c)
{
    int64_t n;

    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    n = c->count;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void hpd_checkpointer_stop(hpd_checkpointer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c);
}
