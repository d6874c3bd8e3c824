/*
 * gp: the machinery every plot family shares (internal to plots/; the public API is plot.h).
 *
 * A plot family (plots/plot_NAME.c) reads one or more of the result files a capsim command
 * writes and draws its plots through this module. It never touches a file itself:
 *
 *   - The family table (plot_family, walked by plot_dir in plot.c) says which input file
 *     triggers which family. plot_dir opens the file, reads its header and hands the open
 *     reader to the family's draw function, with the context naming the file and the command
 *     that wrote it; a file that is not there is passed over.
 *   - gp_input_* read the records: a missing column, a record of the wrong width or a field
 *     that is not a number become a message naming file, line and column.
 *   - gp_begin .. gp_commit write one plot, NAME.gp and NAME.dat, atomically and together;
 *     the gp_* writers keep the invariants listed below, so a family writes only what is
 *     particular to its plot.
 *   - gp_run_all runs gnuplot on every script written, once all are written.
 *
 * Invariants of what is written:
 *  - A script reads only NAME.dat, by relative path, so the plots folder can be moved or
 *    archived as a whole and redrawn with `gnuplot NAME.gp`.
 *  - A script draws into outbase.'.png' / outbase.'.svg' for every word of `formats`; both
 *    default to the plot's own name and both formats, and capsim overrides them with -e
 *    to draw under temporary names, renamed into place after gnuplot succeeds.
 *  - Every text that came from a CSV field reaches the script as a single-quoted gnuplot
 *    string (gp_quote: only a doubled quote is special) and the terminals are set
 *    noenhanced, so no label can break the script or be read as markup.
 *  - A data file holds numbers in C-locale form, NaN for a missing figure (gnuplot skips
 *    it), and one block per series separated by two blank lines (gnuplot's `index N`).
 */
#ifndef CAPSIM_PLOTS_GP_H
#define CAPSIM_PLOTS_GP_H

#include <stdio.h>

#include "plots/plot.h"
#include "sim/base/csvin.h"
#include "sim/base/outdir.h"
#include "sim/base/util.h"

/* Picture size in pixels; the SVG gets the same size so both look alike. */
#define GP_WIDTH_PX  1000
#define GP_HEIGHT_PX 620

/* ---- The family table ------------------------------------------------------------------ */

typedef struct gp_ctx gp_ctx;

/* One input file a family draws from, and what it draws from it. */
typedef struct plot_source {
    const char *file;    /* the file's name in the result folder: "summary.csv" */
    const char *command; /* the command that writes it, named in each script's head */
    const char *help;    /* what is drawn from it, a phrase for help texts */
    const char *plots;   /* the NAMEs of the plots it may give, ", " between them */
    /* Draws the plots of the file whose header in has just read (ncols columns); the
     * caller closes in. Returns 0 (also when the file gives no plot) or -1 with a message
     * in the context's err. */
    int (*draw)(gp_ctx *c, csvin *in, size_t ncols);
} plot_source;

/* A plot family: one file plots/plot_NAME.c defining `const plot_family plot_family_NAME`,
 * listed once in the table of plot.c. */
typedef struct plot_family {
    const char *name; /* short and unique: "latency", "capacity" */
    const plot_source *sources;
    size_t n_sources;
} plot_family;

/* The families in the order plot_dir draws them: plot_family_at(i) for i below
 * plot_family_count(). */
size_t plot_family_count(void);
const plot_family *plot_family_at(size_t i);

/* What one plot_dir call works with. */
struct gp_ctx {
    char dir[4096 - 16]; /* the result folder, without trailing slashes (room for /plots) */
    unsigned formats;
    plot_report *rep;
    char *err;
    size_t errlen;
    const plot_source *src; /* the input file being drawn */
    int force;              /* PLOT_FORCE: replace scripts the user edited */
    /* The MANIFEST of the folder or of a folder above it (empty if none), and the path of
     * the folder relative to where the MANIFEST is ("" or "load-small/"). */
    outdir_manifest manifest;
    char manifest_prefix[4096];
    int filter_inputs; /* the folder's own MANIFEST lists its results: draw only those */
};

/* ---- Text and numbers into scripts and data files --------------------------------------- */

/* A gnuplot single-quoted string: a quote inside is doubled, a control character is '?'. */
void gp_quote(FILE *fp, const char *s);
/* A double-quoted string in a data file. gnuplot's data reader has no escapes, so a double
 * quote inside becomes a single one. */
void gp_dat_quote(FILE *fp, const char *s);
/* " NUMBER" for gnuplot to read; a missing (non-finite) figure is written NaN, which it
 * skips. */
void gp_dat_num(FILE *fp, double x);
/* A 95% half-width for an error bar: a missing one (one replication) draws no bar. */
double gp_ci_or_zero(double ci);

/* ---- Helpers for readers ---------------------------------------------------------------- */

/* Grows an array to hold at least n + 1 items of size bytes. Returns the (possibly moved)
 * array, or NULL when out of memory, in which case p is still valid. */
void *gp_grow(void *p, size_t n, size_t *cap, size_t size);
/* Sets the "out of memory" message; returns -1. */
int gp_oom(gp_ctx *c);

/* A growing array of doubles; zero-initialise, free(v) when done. */
typedef struct gp_dvec {
    double *v;
    size_t n, cap;
} gp_dvec;
/* Appends x; -1 when out of memory. */
int gp_dvec_push(gp_dvec *d, double x);

/* The smallest and largest positive values of an axis, and whether any value was zero or
 * negative, to choose between a linear and a log axis. */
typedef struct gp_axis {
    double min_pos, max_pos;
    int nonpositive;
} gp_axis;
void gp_axis_init(gp_axis *a);
void gp_axis_add(gp_axis *a, double x); /* NaN and infinities are passed over */
/* True when the positive values span more than a factor of 30 and none is <= 0. */
int gp_axis_wants_log(const gp_axis *a);

/* ---- Reading the input file ------------------------------------------------------------- */

/* Opens DIR/file and reads its header. Returns 1 with *in open and *ncols set, 0 when there
 * is no such file (nothing to plot from it), -1 with a message on failure. */
int gp_input_open(gp_ctx *c, const char *file, csvin **in, size_t *ncols);
/* Finds the columns names[0..n) in the header, each of which the file must have. */
int gp_input_columns(gp_ctx *c, const csvin *in, const char *const *names, int *idx, size_t n);
/* Reads the next record and checks it has as many fields as the header. Returns 1, 0 at
 * the end of the file, -1 with a message. */
int gp_input_next(gp_ctx *c, csvin *in, size_t ncols);
/* Field col of the current record as a number. An absent column (col < 0), an empty field
 * or nan/inf give NaN: capsim leaves a figure empty when there is no data for it. */
int gp_input_num(gp_ctx *c, const csvin *in, int col, double *out);

/* ---- Writing one plot ------------------------------------------------------------------- */

/* One plot being written: its script and its data file, committed together. */
typedef struct gp_plot {
    util_atomic_file f[2];
    FILE *gp;  /* NAME.gp, the script */
    FILE *dat; /* NAME.dat, its data */
    char name[PLOT_NAME_MAX];
    int n_blocks;  /* data blocks started */
    int n_clauses; /* plot clauses written */
} gp_plot;

/* Opens NAME.gp and NAME.dat in the plots folder and writes the script's head: what it
 * draws, the input file and command it came from (c->src), how to redraw it, the output
 * defaults, the settings every plot shares and the title. On failure nothing is left. */
int gp_begin(gp_ctx *c, gp_plot *o, const char *name, const char *what, const char *title);
/* Commits the script and data file together and records the plot in the report. */
int gp_commit(gp_ctx *c, gp_plot *o);
/* Drops a plot begun but not to be committed (its files are removed). */
void gp_abort(gp_plot *o);

/* Writes "set KEYWORD 'text'" (xlabel, ylabel, ...). */
void gp_set_text(gp_plot *o, const char *keyword, const char *text);
/* Places the key inside at where when it has few entries, else (or when where is NULL)
 * below the plot in columns. */
void gp_key(gp_plot *o, int entries, const char *where);
/* A log y axis starting at the decade below the smallest value. */
void gp_log_y(gp_plot *o, const gp_axis *a);
/* Opens the loop that draws the picture once per output format, at the usual size or
 * height_px tall. */
void gp_draw_begin(gp_plot *o);
void gp_draw_begin_tall(gp_plot *o, int height_px);
/* Starts the next clause of the plot command: "plot " for the first, ", \" after. */
void gp_clause(gp_plot *o);
/* Writes " title 'text'" ending a clause. */
void gp_title(gp_plot *o, const char *text);
/* Closes the drawing loop. */
void gp_draw_end(gp_plot *o);
/* Starts data block number N (gnuplot's `index N`) with a comment saying what it holds;
 * returns N. */
int gp_dat_block(gp_plot *o, const char *what);

/* ---- Units, tick labels and SLO targets -------------------------------------------------- */

/* Latencies are drawn in ms up to GP_SECONDS_FROM_MS and in seconds past it, so that an
 * overloaded point does not read as 120000. */
#define GP_SECONDS_FROM_MS 10000.0

/* The divisor that turns ms into the unit a latency axis whose largest value is max_ms is
 * drawn in (1 or 1000), and the unit's name ("ms" or "s") in *unit. */
double gp_latency_unit(double max_ms, const char **unit);

/* Tick labels of axis ("x", "y", "y2") whose values reach max_abs: plain numbers (%g), or
 * from a million up a number with an SI letter (2M), so that no label reads 1e+06. */
void gp_tick_format(gp_plot *o, const char *axis, double max_abs);

/* The limit, in ms, that the SLO text ("ttft_p99=0.5,tpot_p99=50ms": seconds unless the
 * value says ms or s) sets on metric ("ttft", "tpot", "e2el") at percentile pct ("p50",
 * "p99"); NaN when it sets none. */
double gp_slo_limit_ms(const char *slo, const char *metric, const char *pct);

/* The top of a linear y axis from 0 that holds the data (whose largest value, error bars
 * included, is data_max) and a limit line with room above it (NaN: no line). */
double gp_top_with_limit(double data_max, double limit);

/* Field col of the first record of file, another file of the folder (summary.csv beside
 * timeseries.csv, for the model and the SLO), in out; "" when the file, the column or the
 * record is not there. */
void gp_folder_value(gp_ctx *c, const char *file, const char *col, char *out, size_t len);

/* title with " (MODEL on GPU)" appended when file (summary.csv, capacity.csv), beside the
 * input, names them, into out. */
void gp_folder_title(gp_ctx *c, const char *file, const char *title, char *out, size_t len);

/* ---- Drawing ---------------------------------------------------------------------------- */

/* Runs gnuplot on every script of c->rep, in the plots folder, and renames the pictures
 * into place; sets rep->gnuplot_missing (and returns 0) when there is no gnuplot on PATH.
 * Stops at the first script gnuplot fails on, with a message quoting its complaint. */
int gp_run_all(gp_ctx *c);

#endif
