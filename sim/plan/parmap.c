/*
 * parmap: parallel work items in forked processes (see parmap.h).
 *
 * The parent hands out the items through a pipe: it writes each item's position k (8 bytes,
 * so every write and read is atomic), and each idle worker reads the next one, so a slow
 * item does not hold up a fixed share of the others. Each worker writes to its own part
 * file; the parent polls the workers, counts finished lines for the progress line, then
 * reads every part file and sorts the lines by item.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/parmap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/base/util.h"

#define PARMAP_MAX_JOBS 256

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
    qsort(rows, n, sizeof *rows, cmp_row);
}

int parmap_read_rows(FILE *fp, parmap_row **rows, size_t *n, size_t *cap)
{
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, fp)) > 0) {
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            parmap_row *q = realloc(*rows, *cap * sizeof *q);
            if (q == NULL) {
                free(line);
                return -1;
            }
            *rows = q;
        }
        parmap_row *r = &(*rows)[*n];
        r->item = strtoull(line, NULL, 10);
        r->order = *n;
        r->text = strdup(line);
        if (r->text == NULL) {
            free(line);
            return -1;
        }
        (*n)++;
    }
    free(line);
    return 0;
}

void parmap_rows_free(parmap_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].text);
    free(rows);
}

static void part_path(char *buf, size_t len, const char *tmpdir, uint64_t w)
{
    snprintf(buf, len, "%s/part-%llu", tmpdir, (unsigned long long)w);
}

/* Lines written so far by every worker (for the progress line). */
static uint64_t lines_done(const char *tmpdir, uint64_t jobs)
{
    uint64_t done = 0;
    for (uint64_t w = 0; w < jobs; w++) {
        char path[4200];
        part_path(path, sizeof path, tmpdir, w);
        FILE *fp = fopen(path, "r");
        int ch;
        while (fp && (ch = getc(fp)) != EOF)
            done += ch == '\n';
        if (fp)
            fclose(fp);
    }
    return done;
}

/* A worker process: runs the items it reads from fd, writing into its part file. */
static _Noreturn void worker(int fd, const char *tmpdir, uint64_t w, uint64_t first, uint64_t stride,
                   parmap_fn fn, void *user)
{
    char path[4200];
    part_path(path, sizeof path, tmpdir, w);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        _exit(3);
    uint64_t k;
    while (read(fd, &k, sizeof k) == (ssize_t)sizeof k) {
        fn(first + k * stride, fp, user);
        fflush(fp);
    }
    _exit(fclose(fp) == 0 ? 0 : 3);
}

/* Collects the workers that have ended (their pid set to 0); a worker that failed sets
 * *failed with the first reason. Returns whether any is still running. */
static int reap(pid_t *pids, uint64_t started, int *failed, char *err, size_t errlen)
{
    int alive = 0;
    for (uint64_t w = 0; w < started; w++) {
        if (pids[w] <= 0)
            continue;
        int st;
        pid_t got = waitpid(pids[w], &st, WNOHANG);
        if (got == 0) {
            alive = 1;
            continue;
        }
        if (got < 0) {
            if (!*failed)
                util_errf(err, errlen, "lost a worker process: %s", strerror(errno));
            *failed = 1;
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (!*failed) {
                if (WIFSIGNALED(st))
                    util_errf(err, errlen, "a worker process was killed by signal %d",
                              WTERMSIG(st));
                else
                    util_errf(err, errlen, "a worker process failed (exit status %d)",
                              WEXITSTATUS(st));
            }
            *failed = 1;
        }
        pids[w] = 0;
    }
    return alive;
}

/* The progress line: items done, their rate and the time left. */
static void show_progress(const char *tmpdir, uint64_t started, uint64_t count,
                          const struct timespec *t0)
{
    uint64_t done = lines_done(tmpdir, started);
    if (done > count)
        done = count; /* an item may write more than one line */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double el = (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
    double rate = el > 0 ? (double)done / el : 0;
    fprintf(stderr, "\r  %llu/%llu done, %.2g per s, %.0f s left   ", (unsigned long long)done,
            (unsigned long long)count, rate, rate > 0 ? (double)(count - done) / rate : 0.0);
}

/* Reads the workers' part files into rows (unless a failure is known) and removes them
 * with their folder. */
static void collect(const char *tmpdir, uint64_t started, parmap_row **rows, size_t *n_rows,
                    int *failed, char *err, size_t errlen)
{
    size_t cap = 0;
    for (uint64_t w = 0; w < started; w++) {
        char path[4200];
        part_path(path, sizeof path, tmpdir, w);
        FILE *fp = fopen(path, "r");
        if (!*failed && (fp == NULL || parmap_read_rows(fp, rows, n_rows, &cap) != 0)) {
            util_errf(err, errlen, "cannot read a worker's output %s", path);
            *failed = 1;
        }
        if (fp)
            fclose(fp);
        remove(path);
    }
    rmdir(tmpdir);
}

int parmap_run(uint64_t first, uint64_t stride, uint64_t count, uint64_t jobs, parmap_fn fn,
               void *user, int progress, parmap_row **rows, size_t *n_rows, char *err,
               size_t errlen)
{
    *rows = NULL;
    *n_rows = 0;
    if (jobs > count)
        jobs = count ? count : 1;
    if (jobs > PARMAP_MAX_JOBS)
        jobs = PARMAP_MAX_JOBS;
    /* The workers' output goes to a private folder under $TMPDIR, so an interrupted run
     * leaves nothing in the results folder. */
    char tmpdir[4096];
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/capsim-parts-XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        util_errf(err, errlen, "cannot make a temporary folder in %s: %s",
                  base && *base ? base : "/tmp", strerror(errno));
        return -1;
    }
    int tty = progress && isatty(2);
    int failed = 0;
    fflush(NULL);
    pid_t pids[PARMAP_MAX_JOBS];
    uint64_t started = 0;
    int queue[2];
    if (pipe(queue) != 0) {
        util_errf(err, errlen, "cannot create a pipe for the workers");
        rmdir(tmpdir);
        return -1;
    }
    for (uint64_t w = 0; w < jobs; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(queue[1]);
            worker(queue[0], tmpdir, w, first, stride, fn, user);
        }
        if (pid < 0) {
            util_errf(err, errlen, "cannot start a worker process");
            failed = 1;
            break;
        }
        pids[started++] = pid;
    }
    close(queue[0]);
    /* The items are written as the pipe has room, between looks at the workers, so the
     * progress line keeps moving on a long grid. A worker that died must not kill the
     * parent with SIGPIPE. */
    fcntl(queue[1], F_SETFL, O_NONBLOCK);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    uint64_t handed = 0;
    int open_w = 1;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        while (open_w && handed < count) {
            if (write(queue[1], &handed, sizeof handed) != (ssize_t)sizeof handed)
                break; /* full (EAGAIN), or no reader left: try again next time */
            handed++;
        }
        if (open_w && (handed == count || started == 0)) {
            close(queue[1]);
            open_w = 0;
        }
        int alive = reap(pids, started, &failed, err, errlen);
        if (tty)
            show_progress(tmpdir, started, count, &t0);
        if (!alive) {
            if (open_w) {
                close(queue[1]);
                open_w = 0;
                if (!failed)
                    util_errf(err, errlen, "the workers stopped before every item was run");
                failed = 1;
            }
            break;
        }
        struct timespec ts = {0, handed < count ? 20000000 : 200000000};
        nanosleep(&ts, NULL);
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    if (tty)
        fprintf(stderr, "\n");
    collect(tmpdir, started, rows, n_rows, &failed, err, errlen);
    if (failed) {
        parmap_rows_free(*rows, *n_rows);
        *rows = NULL;
        *n_rows = 0;
        return -1;
    }
    parmap_sort(*rows, *n_rows);
    return 0;
}
