/*
 * plot: the table of plot families and the walk over a result folder (see plot.h).
 *
 * Each family lives in its own file, plots/plot_NAME.c, and says which input files trigger
 * it (see plot_family in gp.h); the machinery they share is in gp.c. This file only lists
 * the families, in the order they draw, and walks them: for every input file of every
 * family that is in the folder it opens the file and calls the family's draw function.
 * Only when every script is written is gnuplot run, once per script.
 *
 * The help text of `capsim plot` and its "nothing to plot" message are printed from the
 * same table, so that they always name the families and files there are.
 */
#define _DEFAULT_SOURCE /* realpath */
#define _POSIX_C_SOURCE 200809L
#include "plots/plot.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Reads the MANIFEST of c->dir, or else of the folder or the folder two levels above it
 * (the demo's steps write DIR/step/ and DIR/capacity/big/, and the demo's MANIFEST is in
 * DIR). Only the folder's own MANIFEST, covering the whole folder, filters the inputs. */
static void load_manifest(gp_ctx *c)
{
    char *abs = realpath(c->dir, NULL), *cur = abs ? strdup(abs) : NULL;
    for (int up = 0; cur != NULL && up <= 2; up++) {
        if (outdir_manifest_read(cur, &c->manifest, NULL, 0) == 1) {
            c->filter_inputs = up == 0 && c->manifest.scope[0] == '\0';
            if (up > 0)
                snprintf(c->manifest_prefix, sizeof c->manifest_prefix, "%s/",
                         abs + strlen(cur) + (strcmp(cur, "/") != 0));
            break;
        }
        char *slash = strrchr(cur, '/');
        if (slash == NULL || slash == cur)
            break;
        *slash = '\0';
    }
    free(cur);
    free(abs);
}

int plot_dir(const char *dir, unsigned formats, plot_report *rep, char *err, size_t errlen)
{
    assert(dir != NULL && rep != NULL);
    assert((formats & (PLOT_PNG | PLOT_SVG)) != 0 &&
           (formats & ~(PLOT_PNG | PLOT_SVG | PLOT_FORCE)) == 0);
    memset(rep, 0, sizeof *rep);
    gp_ctx c = {.formats = formats & (PLOT_PNG | PLOT_SVG),
                .rep = rep,
                .err = err,
                .errlen = errlen,
                .force = (formats & PLOT_FORCE) != 0};
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

    load_manifest(&c);
    int rc = 0;
    for (size_t f = 0; rc == 0 && f < N_FAMILIES; f++)
        for (size_t s = 0; rc == 0 && s < FAMILIES[f]->n_sources; s++)
            rc = draw_source(&c, &FAMILIES[f]->sources[s]);
    if (rc == 0 && rep->n_written > 0)
        rc = gp_run_all(&c);
    outdir_manifest_fini(&c.manifest);
    return rc;
}

void plot_report_kept(FILE *err, const char *cmd, const plot_report *rep)
{
    for (size_t i = 0; i < rep->n_kept; i++)
        fprintf(err,
                "capsim %s: kept your edited %s/%s.gp and drew with it; the script capsim "
                "writes now is %s.new.gp beside it (capsim plot --force replaces yours)\n",
                cmd, rep->plots_dir, rep->kept[i], rep->kept[i]);
}

/* ---------------------------------------------------------------------------------------
 * Help texts from the table
 * ------------------------------------------------------------------------------------- */

/* Help lines are this wide; the text of an entry starts after HELP_INDENT columns. */
#define HELP_WIDTH  80
#define HELP_INDENT 15

/* Writes text in lines of at most HELP_WIDTH columns, broken at spaces, the first after
 * head and the others indented to the same column. */
static void print_wrapped(FILE *out, const char *head, const char *text)
{
    fprintf(out, "  %-*s", HELP_INDENT - 3, head);
    fputc(' ', out);
    size_t col = HELP_INDENT;
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > HELP_INDENT && col + 1 + word > HELP_WIDTH) {
            fprintf(out, "\n%*s", HELP_INDENT, "");
            col = HELP_INDENT;
        } else if (col > HELP_INDENT) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)word, p);
        col += word;
        p += word;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

void plot_help(FILE *out)
{
    for (size_t f = 0; f < N_FAMILIES; f++) {
        const plot_family *fam = FAMILIES[f];
        for (size_t s = 0; s < fam->n_sources; s++) {
            const plot_source *src = &fam->sources[s];
            char text[1024];
            snprintf(text, sizeof text, "%s (%s): %s [%s]", src->file, src->command, src->help,
                     src->plots);
            print_wrapped(out, s == 0 ? fam->name : "", text);
        }
    }
}

void plot_input_files(char *out, size_t len)
{
    assert(len > 0);
    out[0] = '\0';
    /* Each file once, in table order; the last one after "or". */
    const char *files[4 * N_FAMILIES];
    size_t n = 0;
    for (size_t f = 0; f < N_FAMILIES; f++)
        for (size_t s = 0; s < FAMILIES[f]->n_sources; s++) {
            const char *file = FAMILIES[f]->sources[s].file;
            size_t k = 0;
            while (k < n && strcmp(files[k], file) != 0)
                k++;
            if (k == n && n < sizeof files / sizeof files[0])
                files[n++] = file;
        }
    for (size_t k = 0; k < n; k++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s",
                 k == 0       ? ""
                 : k + 1 == n ? " or "
                              : ", ",
                 files[k]);
    }
}
