/* SPDX-License-Identifier: Apache-2.0 */
/* The pipe holder (holder.h): its process (a poll loop on one SOCK_SEQPACKET socket, a
 * table of fds by job and stream, nothing else: no store, no HTTP) and the daemon's side,
 * which hands it each job's pipes as they are made and, after a crash, takes them back
 * and re-adopts the jobs that still run. What a job does next stays the supervisor's. */
#include "config.h"

#include "server/holder.h"
#include "server/probe.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Ops: the daemon adds (with the fd), closes, asks for all (answered by F per fd, then
 * E), or quits; MAX_CLIENTS: daemons connected at once (one, and the next after an exec). */
enum { OP_ADD = 'A', OP_CLOSE = 'C', OP_GIVE = 'G', OP_QUIT = 'Q', OP_FD = 'F', OP_END = 'E' };
enum { MAX_CLIENTS = 8, TAKE_MS = 2000, POLL_MS = 250, RESPAWN_MS = 1000 };

/* pid and start: the job's process as spawned, so that a daemon killed before it stored
 * them still finds it (held in the table with the fd). */
typedef struct msg {
    uint32_t op;
    int32_t stream;
    int64_t job;
    int64_t pid;
    uint64_t start;
} msg;

typedef struct held {
    int64_t job;
    int stream;
    int fd;
    pid_t pid;
    unsigned long long start;
} held;

struct hpd_holder {
    int fd;      /* connection to the holder, -1 once it is gone */
    held *taken; /* after a crash: the fds fetched back, until a job takes each */
    size_t n_taken;
    uint64_t poll_timer;    /* re-adopted jobs with no pidfd (none from the kernel) */
    uint64_t respawn_timer; /* a new holder after the last one died */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One message, with pass_fd (>= 0) attached. Returns 0 or -1 with errno. */
static int send_msg(int sock, msg m, int pass_fd, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    if (pass_fd >= 0) {
        struct cmsghdr *c;
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(m) ? 0 : -1;
}

/* One message and the fd it carried (*fd, -1 when none). Returns its size, 0 at EOF, or
 * -1 with errno. */
static ssize_t recv_msg(int sock, msg *m, int *fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    *fd = -1;
    memset(&ctl, 0, sizeof(ctl));
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                c->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(fd, CMSG_DATA(c), sizeof(int));
    if (n > 0 && n != (ssize_t)sizeof(*m)) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        errno = EPROTO;
        return -1;
    }
    return n;
}

/* ---- the holder process --------------------------------------------------------------- */

static held *table;
static size_t n_table, cap_table;

static void table_close(int64_t job, int stream)
{
    for (size_t i = 0; i < n_table; i++)
        if (table[i].job == job && table[i].stream == stream) {
            close(table[i].fd);
            table[i] = table[--n_table];
            return;
        }
}

static void table_add(const msg *m, int fd)
{
    int64_t job = m->job;
    int stream = m->stream;

    table_close(job, stream); /* a new attempt of the job: its new pipe replaces the old */
    if (n_table == cap_table) {
        size_t cap = cap_table ? cap_table * 2 : 64;
        held *grown = realloc(table, cap * sizeof(*table));
        if (!grown) {
            /* Without room the job runs as if there were no holder. */
            close(fd);
            return;
        }
        table = grown;
        cap_table = cap;
    }
    table[n_table++] =
        (held){.job = job, .stream = stream, .fd = fd, .pid = (pid_t)m->pid, .start = m->start};
}

/* The daemons connected (the holder's own), one at a time but for an exec's hand-over. */
static int clients[MAX_CLIENTS], n_clients;

/* What the other clients sent and the table has not yet taken: a daemon killed right
 * after a spawn left its ADD (or a stop its CLOSE) queued on its socket, and a daemon
 * that asks for all must get the table as the dead one last told it, not an older one
 * (its spawn's process would be known to nobody and never stopped). Sends are
 * synchronous on a Unix socket: all the dead daemon sent is queued before the next one
 * can connect. */
static void take_queued(int except)
{
    for (int i = 0; i < n_clients; i++) {
        struct pollfd p = {.fd = clients[i], .events = POLLIN};
        msg m;
        int fd;
        if (clients[i] == except)
            continue;
        while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
            ssize_t n = recv_msg(clients[i], &m, &fd);
            if (n < 0 && (errno == EAGAIN || errno == EPROTO))
                continue;
            if (n <= 0)
                break; /* its end: the main loop closes it */
            if (m.op == OP_ADD && fd >= 0) {
                table_add(&m, fd);
                continue;
            }
            if (m.op == OP_CLOSE)
                table_close(m.job, m.stream);
            if (fd >= 0)
                close(fd);
        }
    }
}

/* 0 to go on, 1 when the client left or asked to quit (*quit set). */
static int serve(int client, int *quit)
{
    struct pollfd p = {.fd = client, .events = POLLIN};
    msg m;
    int fd;
    ssize_t n;

    if (poll(&p, 1, 0) != 1) /* take_queued read it since the loop's poll */
        return 0;
    n = recv_msg(client, &m, &fd);
    if (n < 0 && (errno == EAGAIN || errno == EPROTO))
        return 0;
    if (n <= 0)
        return 1;
    switch (m.op) {
    case OP_ADD:
        if (fd >= 0)
            table_add(&m, fd);
        return 0;
    case OP_CLOSE:
        table_close(m.job, m.stream);
        break;
    case OP_GIVE:
        take_queued(client);
        for (size_t i = 0; i < n_table; i++)
            send_msg(client,
                     (msg){.op = OP_FD,
                           .job = table[i].job,
                           .stream = table[i].stream,
                           .pid = table[i].pid,
                           .start = table[i].start},
                     table[i].fd, 0);
        send_msg(client, (msg){.op = OP_END}, -1, 0);
        break;
    case OP_QUIT:
        *quit = 1;
        break;
    default:
        break;
    }
    if (fd >= 0)
        close(fd);
    return *quit;
}

int hpd_holder_main(int argc, char **argv)
{
    struct pollfd pfd[1 + MAX_CLIENTS];
    int quit = 0, lfd;
    uint64_t grace, deadline;
    sigset_t none;

    if (argc < 4)
        return 100;
    lfd = (int)strtol(argv[2], NULL, 10);
    grace = strtoull(argv[3], NULL, 10);
    if (lfd < 3)
        return 100;
    /* Nothing of the daemon's but the socket: a lock or a pipe's write end kept here
     * would outlive the daemon. */
    syscall(SYS_close_range, 3u, (unsigned)lfd - 1, 0u);
    syscall(SYS_close_range, (unsigned)lfd + 1, ~0u, 0u);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* the daemon's blocked signals are not ours */
    signal(SIGPIPE, SIG_IGN);
    fcntl(lfd, F_SETFD, FD_CLOEXEC);
    deadline = mono_ms() + grace;
    while (!quit) {
        int timeout = -1, ready;
        if (n_clients == 0) {
            uint64_t now = mono_ms();
            if (now >= deadline)
                break; /* no daemon came back: the jobs get their pipes' end, as without us */
            timeout = (int)(deadline - now > 60000 ? 60000 : deadline - now);
        }
        pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < n_clients; i++)
            pfd[1 + i] = (struct pollfd){.fd = clients[i], .events = POLLIN};
        ready = poll(pfd, (nfds_t)(1 + n_clients), timeout);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue;
        for (int i = n_clients - 1; i >= 0; i--) {
            if (!pfd[1 + i].revents || serve(clients[i], &quit) == 0)
                continue;
            close(clients[i]);
            clients[i] = clients[--n_clients];
            if (n_clients == 0)
                deadline = mono_ms() + grace;
        }
        if (pfd[0].revents & POLLIN) {
            struct ucred cred;
            socklen_t len = sizeof(cred);
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            /* The socket is in the daemon's 0700 data dir; the uid is checked anyway. */
            if (c >= 0 && (n_clients == MAX_CLIENTS ||
                           getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
                           (cred.uid != getuid() && cred.uid != 0))) {
                close(c);
                c = -1;
            }
            if (c >= 0)
                clients[n_clients++] = c;
        }
    }
    for (size_t i = 0; i < n_table; i++)
        close(table[i].fd);
    free(table);
    for (int i = 0; i < n_clients; i++)
        close(clients[i]);
    close(lfd);
    return 0;
}

/* ---- the daemon's side ---------------------------------------------------------------- */

static int holder_addr(const hpd_server *srv, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    return snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/holder.sock", srv->data_dir) <
                   (int)sizeof(sa->sun_path)
               ? 0
               : -1;
}

static int dial(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

    if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A new holder on a new socket at sa; returns 0 or -1 with errno. */
static int spawn_holder(hpd_server *srv, const struct sockaddr_un *sa)
{
    char fdnum[16], grace[32], name[] = "hero_proc_server", mode[] = "--pipe-holder";
    char exe[PATH_MAX];
    int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), e;
    ssize_t len;
    pid_t pid;

    unlink(sa->sun_path); /* a holder gone after its grace left it */
    if (lfd < 0 || bind(lfd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 ||
        chmod(sa->sun_path, 0600) != 0 || listen(lfd, MAX_CLIENTS) != 0)
        goto fail;
    snprintf(fdnum, sizeof(fdnum), "%d", lfd);
    snprintf(grace, sizeof(grace), "%llu",
             (unsigned long long)(srv->opt.holder_grace_ms ? srv->opt.holder_grace_ms : 60000));
    /* The binary's path, not /proc/self/exe: under a wrapper such as valgrind that is
     * the wrapper's, and the holder runs bare. */
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        goto fail;
    exe[len] = '\0';
    pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        /* Its own session: a signal to the daemon's group or terminal is not for it. The
         * data dir on its command line says whose it is. */
        char *argv[] = {name, mode, fdnum, grace, srv->data_dir, NULL};
        int null = open("/dev/null", O_RDWR);
        setsid();
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        fcntl(lfd, F_SETFD, 0);
        execv(exe, argv);
        _exit(127);
    }
    /* Reaped by hpd_reap like any child that is not a job's, if it ends first. */
    close(lfd);
    return 0;
fail:
    e = errno;
    if (lfd >= 0)
        close(lfd);
    errno = e;
    return -1;
}

static void on_holder_gone(hpd_loop *loop, int fd, uint32_t events, void *data);

/* The connection to a holder, found or started (-1 with errno when neither). */
static int reach_holder(hpd_server *srv, int *found)
{
    struct sockaddr_un sa;
    int fd;

    *found = 0;
    if (holder_addr(srv, &sa) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = dial(&sa)) >= 0) {
        *found = 1;
        return fd;
    }
    return spawn_holder(srv, &sa) == 0 ? dial(&sa) : -1;
}

/* The holder only ever answers a request: anything readable on its connection, outside
 * a recovery's exchange, is its end. */
static void watch_holder(hpd_server *srv)
{
    if (srv->loop && srv->holder->fd >= 0)
        hpd_loop_watch(srv->loop, srv->holder->fd, EPOLLIN | EPOLLRDHUP, on_holder_gone, srv);
}

void hpd_holder_connect(hpd_server *srv)
{
    struct hpd_holder *h;
    int found, fd = reach_holder(srv, &found);

    if (fd < 0)
        hpd_log(srv, 1, "pipe holder: cannot start one (%s); jobs die with a killed daemon",
                strerror(errno));
    else if (found)
        hpd_log(srv, 2, "pipe holder: connected to the one that kept the jobs' pipes");
    /* Without a holder too: re-adopted jobs may need their exits polled (on_poll). */
    h = calloc(1, sizeof(*h));
    if (!h) {
        if (fd >= 0)
            close(fd);
        return;
    }
    h->fd = fd;
    srv->holder = h;
    watch_holder(srv);
}

/* A new holder, given the pipes of every job that runs: the one before died while this
 * daemon ran (killed, out of memory), and a crash of the daemon now would again kill
 * every job of SIGPIPE. Tried again every RESPAWN_MS while it cannot start. */
static void on_respawn(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;
    struct hpd_holder *h = srv->holder;
    size_t kept = 0;
    int found;

    (void)id;
    h->respawn_timer = 0;
    if (srv->stopping || h->fd >= 0)
        return;
    h->fd = reach_holder(srv, &found);
    if (h->fd < 0) {
        h->respawn_timer = hpd_loop_timer(loop, RESPAWN_MS, on_respawn, srv);
        return;
    }
    watch_holder(srv);
    for (hpd_run *run = hpd_active_first(srv); run; run = run->active_next)
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (job->status == HPD_JOB_RUNNING && (job->out[0].fd >= 0 || job->out[1].fd >= 0)) {
                hpd_holder_add(srv, job);
                kept++;
            }
        }
    hpd_log(srv, 1, "pipe holder: a new one keeps the pipes of %zu running jobs", kept);
}

/* The holder went away (or a send failed for good): the jobs run on without it until a
 * new one is started. */
static void holder_lost(hpd_server *srv)
{
    struct hpd_holder *h = srv->holder;

    hpd_log(srv, 1, "pipe holder: gone (%s); a new one in %d ms", strerror(errno), RESPAWN_MS);
    if (srv->loop)
        hpd_loop_unwatch(srv->loop, h->fd);
    close(h->fd);
    h->fd = -1;
    if (srv->loop && !srv->stopping && !h->respawn_timer)
        h->respawn_timer = hpd_loop_timer(srv->loop, RESPAWN_MS, on_respawn, srv);
}

static void on_holder_gone(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    hpd_server *srv = data;

    (void)loop;
    (void)fd;
    (void)events;
    errno = ECONNRESET;
    holder_lost(srv);
}

static void tell(hpd_server *srv, msg m, int fd)
{
    if (!srv->holder || srv->holder->fd < 0)
        return;
    if (send_msg(srv->holder->fd, m, fd, MSG_DONTWAIT) == 0)
        return;
    if (errno == EAGAIN) {
        /* A burst of spawns outran the holder: a short wait for room, not the loop's. */
        struct pollfd p = {.fd = srv->holder->fd, .events = POLLOUT};
        if (poll(&p, 1, 100) == 1 && send_msg(srv->holder->fd, m, fd, MSG_DONTWAIT) == 0)
            return;
    }
    if (errno == EAGAIN)
        hpd_log(srv, 1, "pipe holder: busy; job %lld's pipe is not kept", (long long)m.job);
    else
        holder_lost(srv);
}

void hpd_holder_add(hpd_server *srv, const hpd_job *job)
{
    for (int s = 0; s < 2; s++)
        if (job->out[s].fd >= 0)
            tell(srv,
                 (msg){.op = OP_ADD,
                       .job = job->id,
                       .stream = s,
                       .pid = job->pid,
                       .start = job->pid_start},
                 job->out[s].fd);
}

void hpd_holder_spawning(hpd_server *srv, const hpd_job *job, int out_fd)
{
    tell(srv, (msg){.op = OP_ADD, .job = job->id, .stream = 0, .pid = 0, .start = getpid()},
         out_fd);
}

void hpd_holder_drop(hpd_server *srv, const hpd_job *job, int stream)
{
    tell(srv, (msg){.op = OP_CLOSE, .job = job->id, .stream = stream}, -1);
}

void hpd_holder_quit(hpd_server *srv)
{
    struct hpd_holder *h = srv->holder;

    if (!h)
        return;
    if (h->poll_timer && srv->loop)
        hpd_loop_timer_cancel(srv->loop, h->poll_timer);
    if (h->respawn_timer && srv->loop)
        hpd_loop_timer_cancel(srv->loop, h->respawn_timer);
    if (h->fd >= 0 && srv->loop)
        hpd_loop_unwatch(srv->loop, h->fd);
    if (h->fd >= 0) {
        /* Its socket goes first: a daemon started right after this one must start a
         * holder of its own, not reach this one as it quits (and lose it a moment later). */
        struct sockaddr_un sa;
        if (holder_addr(srv, &sa) == 0)
            unlink(sa.sun_path);
        send_msg(h->fd, (msg){.op = OP_QUIT}, -1, MSG_DONTWAIT);
        close(h->fd);
    }
    for (size_t i = 0; i < h->n_taken; i++)
        close(h->taken[i].fd);
    free(h->taken);
    free(h);
    srv->holder = NULL;
}

/* The dead daemon (pid daemon) was spawning the job when it was killed: the holder had
 * word of the spawn, not yet of its pid. Whatever it started is known to no store and
 * would run for good: its cgroup (<parent>/hero_proc.<daemon>/job-<id>) is killed, and
 * the processes that carry that daemon's marker for the job. The job itself goes on as
 * the store has it (re-adopted, or ended and restarted as its policy says). */
static void unrecorded_spawn(hpd_server *srv, int64_t job, pid_t daemon)
{
    char path[PATH_MAX + 64], needle[64];
    const char *up = srv->cgroup_dir ? strrchr(srv->cgroup_dir, '/') : NULL;

    hpd_log(srv, 1, "job %lld: the supervisor died while spawning it; killing what it started",
            (long long)job);
    if (up) {
        snprintf(path, sizeof(path), "%.*s/hero_proc.%d/job-%lld/cgroup.kill",
                 (int)(up - srv->cgroup_dir), srv->cgroup_dir, (int)daemon, (long long)job);
        hpd__write_text(path, "1");
    }
    snprintf(needle, sizeof(needle), MARKER "=%d.%lld", (int)daemon, (long long)job);
    hpd__signal_marked(needle, 0, 0, 0, SIGKILL);
}

void hpd_holder_recover_begin(hpd_server *srv)
{
    struct hpd_holder *h = srv->holder;
    struct timeval tv = {.tv_sec = TAKE_MS / 1000, .tv_usec = (TAKE_MS % 1000) * 1000};
    size_t cap = 0;

    if (!h || h->fd < 0)
        return;
    setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (send_msg(h->fd, (msg){.op = OP_GIVE}, -1, 0) != 0) {
        holder_lost(srv);
        return;
    }
    for (;;) {
        msg m;
        int fd;
        ssize_t n = recv_msg(h->fd, &m, &fd);
        if (n <= 0) {
            hpd_log(srv, 1, "pipe holder: no answer (%s)", n < 0 ? strerror(errno) : "closed");
            break;
        }
        if (m.op == OP_END)
            break;
        if (m.op != OP_FD || fd < 0) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (h->n_taken == cap) {
            held *grown = realloc(h->taken, (cap = cap ? cap * 2 : 64) * sizeof(*grown));
            if (!grown) {
                close(fd);
                break;
            }
            h->taken = grown;
        }
        h->taken[h->n_taken++] = (held){
            .job = m.job, .stream = m.stream, .fd = fd, .pid = (pid_t)m.pid, .start = m.start};
    }
    if (h->n_taken)
        hpd_log(srv, 2, "pipe holder: %zu pipes kept while no daemon ran", h->n_taken);
    for (size_t i = 0; i < h->n_taken;) {
        held t = h->taken[i];
        if (t.pid != 0 || t.start <= 1) {
            i++;
            continue;
        }
        h->taken[i] = h->taken[--h->n_taken];
        close(t.fd);
        tell(srv, (msg){.op = OP_CLOSE, .job = t.job, .stream = t.stream}, -1);
        unrecorded_spawn(srv, t.job, (pid_t)t.start);
    }
}

static int take(hpd_server *srv, int64_t job, int stream)
{
    struct hpd_holder *h = srv->holder;

    for (size_t i = 0; h && i < h->n_taken; i++)
        if (h->taken[i].job == job && h->taken[i].stream == stream) {
            int fd = h->taken[i].fd;
            h->taken[i] = h->taken[--h->n_taken];
            return fd;
        }
    return -1;
}

int hpd_holder_spawned(hpd_server *srv, hpd_job *job)
{
    struct hpd_holder *h = srv->holder;

    for (size_t i = 0; h && i < h->n_taken; i++) {
        const held *t = &h->taken[i];
        /* The attempt the store knows (running or ended since) is not a newer spawn. */
        if (t->job != job->id || t->pid <= 1 || (t->pid == job->pid && t->start == job->pid_start))
            continue;
        /* Spawned, and the daemon died before the store had it: this is the process. */
        if (job->status != HPD_JOB_RUNNING)
            job->attempt++;
        job->status = HPD_JOB_RUNNING;
        job->pid = t->pid;
        job->pid_start = t->start;
        if (!job->started_at_ms)
            job->started_at_ms = hpd_now_ms();
        return 1;
    }
    return 0;
}

void hpd_holder_recover_done(hpd_server *srv)
{
    struct hpd_holder *h = srv->holder;

    /* Pipes of jobs the store does not have running: nobody will read them. A process
     * spawned for one (pid and start time as the holder was told) is an orphan of a
     * spawn the store never recorded: it goes, as nothing would ever stop it. */
    while (h && h->n_taken) {
        held t = h->taken[--h->n_taken];
        close(t.fd);
        tell(srv, (msg){.op = OP_CLOSE, .job = t.job, .stream = t.stream}, -1);
        if (t.stream == 0 && hpd__proc_runs_since(t.pid, t.start)) {
            hpd_log(srv, 1, "job %lld: pid %d was spawned but never recorded; killing it",
                    (long long)t.job, (int)t.pid);
            hpd__signal_group(t.pid, -1, t.start, SIGKILL);
        }
    }
}

/* The leader of a re-adopted job ended: not our child, so its status is not ours to
 * read. What it left in its cgroup goes with it, as for a reaped leader. */
static void adopted_end(hpd_server *srv, hpd_job *job)
{
    if (job->reaped || job->status != HPD_JOB_RUNNING)
        return;
    job->reaped = 1;
    job->exit_unknown = 1;
    job->has_exit = job->exit_code = job->signal = 0;
    hpd_probe_job_stopped(srv, job);
    hpd__signal_escapees(srv, job, SIGKILL, 1);
    hpd__job_maybe_finish(srv, job);
}

static void on_adopted_exit(hpd_loop *loop, int fd, uint32_t events, void *data)
{
    (void)events;
    hpd_loop_unwatch(loop, fd);
    adopted_end(((hpd_job *)data)->run->srv, data);
}

/* Where the kernel gives no pidfd (an old one, or valgrind), a re-adopted job's exit is
 * seen by looking at /proc every POLL_MS. A zombie of ours is not one: hpd_reap has it. */
static void on_poll(hpd_loop *loop, uint64_t id, void *data)
{
    hpd_server *srv = data;
    int watching = 0;

    (void)id;
    srv->holder->poll_timer = 0;
    for (hpd_run *run = hpd_active_first(srv); run; run = run->active_next)
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (job->status != HPD_JOB_RUNNING || job->reaped || job->pidfd >= 0 || job->pid <= 1 ||
                hpd__parent_of(job->pid) == getpid())
                continue;
            if (hpd__proc_runs_since(job->pid, job->pid_start))
                watching = 1;
            else
                adopted_end(srv, job);
        }
    if (watching)
        srv->holder->poll_timer = hpd_loop_timer(loop, POLL_MS, on_poll, srv);
}

static void watch_exit(hpd_server *srv, hpd_job *job)
{
    if (job->pidfd >= 0 &&
        hpd_loop_watch(srv->loop, job->pidfd, EPOLLIN, on_adopted_exit, job) == 0)
        return;
    if (job->pidfd >= 0) {
        close(job->pidfd);
        job->pidfd = -1;
    }
    if (srv->holder && !srv->holder->poll_timer)
        srv->holder->poll_timer = hpd_loop_timer(srv->loop, POLL_MS, on_poll, srv);
}

/* The job's processes into this daemon's cgroup for it, from the one the dead daemon
 * made (<parent>/hero_proc.<old pid>/job-<id>): stopping it kills the whole cgroup as
 * for any job, and the old sub-tree can go. */
static void take_cgroup(hpd_server *srv, const hpd_job *job)
{
    char line[PATH_MAX], old[PATH_MAX * 2], fresh[PATH_MAX], procs[PATH_MAX * 2 + 16];
    const char *leaf, *up;
    FILE *f;

    if (!srv->cgroup_dir)
        return;
    snprintf(line, sizeof(line), "/proc/%d/cgroup", (int)job->pid);
    f = fopen(line, "re");
    line[0] = '\0';
    while (f && fgets(line, sizeof(line), f) && strncmp(line, "0::", 3) != 0)
        line[0] = '\0';
    if (f)
        fclose(f);
    line[strcspn(line, "\n")] = '\0';
    leaf = strrchr(line, '/');
    if (strncmp(line, "0::", 3) != 0 || !leaf || strncmp(leaf + 1, "job-", 4) != 0)
        return;
    up = strrchr(srv->cgroup_dir, '/');
    if (!up)
        return;
    {
        /* "<parent>/hero_proc.N/job-M" with the parent of this daemon's own sub-tree */
        const char *prev = leaf - 1;
        while (prev > line + 3 && *prev != '/')
            prev--;
        if (strncmp(prev, "/hero_proc.", 11) != 0)
            return;
        snprintf(old, sizeof(old), "%.*s%s", (int)(up - srv->cgroup_dir), srv->cgroup_dir, prev);
    }
    hpd__job_cgroup(srv, job, NULL, fresh, sizeof(fresh));
    if (strcmp(old, fresh) == 0 || (mkdir(fresh, 0755) != 0 && errno != EEXIST))
        return;
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", old);
    for (int round = 0; round < 10; round++) {
        char to[PATH_MAX + 16], pid[32];
        int moved = 0;
        f = fopen(procs, "re");
        snprintf(to, sizeof(to), "%s/cgroup.procs", fresh);
        while (f && fscanf(f, "%31s", pid) == 1)
            moved += hpd__write_text(to, pid) == 0;
        if (f)
            fclose(f);
        if (!moved)
            break;
    }
    rmdir(old);
    *strrchr(old, '/') = '\0';
    rmdir(old); /* the dead daemon's sub-tree, once its last job moved */
}

void hpd_holder_readopt(hpd_server *srv, hpd_job *job)
{
    pid_t pid = job->pid;
    int fds[2] = {take(srv, job->id, 0), take(srv, job->id, 1)}, pidfd = -1, alive;
    uint64_t now = hpd_now_mono_ms();
    int64_t up = hpd_now_ms() - job->started_at_ms;

    /* The start time is read again once the pidfd names the process: a pid reused in
     * between is caught. */
    alive = pid > 1 && job->pid_start && hpd__proc_start_time(pid) == job->pid_start;
    if (alive)
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    alive = alive && hpd__proc_runs_since(pid, job->pid_start);
    if (!alive && pidfd >= 0) {
        close(pidfd);
        pidfd = -1;
    }
    for (int s = 0; s < 2; s++) {
        job->out[s] = (hpd_linebuf){.fd = fds[s]};
        if (fds[s] < 0)
            continue;
        fcntl(fds[s], F_SETFL, O_NONBLOCK);
        hpd_loop_watch(srv->loop, fds[s], EPOLLIN, hpd__on_output, job);
    }
    /* How long it has run, for the back-off of its next restart (the doubling and the
     * count of quick failures are the store's); a crash loop stays one (a file of before
     * the count was kept). */
    job->spawned_mono_ms = up > 0 && (uint64_t)up < now ? now - (uint64_t)up : 0;
    if (job->crash_loop && job->quick_failures < CRASH_LOOP_AFTER)
        job->quick_failures = CRASH_LOOP_AFTER;
    job->has_exit = job->exit_code = job->signal = 0;
    if (!alive) {
        /* Never signalled: the pid is gone, or another process has it now. What the job
         * wrote before it ended is still read from the kept pipes. */
        unsigned long long now_start = pid > 1 ? hpd__proc_start_time(pid) : 0;
        hpd_job_syslog(srv, job, "supervisor restarted: pid %d %s; not signalled", (int)pid,
                       now_start && now_start != job->pid_start
                           ? "belongs to another process now (its start time differs)"
                           : "is gone");
        job->pidfd = -1;
        job->reaped = 1;
        job->exit_unknown = 1;
        hpd__job_maybe_finish(srv, job);
        return;
    }
    job->pidfd = pidfd;
    job->reaped = 0;
    job->exit_unknown = 0;
    take_cgroup(srv, job);
    job->marker_daemon = hpd__marker_daemon(pid, job->id);
    watch_exit(srv, job);
    hpd__arm_timeout(srv, job); /* due when it was, counted from its start */
    hpd_job_syslog(srv, job, "supervisor restarted: pid %d re-adopted (same start time)%s",
                   (int)pid, fds[0] >= 0 || fds[1] >= 0 ? ", its output read on" : "");
    hpd_probe_job_started(srv, job);
    if (job->run->cancelling)
        hpd__stop_job(srv, job, HPD_JOB_CANCELLED); /* the stop the dead daemon began */
}

void hpd_holder_after_reexec(hpd_server *srv)
{
    for (hpd_run *run = hpd_active_first(srv); run; run = run->active_next)
        for (size_t i = 0; i < run->n_actions; i++) {
            hpd_job *job = run->jobs[i];
            if (job->status == HPD_JOB_RUNNING && !job->reaped && job->pid > 1 &&
                hpd__parent_of(job->pid) != getpid()) {
                job->marker_daemon = hpd__marker_daemon(job->pid, job->id);
                watch_exit(srv, job);
            }
        }
}
