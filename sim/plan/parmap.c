/*
 * parmap: parallel work items in forked processes (see parmap.h).
 *
 * The parent hands out the items through a pipe: it writes each item's position k (8 bytes,
 * so every write and read is atomic), and each idle worker reads the next one, so a slow
 * item does not hold up a fixed share of the others. Each worker writes to its own part
 * file (opened by the parent and unlinked at once, so it has no name on disk), one record
 * per item:
 *     +ITEM\n                 the worker started the item
 *     =ITEM BYTES\n<BYTES>    it finished, and these are the item's lines
 * The item's lines are made in memory and written after the header that gives their length,
 * so a record cut short (a worker killed while writing) is recognised and dropped, and a
 * "+" with no "=" after it names the item a dead worker was running. The parent polls the
 * workers, counts finished records for the progress line, then reads every part file.
 *
 * Interruption: while workers run, the parent catches SIGINT, SIGTERM and SIGHUP with a
 * handler that only records the signal; the polling loop sees it within one sleep (the
 * signal cuts the sleep short), kills the workers, closes the part files, puts the old
 * handlers back and raises the signal again.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/parmap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "sim/base/progress.h"
#include "sim/base/util.h"

#define PARMAP_MAX_JOBS  256
#define WORKER_IO_FAILED 3 /* a worker's exit status when it cannot write its part file */

/* The signal that interrupted the current parmap_run, 0 for none. This is the module's one
 * piece of mutable state outside a call: a signal handler can reach nothing else. */
static volatile sig_atomic_t parmap_caught;

static const int CAUGHT[] = {SIGINT, SIGTERM, SIGHUP};
#define N_CAUGHT (sizeof CAUGHT / sizeof CAUGHT[0])

uint64_t parmap_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (uint64_t)n;
}

static int cmp_row(const void *a, const void *b)
{
    const parmap_row *x = a, *y = b;
    if (x->item != y->item)
        return (x->item > y->item) - (x->item < y->item);
    return (x->order > y->order) - (x->order < y->order);
}

void parmap_sort(parmap_row *rows, size_t n)
{
    if (n > 0)
        qsort(rows, n, sizeof *rows, cmp_row);
}

/* Appends a copy of the line text[0..len) as a row of item; -1 when out of memory. */
static int add_row(parmap_row **rows, size_t *n, size_t *cap, uint64_t item, const char *text,
                   size_t len)
{
    if (*n == *cap) {
        size_t want = *cap ? 2 * *cap : 256;
        parmap_row *q = realloc(*rows, want * sizeof *q);
        if (q == NULL)
            return -1;
        *rows = q;
        *cap = want;
    }
    parmap_row *r = &(*rows)[*n];
    r->item = item;
    r->order = *n;
    r->text = malloc(len + 1);
    if (r->text == NULL)
        return -1;
    memcpy(r->text, text, len);
    r->text[len] = '\0';
    (*n)++;
    return 0;
}

int parmap_read_rows(FILE *fp, parmap_row **rows, size_t *n, size_t *cap)
{
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &lcap, fp)) > 0)
        rc = add_row(rows, n, cap, strtoull(line, NULL, 10), line, (size_t)len);
    free(line);
    return rc;
}

void parmap_rows_free(parmap_row *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++)
        free(rows[i].text);
    free(rows);
}

void parmap_result_fini(parmap_result *res)
{
    parmap_rows_free(res->rows, res->n_rows);
    free(res->failed);
    memset(res, 0, sizeof *res);
}

/* --- signals ------------------------------------------------------------------------------ */

static void on_signal(int sig)
{
    parmap_caught = sig;
}

/* The signal dispositions and mask in force before parmap_run, put back when it ends and
 * in every worker. */
typedef struct guard {
    struct sigaction old[N_CAUGHT];
    sigset_t caught, old_mask;
} guard;

/* Catches the signals (except those the process ignores) and blocks them until the
 * workers are started (guard_unblock), so that no worker starts with the parent's handler. */
static void guard_install(guard *g)
{
    parmap_caught = 0;
    sigemptyset(&g->caught);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_CAUGHT; i++) {
        sigaddset(&g->caught, CAUGHT[i]);
        sigaction(CAUGHT[i], NULL, &g->old[i]);
        if (g->old[i].sa_handler != SIG_IGN)
            sigaction(CAUGHT[i], &sa, NULL);
    }
    sigprocmask(SIG_BLOCK, &g->caught, &g->old_mask);
}

static void guard_unblock(const guard *g)
{
    sigprocmask(SIG_SETMASK, &g->old_mask, NULL);
}

static void guard_restore(const guard *g)
{
    for (size_t i = 0; i < N_CAUGHT; i++)
        sigaction(CAUGHT[i], &g->old[i], NULL);
}

/* A worker ends by the signals at once (its parent cleans up) unless they were ignored:
 * a handler the parent had (the demo's, say) is not the worker's. */
static void guard_worker(const guard *g)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (size_t i = 0; i < N_CAUGHT; i++)
        sigaction(CAUGHT[i], g->old[i].sa_handler == SIG_IGN ? &g->old[i] : &dfl, NULL);
}

void parmap_signals_hold(sigset_t *saved)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < N_CAUGHT; i++)
        sigaddset(&set, CAUGHT[i]);
    sigprocmask(SIG_BLOCK, &set, saved);
}

void parmap_signals_release(const sigset_t *saved)
{
    sigprocmask(SIG_SETMASK, saved, NULL);
}

/* --- part files ------------------------------------------------------------------------- */

/* Opens jobs part files in a private folder under $TMPDIR (or /tmp) and removes their names
 * and the folder at once: the parent and its workers share the files by descriptor, so
 * nothing is left on disk however the run ends, even by SIGKILL of the parent. Returns 0,
 * or -1 with a message. */
static int open_parts(int *fds, uint64_t jobs, char *err, size_t errlen)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/capsim-parts-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        util_errf(err, errlen, "cannot make a temporary folder in %s: %s", base, strerror(errno));
        return -1;
    }
    uint64_t w;
    int rc = 0;
    for (w = 0; w < jobs && rc == 0; w++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/part-%llu", dir, (unsigned long long)w);
        fds[w] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fds[w] < 0) {
            util_errf(err, errlen, "cannot make a temporary file in %s: %s", dir, strerror(errno));
            rc = -1;
        } else {
            unlink(path);
        }
    }
    rmdir(dir);
    for (uint64_t i = 0; rc != 0 && i + 1 < w; i++)
        close(fds[i]);
    return rc;
}

static void close_parts(const int *fds, uint64_t jobs)
{
    for (uint64_t w = 0; w < jobs; w++)
        close(fds[w]);
}

/* --- workers ------------------------------------------------------------------------------ */

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Runs one item and writes its record; -1 when the part file cannot be written. */
static int run_item(int fd, uint64_t item, parmap_fn fn, void *user)
{
    char head[64];
    int n = snprintf(head, sizeof head, "+%llu\n", (unsigned long long)item);
    if (write_all(fd, head, (size_t)n) != 0)
        return -1;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return -1;
    fn(item, mem, user);
    if (fclose(mem) != 0) {
        free(buf);
        return -1;
    }
    n = snprintf(head, sizeof head, "=%llu %zu\n", (unsigned long long)item, len);
    int rc = write_all(fd, head, (size_t)n) == 0 && write_all(fd, buf, len) == 0 ? 0 : -1;
    free(buf);
    return rc;
}

/* A worker process: dies with the parent, then runs the items it reads from queue_fd,
 * writing their records to its part file part_fd. */
static _Noreturn void worker(const guard *g, pid_t parent, int queue_fd, int part_fd,
                             uint64_t first, uint64_t stride, parmap_fn fn, void *user)
{
    guard_worker(g);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    /* The parent may have died before prctl: then this process is already an orphan. */
    if (getppid() != parent)
        _exit(WORKER_IO_FAILED);
    guard_unblock(g);
    /* Progress is the parent's to show: a worker's bars and lines would draw over it. */
    setenv("CAPSIM_PROGRESS", "off", 1);
    uint64_t k;
    while (read(queue_fd, &k, sizeof k) == (ssize_t)sizeof k) {
        if (getppid() != parent || run_item(part_fd, first + k * stride, fn, user) != 0)
            _exit(WORKER_IO_FAILED);
    }
    _exit(0);
}

/* What the parent knows of one worker. */
typedef struct worker_info {
    pid_t pid;  /* 0 once reaped */
    int status; /* its wait status, once reaped */
    int reaped;
    uint64_t lost; /* the position of the item it started and did not finish */
    int has_lost;
} worker_info;

/* Collects the workers that have ended. Returns whether any is still running. */
static int reap(worker_info *wk, uint64_t started, int block)
{
    int alive = 0;
    for (uint64_t w = 0; w < started; w++) {
        if (wk[w].pid <= 0)
            continue;
        int st = 0;
        pid_t got;
        do
            got = waitpid(wk[w].pid, &st, block ? 0 : WNOHANG);
        while (got < 0 && errno == EINTR);
        if (got == 0) {
            alive = 1;
            continue;
        }
        wk[w].status = got < 0 ? -1 : st;
        wk[w].reaped = 1;
        wk[w].pid = 0;
    }
    return alive;
}

/* How a worker ended, as the reason of the item it did not finish. */
static void worker_fate(const worker_info *w, char *buf, size_t len)
{
    if (w->status == -1)
        snprintf(buf, len, "its worker process was lost");
    else if (WIFSIGNALED(w->status))
        snprintf(buf, len, "its worker process was killed by signal %d (%s)", WTERMSIG(w->status),
                 strsignal(WTERMSIG(w->status)));
    else if (WIFEXITED(w->status) && WEXITSTATUS(w->status) == WORKER_IO_FAILED)
        snprintf(buf, len, "its worker process could not write its results");
    else
        snprintf(buf, len, "its worker process ended (exit status %d)",
                 WIFEXITED(w->status) ? WEXITSTATUS(w->status) : -1);
}

/* --- reading the part files ------------------------------------------------------------- */

/* The whole of a part file in a malloc'ed buffer (NUL-terminated), or NULL. */
static char *slurp(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0)
        return NULL;
    size_t n = (size_t)st.st_size, got = 0;
    char *buf = malloc(n + 1);
    while (buf != NULL && got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (buf) {
        buf[got] = '\0';
        *len = got;
    }
    return buf;
}

/* Where the records of the part files go: finished[k] is set for the positions finished;
 * rows (when not NULL) receive their lines. */
typedef struct collector {
    uint64_t first, stride, count;
    unsigned char *finished;
    uint64_t n_finished;
    parmap_row **rows;
    size_t *n_rows, cap;
} collector;

/* Splits an item's record into its lines. */
static int add_lines(collector *c, uint64_t item, const char *p, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t n = nl ? (size_t)(nl - p) + 1 : len;
        if (add_row(c->rows, c->n_rows, &c->cap, item, p, n) != 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

/* Reads one worker's part file: its finished items into c, and the position of the item it
 * started without finishing into *w. A record cut short ends the file. -1: out of memory. */
static int read_part(int fd, collector *c, worker_info *w)
{
    size_t len = 0;
    char *buf = slurp(fd, &len);
    if (buf == NULL)
        return -1;
    const char *p = buf, *end = buf + len;
    int rc = 0;
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        char *q;
        if (nl == NULL)
            break;
        unsigned long long item = strtoull(p + 1, &q, 10);
        uint64_t k = (item - c->first) / c->stride;
        if (item < c->first || k >= c->count)
            break;
        if (*p == '+' && q == nl) {
            w->lost = k;
            w->has_lost = 1;
            p = nl + 1;
            continue;
        }
        unsigned long long bytes = *p == '=' && *q == ' ' ? strtoull(q + 1, &q, 10) : 0;
        if (*p != '=' || q != nl || bytes > (size_t)(end - nl - 1))
            break;
        if (!c->finished[k]) {
            c->finished[k] = 1;
            c->n_finished++;
            if (c->rows)
                rc = add_lines(c, item, nl + 1, (size_t)bytes);
        }
        w->has_lost = 0;
        p = nl + 1 + bytes;
    }
    free(buf);
    return rc;
}

/* Shows the items done when a line or a redraw is due: counting them reads every part
 * file, so it is done only then. */
static void show_progress(const int *fds, uint64_t started, collector *c, progress *pr)
{
    if (!progress_due(pr))
        return;
    worker_info scratch;
    memset(c->finished, 0, c->count);
    c->n_finished = 0;
    for (uint64_t w = 0; w < started; w++)
        read_part(fds[w], c, &scratch);
    progress_show(pr, c->n_finished);
}

/* Reads every part file into res and lists the items that did not finish with their
 * reasons. Returns 0, 1 (some failed) or -1 (out of memory). */
static int collect(const int *fds, worker_info *wk, uint64_t started, collector *c,
                   parmap_result *res, char *err, size_t errlen)
{
    memset(c->finished, 0, c->count);
    c->n_finished = 0;
    c->rows = &res->rows;
    c->n_rows = &res->n_rows;
    int rc = 0;
    for (uint64_t w = 0; w < started && rc == 0; w++) {
        wk[w].has_lost = 0;
        rc = read_part(fds[w], c, &wk[w]);
    }
    if (rc != 0) {
        util_errf(err, errlen, "out of memory reading the workers' results");
        return -1;
    }
    parmap_sort(res->rows, res->n_rows);
    if (c->n_finished == c->count)
        return 0;
    res->failed = calloc(c->count - c->n_finished, sizeof *res->failed);
    if (res->failed == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    for (uint64_t k = 0; k < c->count; k++) {
        if (c->finished[k])
            continue;
        parmap_failure *f = &res->failed[res->n_failed++];
        f->item = c->first + k * c->stride;
        snprintf(f->reason, sizeof f->reason, "not run: the worker processes had stopped");
        for (uint64_t w = 0; w < started; w++)
            if (wk[w].has_lost && wk[w].lost == k && wk[w].reaped)
                worker_fate(&wk[w], f->reason, sizeof f->reason);
    }
    util_errf(err, errlen, "%zu of %llu items did not finish (item %llu: %s)", res->n_failed,
              (unsigned long long)c->count, (unsigned long long)res->failed[0].item,
              res->failed[0].reason);
    return 1;
}

/* --- the run ------------------------------------------------------------------------------ */

/* Hands out the items and waits for the workers; stops early when a signal is caught. */
static void drive(int queue_w, worker_info *wk, uint64_t started, uint64_t count, progress *pr,
                  const int *fds, collector *c)
{
    uint64_t handed = 0;
    int open_w = 1;
    while (!parmap_caught) {
        while (open_w && handed < count) {
            if (write(queue_w, &handed, sizeof handed) != (ssize_t)sizeof handed)
                break; /* full (EAGAIN), or no reader left: try again next time */
            handed++;
        }
        if (open_w && (handed == count || started == 0)) {
            close(queue_w);
            open_w = 0;
        }
        int alive = reap(wk, started, 0);
        if (pr)
            show_progress(fds, started, c, pr);
        if (!alive)
            break;
        struct timespec ts = {0, handed < count ? 20000000 : 200000000};
        nanosleep(&ts, NULL);
    }
    if (open_w)
        close(queue_w);
    if (pr)
        progress_finish(pr);
}

/* Starts the workers; returns how many started. */
static uint64_t start_workers(const guard *g, int queue[2], worker_info *wk, uint64_t jobs,
                              const int *fds, uint64_t first, uint64_t stride, parmap_fn fn,
                              void *user)
{
    pid_t parent = getpid();
    uint64_t started = 0;
    fflush(NULL);
    for (uint64_t w = 0; w < jobs; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(queue[1]);
            worker(g, parent, queue[0], fds[w], first, stride, fn, user);
        }
        if (pid < 0)
            break;
        memset(&wk[started], 0, sizeof wk[started]);
        wk[started++].pid = pid;
    }
    return started;
}

int parmap_run(uint64_t first, uint64_t stride, uint64_t count, uint64_t jobs, parmap_fn fn,
               void *user, int show, parmap_result *res, char *err, size_t errlen)
{
    return parmap_run_shown(first, stride, count, jobs, fn, user, show ? "capsim" : NULL, "items",
                            res, err, errlen);
}

int parmap_run_shown(uint64_t first, uint64_t stride, uint64_t count, uint64_t jobs, parmap_fn fn,
                     void *user, const char *what, const char *unit, parmap_result *res, char *err,
                     size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (jobs > count)
        jobs = count ? count : 1;
    if (jobs > PARMAP_MAX_JOBS)
        jobs = PARMAP_MAX_JOBS;
    /* The workers' output goes to files under $TMPDIR, so an interrupted run leaves nothing
     * in the results folder, and to no name there, so it leaves nothing in $TMPDIR. */
    int fds[PARMAP_MAX_JOBS];
    collector c = {first, stride ? stride : 1, count, calloc(count ? count : 1, 1), 0, NULL, NULL,
                   0};
    int queue[2];
    if (c.finished == NULL || open_parts(fds, jobs, err, errlen) != 0) {
        free(c.finished);
        return -1;
    }
    if (pipe(queue) != 0) {
        util_errf(err, errlen, "cannot create a pipe for the workers");
        close_parts(fds, jobs);
        free(c.finished);
        return -1;
    }
    worker_info wk[PARMAP_MAX_JOBS];
    guard g;
    guard_install(&g);
    uint64_t started = start_workers(&g, queue, wk, jobs, fds, first, c.stride, fn, user);
    guard_unblock(&g);
    close(queue[0]);
    /* The items are written as the pipe has room, between looks at the workers, so the
     * progress line keeps moving on a long grid. A worker that died must not kill the
     * parent with SIGPIPE. */
    fcntl(queue[1], F_SETFL, O_NONBLOCK);
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    progress pr;
    if (what)
        progress_start(&pr, what, unit, count);
    drive(queue[1], wk, started, count, what ? &pr : NULL, fds, &c);
    if (parmap_caught)
        for (uint64_t w = 0; w < started; w++)
            if (wk[w].pid > 0)
                kill(wk[w].pid, SIGKILL);
    reap(wk, started, 1);
    sigaction(SIGPIPE, &old_pipe, NULL);
    int rc = parmap_caught ? -1 : collect(fds, wk, started, &c, res, err, errlen);
    close_parts(fds, jobs);
    free(c.finished);
    if (rc >= 0 && started == 0 && count > 0) {
        util_errf(err, errlen, "cannot start a worker process (fork failed)");
        rc = -1;
    }
    guard_restore(&g);
    int sig = parmap_caught;
    if (sig) {
        parmap_result_fini(res);
        raise(sig);
        util_errf(err, errlen, "interrupted by signal %d (%s)", sig, strsignal(sig));
        rc = -1;
    }
    if (rc < 0)
        parmap_result_fini(res);
    return rc;
}
