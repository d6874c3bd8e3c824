/*
 * parmap: run independent work items in parallel worker processes and collect their
 * output lines in item order. Used by capsim sweep (grid points), capsim capacity deploy
 * (candidate deployments) and the demo (its steps).
 *
 * Each item writes one or more lines, each starting with the item's index and a comma,
 * to the FILE it is given; the lines come back sorted by index (stable within an item), so
 * the result does not depend on the number of workers.
 *
 * Nothing is lost and nothing is left behind:
 *   - an item whose worker died (killed, out of memory, a crash) is reported as failed with
 *     the reason, and the items the other workers finished are kept;
 *   - an item's lines are kept only when the whole item finished (its output is framed in
 *     the worker's part file, so a worker killed while writing leaves no half line);
 *   - the workers die with the parent (PR_SET_PDEATHSIG on Linux, and a check of the
 *     parent between items elsewhere), so a parent killed even by SIGKILL leaves no orphan;
 *   - a SIGINT, SIGTERM or SIGHUP while the workers run stops them and then ends the
 *     process by the same signal, as if it had not been caught (a caller that handles the
 *     signal itself gets -1, "interrupted"). A signal the process ignored stays ignored;
 *   - the workers' files under $TMPDIR lose their names as soon as they are opened, so
 *     nothing is left there however the run ends, SIGKILL of the parent included.
 */
#ifndef CAPSIM_PARMAP_H
#define CAPSIM_PARMAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct parmap_row {
    uint64_t item;
    size_t order; /* position read, to keep an item's lines in order */
    char *text;   /* the whole line, with its newline */
} parmap_row;

/* An item that did not finish, and why (its worker's fate, in a sentence fragment such as
 * "its worker process was killed by signal 9 (Killed)"). */
typedef struct parmap_failure {
    uint64_t item;
    char reason[160];
} parmap_failure;

/* What a parmap_run gives back: the lines of the items that finished, sorted by item, and
 * the items that did not, by item. Release with parmap_result_fini. */
typedef struct parmap_result {
    parmap_row *rows;
    size_t n_rows;
    parmap_failure *failed;
    size_t n_failed;
} parmap_result;

typedef void (*parmap_fn)(uint64_t item, FILE *out, void *user);

/* Runs fn on items first, first + stride, ... (count of them) in up to `jobs` forked
 * processes, whose output goes to a private temporary folder under $TMPDIR (or /tmp).
 * With show set, shows the items done on stderr (see parmap_run_shown).
 * Returns 0 when every item finished; 1 when some did not (res->failed says which and
 * why, err the first reason); -1 when no work could be started, or the run was
 * interrupted and the caller's own handler took the signal (err says why, res is empty).
 * res is set in every case. */
int parmap_run(uint64_t first, uint64_t stride, uint64_t count, uint64_t jobs, parmap_fn fn,
               void *user, int show, parmap_result *res, char *err, size_t errlen);

/* parmap_run, its progress (when what is not NULL) named: "capsim sweep: 12/40 points, 31 s"
 * for what "capsim sweep" and unit "points", a bar on a terminal, a line every so often
 * otherwise, nothing when the environment turns it off (sim/base/progress.h).  parmap_run
 * with show set names it "capsim" and "items". */
int parmap_run_shown(uint64_t first, uint64_t stride, uint64_t count, uint64_t jobs, parmap_fn fn,
                     void *user, const char *what, const char *unit, parmap_result *res, char *err,
                     size_t errlen);

void parmap_result_fini(parmap_result *res);

/* Appends "index,..." lines read from fp to rows; returns -1 when out of memory. */
int parmap_read_rows(FILE *fp, parmap_row **rows, size_t *n, size_t *cap);

/* Sorts rows by item (stable). */
void parmap_sort(parmap_row *rows, size_t n);

void parmap_rows_free(parmap_row *rows, size_t n);

/* Holds SIGINT, SIGTERM and SIGHUP (blocked: they wait) until parmap_signals_release puts
 * the old mask back. A caller holds them while it writes its results after the workers, so
 * that an interruption comes before the first file or after the last, never between, and
 * no temporary file is left behind. */
void parmap_signals_hold(sigset_t *saved);
void parmap_signals_release(const sigset_t *saved);

/* The number of online processors, at least 1. */
uint64_t parmap_cores(void);

#endif
