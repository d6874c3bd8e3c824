/*
 * plot: gnuplot scripts and pictures from capsim's result files (see plot.h).
 *
 * Each input file has one reader (a row of the SOURCES table at the end), which parses the
 * CSV with csvin, keeps what its plots need, and writes each plot as a pair NAME.gp +
 * NAME.dat. Only when every script is written is gnuplot run, once per script, in the plots
 * folder.
 *
 * Invariants of what is written:
 *  - A script reads only NAME.dat, by relative path, so the plots folder can be moved or
 *    archived as a whole and redrawn with `gnuplot NAME.gp`.
 *  - A script draws into outbase.'.png' / outbase.'.svg' for every word of `formats`; both
 *    default to the plot's own name and both formats, and capsim overrides them with -e
 *    to draw under temporary names, renamed into place after gnuplot succeeds.
 *  - Every text that came from a CSV field reaches the script as a single-quoted gnuplot
 *    string (where only a doubled quote is special) and the terminals are set noenhanced,
 *    so no label can break the script or be read as markup (an '_' stays an underscore).
 *  - A data file holds numbers in C-locale form, NaN for a missing figure (gnuplot skips
 *    it), and one block per series separated by two blank lines (gnuplot's `index N`).
 */
#define _POSIX_C_SOURCE 200809L
#include "plots/plot.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

/* Picture size in pixels; the SVG gets the same size so both look alike. */
#define PLOT_WIDTH_PX  1000
#define PLOT_HEIGHT_PX 620

/* A CDF curve keeps at most this many points, of which the last CDF_TAIL_POINTS values
 * (the slowest requests, where the interesting part of a latency CDF is) are all kept. */
#define CDF_MAX_POINTS  2000
#define CDF_TAIL_POINTS 500

/* Above this many key entries the key moves outside the plot, to the right. */
#define KEY_INSIDE_MAX 8

/* A y axis whose positive values span more than this factor is drawn in log scale. */
#define LOG_RANGE_FACTOR 30.0

/* ---------------------------------------------------------------------------------------
 * Text into scripts and data files
 * ------------------------------------------------------------------------------------- */

/* Writes s with control characters shown as '?' (so text can never end the line it is
 * on), between quote characters when quote is not 0, with a quote inside written as
 * quote_as. */
static void put_text(FILE *fp, const char *s, char quote, const char *quote_as)
{
    if (quote)
        fputc(quote, fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (quote && ch == (unsigned char)quote)
            fputs(quote_as, fp);
        else
            fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, fp);
    }
    if (quote)
        fputc(quote, fp);
}

/* A gnuplot single-quoted string: a quote inside is doubled. */
static void gp_quote(FILE *fp, const char *s)
{
    put_text(fp, s, '\'', "''");
}

/* A double-quoted string in a data file. gnuplot's data reader has no escapes, so a double
 * quote inside becomes a single one. */
static void dat_quote(FILE *fp, const char *s)
{
    put_text(fp, s, '"', "'");
}

/* Text after "# " on a comment line. */
static void comment_text(FILE *fp, const char *s)
{
    put_text(fp, s, 0, NULL);
}

/* Writes a number for gnuplot to read: NaN (a missing figure) as "NaN", which it skips. */
static void dat_num(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, " %.9g", x);
    else
        fputs(" NaN", fp);
}

/* A 95% half-width for an error bar: a missing one (one replication) draws no bar. */
static double ci_or_zero(double ci)
{
    return isfinite(ci) ? ci : 0.0;
}

/* Grows an array to hold at least n + 1 items of size bytes. Returns the (possibly moved)
 * array, or NULL when out of memory, in which case p is still valid. */
static void *grow(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    size_t want = *cap ? 2 * *cap : 64;
    void *q = realloc(p, want * size);
    if (q != NULL)
        *cap = want;
    return q;
}

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* Tracks the smallest and largest positive values of an axis, and whether any value was
 * zero or negative, to choose between a linear and a log axis. */
typedef struct axis_range {
    double min_pos, max_pos;
    int nonpositive;
} axis_range;

static void axis_init(axis_range *a)
{
    a->min_pos = INFINITY;
    a->max_pos = 0;
    a->nonpositive = 0;
}

static void axis_add(axis_range *a, double x)
{
    if (!isfinite(x))
        return;
    if (x <= 0) {
        a->nonpositive = 1;
        return;
    }
    if (x < a->min_pos)
        a->min_pos = x;
    if (x > a->max_pos)
        a->max_pos = x;
}

/* A log axis shows both ends of a latency that grows a hundredfold under overload; a
 * linear one flattens the low-load values onto the axis. */
static int axis_wants_log(const axis_range *a)
{
    return !a->nonpositive && a->max_pos > 0 && a->max_pos / a->min_pos > LOG_RANGE_FACTOR;
}

/* ---------------------------------------------------------------------------------------
 * Writing one plot
 * ------------------------------------------------------------------------------------- */

typedef struct plot_ctx {
    char dir[4096 - 16]; /* the result folder, without trailing slashes (room for /plots) */
    unsigned formats;
    plot_report *rep;
    char *err;
    size_t errlen;
} plot_ctx;

/* One plot being written: its script and its data file, committed together. */
typedef struct plot_out {
    util_atomic_file f[2];
    FILE *gp;
    FILE *dat;
    char name[PLOT_NAME_MAX];
    int n_blocks;  /* data blocks started */
    int n_clauses; /* plot clauses written */
} plot_out;

static void plot_abort(plot_out *o)
{
    util_atomic_abort(&o->f[0]);
    util_atomic_abort(&o->f[1]);
}

/* Opens NAME.gp and NAME.dat in the plots folder and writes the script's head: what it
 * draws, where its data came from, how to redraw it, the output defaults and the settings
 * every plot shares. */
static int plot_begin(plot_ctx *c, plot_out *o, const char *name, const char *what,
                      const char *source_file, const char *source_cmd, const char *title)
{
    memset(o, 0, sizeof *o);
    assert(strlen(name) < sizeof o->name);
    assert(c->rep->n_written < PLOT_MAX);
    snprintf(o->name, sizeof o->name, "%s", name);
    if (util_mkdir_p(c->rep->plots_dir, c->err, c->errlen) != 0)
        return -1;
    char path[4096 + 64];
    snprintf(path, sizeof path, "%s/%s.gp", c->rep->plots_dir, name);
    if (util_atomic_open(&o->f[0], path, c->err, c->errlen) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.dat", c->rep->plots_dir, name);
    if (util_atomic_open(&o->f[1], path, c->err, c->errlen) != 0) {
        plot_abort(o);
        return -1;
    }
    o->gp = o->f[0].fp;
    o->dat = o->f[1].fp;

    FILE *gp = o->gp;
    fprintf(gp,
            "# %s: %s.\n"
            "# Written by `capsim plot` from ../%s, which `%s` wrote.\n"
            "#\n"
            "# To restyle, edit this file and run, in this folder,\n"
            "#     gnuplot %s.gp\n"
            "# which reads %s.dat and writes %s.png and %s.svg.\n"
            "# Running `capsim plot` again rewrites this file: keep edits under another name.\n"
            "\n",
            name, what, source_file, source_cmd, name, name, name, name);
    fprintf(gp,
            "if (!exists('outbase')) outbase = '%s'\n"
            "if (!exists('formats')) formats = 'png svg'\n"
            "\n"
            "set encoding utf8\n"
            "set grid back lt 1 lc rgb '#e0e0e0' lw 1\n"
            "set border lw 1.2\n"
            "set key opaque box lc rgb '#b0b0b0' samplen 3 spacing 1.15\n"
            "set tics out nomirror\n"
            "set title ",
            name);
    gp_quote(gp, title);
    fputs(" font ',15'\n", gp);

    fprintf(o->dat, "# Data for %s.gp, written by `capsim plot` from ../%s.\n", name, source_file);
    return 0;
}

/* Writes "set KEYWORD 'text'" (xlabel, ylabel, ...). */
static void gp_set_text(plot_out *o, const char *keyword, const char *text)
{
    fprintf(o->gp, "set %s ", keyword);
    gp_quote(o->gp, text);
    fputc('\n', o->gp);
}

/* Places the key inside at where when it has few entries, else (or when where is NULL)
 * below the plot in columns, where it can never hide data and leaves the plot its full
 * width. */
static void gp_key(plot_out *o, int entries, const char *where)
{
    if (entries > KEY_INSIDE_MAX || where == NULL)
        fprintf(o->gp, "set key below horizontal maxcols %d nobox noopaque height 1 font ',10'\n",
                entries > 3 * KEY_INSIDE_MAX ? 3 : 2);
    else
        fprintf(o->gp, "set key inside %s\n", where);
}

/* A log y axis starting at the decade below the smallest value: error bars reaching zero
 * or below would otherwise pull the axis down by decades. */
static void gp_log_y(plot_out *o, const axis_range *a)
{
    fprintf(o->gp, "set logscale y\nset yrange [%g:*]\n", pow(10, floor(log10(a->min_pos))));
}

/* Opens the loop that draws the picture once per output format, height_px tall. */
static void gp_draw_begin_tall(plot_out *o, int height_px)
{
    fprintf(o->gp,
            "\n"
            "do for [fmt in formats] {\n"
            "    if (fmt eq 'svg') {\n"
            "        set terminal svg size %d,%d fixed noenhanced font 'Sans,12' "
            "background rgb 'white'\n"
            "    } else {\n"
            "        set terminal pngcairo size %d,%d noenhanced font 'Sans,12' "
            "background rgb 'white'\n"
            "    }\n"
            "    set output outbase.'.'.fmt\n",
            PLOT_WIDTH_PX, height_px, PLOT_WIDTH_PX, height_px);
    o->n_clauses = 0;
}

/* Opens the drawing loop at the usual picture size. */
static void gp_draw_begin(plot_out *o)
{
    gp_draw_begin_tall(o, PLOT_HEIGHT_PX);
}

/* Starts the next clause of the plot command: "plot " for the first, ", \" after. */
static void gp_clause(plot_out *o)
{
    fputs(o->n_clauses++ ? ", \\\n         " : "    plot ", o->gp);
}

/* Writes " title 'text'" ending a clause. */
static void gp_title(plot_out *o, const char *text)
{
    fputs(" title ", o->gp);
    gp_quote(o->gp, text);
}

static void gp_draw_end(plot_out *o)
{
    fputs("\n    unset output\n}\n", o->gp);
}

/* Starts data block number N (gnuplot's `index N`) with a comment saying what it holds. */
static int dat_block(plot_out *o, const char *what)
{
    if (o->n_blocks > 0)
        fputs("\n\n", o->dat);
    fprintf(o->dat, "# index %d: ", o->n_blocks);
    comment_text(o->dat, what);
    fputc('\n', o->dat);
    return o->n_blocks++;
}

/* Commits the script and data file together and records the plot in the report. */
static int plot_commit(plot_ctx *c, plot_out *o)
{
    if (util_atomic_commit_all(o->f, 2, c->err, c->errlen) != 0)
        return -1;
    snprintf(c->rep->names[c->rep->n_written++], PLOT_NAME_MAX, "%s", o->name);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Reading the CSV files
 * ------------------------------------------------------------------------------------- */

/* Opens DIR/file and reads its header. Returns 1 with *in open and *ncols set, 0 when there
 * is no such file (nothing to plot from it), -1 with a message on failure. */
static int input_open(plot_ctx *c, const char *file, csvin **in, size_t *ncols)
{
    char path[4096 + 64];
    snprintf(path, sizeof path, "%s/%s", c->dir, file);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        util_errf(c->err, c->errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        util_errf(c->err, c->errlen, "%s: not a regular file", path);
        return -1;
    }
    *in = csvin_open(path, c->err, c->errlen);
    if (*in == NULL)
        return -1;
    int rc = csvin_read_header(*in);
    if (rc != 1) {
        if (rc == 0)
            util_errf(c->err, c->errlen, "%s: empty file (expected a header row)", path);
        else
            util_errf(c->err, c->errlen, "%s", csvin_error(*in));
        csvin_close(*in);
        *in = NULL;
        return -1;
    }
    *ncols = csvin_nfields(*in);
    return 1;
}

/* Finds the columns names[0..n) in the header, each of which the file must have. */
static int input_columns(plot_ctx *c, const csvin *in, const char *const *names, int *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        idx[i] = csvin_column(in, names[i]);
        if (idx[i] < 0) {
            util_errf(c->err, c->errlen, "%s:%ld: missing column '%s' in the header",
                      csvin_path(in), csvin_header_line(in), names[i]);
            return -1;
        }
    }
    return 0;
}

/* Reads the next record and checks it has as many fields as the header. Returns 1, 0 at
 * the end of the file, -1 with a message. */
static int input_next(plot_ctx *c, csvin *in, size_t ncols)
{
    int rc = csvin_next(in);
    if (rc < 0) {
        util_errf(c->err, c->errlen, "%s", csvin_error(in));
        return -1;
    }
    if (rc == 1 && csvin_nfields(in) != ncols) {
        util_errf(c->err, c->errlen, "%s:%ld: %zu fields, expected %zu as in the header",
                  csvin_path(in), csvin_line(in), csvin_nfields(in), ncols);
        return -1;
    }
    return rc;
}

/* True for the texts a figure without data may be written as: nan, inf (any case, with a
 * sign). */
static int is_missing_text(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    char low[4] = {0};
    for (size_t i = 0; i < 3; i++) {
        if (s[i] == '\0')
            return 0;
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    }
    return s[3] == '\0' && (strcmp(low, "nan") == 0 || strcmp(low, "inf") == 0);
}

/* Field col of the current record as a number. An absent column (col < 0), an empty field
 * or nan/inf give NaN: capsim leaves a figure empty when there is no data for it. */
static int input_num(plot_ctx *c, const csvin *in, int col, double *out)
{
    *out = NAN;
    if (col < 0)
        return 0;
    const char *f = csvin_field(in, (size_t)col);
    if (*f == '\0' || is_missing_text(f))
        return 0;
    if (util_parse_double(f, out) != 0) {
        char shown[64];
        util_printable(f, shown, sizeof shown);
        util_errf(c->err, c->errlen, "%s:%ld: column '%s': expected a number, found '%s'",
                  csvin_path(in), csvin_line(in), csvin_header(in, (size_t)col), shown);
        *out = NAN;
        return -1;
    }
    return 0;
}

static int oom(plot_ctx *c)
{
    util_errf(c->err, c->errlen, "out of memory");
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * summary.csv from `capsim sweep`
 * ------------------------------------------------------------------------------------- */

enum {
    SW_P50_TTFT,
    SW_P99_TTFT,
    SW_P50_E2E,
    SW_P99_E2E,
    SW_P50_TPOT,
    SW_P99_TPOT,
    SW_OUT_TPUT,
    SW_REQ_TPUT,
    SW_SLO_PCT,
    SW_N
};

static const char *const SWEEP_METRIC_COL[SW_N] = {
    "p50_ttft_ms", "p99_ttft_ms",       "p50_e2el_ms",        "p99_e2el_ms",       "p50_tpot_ms",
    "p99_tpot_ms", "output_throughput", "request_throughput", "slo_attainment_pct"};

/* The settings columns end where the derived figures begin; the first of these marks it. */
static const char *const SWEEP_END_COLS[] = {"kv_blocks", "kv_tokens", "weight_gb_per_gpu",
                                             "cost_per_hour_usd", "request_throughput"};
/* Columns that differ between points without making a different configuration. */
static const char *const SWEEP_SKIP_COLS[] = {"point", "status", "reason", "seed"};

typedef struct sweep_row {
    double rate_req_s; /* offered rate from the arrival column; NaN when it names none */
    double v[SW_N];
    double ci[SW_N];
    char **set;    /* value of each settings column (owned) */
    size_t config; /* index into sweep.config */
    size_t order;  /* position in the file, so that sorting keeps ties in order */
} sweep_row;

typedef struct sweep {
    sweep_row *rows;
    size_t n, cap;
    size_t n_set;
    int *set_col;          /* settings columns: index in the header */
    const char **set_name; /* and name (pointing into set_name_buf) */
    char *set_name_buf;
    char **config; /* label of each distinct configuration ("precision=fp8"), owned */
    size_t n_config;
    int rate_varies;
    char fixed[256]; /* model and GPU when every row shares them, for titles */
    char slo[256];   /* the SLO text when every row shares it */
} sweep;

static void sweep_free(sweep *sw)
{
    for (size_t i = 0; i < sw->n; i++) {
        if (sw->rows[i].set != NULL)
            for (size_t k = 0; k < sw->n_set; k++)
                free(sw->rows[i].set[k]);
        free(sw->rows[i].set);
    }
    free(sw->rows);
    free(sw->set_col);
    free(sw->set_name);
    free(sw->set_name_buf);
    for (size_t i = 0; i < sw->n_config; i++)
        free(sw->config[i]);
    free(sw->config);
}

/* Finds the "rate=" item of an arrival spec ("poisson:rate=10", "gamma:rate=5,cv=2").
 * Returns a pointer to it, or NULL; *end is set to just past its value. */
static const char *arrival_rate_item(const char *spec, const char **end)
{
    for (const char *p = strstr(spec, "rate="); p != NULL; p = strstr(p + 1, "rate=")) {
        if (p != spec && p[-1] != ':' && p[-1] != ',')
            continue;
        const char *e = strchr(p, ',');
        *end = e ? e : p + strlen(p);
        return p;
    }
    return NULL;
}

static double arrival_rate(const char *spec)
{
    const char *end;
    const char *p = arrival_rate_item(spec, &end);
    if (p == NULL)
        return NAN;
    char *stop;
    double v = strtod(p + 5, &stop);
    return stop != p + 5 && stop == end && isfinite(v) ? v : NAN;
}

/* The arrival spec without its rate ("gamma:cv=2" for "gamma:rate=5,cv=2"), so that a sweep
 * of arrival processes still tells its configurations apart. Returns a malloc'd string. */
static char *arrival_without_rate(const char *spec)
{
    const char *end;
    const char *p = arrival_rate_item(spec, &end);
    size_t n = strlen(spec);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    if (p == NULL) {
        memcpy(out, spec, n + 1);
        return out;
    }
    size_t head = (size_t)(p - spec);
    memcpy(out, spec, head);
    const char *tail = *end == ',' ? end + 1 : end;
    memcpy(out + head, tail, strlen(tail) + 1);
    size_t len = strlen(out);
    if (len > 0 && (out[len - 1] == ':' || out[len - 1] == ','))
        out[len - 1] = '\0';
    return out;
}

/* Picks the settings columns out of the header: from `model` (or after `reason`) up to the
 * first derived figure, less those in SWEEP_SKIP_COLS. */
static int sweep_columns(plot_ctx *c, const csvin *in, size_t ncols, sweep *sw)
{
    size_t first = 0, end = ncols;
    int model = csvin_column(in, "model"), reason = csvin_column(in, "reason");
    if (model >= 0)
        first = (size_t)model;
    else if (reason >= 0)
        first = (size_t)reason + 1;
    for (size_t j = first; j < ncols; j++)
        if (in_list(csvin_header(in, j), SWEEP_END_COLS,
                    sizeof SWEEP_END_COLS / sizeof SWEEP_END_COLS[0])) {
            end = j;
            break;
        }
    size_t names_len = 0;
    for (size_t j = first; j < end; j++)
        names_len += strlen(csvin_header(in, j)) + 1;
    sw->set_col = malloc((end - first + 1) * sizeof *sw->set_col);
    sw->set_name = malloc((end - first + 1) * sizeof *sw->set_name);
    sw->set_name_buf = malloc(names_len + 1);
    if (sw->set_col == NULL || sw->set_name == NULL || sw->set_name_buf == NULL)
        return oom(c);
    char *buf = sw->set_name_buf;
    for (size_t j = first; j < end; j++) {
        const char *name = csvin_header(in, j);
        if (in_list(name, SWEEP_SKIP_COLS, sizeof SWEEP_SKIP_COLS / sizeof SWEEP_SKIP_COLS[0]))
            continue;
        size_t len = strlen(name);
        memcpy(buf, name, len + 1);
        sw->set_col[sw->n_set] = (int)j;
        sw->set_name[sw->n_set] = buf;
        sw->n_set++;
        buf += len + 1;
    }
    return 0;
}

/* Reads the ok rows: their settings, offered rate and the figures the plots draw. */
static int sweep_read(plot_ctx *c, csvin *in, size_t ncols, sweep *sw)
{
    if (sweep_columns(c, in, ncols, sw) != 0)
        return -1;
    int status = csvin_column(in, "status");
    int arrival = csvin_column(in, "arrival");
    int col[SW_N], ci_col[SW_N];
    for (int m = 0; m < SW_N; m++) {
        char name[64];
        col[m] = csvin_column(in, SWEEP_METRIC_COL[m]);
        snprintf(name, sizeof name, "%s_ci95", SWEEP_METRIC_COL[m]);
        ci_col[m] = csvin_column(in, name);
    }
    int rc;
    while ((rc = input_next(c, in, ncols)) == 1) {
        /* An error row has empty figures; a run's summary has no status column. */
        if (status >= 0 && strcmp(csvin_field(in, (size_t)status), "ok") != 0)
            continue;
        sweep_row *rows = grow(sw->rows, sw->n, &sw->cap, sizeof *rows);
        if (rows == NULL)
            return oom(c);
        sw->rows = rows;
        sweep_row *r = &sw->rows[sw->n];
        memset(r, 0, sizeof *r);
        r->order = sw->n;
        sw->n++; /* counted now so that sweep_free releases a half-read row */
        r->set = calloc(sw->n_set + 1, sizeof *r->set);
        if (r->set == NULL)
            return oom(c);
        r->rate_req_s = arrival >= 0 ? arrival_rate(csvin_field(in, (size_t)arrival)) : NAN;
        for (int m = 0; m < SW_N; m++)
            if (input_num(c, in, col[m], &r->v[m]) != 0 ||
                input_num(c, in, ci_col[m], &r->ci[m]) != 0)
                return -1;
        for (size_t k = 0; k < sw->n_set; k++) {
            const char *f = csvin_field(in, (size_t)sw->set_col[k]);
            r->set[k] =
                strcmp(sw->set_name[k], "arrival") == 0 ? arrival_without_rate(f) : strdup(f);
            if (r->set[k] == NULL)
                return oom(c);
        }
    }
    return rc;
}

/* Appends "name=value" to buf[len] after a space when buf is not empty. */
static void label_append(char *buf, size_t len, const char *name, const char *value)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", name, value);
}

/* Names each row's configuration by the settings that vary among the rows, and notes
 * whether the offered rate varies and which settings every row shares. */
static int sweep_configs(plot_ctx *c, sweep *sw)
{
    int *varies = calloc(sw->n_set + 1, sizeof *varies);
    if (varies == NULL)
        return oom(c);
    for (size_t k = 0; k < sw->n_set; k++)
        for (size_t i = 1; i < sw->n && !varies[k]; i++)
            varies[k] = strcmp(sw->rows[i].set[k], sw->rows[0].set[k]) != 0;

    const char *model = NULL, *gpu = NULL;
    for (size_t k = 0; k < sw->n_set; k++) {
        if (varies[k])
            continue;
        const char *v = sw->rows[0].set[k];
        if (strcmp(sw->set_name[k], "model") == 0 && *v)
            model = v;
        else if (strcmp(sw->set_name[k], "gpu") == 0 && *v)
            gpu = v;
        else if (strcmp(sw->set_name[k], "slo") == 0)
            snprintf(sw->slo, sizeof sw->slo, "%s", v);
    }
    if (model && gpu)
        snprintf(sw->fixed, sizeof sw->fixed, "%s on %s", model, gpu);
    else if (model || gpu)
        snprintf(sw->fixed, sizeof sw->fixed, "%s", model ? model : gpu);

    double rate0 = NAN;
    for (size_t i = 0; i < sw->n && !sw->rate_varies; i++) {
        double r = sw->rows[i].rate_req_s;
        if (isnan(r))
            continue;
        if (isnan(rate0))
            rate0 = r;
        else if (r != rate0)
            sw->rate_varies = 1;
    }

    char label[512];
    size_t cap = 0;
    for (size_t i = 0; i < sw->n; i++) {
        label[0] = '\0';
        for (size_t k = 0; k < sw->n_set; k++)
            if (varies[k])
                label_append(label, sizeof label, sw->set_name[k], sw->rows[i].set[k]);
        size_t j = 0;
        while (j < sw->n_config && strcmp(sw->config[j], label) != 0)
            j++;
        if (j == sw->n_config) {
            char **cfg = grow(sw->config, sw->n_config, &cap, sizeof *cfg);
            if (cfg == NULL || (cfg[j] = strdup(label)) == NULL) {
                if (cfg != NULL)
                    sw->config = cfg;
                free(varies);
                return oom(c);
            }
            sw->config = cfg;
            sw->n_config++;
        }
        sw->rows[i].config = j;
    }
    free(varies);
    return 0;
}

/* Orders rows by configuration, then offered rate (rows without one last), then position. */
static int sweep_row_cmp(const void *a, const void *b)
{
    const sweep_row *x = a, *y = b;
    if (x->config != y->config)
        return x->config < y->config ? -1 : 1;
    int xn = isnan(x->rate_req_s), yn = isnan(y->rate_req_s);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->rate_req_s != y->rate_req_s)
        return x->rate_req_s < y->rate_req_s ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A plot of figures against offered load, one line per configuration and metric. */
typedef struct load_plot {
    const char *name;
    const char *what; /* for the script's head comment */
    const char *title;
    const char *ylabel; /* with units */
    int metric[2];      /* metric[1] < 0: one metric */
    const char *series[2];
    const char *slo_metric; /* "ttft": draw the p50/p99 targets of the SLO; NULL: none */
    int log_ok;             /* a wide range may get a log y axis */
    const char *key_where;  /* NULL: below the plot, as no corner is reliably empty */
} load_plot;

static const load_plot LOAD_PLOTS[] = {
    {"latency_vs_load",
     "p50 and p99 time to first token against offered load",
     "Time to first token vs offered load",
     "TTFT (ms)",
     {SW_P50_TTFT, SW_P99_TTFT},
     {"p50 TTFT", "p99 TTFT"},
     "ttft",
     1,
     "top left"},
    {"e2e_vs_load",
     "p50 and p99 end-to-end latency against offered load",
     "End-to-end latency vs offered load",
     "end-to-end latency (ms)",
     {SW_P50_E2E, SW_P99_E2E},
     {"p50 E2E", "p99 E2E"},
     "e2el",
     1,
     "top left"},
    {"tpot_vs_load",
     "p50 and p99 time per output token against offered load",
     "Time per output token vs offered load",
     "TPOT (ms)",
     {SW_P50_TPOT, SW_P99_TPOT},
     {"p50 TPOT", "p99 TPOT"},
     "tpot",
     1,
     "top left"},
    {"throughput_vs_load",
     "output token throughput against offered load",
     "Output throughput vs offered load",
     "output throughput (tokens/s)",
     {SW_OUT_TPUT, -1},
     {"output tokens/s", NULL},
     NULL,
     0,
     "top left"},
    {"slo_attainment_vs_rate",
     "share of requests meeting the SLO against offered rate",
     "Requests meeting the SLO vs offered rate",
     "requests meeting the SLO (%)",
     {SW_SLO_PCT, -1},
     {"meeting the SLO", NULL},
     NULL,
     0,
     NULL},
};

/* Finds the targets of the SLO text ("ttft_p99=0.5,tpot_p99=0.05", seconds) for metric
 * at p50 and p99, the percentiles the load plots draw. Fills pct[] ("p50", "p99") and
 * limit_ms[]; returns how many. */
static int slo_targets(const char *slo, const char *metric, const char *pct[2], double limit_ms[2])
{
    int n = 0;
    size_t mlen = strlen(metric);
    for (const char *p = slo; *p && n < 2;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char item[64];
        if (len < sizeof item) {
            memcpy(item, p, len);
            item[len] = '\0';
            char *eq = strchr(item, '=');
            double v;
            if (eq != NULL && strncmp(item, metric, mlen) == 0 && item[mlen] == '_') {
                *eq = '\0';
                const char *which = item + mlen + 1;
                const char *known = strcmp(which, "p50") == 0   ? "p50"
                                    : strcmp(which, "p99") == 0 ? "p99"
                                                                : NULL;
                if (known && util_parse_double(eq + 1, &v) == 0 && v > 0) {
                    pct[n] = known;
                    limit_ms[n] = 1e3 * v;
                    n++;
                }
            }
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return n;
}

/* Title with the shared model and GPU appended, when there are any. */
static void sweep_title(const sweep *sw, const char *title, char *out, size_t len)
{
    if (sw->fixed[0])
        snprintf(out, len, "%s (%s)", title, sw->fixed);
    else
        snprintf(out, len, "%s", title);
}

static int sweep_load_plot(plot_ctx *c, const sweep *sw, const load_plot *lp)
{
    int n_metrics = lp->metric[1] < 0 ? 1 : 2;
    axis_range yr;
    axis_init(&yr);
    int any = 0;
    for (size_t i = 0; i < sw->n; i++) {
        if (isnan(sw->rows[i].rate_req_s))
            continue;
        for (int m = 0; m < n_metrics; m++) {
            double v = sw->rows[i].v[lp->metric[m]];
            any |= isfinite(v);
            axis_add(&yr, v);
        }
    }
    if (!any)
        return 0;

    char title[512];
    sweep_title(sw, lp->title, title, sizeof title);
    plot_out o;
    if (plot_begin(c, &o, lp->name, lp->what, "summary.csv", "capsim sweep", title) != 0)
        return -1;
    const char *pct[2] = {NULL, NULL};
    double limit_ms[2] = {0, 0};
    int n_slo =
        lp->slo_metric && sw->slo[0] ? slo_targets(sw->slo, lp->slo_metric, pct, limit_ms) : 0;
    int log_y = lp->log_ok && axis_wants_log(&yr);
    gp_set_text(&o, "xlabel", "offered load (req/s)");
    if (log_y) {
        char yl[128];
        snprintf(yl, sizeof yl, "%s, log scale", lp->ylabel);
        gp_set_text(&o, "ylabel", yl);
        gp_log_y(&o, &yr);
    } else {
        gp_set_text(&o, "ylabel", lp->ylabel);
        fputs("set yrange [0:*]\n", o.gp);
    }
    if (lp->metric[0] == SW_SLO_PCT)
        fputs("set yrange [0:105]\n", o.gp);
    fputs("set autoscale xfix\nset offsets graph 0.03, graph 0.03, 0, 0\n", o.gp);
    gp_key(&o, (int)sw->n_config * n_metrics + n_slo, lp->key_where);

    fputs("# columns: offered load (req/s)", o.dat);
    for (int m = 0; m < n_metrics; m++)
        fprintf(o.dat, ", %s, its 95%% CI half-width", SWEEP_METRIC_COL[lp->metric[m]]);
    fputc('\n', o.dat);

    gp_draw_begin(&o);
    size_t i = 0;
    while (i < sw->n) {
        size_t cfg = sw->rows[i].config, j = i;
        while (j < sw->n && sw->rows[j].config == cfg && !isnan(sw->rows[j].rate_req_s))
            j++;
        if (j > i) {
            int block = dat_block(&o, sw->config[cfg][0] ? sw->config[cfg] : "all points");
            for (size_t k = i; k < j; k++) {
                const sweep_row *r = &sw->rows[k];
                dat_num(o.dat, r->rate_req_s);
                for (int m = 0; m < n_metrics; m++) {
                    dat_num(o.dat, r->v[lp->metric[m]]);
                    dat_num(o.dat, ci_or_zero(r->ci[lp->metric[m]]));
                }
                fputc('\n', o.dat);
            }
            for (int m = 0; m < n_metrics; m++) {
                /* One colour per configuration; p50 dashed with open points. */
                int dashed = n_metrics == 2 && m == 0;
                gp_clause(&o);
                fprintf(o.gp,
                        "'%s.dat' index %d using 1:%d:%d with yerrorlines lc %zu lw 2 dt %d "
                        "pt %d ps 1.2",
                        lp->name, block, 2 + 2 * m, 3 + 2 * m, cfg + 1, dashed ? 2 : 1,
                        dashed ? 6 : 7);
                char series[600];
                const char *cl = sw->config[cfg];
                if (n_metrics == 1)
                    snprintf(series, sizeof series, "%s", cl[0] ? cl : lp->series[0]);
                else if (cl[0])
                    snprintf(series, sizeof series, "%s, %s", lp->series[m], cl);
                else
                    snprintf(series, sizeof series, "%s", lp->series[m]);
                gp_title(&o, series);
            }
        }
        while (j < sw->n && sw->rows[j].config == cfg)
            j++;
        i = j;
    }
    for (int s = 0; s < n_slo; s++) {
        char series[128];
        char metric_up[16];
        size_t k = 0;
        for (; lp->slo_metric[k] && k + 1 < sizeof metric_up; k++)
            metric_up[k] = (char)(lp->slo_metric[k] - 'a' + 'A');
        metric_up[k] = '\0';
        snprintf(series, sizeof series, "SLO: %s %s <= %g ms", pct[s],
                 strcmp(metric_up, "E2EL") == 0 ? "E2E" : metric_up, limit_ms[s]);
        gp_clause(&o);
        fprintf(o.gp, "%.9g with lines lc rgb '#c00000' lw 2 dt %d", limit_ms[s],
                strcmp(pct[s], "p99") == 0 ? 3 : 4);
        gp_title(&o, series);
    }
    gp_draw_end(&o);
    return plot_commit(c, &o);
}

/* p99 TTFT, p99 TPOT and request throughput of each configuration, side by side. */
static int sweep_compare_plot(plot_ctx *c, const sweep *sw)
{
    char title[512];
    sweep_title(sw, "p99 TTFT, p99 TPOT and request throughput per configuration", title,
                sizeof title);
    plot_out o;
    if (plot_begin(c, &o, "compare_configs", "p99 latencies and throughput per configuration",
                   "summary.csv", "capsim sweep", title) != 0)
        return -1;
    fputs("# columns: configuration, p99_ttft_ms, CI, p99_tpot_ms, CI, request_throughput, "
          "CI (95% half-widths)\n",
          o.dat);
    dat_block(&o, "one row per point, in configuration order");
    for (size_t i = 0; i < sw->n; i++) {
        const sweep_row *r = &sw->rows[i];
        dat_quote(o.dat, sw->config[r->config]);
        static const int shown[3] = {SW_P99_TTFT, SW_P99_TPOT, SW_REQ_TPUT};
        for (int m = 0; m < 3; m++) {
            dat_num(o.dat, r->v[shown[m]]);
            dat_num(o.dat, ci_or_zero(r->ci[shown[m]]));
        }
        fputc('\n', o.dat);
    }
    fprintf(o.gp,
            "set style fill solid 0.65 border -1\n"
            "set boxwidth 0.6\n"
            "set xrange [-0.6:%.1f]\n"
            "set yrange [0:*]\n"
            "set offsets 0, 0, graph 0.15, 0\n"
            "set xtics rotate by 45 right font ',10'\n"
            "set key inside top center font ',10'\n"
            "unset title\n",
            (double)sw->n - 0.4);
    /* The panels share fixed margins so that they get the same width; the bottom one
     * grows with the longest configuration label, which is written at 45 degrees. */
    size_t longest = 0;
    for (size_t k = 0; k < sw->n_config; k++)
        if (strlen(sw->config[k]) > longest)
            longest = strlen(sw->config[k]);
    double bottom = 0.08 + 0.009 * (double)longest;
    bottom = bottom < 0.15 ? 0.15 : bottom > 0.5 ? 0.5 : bottom;
    gp_draw_begin(&o);
    fprintf(o.gp, "    set multiplot layout 1,3 margins 0.1,0.98,%.3f,0.88 spacing 0.1,0 title ",
            bottom);
    gp_quote(o.gp, title);
    fputs(" font ',15'\n", o.gp);
    static const char *const ylabel[3] = {"p99 TTFT (ms)", "p99 TPOT (ms)",
                                          "request throughput (req/s)"};
    static const char *const series[3] = {"p99 TTFT", "p99 TPOT", "request throughput"};
    for (int m = 0; m < 3; m++) {
        fputs("    set ylabel ", o.gp);
        gp_quote(o.gp, ylabel[m]);
        fprintf(o.gp,
                "\n    plot 'compare_configs.dat' using 0:%d:%d:xtic(1) with boxerrorbars "
                "lc %d",
                2 + 2 * m, 3 + 2 * m, m + 1);
        gp_title(&o, series[m]);
        fputc('\n', o.gp);
    }
    fputs("    unset multiplot", o.gp);
    gp_draw_end(&o);
    return plot_commit(c, &o);
}

static int plot_summary(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "summary.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    sweep sw;
    memset(&sw, 0, sizeof sw);
    rc = sweep_read(c, in, ncols, &sw);
    csvin_close(in);
    if (rc == 0 && sw.n > 1)
        rc = sweep_configs(c, &sw);
    if (rc == 0 && sw.n > 1) {
        qsort(sw.rows, sw.n, sizeof *sw.rows, sweep_row_cmp);
        if (sw.rate_varies) {
            for (size_t p = 0; p < sizeof LOAD_PLOTS / sizeof LOAD_PLOTS[0] && rc == 0; p++)
                rc = sweep_load_plot(c, &sw, &LOAD_PLOTS[p]);
        } else if (sw.n_config > 1) {
            rc = sweep_compare_plot(c, &sw);
        }
    }
    sweep_free(&sw);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * timeseries.csv from `capsim run`
 * ------------------------------------------------------------------------------------- */

typedef struct ts_row {
    double time_s, waiting, running, kv_pct;
} ts_row;

static int plot_timeseries(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "timeseries.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    static const char *const cols[] = {"time_s", "waiting", "running", "kv_occupancy"};
    int idx[4];
    ts_row *rows = NULL;
    size_t n = 0, cap = 0;
    rc = input_columns(c, in, cols, idx, 4);
    /* Replications follow each other in the file; the first ends where time goes back. */
    while (rc == 0 && (rc = input_next(c, in, ncols)) == 1) {
        ts_row r;
        if (input_num(c, in, idx[0], &r.time_s) != 0 || input_num(c, in, idx[1], &r.waiting) != 0 ||
            input_num(c, in, idx[2], &r.running) != 0 || input_num(c, in, idx[3], &r.kv_pct) != 0) {
            rc = -1;
            break;
        }
        rc = 0;
        if (n > 0 && r.time_s <= rows[n - 1].time_s)
            break;
        ts_row *p = grow(rows, n, &cap, sizeof *rows);
        if (p == NULL) {
            rc = oom(c);
            break;
        }
        rows = p;
        r.kv_pct *= 100;
        rows[n++] = r;
    }
    csvin_close(in);
    if (rc < 0 || n == 0) {
        free(rows);
        return rc < 0 ? -1 : 0;
    }

    plot_out o;
    if (plot_begin(c, &o, "timeseries", "queue, running batch and KV cache over time",
                   "timeseries.csv", "capsim run --out",
                   "Queue, running batch and KV cache "
                   "over time (first replication)") != 0) {
        free(rows);
        return -1;
    }
    fputs("# columns: time (s), waiting requests, running batch (requests), "
          "KV cache occupancy (%)\n",
          o.dat);
    dat_block(&o, "first replication");
    for (size_t i = 0; i < n; i++) {
        dat_num(o.dat, rows[i].time_s);
        dat_num(o.dat, rows[i].waiting);
        dat_num(o.dat, rows[i].running);
        dat_num(o.dat, rows[i].kv_pct);
        fputc('\n', o.dat);
    }
    free(rows);
    gp_set_text(&o, "xlabel", "time (s)");
    gp_set_text(&o, "ylabel", "requests");
    gp_set_text(&o, "y2label", "KV cache occupancy (%)");
    fputs("set yrange [0:*]\n"
          "set y2range [0:100]\n"
          "set ytics nomirror\n"
          "set y2tics 0, 10\n"
          "set autoscale xfix\n"
          "set key below horizontal maxrows 1 width -2 nobox noopaque\n"
          "set bmargin 5.5\n",
          o.gp);
    gp_draw_begin(&o);
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:2 with lines lw 2 lc 1", o.gp);
    gp_title(&o, "waiting requests");
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:3 with lines lw 2 lc 2", o.gp);
    gp_title(&o, "running batch (requests)");
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:4 axes x1y2 with lines lw 2 lc 7 dt 2", o.gp);
    gp_title(&o, "KV cache (%, right axis)");
    gp_draw_end(&o);
    return plot_commit(c, &o);
}

/* ---------------------------------------------------------------------------------------
 * requests.csv from `capsim run --per-request`
 * ------------------------------------------------------------------------------------- */

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static int dvec_push(dvec *d, double x)
{
    double *p = grow(d->v, d->n, &d->cap, sizeof *p);
    if (p == NULL)
        return -1;
    d->v = p;
    d->v[d->n++] = x;
    return 0;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Writes the empirical CDF of sorted v[0..n) as rows "value fraction", the fraction of
 * values at or below. Past CDF_MAX_POINTS it keeps every value of the tail and an evenly
 * spaced sample (by rank) of the rest, always including the smallest; the last row is the
 * largest value with fraction exactly 1. Values <= 0 cannot sit on the log axis: they count
 * in the fractions but get no row. */
static void write_cdf(FILE *fp, const double *v, size_t n)
{
    size_t tail = n > CDF_MAX_POINTS ? n - CDF_TAIL_POINTS : 0;
    size_t body = CDF_MAX_POINTS - CDF_TAIL_POINTS - 1;
    size_t step = tail > 0 ? (tail + body - 1) / body : 1;
    for (size_t i = 0; i < n; i++) {
        if (i < tail && i % step != 0)
            continue;
        if (!(v[i] > 0))
            continue;
        dat_num(fp, v[i]);
        dat_num(fp, i + 1 == n ? 1.0 : (double)(i + 1) / (double)n);
        fputc('\n', fp);
    }
}

static int plot_requests(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "requests.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    static const char *const cols[] = {"ttft_ms", "e2el_ms"};
    int idx[2];
    dvec d[2];
    memset(d, 0, sizeof d);
    rc = input_columns(c, in, cols, idx, 2);
    while (rc == 0 && (rc = input_next(c, in, ncols)) == 1) {
        rc = 0;
        for (int k = 0; k < 2 && rc == 0; k++) {
            double x;
            /* A rejected request has no latency: its field is empty or nan. */
            if (input_num(c, in, idx[k], &x) != 0)
                rc = -1;
            else if (isfinite(x) && dvec_push(&d[k], x) != 0)
                rc = oom(c);
        }
    }
    csvin_close(in);
    if (rc < 0 || (d[0].n == 0 && d[1].n == 0)) {
        free(d[0].v);
        free(d[1].v);
        return rc < 0 ? -1 : 0;
    }

    plot_out o;
    rc = plot_begin(c, &o, "latency_cdf", "empirical CDFs of TTFT and end-to-end latency",
                    "requests.csv", "capsim run --per-request --out",
                    "Latency distribution (empirical CDF, all replications)");
    if (rc == 0) {
        fputs("# columns: latency (ms), fraction of requests at or below it\n", o.dat);
        gp_set_text(&o, "xlabel", "latency (ms, log scale)");
        gp_set_text(&o, "ylabel", "fraction of requests at or below (CDF)");
        fputs("set logscale x\n"
              "set rmargin 5\n"
              "set yrange [0:1]\n"
              "set ytics 0, 0.1\n"
              "set key inside bottom right\n",
              o.gp);
        gp_draw_begin(&o);
        static const char *const what[2] = {"TTFT", "end-to-end latency"};
        for (int k = 0; k < 2; k++) {
            if (d[k].n == 0)
                continue;
            qsort(d[k].v, d[k].n, sizeof *d[k].v, dbl_cmp);
            int block = dat_block(&o, cols[k]);
            write_cdf(o.dat, d[k].v, d[k].n);
            char series[128];
            snprintf(series, sizeof series, "%s (%zu requests)", what[k], d[k].n);
            gp_clause(&o);
            fprintf(o.gp, "'latency_cdf.dat' index %d using 1:2 with lines lw 2 lc %d", block,
                    k + 1);
            gp_title(&o, series);
        }
        gp_draw_end(&o);
        rc = plot_commit(c, &o);
    }
    free(d[0].v);
    free(d[1].v);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * fit.csv from `capsim calibrate`: every request's latencies, measured against predicted
 * ------------------------------------------------------------------------------------- */

/* Draws calibration_fit from pairs (measured, predicted): d[0], d[1] the first series,
 * d[2], d[3] the second, named what[0] and what[1]; frees the vectors. */
static int draw_calibration(plot_ctx *c, dvec d[4], const axis_range *ax,
                            const char *const what[2], const char *file, const char *command)
{
    int rc = 0;
    if (d[0].n == 0 && d[2].n == 0)
        goto done;
    plot_out o;
    rc = plot_begin(c, &o, "calibration_fit", "measured against predicted latency", file,
                    command, "Calibration: predicted against measured latency");
    if (rc == 0) {
        fputs("# columns: measured (ms), predicted (ms)\n", o.dat);
        gp_set_text(&o, "xlabel", "measured (ms, log scale)");
        gp_set_text(&o, "ylabel", "predicted by the fitted profile (ms, log scale)");
        double lo = pow(10, floor(log10(ax->min_pos))), hi = pow(10, ceil(log10(ax->max_pos)));
        fprintf(o.gp,
                "set logscale xy\n"
                "set xrange [%g:%g]\n"
                "set yrange [%g:%g]\n"
                "set key inside top left\n",
                lo, hi, lo, hi);
        gp_draw_begin(&o);
        for (int k = 0; k < 2; k++) {
            if (d[2 * k].n == 0)
                continue;
            int block = dat_block(&o, what[k]);
            for (size_t i = 0; i < d[2 * k].n; i++) {
                dat_num(o.dat, d[2 * k].v[i]);
                fputc(' ', o.dat);
                dat_num(o.dat, d[2 * k + 1].v[i]);
                fputc('\n', o.dat);
            }
            char series[128];
            snprintf(series, sizeof series, "%s (%zu)", what[k], d[2 * k].n);
            gp_clause(&o);
            fprintf(o.gp, "'calibration_fit.dat' index %d using 1:2 with points pt 7 ps 0.4 lc %d",
                    block, k + 1);
            gp_title(&o, series);
        }
        gp_clause(&o);
        fputs("x with lines dt 2 lc rgb 'black'", o.gp);
        gp_title(&o, "predicted = measured");
        gp_draw_end(&o);
        rc = plot_commit(c, &o);
    }
done:
    for (int k = 0; k < 4; k++)
        free(d[k].v);
    return rc;
}

/* Adds one (measured, predicted) pair to series k of d. */
static int calibration_pair(plot_ctx *c, dvec d[4], axis_range *ax, int k, double m, double p)
{
    if (!(isfinite(m) && isfinite(p) && m > 0 && p > 0))
        return 0;
    if (dvec_push(&d[2 * k], m) != 0 || dvec_push(&d[2 * k + 1], p) != 0)
        return oom(c);
    axis_add(ax, m);
    axis_add(ax, p);
    return 0;
}

/* fit.csv from `capsim calibrate` on benchmark results: TTFT and TPOT per request. */
static int plot_calibration(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "fit.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    static const char *const cols[] = {"ttft_ms", "ttft_pred_ms", "tpot_ms", "tpot_pred_ms"};
    int idx[4];
    dvec d[4];
    memset(d, 0, sizeof d);
    axis_range ax;
    axis_init(&ax);
    rc = input_columns(c, in, cols, idx, 4);
    while (rc == 0 && (rc = input_next(c, in, ncols)) == 1) {
        rc = 0;
        for (int k = 0; k < 2 && rc == 0; k++) {
            double m, p;
            if (input_num(c, in, idx[2 * k], &m) != 0 || input_num(c, in, idx[2 * k + 1], &p) != 0)
                rc = -1;
            else
                rc = calibration_pair(c, d, &ax, k, m, p);
        }
    }
    csvin_close(in);
    if (rc < 0) {
        for (int k = 0; k < 4; k++)
            free(d[k].v);
        return -1;
    }
    static const char *const what[2] = {"time to first token, requests",
                                        "time per output token, requests"};
    return draw_calibration(c, d, &ax, what, "fit.csv", "capsim calibrate --out");
}

/* fit_points.csv from `capsim fit --points` or calibrate on per-step timings. */
static int plot_calibration_steps(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "fit_points.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    static const char *const cols[] = {"phase", "measured_ms", "predicted_ms"};
    int idx[3];
    dvec d[4];
    memset(d, 0, sizeof d);
    axis_range ax;
    axis_init(&ax);
    rc = input_columns(c, in, cols, idx, 3);
    while (rc == 0 && (rc = input_next(c, in, ncols)) == 1) {
        double m, p;
        int k = strcmp(csvin_field(in, (size_t)idx[0]), "decode") == 0;
        rc = input_num(c, in, idx[1], &m) != 0 || input_num(c, in, idx[2], &p) != 0
                 ? -1
                 : calibration_pair(c, d, &ax, k, m, p);
    }
    csvin_close(in);
    if (rc < 0) {
        for (int k = 0; k < 4; k++)
            free(d[k].v);
        return -1;
    }
    static const char *const what[2] = {"prefill steps", "decode steps"};
    return draw_calibration(c, d, &ax, what, "fit_points.csv", "capsim fit --points");
}

/* ---------------------------------------------------------------------------------------
 * frontier.csv from `capsim capacity deploy`
 * ------------------------------------------------------------------------------------- */

typedef struct frontier_row {
    double rate_req_s, rate_fail_req_s, usd_per_h;
    int on_frontier, cheapest;
    char label[128];
} frontier_row;

static int frontier_rate_cmp(const void *a, const void *b)
{
    const frontier_row *x = a, *y = b;
    return (x->rate_req_s > y->rate_req_s) - (x->rate_req_s < y->rate_req_s);
}

static int plot_frontier(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "frontier.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    static const char *const cols[] = {
        "gpu",         "precision",        "tp",
        "status",      "rate_per_replica", "cost_per_hour_usd_per_replica",
        "on_frontier", "cheapest"};
    int idx[8];
    int fail_col = csvin_column(in, "rate_per_replica_fail");
    frontier_row *rows = NULL;
    size_t n = 0, cap = 0;
    rc = input_columns(c, in, cols, idx, 8);
    while (rc == 0 && (rc = input_next(c, in, ncols)) == 1) {
        rc = 0;
        if (strcmp(csvin_field(in, (size_t)idx[3]), "ok") != 0)
            continue;
        frontier_row r;
        double on, cheap;
        if (input_num(c, in, idx[4], &r.rate_req_s) != 0 ||
            input_num(c, in, fail_col, &r.rate_fail_req_s) != 0 ||
            input_num(c, in, idx[5], &r.usd_per_h) != 0 || input_num(c, in, idx[6], &on) != 0 ||
            input_num(c, in, idx[7], &cheap) != 0) {
            rc = -1;
            break;
        }
        if (!isfinite(r.rate_req_s) || !isfinite(r.usd_per_h))
            continue;
        r.on_frontier = on == 1;
        r.cheapest = cheap == 1;
        snprintf(r.label, sizeof r.label, "%s %s tp%s", csvin_field(in, (size_t)idx[0]),
                 csvin_field(in, (size_t)idx[1]), csvin_field(in, (size_t)idx[2]));
        frontier_row *p = grow(rows, n, &cap, sizeof *rows);
        if (p == NULL) {
            rc = oom(c);
            break;
        }
        rows = p;
        rows[n++] = r;
    }
    csvin_close(in);
    if (rc < 0 || n == 0) {
        free(rows);
        return rc < 0 ? -1 : 0;
    }
    qsort(rows, n, sizeof *rows, frontier_rate_cmp);

    plot_out o;
    if (plot_begin(c, &o, "cost_frontier", "cost against capacity of each deployment candidate",
                   "frontier.csv", "capsim capacity deploy",
                   "Cost vs capacity per replica (deployment candidates)") != 0) {
        free(rows);
        return -1;
    }
    fputs("# columns: capacity per replica (req/s under the SLOs), cost per replica (USD/h), "
          "label, lowest rate found to fail (req/s)\n",
          o.dat);
    int any_frontier = 0, any_cheapest = 0;
    int b_all = dat_block(&o, "every ok candidate");
    for (size_t i = 0; i < n; i++) {
        dat_num(o.dat, rows[i].rate_req_s);
        dat_num(o.dat, rows[i].usd_per_h);
        fputc(' ', o.dat);
        dat_quote(o.dat, rows[i].label);
        dat_num(o.dat, rows[i].rate_fail_req_s);
        fputc('\n', o.dat);
        any_frontier |= rows[i].on_frontier;
        any_cheapest |= rows[i].cheapest;
    }
    int b_front = -1, b_cheap = -1;
    if (any_frontier) {
        b_front = dat_block(&o, "the cost frontier, by capacity");
        for (size_t i = 0; i < n; i++)
            if (rows[i].on_frontier) {
                dat_num(o.dat, rows[i].rate_req_s);
                dat_num(o.dat, rows[i].usd_per_h);
                fputc('\n', o.dat);
            }
    }
    if (any_cheapest) {
        b_cheap = dat_block(&o, "the cheapest deployment that meets the target");
        for (size_t i = 0; i < n; i++)
            if (rows[i].cheapest) {
                dat_num(o.dat, rows[i].rate_req_s);
                dat_num(o.dat, rows[i].usd_per_h);
                fputc('\n', o.dat);
            }
    }
    free(rows);

    gp_set_text(&o, "xlabel", "capacity per replica (req/s under the SLOs)");
    gp_set_text(&o, "ylabel", "cost per replica (USD/h)");
    fputs("set xrange [0:*]\n"
          "set yrange [0:*]\n"
          "set offsets 0, graph 0.25, graph 0.1, 0\n",
          o.gp);
    /* Candidates can sit anywhere, so the key goes below the plot. */
    gp_key(&o, 3, NULL);
    gp_draw_begin(&o);
    if (b_front >= 0) {
        gp_clause(&o);
        fprintf(o.gp, "'cost_frontier.dat' index %d using 1:2 with lines lc 2 lw 2.5 dt 1",
                b_front);
        gp_title(&o, "cost frontier");
    }
    gp_clause(&o);
    fprintf(o.gp, "'cost_frontier.dat' index %d using 1:2 with points lc 1 pt 7 ps 1.6", b_all);
    gp_title(&o, "candidate (gpu precision tp)");
    gp_clause(&o);
    fprintf(o.gp,
            "'cost_frontier.dat' index %d using 1:2:3 with labels left offset char 1,0.8 "
            "font ',10' notitle",
            b_all);
    if (b_cheap >= 0) {
        gp_clause(&o);
        fprintf(o.gp,
                "'cost_frontier.dat' index %d using 1:2 with points lc rgb '#d00000' pt 6 ps 3.5 "
                "lw 3",
                b_cheap);
        gp_title(&o, "cheapest meeting the target");
    }
    gp_draw_end(&o);
    return plot_commit(c, &o);
}

/* ---------------------------------------------------------------------------------------
 * search.csv from `capsim capacity rate`
 * ------------------------------------------------------------------------------------- */

typedef struct search_row {
    size_t metric; /* index into the metric names */
    size_t order;
    double rate_req_s, value_ms, ci_ms, limit_ms;
} search_row;

static int search_row_cmp(const void *a, const void *b)
{
    const search_row *x = a, *y = b;
    if (x->metric != y->metric)
        return x->metric < y->metric ? -1 : 1;
    if (x->rate_req_s != y->rate_req_s)
        return x->rate_req_s < y->rate_req_s ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int plot_search(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "search.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    static const char *const cols[] = {"rate_req_s", "slo_metric", "value_ms", "ci95_ms",
                                       "limit_ms"};
    int idx[5];
    search_row *rows = NULL;
    size_t n = 0, cap = 0;
    char **metric = NULL;
    size_t n_metric = 0, metric_cap = 0;
    rc = input_columns(c, in, cols, idx, 5);
    while (rc == 0 && (rc = input_next(c, in, ncols)) == 1) {
        rc = 0;
        search_row r;
        if (input_num(c, in, idx[0], &r.rate_req_s) != 0 ||
            input_num(c, in, idx[2], &r.value_ms) != 0 || input_num(c, in, idx[3], &r.ci_ms) != 0 ||
            input_num(c, in, idx[4], &r.limit_ms) != 0) {
            rc = -1;
            break;
        }
        if (!isfinite(r.rate_req_s) || !isfinite(r.value_ms))
            continue;
        const char *name = csvin_field(in, (size_t)idx[1]);
        size_t m = 0;
        while (m < n_metric && strcmp(metric[m], name) != 0)
            m++;
        if (m == n_metric) {
            char **p = grow(metric, n_metric, &metric_cap, sizeof *metric);
            if (p == NULL || (p[m] = strdup(name)) == NULL) {
                if (p != NULL)
                    metric = p;
                rc = oom(c);
                break;
            }
            metric = p;
            n_metric++;
        }
        search_row *p = grow(rows, n, &cap, sizeof *rows);
        if (p == NULL) {
            rc = oom(c);
            break;
        }
        rows = p;
        r.metric = m;
        r.order = n;
        rows[n++] = r;
    }
    csvin_close(in);
    if (rc == 0 && n > 0) {
        qsort(rows, n, sizeof *rows, search_row_cmp);
        axis_range yr;
        axis_init(&yr);
        for (size_t i = 0; i < n; i++) {
            axis_add(&yr, rows[i].value_ms);
            axis_add(&yr, rows[i].limit_ms);
        }
        plot_out o;
        rc = plot_begin(c, &o, "rate_search", "SLO metrics at each rate the capacity search tried",
                        "search.csv", "capsim capacity rate",
                        "SLO metrics at each rate tried by the capacity search");
        if (rc == 0) {
            int log_y = axis_wants_log(&yr);
            gp_set_text(&o, "xlabel", "offered rate (req/s)");
            gp_set_text(&o, "ylabel", log_y ? "latency (ms, log scale)" : "latency (ms)");
            if (log_y)
                gp_log_y(&o, &yr);
            else
                fputs("set yrange [0:*]\n", o.gp);
            fputs("set autoscale xfix\nset offsets graph 0.03, graph 0.03, 0, 0\n", o.gp);
            gp_key(&o, 2 * (int)n_metric, "top left");
            fputs("# columns: offered rate (req/s), value (ms), its 95% CI half-width (ms)\n",
                  o.dat);
            gp_draw_begin(&o);
            size_t i = 0;
            while (i < n) {
                size_t m = rows[i].metric, j = i;
                double limit = NAN;
                int block = dat_block(&o, metric[m]);
                for (; j < n && rows[j].metric == m; j++) {
                    dat_num(o.dat, rows[j].rate_req_s);
                    dat_num(o.dat, rows[j].value_ms);
                    dat_num(o.dat, ci_or_zero(rows[j].ci_ms));
                    fputc('\n', o.dat);
                    if (isnan(limit) && isfinite(rows[j].limit_ms))
                        limit = rows[j].limit_ms;
                }
                gp_clause(&o);
                fprintf(o.gp,
                        "'rate_search.dat' index %d using 1:2:3 with yerrorlines lc %zu lw 2 "
                        "pt 7 ps 1.3",
                        block, m + 1);
                gp_title(&o, metric[m]);
                if (isfinite(limit)) {
                    char series[160];
                    snprintf(series, sizeof series, "%s limit (%g ms)", metric[m], limit);
                    gp_clause(&o);
                    fprintf(o.gp, "%.9g with lines lc %zu lw 2 dt 2", limit, m + 1);
                    gp_title(&o, series);
                }
                i = j;
            }
            gp_draw_end(&o);
            rc = plot_commit(c, &o);
        }
    }
    free(rows);
    for (size_t m = 0; m < n_metric; m++)
        free(metric[m]);
    free(metric);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------
 * load.csv from `capsim queue --load`
 * ------------------------------------------------------------------------------------- */

enum { QL_RHO, QL_MEAN, QL_MEAN_CI, QL_P99, QL_P99_CI, QL_EXACT_MEAN, QL_EXACT_P99, QL_N };

typedef struct queue_row {
    double v[QL_N];
} queue_row;

static int queue_row_cmp(const void *a, const void *b)
{
    const queue_row *x = a, *y = b;
    return (x->v[QL_RHO] > y->v[QL_RHO]) - (x->v[QL_RHO] < y->v[QL_RHO]);
}

static int plot_queue_load(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "load.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    static const char *const cols[QL_N] = {"rho",           "mean_wait",     "mean_wait_ci95",
                                           "p99_wait",      "p99_wait_ci95", "exact_mean_wait",
                                           "exact_p99_wait"};
    static const char *const required[] = {"rho", "mean_wait", "p99_wait"};
    int idx[QL_N], required_idx[3];
    for (int k = 0; k < QL_N; k++)
        idx[k] = csvin_column(in, cols[k]); /* the CIs and exact values are optional */
    rc = input_columns(c, in, required, required_idx, 3);
    queue_row *rows = NULL;
    size_t n = 0, cap = 0;
    int any_exact[2] = {0, 0};
    while (rc == 0 && (rc = input_next(c, in, ncols)) == 1) {
        rc = 0;
        queue_row r;
        for (int k = 0; k < QL_N && rc == 0; k++)
            rc = input_num(c, in, idx[k], &r.v[k]);
        if (rc != 0)
            break;
        if (!isfinite(r.v[QL_RHO]))
            continue;
        any_exact[0] |= isfinite(r.v[QL_EXACT_MEAN]);
        any_exact[1] |= isfinite(r.v[QL_EXACT_P99]);
        queue_row *p = grow(rows, n, &cap, sizeof *rows);
        if (p == NULL) {
            rc = oom(c);
            break;
        }
        rows = p;
        rows[n++] = r;
    }
    csvin_close(in);
    if (rc < 0 || n == 0) {
        free(rows);
        return rc < 0 ? -1 : 0;
    }
    qsort(rows, n, sizeof *rows, queue_row_cmp);

    plot_out o;
    if (plot_begin(c, &o, "queue_load", "simulated and exact waiting times against utilisation",
                   "load.csv", "capsim queue --load", "Waiting time vs utilisation") != 0) {
        free(rows);
        return -1;
    }
    fputs("# columns: rho, mean wait (s), CI, p99 wait (s), CI, exact mean wait (s), "
          "exact p99 wait (s)\n",
          o.dat);
    dat_block(&o, "one row per load");
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < QL_N; k++)
            dat_num(o.dat,
                    k == QL_MEAN_CI || k == QL_P99_CI ? ci_or_zero(rows[i].v[k]) : rows[i].v[k]);
        fputc('\n', o.dat);
    }
    free(rows);
    gp_set_text(&o, "xlabel", "utilisation rho (offered load / capacity)");
    gp_set_text(&o, "ylabel", "waiting time (s)");
    fputs("set yrange [0:*]\n"
          "set offsets graph 0.02, graph 0.02, 0, 0\n"
          "set key inside top left\n",
          o.gp);
    gp_draw_begin(&o);
    static const char *const sim_title[2] = {"simulated mean wait (95% CI)",
                                             "simulated p99 wait (95% CI)"};
    static const char *const exact_title[2] = {"exact mean wait (theory)",
                                               "exact p99 wait (theory)"};
    for (int k = 0; k < 2; k++) {
        gp_clause(&o);
        fprintf(o.gp, "'queue_load.dat' using 1:%d:%d with yerrorbars lc %d pt 7 ps 1.3 lw 1.5",
                k ? QL_P99 + 1 : QL_MEAN + 1, k ? QL_P99_CI + 1 : QL_MEAN_CI + 1, k + 1);
        gp_title(&o, sim_title[k]);
    }
    for (int k = 0; k < 2; k++) {
        if (!any_exact[k])
            continue;
        gp_clause(&o);
        fprintf(o.gp, "'queue_load.dat' using 1:%d with lines lc %d lw 2 dt 2",
                k ? QL_EXACT_P99 + 1 : QL_EXACT_MEAN + 1, k + 1);
        gp_title(&o, exact_title[k]);
    }
    gp_draw_end(&o);
    return plot_commit(c, &o);
}

/* ---------------------------------------------------------------------------------------
 * whatif.csv from `capsim demo`
 * ------------------------------------------------------------------------------------- */

/* Up to this many what-if rows fit the usual picture height; each further row makes the
 * picture WHATIF_ROW_PX taller, so that the row labels never crowd each other. */
#define WHATIF_ROWS_AT_BASE 12
#define WHATIF_ROW_PX       38

/* Widths in pixels, measured on pngcairo pictures, of one character of a tick label
 * (12 pt) and of a bar-end text (10 pt), and of the margins beside the tick labels; used
 * to leave room to the right of the bars for their texts. */
#define TICK_CHAR_PX     7.5
#define TEXT_CHAR_PX     6.5
#define WHATIF_MARGIN_PX 170

typedef struct whatif_row {
    char *label;      /* the human phrase naming the deployment (owned) */
    char binding[64]; /* the SLO figure that limits its capacity; "" when not given */
    size_t model;     /* index into whatif_set.model */
    int ok;           /* status was ok: the capacity search found an answer */
    double meets_req_s, estimate_req_s, fails_req_s, usd_per_mtok;
} whatif_row;

typedef struct whatif_set {
    whatif_row *rows;
    size_t n, cap;
    char **model; /* distinct models in order of first appearance (owned); "" when absent */
    size_t n_model, model_cap;
} whatif_set;

/* The two charts drawn from the same rows. */
typedef struct whatif_chart {
    const char *name;
    const char *what; /* for the script's head comment */
    const char *title;
    const char *xlabel; /* with units */
    int cost;           /* 0: capacity with its 95% band; 1: cost per million output tokens */
} whatif_chart;

static const whatif_chart WHATIF_CHARTS[] = {
    {"whatif", "capacity under the SLO of every what-if deployment",
     "Capacity under the SLO: every what-if", "capacity under the SLO (req/s, log scale)", 0},
    {"whatif_cost", "cost per million output tokens of every what-if deployment",
     "Cost per million output tokens: every what-if",
     "cost per million output tokens (USD, log scale)", 1},
};

static void whatif_free(whatif_set *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->rows[i].label);
    free(w->rows);
    for (size_t m = 0; m < w->n_model; m++)
        free(w->model[m]);
    free(w->model);
}

/* The index of model in w->model, adding it when new; -1 when out of memory. */
static long whatif_model(whatif_set *w, const char *model)
{
    size_t m = 0;
    while (m < w->n_model && strcmp(w->model[m], model) != 0)
        m++;
    if (m < w->n_model)
        return (long)m;
    char **p = grow(w->model, w->n_model, &w->model_cap, sizeof *p);
    if (p == NULL)
        return -1;
    w->model = p;
    if ((p[m] = strdup(model)) == NULL)
        return -1;
    w->n_model++;
    return (long)m;
}

/* Reads every row, ok or not: a what-if that cannot meet the SLO is drawn as a row too. */
static int whatif_read(plot_ctx *c, csvin *in, size_t ncols, whatif_set *w)
{
    enum { WI_LABEL, WI_STATUS, WI_MEETS, WI_ESTIMATE, WI_FAILS, WI_COST, WI_N };
    static const char *const cols[WI_N] = {"label",
                                           "status",
                                           "rate_meets_req_s",
                                           "rate_estimate_req_s",
                                           "rate_fails_req_s",
                                           "cost_per_million_output_tokens"};
    int idx[WI_N];
    if (input_columns(c, in, cols, idx, WI_N) != 0)
        return -1;
    /* Optional: binding_slo is missing from files of older capsims. */
    int name = csvin_column(in, "name"), model = csvin_column(in, "model"),
        binding = csvin_column(in, "binding_slo");
    int rc;
    while ((rc = input_next(c, in, ncols)) == 1) {
        whatif_row r;
        memset(&r, 0, sizeof r);
        r.ok = strcmp(csvin_field(in, (size_t)idx[WI_STATUS]), "ok") == 0;
        if (input_num(c, in, idx[WI_MEETS], &r.meets_req_s) != 0 ||
            input_num(c, in, idx[WI_ESTIMATE], &r.estimate_req_s) != 0 ||
            input_num(c, in, idx[WI_FAILS], &r.fails_req_s) != 0 ||
            input_num(c, in, idx[WI_COST], &r.usd_per_mtok) != 0)
            return -1;
        if (binding >= 0)
            snprintf(r.binding, sizeof r.binding, "%s", csvin_field(in, (size_t)binding));
        long m = whatif_model(w, model >= 0 ? csvin_field(in, (size_t)model) : "");
        if (m < 0)
            return oom(c);
        r.model = (size_t)m;
        /* A row without a label is named by its folder name, or else by its position. */
        const char *label = csvin_field(in, (size_t)idx[WI_LABEL]);
        char fallback[32];
        if (*label == '\0' && name >= 0)
            label = csvin_field(in, (size_t)name);
        if (*label == '\0') {
            snprintf(fallback, sizeof fallback, "row %zu", w->n + 1);
            label = fallback;
        }
        whatif_row *rows = grow(w->rows, w->n, &w->cap, sizeof *rows);
        if (rows == NULL)
            return oom(c);
        w->rows = rows;
        if ((r.label = strdup(label)) == NULL)
            return oom(c);
        w->rows[w->n++] = r;
    }
    return rc;
}

/* What row r shows on a chart. Returns NULL for a bar of length *value with its 95% band
 * [*low, *high] (both equal to *value where the band is not known, and on the cost chart),
 * or the note written in place of a bar. */
static const char *whatif_bar(const whatif_row *r, const whatif_chart *ch, double *value,
                              double *low, double *high)
{
    *value = *low = *high = NAN;
    if (!r->ok || r->estimate_req_s <= 0)
        return "cannot meet the SLO";
    if (ch->cost) {
        if (!(isfinite(r->usd_per_mtok) && r->usd_per_mtok > 0))
            return "no cost figure";
        *value = *low = *high = r->usd_per_mtok;
        return NULL;
    }
    if (!isfinite(r->estimate_req_s))
        return "no capacity figure";
    *value = *low = *high = r->estimate_req_s;
    if (isfinite(r->meets_req_s) && r->meets_req_s > 0 && r->meets_req_s < *value)
        *low = r->meets_req_s;
    if (isfinite(r->fails_req_s) && r->fails_req_s > *value)
        *high = r->fails_req_s;
    return NULL;
}

/* A figure to three significant digits, without an exponent for large ones. */
static void figure_text(char *out, size_t len, double v)
{
    if (fabs(v) >= 1000)
        snprintf(out, len, "%.0f", v);
    else
        snprintf(out, len, "%.3g", v);
}

/* The text at the end of a bar: the figure with its unit and, for capacity, the SLO figure
 * that limits it when the file says which. */
static void whatif_bar_text(const whatif_row *r, const whatif_chart *ch, double value, char *out,
                            size_t len)
{
    char fig[32];
    figure_text(fig, sizeof fig, value);
    if (ch->cost)
        snprintf(out, len, "%s USD", fig);
    else if (r->binding[0])
        snprintf(out, len, "%s req/s, limited by %s", fig, r->binding);
    else
        snprintf(out, len, "%s req/s", fig);
}

/* One horizontal bar per row, top to bottom in file order, on a log axis so that models
 * whose figures differ a hundredfold both read. One data block (and colour) per model, and
 * a last block of the rows that have no bar, each with a note in its place. */
static int whatif_chart_write(plot_ctx *c, const whatif_set *w, const whatif_chart *ch)
{
    /* The axis starts at a decade at least a factor 2 below the lowest band end, so that
     * the shortest bar is still seen; it ends far enough right that the text after every
     * bar fits, judged from character widths. */
    size_t longest = 0;
    double low_min = INFINITY, high_max = 0;
    for (size_t i = 0; i < w->n; i++) {
        double v, lo, hi;
        size_t len = strlen(w->rows[i].label);
        longest = len > longest ? len : longest;
        if (whatif_bar(&w->rows[i], ch, &v, &lo, &hi) == NULL) {
            low_min = lo < low_min ? lo : low_min;
            high_max = hi > high_max ? hi : high_max;
        }
    }
    double xmin = 1, xmax = 100, tics_end = 100;
    if (isfinite(low_min)) {
        tics_end = pow(10, ceil(log10(high_max)));
        xmin = pow(10, floor(log10(low_min) - log10(2.0)));
        double plot_px = PLOT_WIDTH_PX - TICK_CHAR_PX * (double)longest - WHATIF_MARGIN_PX;
        plot_px = plot_px < 300 ? 300 : plot_px;
        double log_max = log10(high_max) + 0.1;
        for (size_t i = 0; i < w->n; i++) {
            double v, lo, hi;
            char text[160];
            if (whatif_bar(&w->rows[i], ch, &v, &lo, &hi) != NULL)
                continue;
            whatif_bar_text(&w->rows[i], ch, v, text, sizeof text);
            /* The text takes this share of the axis, from hi to the right end. */
            double share = TEXT_CHAR_PX * (double)(strlen(text) + 4) / plot_px;
            share = share > 0.6 ? 0.6 : share;
            double need = (log10(hi) - share * log10(xmin)) / (1 - share);
            log_max = need > log_max ? need : log_max;
        }
        xmax = pow(10, log_max);
    }
    int *block = malloc((w->n_model + 1) * sizeof *block);
    if (block == NULL)
        return oom(c);

    plot_out o;
    if (plot_begin(c, &o, ch->name, ch->what, "whatif.csv", "capsim demo", ch->title) != 0) {
        free(block);
        return -1;
    }
    gp_set_text(&o, "xlabel", ch->xlabel);
    fprintf(o.gp,
            "xmin = %.9g  # the bars start here, a decade at least 2x below the smallest figure\n"
            "xmax = %.9g  # room for the text after each bar\n"
            "set logscale x\n"
            "set xrange [xmin:xmax]\n"
            "set xtics xmin, 10, %.9g  # none over the texts\n"
            "set yrange [%.1f:-0.6]  # row 0 at the top\n"
            "set ytics scale 0\n"
            "set grid noytics\n"
            "set style fill solid 0.75 border -1\n"
            "set key below horizontal maxcols auto maxrows auto width -3 height 0.6 samplen 2 "
            "nobox noopaque\n",
            xmin, xmax, tics_end, (double)w->n - 0.4);
    fputs("# columns: row (0 at the top), bar length, its 95% band low and high end (equal to "
          "the bar length where there is no band), label, text at the end of the bar\n",
          o.dat);

    /* A block per model that has a bar, then the rows without one. */
    int b_none = -1;
    for (size_t m = 0; m < w->n_model; m++) {
        block[m] = -1;
        for (size_t i = 0; i < w->n; i++) {
            double v, lo, hi;
            const whatif_row *r = &w->rows[i];
            if (r->model != m || whatif_bar(r, ch, &v, &lo, &hi) != NULL)
                continue;
            if (block[m] < 0)
                block[m] = dat_block(&o, w->model[m][0] ? w->model[m] : "every row with a bar");
            char text[160];
            whatif_bar_text(r, ch, v, text, sizeof text);
            dat_num(o.dat, (double)i);
            dat_num(o.dat, v);
            dat_num(o.dat, lo);
            dat_num(o.dat, hi);
            fputc(' ', o.dat);
            dat_quote(o.dat, r->label);
            fputc(' ', o.dat);
            dat_quote(o.dat, text);
            fputc('\n', o.dat);
        }
    }
    for (size_t i = 0; i < w->n; i++) {
        double v, lo, hi;
        const char *note = whatif_bar(&w->rows[i], ch, &v, &lo, &hi);
        if (note == NULL)
            continue;
        if (b_none < 0)
            b_none = dat_block(&o, "rows without a bar, with what is said in its place");
        dat_num(o.dat, (double)i);
        fputs(" NaN NaN NaN ", o.dat);
        dat_quote(o.dat, w->rows[i].label);
        fputc(' ', o.dat);
        dat_quote(o.dat, note);
        fputc('\n', o.dat);
    }

    int height_px = PLOT_HEIGHT_PX;
    if (w->n > WHATIF_ROWS_AT_BASE)
        height_px += WHATIF_ROW_PX * (int)(w->n - WHATIF_ROWS_AT_BASE);
    gp_draw_begin_tall(&o, height_px);
    for (size_t m = 0; m < w->n_model; m++) {
        if (block[m] < 0)
            continue;
        gp_clause(&o);
        fprintf(o.gp,
                "'%s.dat' index %d using (xmin):1:(xmin):2:($1-0.32):($1+0.32):ytic(5) "
                "with boxxyerror lc %zu",
                ch->name, block[m], m + 1);
        if (w->model[m][0])
            gp_title(&o, w->model[m]);
        else
            gp_title(&o, ch->cost ? "cost per million output tokens" : "estimated capacity");
    }
    if (!ch->cost) {
        int titled = 0;
        for (size_t m = 0; m < w->n_model; m++) {
            if (block[m] < 0)
                continue;
            gp_clause(&o);
            fprintf(o.gp,
                    "'%s.dat' index %d using 2:1:3:4 with xerrorbars lc rgb '#202020' lw 1.5 "
                    "pt 7 ps 0.5",
                    ch->name, block[m]);
            if (titled++)
                fputs(" notitle", o.gp);
            else
                gp_title(&o, "95% band");
        }
    }
    for (size_t m = 0; m < w->n_model; m++) {
        if (block[m] < 0)
            continue;
        gp_clause(&o);
        fprintf(o.gp,
                "'%s.dat' index %d using 4:1:6 with labels left offset char 0.8,0 font ',10' "
                "notitle",
                ch->name, block[m]);
    }
    if (b_none >= 0) {
        gp_clause(&o);
        fprintf(o.gp,
                "'%s.dat' index %d using (xmin):1:6:ytic(5) with labels left offset char 0.8,0 "
                "tc rgb '#a00000' notitle",
                ch->name, b_none);
    }
    gp_draw_end(&o);
    free(block);
    return plot_commit(c, &o);
}

static int plot_whatif(plot_ctx *c)
{
    csvin *in;
    size_t ncols;
    int rc = input_open(c, "whatif.csv", &in, &ncols);
    if (rc <= 0)
        return rc;
    whatif_set w;
    memset(&w, 0, sizeof w);
    rc = whatif_read(c, in, ncols, &w);
    csvin_close(in);
    for (size_t k = 0; k < sizeof WHATIF_CHARTS / sizeof WHATIF_CHARTS[0] && rc == 0 && w.n > 0;
         k++)
        rc = whatif_chart_write(c, &w, &WHATIF_CHARTS[k]);
    whatif_free(&w);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------
 * Running gnuplot
 * ------------------------------------------------------------------------------------- */

/* Finds an executable file called gnuplot in a directory of PATH. Relative and empty PATH
 * entries are passed over, since gnuplot runs in another directory. Returns 1 and the full
 * path in out, or 0. */
static int find_gnuplot(char *out, size_t len)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0 && p[0] == '/') {
            int w = snprintf(out, len, "%.*s/gnuplot", (int)n, p);
            struct stat st;
            if (w > 0 && (size_t)w < len && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
                access(out, X_OK) == 0)
                return 1;
        }
        if (e == NULL)
            return 0;
        p = e + 1;
    }
}

/* The last non-blank line of gnuplot's output, where it says what went wrong. */
static void last_line(const char *text, char *out, size_t len)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    char line[512];
    size_t n = (size_t)(end - start) < sizeof line - 1 ? (size_t)(end - start) : sizeof line - 1;
    memcpy(line, start, n);
    line[n] = '\0';
    util_printable(n ? line : "no message", out, len);
}

/* Runs gnuplot on NAME.gp in the plots folder, drawing under temporary names, and renames
 * the pictures into place when it succeeds. gnuplot's output is captured: it is shown only
 * in the message when gnuplot fails. */
static int run_gnuplot(plot_ctx *c, const char *gnuplot, const char *name)
{
    static const char *const ext[2] = {"png", "svg"};
    const unsigned flag[2] = {PLOT_PNG, PLOT_SVG};
    char tmp_base[PLOT_NAME_MAX + 32];
    snprintf(tmp_base, sizeof tmp_base, ".%s.tmp-%ld", name, (long)getpid());
    char setting[256];
    snprintf(setting, sizeof setting, "outbase='%s'; formats='%s%s%s'", tmp_base,
             c->formats & PLOT_PNG ? "png" : "", c->formats == (PLOT_PNG | PLOT_SVG) ? " " : "",
             c->formats & PLOT_SVG ? "svg" : "");
    char script[PLOT_NAME_MAX + 8];
    snprintf(script, sizeof script, "%s.gp", name);
    char arg0[] = "gnuplot", arg1[] = "--default-settings", arg2[] = "-e";
    char *argv[] = {arg0, arg1, arg2, setting, script, NULL};

    int fds[2];
    if (pipe(fds) != 0) {
        util_errf(c->err, c->errlen, "cannot run gnuplot: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        util_errf(c->err, c->errlen, "cannot run gnuplot: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: stdin from /dev/null, stdout and stderr into the pipe. Only
         * async-signal-safe calls from here to exec. */
        close(fds[0]);
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0 && null_fd != STDIN_FILENO) {
            dup2(null_fd, STDIN_FILENO);
            close(null_fd);
        }
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        if (fds[1] > STDERR_FILENO)
            close(fds[1]);
        if (chdir(c->rep->plots_dir) != 0) {
            static const char msg[] = "cannot enter the plots folder\n";
            if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
                _exit(126);
            _exit(126);
        }
        execv(gnuplot, argv);
        static const char msg[] = "cannot execute gnuplot\n";
        if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
            _exit(127);
        _exit(127);
    }
    close(fds[1]);
    /* Keep the end of the output, where an error message is. */
    char out[4096];
    size_t n = 0;
    for (;;) {
        char chunk[1024];
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t g = (size_t)got;
        if (n + g > sizeof out - 1) {
            size_t drop = n + g - (sizeof out - 1);
            memmove(out, out + drop, n - drop);
            n -= drop;
        }
        memcpy(out + n, chunk, g);
        n += g;
    }
    out[n] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            util_errf(c->err, c->errlen, "waiting for gnuplot: %s", strerror(errno));
            status = -1;
            break;
        }
    }
    int ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;

    char tmp[2][4096 + 128], final[2][4096 + 128];
    for (int k = 0; k < 2; k++) {
        snprintf(tmp[k], sizeof tmp[k], "%s/%s.%s", c->rep->plots_dir, tmp_base, ext[k]);
        snprintf(final[k], sizeof final[k], "%s/%s.%s", c->rep->plots_dir, name, ext[k]);
    }
    if (ok) {
        for (int k = 0; k < 2 && ok; k++) {
            struct stat st;
            if ((c->formats & flag[k]) && (stat(tmp[k], &st) != 0 || st.st_size == 0)) {
                util_errf(c->err, c->errlen, "gnuplot did not draw %s.%s from %s/%s.gp", name,
                          ext[k], c->rep->plots_dir, name);
                ok = 0;
            }
        }
        for (int k = 0; k < 2 && ok; k++) {
            if ((c->formats & flag[k]) && rename(tmp[k], final[k]) != 0) {
                util_errf(c->err, c->errlen, "cannot rename '%s' to '%s': %s", tmp[k], final[k],
                          strerror(errno));
                ok = 0;
            }
        }
    } else if (status != -1) {
        char msg[512];
        last_line(out, msg, sizeof msg);
        util_errf(c->err, c->errlen, "gnuplot failed on %s/%s.gp: %s", c->rep->plots_dir, name,
                  msg);
    }
    if (!ok)
        for (int k = 0; k < 2; k++)
            remove(tmp[k]);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------
 * The folder
 * ------------------------------------------------------------------------------------- */

/* The input files, each with the reader that draws its plots, in the order plotted. */
typedef struct plot_source {
    const char *file;
    int (*draw)(plot_ctx *c);
} plot_source;

static const plot_source SOURCES[] = {
    {"summary.csv", plot_summary},   {"timeseries.csv", plot_timeseries},
    {"requests.csv", plot_requests}, {"frontier.csv", plot_frontier},
    {"search.csv", plot_search},     {"load.csv", plot_queue_load},
    {"whatif.csv", plot_whatif},     {"fit.csv", plot_calibration},
    {"fit_points.csv", plot_calibration_steps},
};

int plot_dir(const char *dir, unsigned formats, plot_report *rep, char *err, size_t errlen)
{
    assert(dir != NULL && rep != NULL);
    assert(formats != 0 && (formats & ~(PLOT_PNG | PLOT_SVG)) == 0);
    memset(rep, 0, sizeof *rep);
    plot_ctx c = {.formats = formats, .rep = rep, .err = err, .errlen = errlen};
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

    for (size_t i = 0; i < sizeof SOURCES / sizeof SOURCES[0]; i++)
        if (SOURCES[i].draw(&c) != 0)
            return -1;
    if (rep->n_written == 0)
        return 0;
    char gnuplot[4096];
    if (!find_gnuplot(gnuplot, sizeof gnuplot)) {
        rep->gnuplot_missing = 1;
        return 0;
    }
    for (size_t i = 0; i < rep->n_written; i++) {
        if (run_gnuplot(&c, gnuplot, rep->names[i]) != 0)
            return -1;
        rep->n_drawn++;
    }
    return 0;
}
