/*
 * csvout: writing CSV rows field by field, quoting text through libcsv.
 *
 * Numbers are written with 9 significant digits in the C locale form, so the same run
 * gives the same bytes; a NaN (a figure with no data, or a CI from one replication) is
 * an empty field.
 */
#ifndef CAPSIM_CSVOUT_H
#define CAPSIM_CSVOUT_H

#include <stdint.h>
#include <stdio.h>

typedef struct csvout {
    FILE *fp;
    int n_fields; /* fields written on the current row */
} csvout;

void csvout_init(csvout *c, FILE *fp);
void csvout_str(csvout *c, const char *s);
void csvout_num(csvout *c, double x);
void csvout_u64(csvout *c, uint64_t x);
void csvout_end_row(csvout *c);

#endif
