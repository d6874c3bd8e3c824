/*
 * gp: the machinery every plot family shares (see gp.h): writing scripts and data files
 * atomically, quoting what comes from the CSV files, reading those files, and running
 * gnuplot. It knows nothing of any particular plot.
 */
#define _POSIX_C_SOURCE 200809L
#include "plots/gp.h"

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

/* Above this many key entries the key moves outside the plot, below it. */
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
void gp_quote(FILE *fp, const char *s)
{
    put_text(fp, s, '\'', "''");
}

/* A double-quoted string in a data file. gnuplot's data reader has no escapes, so a double
 * quote inside becomes a single one. */
void gp_dat_quote(FILE *fp, const char *s)
{
    put_text(fp, s, '"', "'");
}

/* Text after "# " on a comment line. */
static void comment_text(FILE *fp, const char *s)
{
    put_text(fp, s, 0, NULL);
}

/* Writes a number for gnuplot to read: NaN (a missing figure) as "NaN", which it skips. */
void gp_dat_num(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, " %.9g", x);
    else
        fputs(" NaN", fp);
}

/* A 95% half-width for an error bar: a missing one (one replication) draws no bar. */
double gp_ci_or_zero(double ci)
{
    return isfinite(ci) ? ci : 0.0;
}

/* Grows an array to hold at least n + 1 items of size bytes. Returns the (possibly moved)
 * array, or NULL when out of memory, in which case p is still valid. */
void *gp_grow(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    size_t want = *cap ? 2 * *cap : 64;
    void *q = realloc(p, want * size);
    if (q != NULL)
        *cap = want;
    return q;
}

void gp_axis_init(gp_axis *a)
{
    a->min_pos = INFINITY;
    a->max_pos = 0;
    a->nonpositive = 0;
}

void gp_axis_add(gp_axis *a, double x)
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
int gp_axis_wants_log(const gp_axis *a)
{
    return !a->nonpositive && a->max_pos > 0 && a->max_pos / a->min_pos > LOG_RANGE_FACTOR;
}

/* ---------------------------------------------------------------------------------------
 * Writing one plot
 * ------------------------------------------------------------------------------------- */

void gp_abort(gp_plot *o)
{
    util_atomic_abort(&o->f[0]);
    util_atomic_abort(&o->f[1]);
}

/* The script's head: what it draws, where its data came from, how to redraw it, the output
 * defaults and the settings every plot shares. */
int gp_begin(gp_ctx *c, gp_plot *o, const char *name, const char *what, const char *title)
{
    const char *source_file = c->src->file, *source_cmd = c->src->command;
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
        gp_abort(o);
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
            "# capsim plot keeps this file once you edit it (writing its new script as\n"
            "# %s.new.gp beside it); capsim plot --force replaces it.\n"
            "\n",
            name, what, source_file, source_cmd, name, name, name, name, name);
    fprintf(gp,
            "if (!exists('outbase')) outbase = '%s'\n"
            "if (!exists('formats')) formats = 'png svg'\n"
            "\n"
            "set encoding utf8\n"
            "set grid back lt 1 lc rgb '#e0e0e0' lw 1\n"
            "set border lw 1.2\n"
            "set key opaque box lc rgb '#b0b0b0' samplen 3 spacing 1.15\n"
            "set tics out nomirror\n"
            "set format x '%%g'\n"
            "set format y '%%g'\n"
            "set title ",
            name);
    gp_quote(gp, title);
    fputs(" font ',15'\n", gp);

    fprintf(o->dat, "# Data for %s.gp, written by `capsim plot` from ../%s.\n", name, source_file);
    return 0;
}

/* Writes "set KEYWORD 'text'" (xlabel, ylabel, ...). */
void gp_set_text(gp_plot *o, const char *keyword, const char *text)
{
    fprintf(o->gp, "set %s ", keyword);
    gp_quote(o->gp, text);
    fputc('\n', o->gp);
}

/* Places the key inside at where when it has few entries, else (or when where is NULL)
 * below the plot in columns, where it can never hide data and leaves the plot its full
 * width. */
void gp_key(gp_plot *o, int entries, const char *where)
{
    if (entries > KEY_INSIDE_MAX || where == NULL)
        fprintf(o->gp, "set key below horizontal maxcols %d nobox noopaque height 1 font ',10'\n",
                entries > 3 * KEY_INSIDE_MAX ? 3 : 2);
    else
        fprintf(o->gp, "set key inside %s\n", where);
}

/* A log y axis starting at the decade below the smallest value: error bars reaching zero
 * or below would otherwise pull the axis down by decades. */
void gp_log_y(gp_plot *o, const gp_axis *a)
{
    fprintf(o->gp, "set logscale y\nset yrange [%g:*]\n", pow(10, floor(log10(a->min_pos))));
}

/* Opens the loop that draws the picture once per output format, height_px tall. */
void gp_draw_begin_tall(gp_plot *o, int height_px)
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
            GP_WIDTH_PX, height_px, GP_WIDTH_PX, height_px);
    o->n_clauses = 0;
}

/* Opens the drawing loop at the usual picture size. */
void gp_draw_begin(gp_plot *o)
{
    gp_draw_begin_tall(o, GP_HEIGHT_PX);
}

/* Starts the next clause of the plot command: "plot " for the first, ", \" after. */
void gp_clause(gp_plot *o)
{
    fputs(o->n_clauses++ ? ", \\\n         " : "    plot ", o->gp);
}

/* Writes " title 'text'" ending a clause. */
void gp_title(gp_plot *o, const char *text)
{
    fputs(" title ", o->gp);
    gp_quote(o->gp, text);
}

void gp_draw_end(gp_plot *o)
{
    fputs("\n    unset output\n}\n", o->gp);
}

/* Starts data block number N (gnuplot's `index N`) with a comment saying what it holds. */
int gp_dat_block(gp_plot *o, const char *what)
{
    if (o->n_blocks > 0)
        fputs("\n\n", o->dat);
    fprintf(o->dat, "# index %d: ", o->n_blocks);
    comment_text(o->dat, what);
    fputc('\n', o->dat);
    return o->n_blocks++;
}

/* True when the NAME.gp already in place was edited by the user: it differs from the
 * script just written (o's temporary file) and from what the MANIFEST records capsim
 * wrote there. Without a record, a script that differs is taken as edited: a script
 * is never overwritten on a guess. */
static int script_edited(gp_ctx *c, gp_plot *o)
{
    uint64_t old_hash, old_bytes, new_hash, new_bytes;
    if (outdir_hash_file(o->f[0].final_path, &old_hash, &old_bytes) != 0)
        return 0;
    if (fflush(o->gp) == 0 && outdir_hash_file(o->f[0].tmp_path, &new_hash, &new_bytes) == 0 &&
        new_hash == old_hash && new_bytes == old_bytes)
        return 0;
    char rel[4096 + 64];
    snprintf(rel, sizeof rel, "%splots/%s.gp", c->manifest_prefix, o->name);
    const outdir_entry *e = outdir_manifest_find(&c->manifest, rel);
    return !(e && e->hash == old_hash && e->bytes == old_bytes);
}

/* Commits the script and data file together and records the plot in the report. A script
 * the user edited stays (unless forced): the new one goes to NAME.new.gp. */
int gp_commit(gp_ctx *c, gp_plot *o)
{
    int keep = !c->force && script_edited(c, o);
    if (keep) {
        char path[sizeof c->rep->plots_dir + PLOT_NAME_MAX + 8];
        snprintf(path, sizeof path, "%s/%s.new.gp", c->rep->plots_dir, o->name);
        if (strlen(path) >= sizeof o->f[0].final_path) {
            util_errf(c->err, c->errlen, "'%s': path too long", path);
            gp_abort(o);
            return -1;
        }
        memcpy(o->f[0].final_path, path, strlen(path) + 1);
    }
    if (util_atomic_commit_all(o->f, 2, c->err, c->errlen) != 0)
        return -1;
    if (keep)
        snprintf(c->rep->kept[c->rep->n_kept++], PLOT_NAME_MAX, "%s", o->name);
    snprintf(c->rep->names[c->rep->n_written++], PLOT_NAME_MAX, "%s", o->name);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Units, tick labels and SLO targets
 * ------------------------------------------------------------------------------------- */

double gp_latency_unit(double max_ms, const char **unit)
{
    int seconds = isfinite(max_ms) && max_ms > GP_SECONDS_FROM_MS;
    *unit = seconds ? "s" : "ms";
    return seconds ? 1e3 : 1.0;
}

/* gnuplot's %g writes a million as 1e+06; its %s%c writes it as 1M, but a tenth as 100m,
 * so the SI form is kept for axes that reach a million. */
void gp_tick_format(gp_plot *o, const char *axis, double max_abs)
{
    fprintf(o->gp, "set format %s '%s'\n", axis,
            isfinite(max_abs) && max_abs >= 1e6 ? "%.0s%c" : "%g");
}

/* The value of one "name=value" item of an SLO text, in ms: seconds unless it ends in ms
 * or s. NaN when it is not a positive number. */
static double slo_value_ms(const char *v)
{
    char num[64];
    size_t len = strlen(v);
    double scale = 1e3;
    if (len > 2 && strcmp(v + len - 2, "ms") == 0) {
        len -= 2;
        scale = 1;
    } else if (len > 1 && v[len - 1] == 's') {
        len -= 1;
    }
    if (len == 0 || len >= sizeof num)
        return NAN;
    memcpy(num, v, len);
    num[len] = '\0';
    double x;
    return util_parse_double(num, &x) == 0 && x > 0 && isfinite(x) ? scale * x : NAN;
}

double gp_slo_limit_ms(const char *slo, const char *metric, const char *pct)
{
    char want[64];
    snprintf(want, sizeof want, "%s_%s=", metric, pct);
    size_t wlen = strlen(want);
    for (const char *p = slo; *p;) {
        size_t len = strcspn(p, ",");
        char item[128];
        if (len < sizeof item && len > wlen && strncmp(p, want, wlen) == 0) {
            memcpy(item, p + wlen, len - wlen);
            item[len - wlen] = '\0';
            return slo_value_ms(item);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return NAN;
}

/* The limit sits at most at 80% of the axis, so its line never lies on the frame and the
 * points just above it still show; the data keep 5% of room above them. */
double gp_top_with_limit(double data_max, double limit)
{
    double top = isfinite(data_max) && data_max > 0 ? 1.05 * data_max : 1.0;
    if (isfinite(limit) && limit > 0 && top < 1.25 * limit)
        top = 1.25 * limit;
    return top;
}

void gp_folder_value(gp_ctx *c, const char *file, const char *col, char *out, size_t len)
{
    out[0] = '\0';
    csvin *in;
    size_t ncols;
    char *err = c->err;
    size_t errlen = c->errlen;
    char quiet[256];
    /* A neighbour file that cannot be read only leaves its value out. */
    c->err = quiet;
    c->errlen = sizeof quiet;
    if (gp_input_open(c, file, &in, &ncols) == 1) {
        int k = csvin_column(in, col);
        if (k >= 0 && csvin_next(in) == 1 && (size_t)k < csvin_nfields(in))
            snprintf(out, len, "%s", csvin_field(in, (size_t)k));
        csvin_close(in);
    }
    c->err = err;
    c->errlen = errlen;
}

void gp_folder_title(gp_ctx *c, const char *file, const char *title, char *out, size_t len)
{
    char model[128], gpu[64];
    gp_folder_value(c, file, "model", model, sizeof model);
    gp_folder_value(c, file, "gpu", gpu, sizeof gpu);
    if (model[0] && gpu[0])
        snprintf(out, len, "%s (%s on %s)", title, model, gpu);
    else if (model[0])
        snprintf(out, len, "%s (%s)", title, model);
    else
        snprintf(out, len, "%s", title);
}

/* ---------------------------------------------------------------------------------------
 * Reading the CSV files
 * ------------------------------------------------------------------------------------- */

/* Opens DIR/file and reads its header. Returns 1 with *in open and *ncols set, 0 when there
 * is no such file (nothing to plot from it), -1 with a message on failure. */
int gp_input_open(gp_ctx *c, const char *file, csvin **in, size_t *ncols)
{
    char path[4096 + 64];
    snprintf(path, sizeof path, "%s/%s", c->dir, file);
    /* A file the folder's MANIFEST does not list was left by an earlier run (or put there
     * by hand): it is not this run's result. */
    if (c->filter_inputs && outdir_manifest_find(&c->manifest, file) == NULL)
        return 0;
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
int gp_input_columns(gp_ctx *c, const csvin *in, const char *const *names, int *idx, size_t n)
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
int gp_input_next(gp_ctx *c, csvin *in, size_t ncols)
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
int gp_input_num(gp_ctx *c, const csvin *in, int col, double *out)
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

int gp_oom(gp_ctx *c)
{
    util_errf(c->err, c->errlen, "out of memory");
    return -1;
}

int gp_dvec_push(gp_dvec *d, double x)
{
    double *p = gp_grow(d->v, d->n, &d->cap, sizeof *p);
    if (p == NULL)
        return -1;
    d->v = p;
    d->v[d->n++] = x;
    return 0;
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

/* Starts gnuplot with argv in the plots folder, its stdin from /dev/null and its stdout
 * and stderr into a pipe. Returns the child's pid with the pipe's read end in *out_fd, or
 * -1 with a message. */
static pid_t gnuplot_start(gp_ctx *c, const char *gnuplot, char *const argv[], int *out_fd)
{
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
        /* The child: only async-signal-safe calls from here to exec. */
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
    *out_fd = fds[0];
    return pid;
}

/* Reads fd to its end, keeping the last len - 1 bytes (where an error message is) in out,
 * and closes it. */
static void read_tail(int fd, char *out, size_t len)
{
    size_t n = 0;
    for (;;) {
        char chunk[1024];
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t g = (size_t)got;
        if (n + g > len - 1) {
            size_t drop = n + g - (len - 1);
            memmove(out, out + drop, n - drop);
            n -= drop;
        }
        memcpy(out + n, chunk, g);
        n += g;
    }
    out[n] = '\0';
    close(fd);
}

/* After gnuplot succeeded: checks it drew every picture asked for under its temporary name
 * and renames them into place. */
static int pictures_commit(gp_ctx *c, const char *name, char tmp[2][4096 + 128],
                           char final[2][4096 + 128])
{
    static const char *const ext[2] = {"png", "svg"};
    const unsigned flag[2] = {PLOT_PNG, PLOT_SVG};
    for (int k = 0; k < 2; k++) {
        struct stat st;
        if ((c->formats & flag[k]) && (stat(tmp[k], &st) != 0 || st.st_size == 0)) {
            util_errf(c->err, c->errlen, "gnuplot did not draw %s.%s from %s/%s.gp", name, ext[k],
                      c->rep->plots_dir, name);
            return 0;
        }
    }
    for (int k = 0; k < 2; k++) {
        if ((c->formats & flag[k]) && util_install_file(tmp[k], final[k], c->err, c->errlen) != 0)
            return 0;
    }
    return 1;
}

/* Runs gnuplot on NAME.gp in the plots folder, drawing under temporary names, and renames
 * the pictures into place when it succeeds. gnuplot's output is captured: it is shown only
 * in the message when gnuplot fails. */
static int run_gnuplot(gp_ctx *c, const char *gnuplot, const char *name)
{
    static const char *const ext[2] = {"png", "svg"};
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

    int fd;
    pid_t pid = gnuplot_start(c, gnuplot, argv, &fd);
    if (pid < 0)
        return -1;
    char out[4096];
    read_tail(fd, out, sizeof out);
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
        ok = pictures_commit(c, name, tmp, final);
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

int gp_run_all(gp_ctx *c)
{
    plot_report *rep = c->rep;
    char gnuplot[4096];
    if (!find_gnuplot(gnuplot, sizeof gnuplot)) {
        rep->gnuplot_missing = 1;
        return 0;
    }
    for (size_t i = 0; i < rep->n_written; i++) {
        if (run_gnuplot(c, gnuplot, rep->names[i]) != 0)
            return -1;
        rep->n_drawn++;
    }
    return 0;
}
