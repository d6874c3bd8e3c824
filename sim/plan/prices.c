/*
 * prices: GPU-hour prices from the catalog, a prices file and a list (see prices.h).
 */
#include "sim/plan/prices.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

/* The highest price taken: far above any GPU sold, low enough to catch a typo of units. */
#define PRICES_MAX_USD_PER_HOUR 1000.0

typedef struct price_row {
    char gpu[32];
    double usd;
    char source[96];
    long line;
} price_row;

enum { P_GPU, P_USD, P_SOURCE, P_COUNT };
static const char *const COLS[P_COUNT] = {"gpu", "usd_per_hour", "source"};
static const int REQUIRED[P_COUNT] = {1, 1, 0};

static int read_row(csvin *in, const int *idx, void *item, char *err, size_t errlen)
{
    price_row *p = item;
    memset(p, 0, sizeof *p);
    const char *gpu = csvin_field(in, (size_t)idx[P_GPU]);
    if (*gpu == '\0' || strlen(gpu) >= sizeof p->gpu) {
        util_errf(err, errlen, "%s:%ld: column 'gpu': expected a catalog GPU name, found '%s'",
                  csvin_path(in), csvin_line(in), gpu);
        return -1;
    }
    snprintf(p->gpu, sizeof p->gpu, "%s", gpu);
    if (idx[P_SOURCE] >= 0)
        snprintf(p->source, sizeof p->source, "%s", csvin_field(in, (size_t)idx[P_SOURCE]));
    p->line = csvin_line(in);
    return csvin_number(in, idx[P_USD], "usd_per_hour", 0, PRICES_MAX_USD_PER_HOUR, 0, 0, &p->usd,
                        err, errlen);
}

static int known(const gpu_list *gpus, const char *name)
{
    return gpu_list_find(gpus, name) != NULL;
}

static int apply_file(const gpu_list *gpus, const gpu_spec *g, const char *file, double *usd,
                      char *source, size_t srclen, char *err, size_t errlen)
{
    void *items;
    size_t n;
    if (csvin_load_table(file, COLS, REQUIRED, P_COUNT, sizeof(price_row), read_row, &items, &n,
                         err, errlen) != 0)
        return -1;
    const price_row *rows = items;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!known(gpus, rows[i].gpu)) {
            util_errf(err, errlen,
                      "%s:%ld: column 'gpu': '%s' is not a catalog GPU (capsim list gpus)", file,
                      rows[i].line, rows[i].gpu);
            rc = -1;
        } else if (strcasecmp(rows[i].gpu, g->name) == 0) {
            *usd = rows[i].usd;
            snprintf(source, srclen, "%s:%ld%s%s", file, rows[i].line,
                     rows[i].source[0] ? ", " : "", rows[i].source);
        }
    }
    free(items);
    return rc;
}

/* "h100-sxm=2.49,a100-80gb=1.6" */
static int apply_list(const gpu_list *gpus, const gpu_spec *g, const char *list, double *usd,
                      char *source, size_t srclen, char *err, size_t errlen)
{
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char entry[96];
        snprintf(entry, sizeof entry, "%.*s", (int)(len < sizeof entry ? len : sizeof entry - 1),
                 p);
        char *eq = strchr(entry, '=');
        double v = NAN;
        if (eq != NULL) {
            *eq = '\0';
            if (util_parse_double(eq + 1, &v) != 0)
                v = NAN;
        }
        if (eq == NULL || !(v >= 0 && v <= PRICES_MAX_USD_PER_HOUR)) {
            util_errf(err, errlen,
                      "--price '%s': entry '%.*s': expected GPU=USD_PER_HOUR with 0 to %g "
                      "(e.g. h100-sxm=2.49)",
                      list, (int)len, p, PRICES_MAX_USD_PER_HOUR);
            return -1;
        }
        if (!known(gpus, entry)) {
            util_errf(err, errlen, "--price '%s': '%s' is not a catalog GPU (capsim list gpus)",
                      list, entry);
            return -1;
        }
        if (strcasecmp(entry, g->name) == 0) {
            *usd = v;
            snprintf(source, srclen, "--price");
        }
        if (end == NULL)
            return 0;
        p = end + 1; /* an empty entry after a comma is refused above */
    }
}

int prices_resolve(const gpu_list *gpus, const gpu_spec *g, const char *list, const char *file,
                   double *usd_per_hour, char *source, size_t srclen, char *err, size_t errlen)
{
    *usd_per_hour = g->price_usd_per_hour;
    if (isnan(*usd_per_hour))
        snprintf(source, srclen, "not in the catalog: give --price %s=USD", g->name);
    else
        snprintf(source, srclen, "catalog: %s",
                 g->price_source[0] ? g->price_source : "models/catalog/gpus.csv");
    if (file && *file &&
        apply_file(gpus, g, file, usd_per_hour, source, srclen, err, errlen) != 0)
        return -1;
    if (list && *list &&
        apply_list(gpus, g, list, usd_per_hour, source, srclen, err, errlen) != 0)
        return -1;
    return 0;
}
