/*
 * optval: strict parsing of setting values (counts, reals, on/off) with messages that
 * name the setting, the value found and the form expected. Shared by the typed scenario
 * (runspec), which checks values from flags and scenario files alike, and the command
 * line's own options (cli_parse_*).
 */
#ifndef CAPSIM_OPTVAL_H
#define CAPSIM_OPTVAL_H

#include <stddef.h>
#include <stdint.h>

/* An integer in [min, max]. On failure returns -1 and writes "NAME 'VAL': expected ..."
 * into err. */
int optval_count(const char *name, const char *val, uint64_t min, uint64_t max, uint64_t *out,
                 char *err, size_t errlen);

/* A real in [min, max] (INFINITY for no upper bound), max excluded when max_open. */
int optval_real(const char *name, const char *val, double min, double max, int max_open,
                double *out, char *err, size_t errlen);

/* on/off (also true/false, 1/0). */
int optval_on_off(const char *name, const char *val, int *out, char *err, size_t errlen);

#endif
