/*
 * plot: the table of plot families and the walk over a result folder (see plot.h).
 *
 * Each family lives in its own file, plots/plot_NAME.c, and says which input files trigger
 * it (see plot_family in gp.h); the machinery they share is in gp.c. This file only lists
 * the families, in the order they draw, and walks them: for every input file of every
 * family that is in the folder it opens the file and calls the family's draw function.
 * Only when every script is written is gnuplot run, once per script.
 */
#define _POSIX_C_SOURCE 200809L
#include "plots/plot.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "plots/gp.h"
#include "sim/base/util.h"

/* The families in the order plot_dir draws them, which is the order of the plot names in
 * its report. A new family is a new file plots/plot_NAME.c that defines
 * `const plot_family plot_family_NAME`, and X(NAME) in this list. */
#define PLOT_FAMILIES(X)                                                                           \
    X(latency)                                                                                     \
    X(throughput)                                                                                  \
    X(compare)                                                                                     \
    X(timeseries)                                                                                  \
    X(cdf)                                                                                         \
    X(capacity)                                                                                    \
    X(queue)                                                                                       \
    X(whatif)                                                                                      \
    X(calibration)

#define PLOT_FAMILY_DECLARE(name) extern const plot_family plot_family_##name;
#define PLOT_FAMILY_ENTRY(name)   &plot_family_##name,

PLOT_FAMILIES(PLOT_FAMILY_DECLARE)

static const plot_family *const FAMILIES[] = {PLOT_FAMILIES(PLOT_FAMILY_ENTRY)};

#define N_FAMILIES (sizeof FAMILIES / sizeof FAMILIES[0])

size_t plot_family_count(void)
{
    return N_FAMILIES;
}

const plot_family *plot_family_at(size_t i)
{
    return i < N_FAMILIES ? FAMILIES[i] : NULL;
}

/* Draws the plots of one input file, when the folder has it. */
static int draw_source(gp_ctx *c, const plot_source *src)
{
    csvin *in;
    size_t ncols;
    int rc = gp_input_open(c, src->file, &in, &ncols);
    if (rc <= 0)
        return rc;
    c->src = src;
    rc = src->draw(c, in, ncols);
    c->src = NULL;
    csvin_close(in);
    return rc < 0 ? -1 : 0;
}

int plot_dir(const char *dir, unsigned formats, plot_report *rep, char *err, size_t errlen)
{
    assert(dir != NULL && rep != NULL);
    assert(formats != 0 && (formats & ~(PLOT_PNG | PLOT_SVG)) == 0);
    memset(rep, 0, sizeof *rep);
    gp_ctx c = {.formats = formats, .rep = rep, .err = err, .errlen = errlen};
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len + 1 > sizeof c.dir) {
        util_errf(err, errlen, "folder name too long");
        return -1;
    }
    memcpy(c.dir, dir, len);
    c.dir[len] = '\0';
    struct stat st;
    if (stat(c.dir, &st) != 0) {
        util_errf(err, errlen, "%s: %s", c.dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        util_errf(err, errlen, "%s: not a folder", c.dir);
        return -1;
    }
    snprintf(rep->plots_dir, sizeof rep->plots_dir, "%s%splots", c.dir,
             strcmp(c.dir, "/") == 0 ? "" : "/");

    for (size_t f = 0; f < N_FAMILIES; f++)
        for (size_t s = 0; s < FAMILIES[f]->n_sources; s++)
            if (draw_source(&c, &FAMILIES[f]->sources[s]) != 0)
                return -1;
    if (rep->n_written == 0)
        return 0;
    return gp_run_all(&c);
}
