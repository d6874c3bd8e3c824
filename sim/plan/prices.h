/*
 * prices: the price of a GPU-hour that costs are computed from. The catalog's price
 * (gpus.csv price_usd_per_hour, with where and when it was taken in price_source) applies
 * unless the user gives their own: a prices file (--prices FILE, a CSV with the columns
 * gpu,usd_per_hour and optionally source) and then a list (--price GPU=USD[,GPU=USD...]),
 * the list winning. Every GPU either names must be in the catalog, so that a typo is not a
 * price silently unused.
 */
#ifndef CAPSIM_PRICES_H
#define CAPSIM_PRICES_H

#include <stddef.h>

#include "models/gpu.h"

/* Sets *usd_per_hour and source (what the output says the price came from) for GPU g:
 * the catalog's, then the file's (NULL or "": none), then the list's (NULL or "": none).
 * Returns 0, or -1 with a message naming the file and line or the list entry. */
int prices_resolve(const gpu_list *gpus, const gpu_spec *g, const char *list, const char *file,
                   double *usd_per_hour, char *source, size_t srclen, char *err, size_t errlen);

#endif
