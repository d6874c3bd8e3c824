/*
 * plot_whatif: the whatif family, drawn from whatif.csv (`capsim demo`): two dot plots
 * with one row per what-if deployment, top to bottom in file order, coloured by model, on
 * a log axis with plain tick labels: whatif, the capacity under the SLO with its 95% band
 * and the SLO figure that limits it, and whatif_cost, the cost per million output tokens.
 * A dot is read at its position, where a bar on a log axis would be read by a length that
 * depends on where the axis starts. A row that cannot meet the SLO (or has no cost) keeps
 * its place and label, with a note instead of a dot. Files from before the binding_slo column are
 * read too.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/gp.h"

/* Up to this many what-if rows fit the usual picture height; each further row makes the
 * picture WHATIF_ROW_PX taller, so that the row labels never crowd each other. */
#define WHATIF_ROWS_AT_BASE 12
#define WHATIF_ROW_PX       38

/* Widths in pixels, measured on pngcairo pictures, of one character of a tick label
 * (12 pt) and of a text after a dot (10 pt), and of the margins beside the tick labels; used
 * to leave room to the right of the dots for their texts. */
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
     "Capacity under the SLO: every what-if",
     "capacity under the SLO, with its 95% band (req/s, log scale)", 0},
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
    char **p = gp_grow(w->model, w->n_model, &w->model_cap, sizeof *p);
    if (p == NULL)
        return -1;
    w->model = p;
    if ((p[m] = strdup(model)) == NULL)
        return -1;
    w->n_model++;
    return (long)m;
}

/* Reads every row, ok or not: a what-if that cannot meet the SLO is drawn as a row too. */
static int whatif_read(gp_ctx *c, csvin *in, size_t ncols, whatif_set *w)
{
    enum { WI_LABEL, WI_STATUS, WI_MEETS, WI_ESTIMATE, WI_FAILS, WI_COST, WI_N };
    static const char *const cols[WI_N] = {"label",
                                           "status",
                                           "rate_meets_req_s",
                                           "rate_estimate_req_s",
                                           "rate_fails_req_s",
                                           "cost_per_million_output_tokens"};
    int idx[WI_N];
    if (gp_input_columns(c, in, cols, idx, WI_N) != 0)
        return -1;
    /* Optional: binding_slo is missing from files of older capsims. */
    int name = csvin_column(in, "name"), model = csvin_column(in, "model"),
        binding = csvin_column(in, "binding_slo");
    int rc;
    while ((rc = gp_input_next(c, in, ncols)) == 1) {
        whatif_row r;
        memset(&r, 0, sizeof r);
        r.ok = strcmp(csvin_field(in, (size_t)idx[WI_STATUS]), "ok") == 0;
        if (gp_input_num(c, in, idx[WI_MEETS], &r.meets_req_s) != 0 ||
            gp_input_num(c, in, idx[WI_ESTIMATE], &r.estimate_req_s) != 0 ||
            gp_input_num(c, in, idx[WI_FAILS], &r.fails_req_s) != 0 ||
            gp_input_num(c, in, idx[WI_COST], &r.usd_per_mtok) != 0)
            return -1;
        if (binding >= 0)
            snprintf(r.binding, sizeof r.binding, "%s", csvin_field(in, (size_t)binding));
        long m = whatif_model(w, model >= 0 ? csvin_field(in, (size_t)model) : "");
        if (m < 0)
            return gp_oom(c);
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
        whatif_row *rows = gp_grow(w->rows, w->n, &w->cap, sizeof *rows);
        if (rows == NULL)
            return gp_oom(c);
        w->rows = rows;
        if ((r.label = strdup(label)) == NULL)
            return gp_oom(c);
        w->rows[w->n++] = r;
    }
    return rc;
}

/* What row r shows on a chart. Returns NULL for a dot at *value with its 95% band
 * [*low, *high] (both equal to *value where the band is not known, and on the cost chart),
 * or the note written in place of a dot. */
static const char *whatif_dot(const whatif_row *r, const whatif_chart *ch, double *value,
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

/* The text after a dot: the figure with its unit and, for capacity, the SLO figure
 * that limits it when the file says which. */
static void whatif_dot_text(const whatif_row *r, const whatif_chart *ch, double value, char *out,
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

/* The x axis of a chart: it starts at a decade at least a factor 2 below the lowest band
 * end, so that the lowest band is clear of the labels, and ends far enough right that the text
 * after every dot fits, judged from character widths. The tics end at the decade above the
 * highest band end, so that none is drawn over the texts. */
static void whatif_axis(const whatif_set *w, const whatif_chart *ch, double *xmin, double *xmax,
                        double *tics_end)
{
    size_t longest = 0;
    double low_min = INFINITY, high_max = 0;
    for (size_t i = 0; i < w->n; i++) {
        double v, lo, hi;
        size_t len = strlen(w->rows[i].label);
        longest = len > longest ? len : longest;
        if (whatif_dot(&w->rows[i], ch, &v, &lo, &hi) == NULL) {
            low_min = lo < low_min ? lo : low_min;
            high_max = hi > high_max ? hi : high_max;
        }
    }
    *xmin = 1;
    *xmax = 100;
    *tics_end = 100;
    if (isfinite(low_min)) {
        *tics_end = pow(10, ceil(log10(high_max)));
        *xmin = pow(10, floor(log10(low_min) - log10(2.0)));
        double plot_px = GP_WIDTH_PX - TICK_CHAR_PX * (double)longest - WHATIF_MARGIN_PX;
        plot_px = plot_px < 300 ? 300 : plot_px;
        double log_max = log10(high_max) + 0.1;
        for (size_t i = 0; i < w->n; i++) {
            double v, lo, hi;
            char text[160];
            if (whatif_dot(&w->rows[i], ch, &v, &lo, &hi) != NULL)
                continue;
            whatif_dot_text(&w->rows[i], ch, v, text, sizeof text);
            /* The text takes this share of the axis, from hi to the right end. */
            double share = TEXT_CHAR_PX * (double)(strlen(text) + 4) / plot_px;
            share = share > 0.6 ? 0.6 : share;
            double need = (log10(hi) - share * log10(*xmin)) / (1 - share);
            log_max = need > log_max ? need : log_max;
        }
        *xmax = pow(10, log_max);
    }
}

/* Writes the data blocks of a chart: one per model that has a dot (its number in
 * block[model], else -1), then the rows without a dot. Returns the number of that last
 * block, or -1 when every row has a dot. */
static int whatif_data(gp_plot *o, const whatif_set *w, const whatif_chart *ch, int *block)
{
    int b_none = -1;
    for (size_t m = 0; m < w->n_model; m++) {
        block[m] = -1;
        for (size_t i = 0; i < w->n; i++) {
            double v, lo, hi;
            const whatif_row *r = &w->rows[i];
            if (r->model != m || whatif_dot(r, ch, &v, &lo, &hi) != NULL)
                continue;
            if (block[m] < 0)
                block[m] = gp_dat_block(o, w->model[m][0] ? w->model[m] : "every row with a dot");
            char text[160];
            whatif_dot_text(r, ch, v, text, sizeof text);
            gp_dat_num(o->dat, (double)i);
            gp_dat_num(o->dat, v);
            gp_dat_num(o->dat, lo);
            gp_dat_num(o->dat, hi);
            fputc(' ', o->dat);
            gp_dat_quote(o->dat, r->label);
            fputc(' ', o->dat);
            gp_dat_quote(o->dat, text);
            fputc('\n', o->dat);
        }
    }
    for (size_t i = 0; i < w->n; i++) {
        double v, lo, hi;
        const char *note = whatif_dot(&w->rows[i], ch, &v, &lo, &hi);
        if (note == NULL)
            continue;
        if (b_none < 0)
            b_none = gp_dat_block(o, "rows without a dot, with what is said in its place");
        gp_dat_num(o->dat, (double)i);
        fputs(" NaN NaN NaN ", o->dat);
        gp_dat_quote(o->dat, w->rows[i].label);
        fputc(' ', o->dat);
        gp_dat_quote(o->dat, note);
        fputc('\n', o->dat);
    }
    return b_none;
}

/* Writes the plot clauses: a dot per row at its figure, coloured by model, with its 95%
 * band as a horizontal error bar (capacity only), the texts after the dots, and the notes
 * of the rows without one. */
static void whatif_clauses(gp_plot *o, const whatif_set *w, const whatif_chart *ch,
                           const int *block, int b_none)
{
    for (size_t m = 0; m < w->n_model; m++) {
        if (block[m] < 0)
            continue;
        gp_clause(o);
        if (ch->cost)
            fprintf(o->gp, "'%s.dat' index %d using 2:1:ytic(5) with points lc %zu pt 7 ps 1.8",
                    ch->name, block[m], m + 1);
        else
            fprintf(o->gp,
                    "'%s.dat' index %d using 2:1:3:4:ytic(5) with xerrorbars lc %zu lw 2 pt 7 "
                    "ps 1.8",
                    ch->name, block[m], m + 1);
        if (w->model[m][0])
            gp_title(o, w->model[m]);
        else
            gp_title(o, ch->cost ? "cost per million output tokens" : "estimated capacity");
    }
    for (size_t m = 0; m < w->n_model; m++) {
        if (block[m] < 0)
            continue;
        gp_clause(o);
        fprintf(o->gp,
                "'%s.dat' index %d using 4:1:6 with labels left offset char 1.2,0 font ',10' "
                "notitle",
                ch->name, block[m]);
    }
    if (b_none >= 0) {
        gp_clause(o);
        fprintf(o->gp,
                "'%s.dat' index %d using (xmin):1:6:ytic(5) with labels left offset char 0.8,0 "
                "tc rgb '#a00000' notitle",
                ch->name, b_none);
    }
}

/* One dot per row, top to bottom in file order, on a log axis so that models
 * whose figures differ a hundredfold both read. One data block (and colour) per model, and
 * a last block of the rows that have no dot, each with a note in its place. */
static int whatif_chart_write(gp_ctx *c, const whatif_set *w, const whatif_chart *ch)
{
    double xmin, xmax, tics_end;
    whatif_axis(w, ch, &xmin, &xmax, &tics_end);
    int *block = malloc((w->n_model + 1) * sizeof *block);
    if (block == NULL)
        return gp_oom(c);

    gp_plot o;
    if (gp_begin(c, &o, ch->name, ch->what, ch->title) != 0) {
        free(block);
        return -1;
    }
    gp_set_text(&o, "xlabel", ch->xlabel);
    fprintf(o.gp,
            "xmin = %.9g  # a decade at least 2x below the smallest figure\n"
            "xmax = %.9g  # room for the text after each dot\n"
            "set logscale x\n"
            "set xrange [xmin:xmax]\n"
            "set xtics xmin, 10, %.9g  # none over the texts\n"
            "set yrange [%.1f:-0.6]  # row 0 at the top\n"
            "set ytics scale 0\n"
            "set grid noytics\n"
            "set format x '%%g'\n"
            "set key below horizontal maxcols auto maxrows auto width -3 height 0.6 samplen 2 "
            "nobox noopaque\n",
            xmin, xmax, tics_end, (double)w->n - 0.4);
    fputs("# columns: row (0 at the top), figure, its 95% band low and high end (equal to "
          "the figure where there is no band), label, text after the dot\n",
          o.dat);

    int b_none = whatif_data(&o, w, ch, block);

    int height_px = GP_HEIGHT_PX;
    if (w->n > WHATIF_ROWS_AT_BASE)
        height_px += WHATIF_ROW_PX * (int)(w->n - WHATIF_ROWS_AT_BASE);
    gp_draw_begin_tall(&o, height_px);
    whatif_clauses(&o, w, ch, block, b_none);
    gp_draw_end(&o);
    free(block);
    return gp_commit(c, &o);
}

static int draw_whatif(gp_ctx *c, csvin *in, size_t ncols)
{
    whatif_set w;
    memset(&w, 0, sizeof w);
    int rc = whatif_read(c, in, ncols, &w);
    for (size_t k = 0; k < sizeof WHATIF_CHARTS / sizeof WHATIF_CHARTS[0] && rc == 0 && w.n > 0;
         k++)
        rc = whatif_chart_write(c, &w, &WHATIF_CHARTS[k]);
    whatif_free(&w);
    return rc < 0 ? -1 : 0;
}

static const plot_source SOURCES[] = {
    {"whatif.csv", "capsim demo",
     "capacity under the SLO and cost per million output tokens of every what-if deployment, "
     "as dots with their 95% bands on a log axis",
     "whatif, whatif_cost", draw_whatif},
};

const plot_family plot_family_whatif = {"whatif", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
