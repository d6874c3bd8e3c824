/*
 * parmap: run independent work items in parallel worker processes and collect their
 * output lines in item order. Used by capsim sweep (grid points) and capsim capacity
 * (candidate deployments).
 *
 * Each item writes one or more lines, each starting with the item's index and a comma,
 * to the FILE it is given; the lines come back sorted by index (stable within an item), so
 * the result does not depend on the number of workers.
 */
#ifndef CAPSIM_PARMAP_H
#define CAPSIM_PARMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct parmap_row {
    uint64_t item;
    size_t order; /* position read, to keep an item's lines in order */
    char *text;   /* the whole line, with its newline */
} parmap_row;

typedef void (*parmap_fn)(uint64_t item, FILE *out, void *user);

/* Runs fn on items first, first + stride, ... (count of them) in up to `jobs` forked
 * processes, whose output goes to a private temporary folder under $TMPDIR (or /tmp).
 * With progress set and stderr a terminal, shows items done, rate and time left. On
 * success returns 0 and the lines in *rows (free with parmap_rows_free). */
int parmap_run(uint64_t first, uint64_t stride, uint64_t count, uint64_t jobs, parmap_fn fn,
               void *user, int progress, parmap_row **rows, size_t *n_rows, char *err,
               size_t errlen);

/* Appends "index,..." lines read from fp to rows; returns -1 when out of memory. */
int parmap_read_rows(FILE *fp, parmap_row **rows, size_t *n, size_t *cap);

/* Sorts rows by item (stable). */
void parmap_sort(parmap_row *rows, size_t n);

void parmap_rows_free(parmap_row *rows, size_t n);

/* The number of online processors, at least 1. */
uint64_t parmap_cores(void);

#endif
