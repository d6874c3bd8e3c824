/*
 * test_plot: the plots module on small result files written by the test into a temporary
 * folder: which plots a folder gives, the labels and units in the scripts, the derived data
 * (CDFs, the first replication of a time series, configurations of a sweep), errors that
 * name file, line and column, the path without gnuplot, and the pictures when gnuplot is
 * installed.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, setenv, nftw */
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plots/gp.h"
#include "plots/plot.h"
#include "tests/check.h"

/* ---- A temporary folder per test ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmpdir_make(char *dir, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, len, "%s/capsim-plot-XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
}

static void tmpdir_remove(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, fp);
    fclose(fp);
}

/* The whole file as a string (malloc'd), or NULL when it cannot be read. */
static char *read_file(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t got;
    while (s != NULL && (got = fread(s + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *p = realloc(s, 2 * cap);
            if (p == NULL) {
                free(s);
                s = NULL;
                break;
            }
            s = p;
            cap *= 2;
        }
    }
    fclose(fp);
    if (s != NULL)
        s[n] = '\0';
    return s;
}

static int file_exists(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

/* True if a file in dir has ".tmp" in its name (a temporary picture or script). */
static int dir_has_temporary(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        found |= strstr(e->d_name, ".tmp") != NULL;
    closedir(d);
    return found;
}

static int report_has(const plot_report *rep, const char *name)
{
    for (size_t i = 0; i < rep->n_written; i++)
        if (strcmp(rep->names[i], name) == 0)
            return 1;
    return 0;
}

/* Checks that NAME.gp in plots holds every text of want[], NULL-terminated. */
static void check_script(const char *plots, const char *name, const char *const *want)
{
    char file[64];
    snprintf(file, sizeof file, "%s.gp", name);
    char *gp = read_file(plots, file);
    if (!CHECK(gp != NULL))
        return;
    for (size_t i = 0; want[i] != NULL; i++)
        CHECK_CONTAINS(gp, want[i]);
    /* Every script says where it came from and draws both formats. */
    CHECK_CONTAINS(gp, "capsim plot");
    CHECK_CONTAINS(gp, "set terminal pngcairo size 1000,620");
    CHECK_CONTAINS(gp, "set terminal svg size 1000,620");
    CHECK_CONTAINS(gp, "set grid");
    CHECK_CONTAINS(gp, "set title ");
    free(gp);
}

/* Data row `row` (lines that are neither comments nor blank) of block `index` of a .dat
 * text, blocks being separated by two blank lines: its start, with its length in *len; NULL
 * when there is no such row. */
static const char *dat_row(const char *dat, int index, size_t row, size_t *len)
{
    int block = -1;
    size_t r = 0;
    int blank_run = 2;
    for (const char *p = dat; *p;) {
        const char *e = strchr(p, '\n');
        *len = e ? (size_t)(e - p) : strlen(p);
        if (*len == 0) {
            blank_run++;
        } else if (*p != '#') {
            if (blank_run >= 2)
                block++;
            blank_run = 0;
            if (block == index && r++ == row)
                return p;
        }
        p += *len + (e ? 1 : 0);
    }
    return NULL;
}

/* The first two numbers of the data rows of block `index` of a .dat text. */
static size_t dat_rows(const char *dat, int index, double *x, double *y, size_t max)
{
    size_t n = 0, len;
    for (const char *p; n < max && (p = dat_row(dat, index, n, &len)) != NULL; n++) {
        char *end;
        x[n] = strtod(p, &end);
        y[n] = strtod(end, NULL);
    }
    return n;
}

/* Every number of data row `row` of block `index` of a .dat text (quoted texts skipped),
 * into v; returns how many. */
static size_t dat_cols(const char *dat, int index, size_t row, double *v, size_t max)
{
    size_t n = 0, len;
    const char *p = dat_row(dat, index, row, &len);
    for (const char *q = p; p && q < p + len && n < max;) {
        char *end;
        double x = strtod(q, &end);
        if (end == q) {
            q++;
            continue;
        }
        v[n++] = x;
        q = end;
    }
    return n;
}

/* The two ends of "set yrange [LO:HI]" in a script; 0 when it has none. */
static int script_yrange(const char *gp, double *lo, double *hi)
{
    const char *p = gp ? strstr(gp, "set yrange [") : NULL;
    return p != NULL && sscanf(p, "set yrange [%lf:%lf]", lo, hi) == 2;
}

/* ---- Fixtures ---- */

/* A sweep over rate and precision, rows out of rate order, with an error row, a quoted SLO
 * with commas and a model name holding a single quote. */
static const char SWEEP_CSV[] =
    "point,status,reason,model,gpu,precision,tp,arrival,requests,seed,slo,kv_blocks,"
    "cost_per_hour_usd,request_throughput,request_throughput_ci95,output_throughput,"
    "output_throughput_ci95,p50_ttft_ms,p50_ttft_ms_ci95,p99_ttft_ms,p99_ttft_ms_ci95,"
    "p50_tpot_ms,p50_tpot_ms_ci95,p99_tpot_ms,p99_tpot_ms_ci95,p50_e2el_ms,p50_e2el_ms_ci95,"
    "p99_e2el_ms,p99_e2el_ms_ci95,slo_attainment_pct,slo_attainment_pct_ci95,little_law_ok\n"
    "0,ok,,tiny's model,h100-sxm,bf16,1,poisson:rate=20,500,11,\"ttft_p99=0.5,tpot_p99=0.05\","
    "100,6.88,19,1,3800,100,80,10,900,300,12,1,20,3,2000,100,9000,800,70,5,1\n"
    "1,ok,,tiny's model,h100-sxm,fp8,1,poisson:rate=20,500,12,\"ttft_p99=0.5,tpot_p99=0.05\","
    "120,6.88,19.5,1,3900,90,60,8,400,100,9,1,15,2,1500,90,5000,400,92,3,1\n"
    "2,ok,,tiny's model,h100-sxm,bf16,1,poisson:rate=2,500,13,\"ttft_p99=0.5,tpot_p99=0.05\","
    "100,6.88,2,0.1,400,20,40,2,120,20,10,0.5,14,1,1200,50,2500,200,99,1,1\n"
    "3,ok,,tiny's model,h100-sxm,fp8,1,poisson:rate=2,500,14,\"ttft_p99=0.5,tpot_p99=0.05\","
    "120,6.88,2,0.1,400,20,30,2,90,10,8,0.4,11,1,1000,40,2000,100,100,0,1\n"
    "4,error,out of memory,tiny's model,h100-sxm,fp16,1,poisson:rate=10,500,15,"
    "\"ttft_p99=0.5,tpot_p99=0.05\",,,,,,,,,,,,,,,,,,,,,\n"
    "5,ok,,tiny's model,h100-sxm,bf16,1,poisson:rate=1e+01,500,16,"
    "\"ttft_p99=0.5,tpot_p99=0.05\",100,6.88,10,0.5,2000,50,50,4,300,60,11,0.8,16,2,1500,80,"
    "4000,300,95,2,1\n";

static void test_sweep_against_load(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "summary.csv", SWEEP_CSV);
    plot_report rep;
    char err[512] = "";
    int rc = plot_dir(dir, PLOT_PNG | PLOT_SVG, &rep, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_EQ_U64(rep.n_written, 5);
    CHECK(report_has(&rep, "latency_vs_load"));
    CHECK(report_has(&rep, "e2e_vs_load"));
    CHECK(report_has(&rep, "tpot_vs_load"));
    CHECK(report_has(&rep, "throughput_vs_load"));
    CHECK(report_has(&rep, "slo_attainment_vs_rate"));
    CHECK(!report_has(&rep, "compare_configs"));

    static const char *const latency[] = {"set xlabel 'offered load (req/s)'",
                                          "set ylabel 'TTFT (ms)'",
                                          "set format y '%g'",
                                          "set format x '%g'",
                                          "Time to first token vs offered load",
                                          "'p50 TTFT, precision=bf16'",
                                          "'p99 TTFT, precision=fp8'",
                                          "yerrorlines",
                                          "'SLO: p99 TTFT <= 500 ms'",
                                          "tiny''s model on h100-sxm",
                                          "summary.csv",
                                          "capsim sweep",
                                          "'latency_vs_load.dat' index 1",
                                          NULL};
    check_script(rep.plots_dir, "latency_vs_load", latency);
    static const char *const e2e[] = {"set ylabel 'end-to-end latency (ms", "p99 E2E", NULL};
    check_script(rep.plots_dir, "e2e_vs_load", e2e);
    static const char *const tpot[] = {"set ylabel 'TPOT (ms", "'SLO: p99 TPOT <= 50 ms'", NULL};
    check_script(rep.plots_dir, "tpot_vs_load", tpot);
    static const char *const tput[] = {"set ylabel 'output throughput (tokens/s)'",
                                       "title 'precision=fp8'", NULL};
    check_script(rep.plots_dir, "throughput_vs_load", tput);
    static const char *const slo[] = {"set ylabel 'requests meeting the SLO (%)'",
                                      "set xlabel 'offered load (req/s)'", NULL};
    check_script(rep.plots_dir, "slo_attainment_vs_rate", slo);

    /* Seed and the derived kv_blocks differ per row but do not make configurations. */
    char *gp = read_file(rep.plots_dir, "latency_vs_load.gp");
    if (CHECK(gp != NULL)) {
        CHECK(strstr(gp, "seed=") == NULL);
        CHECK(strstr(gp, "kv_blocks") == NULL);
        CHECK(strstr(gp, "fp16") == NULL); /* the error row */
        /* The y axis holds the data and the SLO line, with room above the line. */
        double lo, hi;
        if (CHECK(script_yrange(gp, &lo, &hi))) {
            CHECK_EQ_DBL(lo, 0);
            CHECK_GE(hi, 1200); /* the highest p99 TTFT, 900, and its CI, 300 */
            CHECK_GE(hi, 1.2 * 500);
        }
        free(gp);
    }
    gp = read_file(rep.plots_dir, "tpot_vs_load.gp");
    if (CHECK(gp != NULL)) {
        double lo, hi;
        /* The data reach 23 ms; the 50 ms limit still sits well inside the frame. */
        if (CHECK(script_yrange(gp, &lo, &hi)))
            CHECK_GE(hi, 1.2 * 50);
        free(gp);
    }
    /* Block 0 is bf16 at rates 2, 10, 20 (sorted; 1e+01 read as 10); block 1 is fp8. */
    char *dat = read_file(rep.plots_dir, "latency_vs_load.dat");
    if (CHECK(dat != NULL)) {
        double x[8], y[8];
        size_t n = dat_rows(dat, 0, x, y, 8);
        CHECK_EQ_U64(n, 3);
        if (n == 3) {
            CHECK_EQ_DBL(x[0], 2);
            CHECK_EQ_DBL(x[1], 10);
            CHECK_EQ_DBL(x[2], 20);
            CHECK_EQ_DBL(y[0], 40);
            CHECK_EQ_DBL(y[2], 80);
        }
        CHECK_EQ_U64(dat_rows(dat, 1, x, y, 8), 2);
        CHECK_EQ_U64(dat_rows(dat, 2, x, y, 8), 0);
        CHECK_CONTAINS(dat, "# index 1: precision=fp8");
        /* rate, then each figure with the low and high ends of its CI */
        double v[8];
        CHECK_EQ_U64(dat_cols(dat, 0, 2, v, 8), 7);
        CHECK_EQ_DBL(v[4], 900);
        CHECK_EQ_DBL(v[5], 600);
        CHECK_EQ_DBL(v[6], 1200);
        free(dat);
    }
    if (!rep.gnuplot_missing) {
        CHECK_EQ_U64(rep.n_drawn, 5);
        char *png = read_file(rep.plots_dir, "latency_vs_load.png");
        CHECK(png != NULL && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
        free(png);
        char *svg = read_file(rep.plots_dir, "latency_vs_load.svg");
        CHECK_CONTAINS(svg, "<svg");
        free(svg);
        /* Nothing is left under a temporary name. */
        CHECK(!dir_has_temporary(rep.plots_dir));
    }
    tmpdir_remove(dir);
}

/* A sweep without an SLO gives no SLO-attainment plot and no limit lines. */
static void test_sweep_without_slo(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "summary.csv",
               "point,status,reason,model,gpu,arrival,seed,slo,kv_blocks,p50_ttft_ms,"
               "p99_ttft_ms,output_throughput,slo_attainment_pct\n"
               "0,ok,,m,l4,poisson:rate=1,1,,10,50,90,100,100\n"
               "1,ok,,m,l4,poisson:rate=2,2,,10,60,120,200,100\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK(report_has(&rep, "latency_vs_load"));
    CHECK(report_has(&rep, "throughput_vs_load"));
    CHECK(!report_has(&rep, "slo_attainment_vs_rate"));
    CHECK(!file_exists(rep.plots_dir, "slo_attainment_vs_rate.gp"));
    char *gp = read_file(rep.plots_dir, "latency_vs_load.gp");
    CHECK(gp != NULL && strstr(gp, "SLO") == NULL);
    free(gp);
    tmpdir_remove(dir);
}

/* Latencies that span a hundredfold go on a log axis, where no error bar may reach zero or
 * below; past 10 s they are drawn in seconds, the SLO line too. */
static void test_sweep_log_axis_seconds(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "summary.csv",
               "point,status,reason,model,gpu,arrival,seed,slo,kv_blocks,p50_ttft_ms,"
               "p50_ttft_ms_ci95,p99_ttft_ms,p99_ttft_ms_ci95\n"
               "0,ok,,m,l4,poisson:rate=1,1,ttft_p99=2,10,40,60,100,150\n"
               "1,ok,,m,l4,poisson:rate=2,2,ttft_p99=2,10,300,20,900,100\n"
               "2,ok,,m,l4,poisson:rate=3,3,ttft_p99=2,10,9000,4000,25000,30000\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    static const char *const want[] = {"set ylabel 'TTFT (s, log scale)'", "set logscale y",
                                       "'SLO: p99 TTFT <= 2 s'", "2 with lines", NULL};
    check_script(rep.plots_dir, "latency_vs_load", want);
    char *gp = read_file(rep.plots_dir, "latency_vs_load.gp");
    double lo = 0, hi = 0;
    if (CHECK(script_yrange(gp, &lo, &hi))) {
        CHECK(lo > 0);
        CHECK_GE(hi, 55); /* the highest p99, 25 s, and its CI, 30 s */
    }
    free(gp);
    char *dat = read_file(rep.plots_dir, "latency_vs_load.dat");
    if (CHECK(dat != NULL)) {
        for (size_t r = 0; r < 3; r++) {
            double v[8];
            CHECK_EQ_U64(dat_cols(dat, 0, r, v, 8), 7);
            for (int k = 1; k < 7; k++)
                CHECK(v[k] > 0); /* every figure and both ends of every bar */
            CHECK_GE(v[2], lo);
        }
        double v[8];
        dat_cols(dat, 0, 2, v, 8);
        CHECK_EQ_DBL(v[4], 25); /* seconds */
        CHECK_EQ_DBL(v[5], lo); /* 25 - 30 s clipped to the bottom of the axis */
        free(dat);
    }
    tmpdir_remove(dir);
}

static void test_sweep_compare_configs(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "summary.csv",
               "point,status,reason,model,gpu,tp,arrival,seed,kv_blocks,p99_ttft_ms,"
               "p99_ttft_ms_ci95,p99_tpot_ms,p99_tpot_ms_ci95,request_throughput,"
               "request_throughput_ci95\n"
               "0,ok,,m,l4,2,poisson:rate=5,1,10,300,30,40,4,4.9,0.1\n"
               "1,ok,,m,h100-sxm,1,poisson:rate=5,2,20,90,9,12,1,5,0.05\n"
               "2,ok,,m,l4,4,poisson:rate=5,3,30,200,,30,,4.95,\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_SVG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 1);
    CHECK(report_has(&rep, "compare_configs"));
    static const char *const want[] = {"set ylabel 'p99 TTFT (ms)'",
                                       "set ylabel 'p99 TPOT (ms)'",
                                       "set ylabel 'request throughput (req/s)'",
                                       "boxerrorbars",
                                       "title 'p99 TTFT'",
                                       "(m)",
                                       NULL};
    check_script(rep.plots_dir, "compare_configs", want);
    char *dat = read_file(rep.plots_dir, "compare_configs.dat");
    CHECK_CONTAINS(dat, "\"gpu=l4 tp=2\"");
    CHECK_CONTAINS(dat, "\"gpu=h100-sxm tp=1\"");
    free(dat);
    if (!rep.gnuplot_missing) {
        CHECK(file_exists(rep.plots_dir, "compare_configs.svg"));
        CHECK(!file_exists(rep.plots_dir, "compare_configs.png"));
    }
    tmpdir_remove(dir);
}

/* Compared configurations whose p99 TTFT passes 10 s get that panel in seconds; the
 * calibration plot of times past 10 s too. */
static void test_compare_and_calibration_seconds(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "summary.csv",
               "point,status,reason,model,gpu,tp,arrival,seed,kv_blocks,p99_ttft_ms,"
               "p99_ttft_ms_ci95,p99_tpot_ms,p99_tpot_ms_ci95,request_throughput,"
               "request_throughput_ci95\n"
               "0,ok,,m,l4,2,poisson:rate=5,1,10,30000,3000,40,4,4.9,0.1\n"
               "1,ok,,m,h100-sxm,1,poisson:rate=5,2,20,900,90,12,1,5,0.05\n");
    write_file(dir, "fit.csv",
               "run,request,ttft_ms,ttft_pred_ms,tpot_ms,tpot_pred_ms\n"
               "a,0,12000,11000,20,21\na,1,300,310,25,24\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_SVG, &rep, err, sizeof err), 0);
    static const char *const cmp[] = {"set ylabel 'p99 TTFT (s)'", "set ylabel 'p99 TPOT (ms)'",
                                      NULL};
    check_script(rep.plots_dir, "compare_configs", cmp);
    char *dat = read_file(rep.plots_dir, "compare_configs.dat");
    CHECK_CONTAINS(dat, "\"gpu=l4 tp=2\" 30 3 40 4 4.9 0.1\n");
    free(dat);
    static const char *const cal[] = {"set xlabel 'measured (s, log scale)'", NULL};
    check_script(rep.plots_dir, "calibration_fit", cal);
    dat = read_file(rep.plots_dir, "calibration_fit.dat");
    CHECK_CONTAINS(dat, " 12  11\n");
    free(dat);
    tmpdir_remove(dir);
}

/* A run's summary (one row, no point/status columns) and an empty folder give nothing,
 * and no plots folder is made. */
static void test_nothing_to_plot(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 0);
    write_file(dir, "summary.csv",
               "model,gpu,arrival,seed,kv_blocks,p50_ttft_ms,p99_ttft_ms\n"
               "m,h100-sxm,poisson:rate=10,1,100,50,90\n");
    write_file(dir, "seeds.csv", "master_seed,replication,source,seed\n1,0,arrivals,5\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 0);
    CHECK(!file_exists(dir, "plots"));
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no-such-folder", dir);
    CHECK_EQ_INT(plot_dir(missing, PLOT_PNG, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "no-such-folder");
    tmpdir_remove(dir);
}

static void test_timeseries_first_replication(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "timeseries.csv",
               "time_s,waiting,running,busy_replicas,kv_occupancy,completions_per_s,"
               "output_tokens_per_s\n"
               "0,0,0,0,0,0,0\n"
               "1,3,5,1,0.25,2,300\n"
               "2,7,9,1,0.5,3,400\n"
               "3,1,4,1,0.125,4,350\n"
               "0,0,0,0,0,0,0\n"
               "1,50,60,1,0.9,1,100\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 1);
    static const char *const want[] = {"set xlabel 'time (s); first replication'",
                                       "set ylabel 'requests'",
                                       "set y2label 'KV cache occupancy (%)'",
                                       "axes x1y2",
                                       "'waiting requests'",
                                       "'running batch'",
                                       "first replication",
                                       NULL};
    check_script(rep.plots_dir, "timeseries", want);
    char *dat = read_file(rep.plots_dir, "timeseries.dat");
    if (CHECK(dat != NULL)) {
        double x[16], y[16];
        CHECK_EQ_U64(dat_rows(dat, 0, x, y, 16), 4);
        CHECK_EQ_DBL(x[3], 3);
        CHECK_CONTAINS(dat, " 2 7 9 50\n"); /* occupancy as a percentage */
        CHECK(strstr(dat, " 60 ") == NULL); /* nothing of the second replication */
        free(dat);
    }
    tmpdir_remove(dir);
}

/* A long series of several replicas is drawn as means over windows, with the model in the
 * title and the counts labelled as sums over the replicas. */
static void test_timeseries_long_replicas(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    char path[300];
    snprintf(path, sizeof path, "%s/timeseries.csv", dir);
    FILE *fp = fopen(path, "w");
    if (!CHECK(fp != NULL))
        return;
    fputs("time_s,waiting,running,busy_replicas,kv_occupancy\n", fp);
    for (int i = 0; i < 3000; i++)
        fprintf(fp, "%d,%d,%d,2,0.5\n", i, i % 2 ? 4 : 0, 10);
    fclose(fp);
    write_file(dir, "summary.csv",
               "model,gpu,replicas,arrival,p99_ttft_ms\nllama-3.1-8b,h100-sxm,2,poisson:rate=3,"
               "100\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    static const char *const want[] = {
        "(llama-3.1-8b on h100-sxm)",           "'waiting requests, sum over 2 replicas'",
        "'running batch, sum over 2 replicas'", "set ylabel 'requests, sum over 2 replicas'",
        "each point a mean over 10 s",          NULL};
    check_script(rep.plots_dir, "timeseries", want);
    char *dat = read_file(rep.plots_dir, "timeseries.dat");
    if (CHECK(dat != NULL)) {
        double x[400], y[400];
        CHECK_EQ_U64(dat_rows(dat, 0, x, y, 400), 300);
        CHECK_EQ_DBL(x[0], 4.5); /* the mean time of the first 10 samples */
        CHECK_EQ_DBL(y[0], 2);   /* the mean of 0, 4, 0, 4, ... */
        free(dat);
    }
    tmpdir_remove(dir);
}

static void test_latency_cdf(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    char path[300];
    snprintf(path, sizeof path, "%s/requests.csv", dir);
    FILE *fp = fopen(path, "w");
    if (!CHECK(fp != NULL))
        return;
    fputs("replication,request,class,arrival_s,prompt_tokens,output_tokens,replica,queue_ms,"
          "ttft_ms,tpot_ms,e2el_ms,preemptions,slo_met\n",
          fp);
    /* 5000 served requests in scrambled order (TTFT 1..5000 ms), and rejected ones. */
    const unsigned n = 5000;
    for (unsigned i = 0; i < n; i++) {
        unsigned v = (i * 7919u) % n + 1;
        fprintf(fp, "0,%u,0,%u.5,100,10,0,1,%u,10,%u,0,1\n", i, i, v, 2 * v + 100);
    }
    fputs("0,5000,0,1,100,10,0,,,,,0,0\n", fp);
    fputs("1,5001,0,1,100,10,0,nan,nan,nan,NaN,0,0\n", fp);
    fclose(fp);

    plot_report rep;
    char err[512] = "";
    /* The run's summary beside it gives the SLO. */
    write_file(dir, "summary.csv",
               "model,gpu,arrival,slo,p99_ttft_ms\nm,l4,poisson:rate=1,"
               "\"ttft_p99=2,tpot_p99=0.1\",4950\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 2);
    CHECK(report_has(&rep, "latency_cdf"));
    CHECK(report_has(&rep, "latency_ccdf"));
    /* The end-to-end latencies reach 10.1 s: the axis is in seconds. */
    static const char *const want[] = {"set xlabel 'latency (s, log scale)'",
                                       "set arrow 1 from 2, graph 0 to 2, graph 1",
                                       "'SLO: p99 TTFT <= 2 s'",
                                       "set ylabel 'fraction of requests",
                                       "set logscale x",
                                       "'TTFT (5000 requests)'",
                                       "'end-to-end latency (5000 requests)'",
                                       NULL};
    check_script(rep.plots_dir, "latency_cdf", want);
    char *dat = read_file(rep.plots_dir, "latency_cdf.dat");
    if (CHECK(dat != NULL)) {
        static double x[6000], y[6000];
        for (int b = 0; b < 2; b++) {
            size_t m = dat_rows(dat, b, x, y, 6000);
            CHECK(m >= 1000 && m <= 2001);
            int sorted = 1;
            for (size_t i = 1; i < m; i++)
                sorted &= x[i] >= x[i - 1] && y[i] > y[i - 1];
            CHECK(sorted);
            CHECK_EQ_DBL(x[0], b == 0 ? 0.001 : 0.102);
            CHECK_EQ_DBL(x[m - 1], b == 0 ? 5 : 10.1);
            CHECK_EQ_DBL(y[m - 1], 1.0);
            /* The tail is kept whole: the last 500 values are all there. */
            CHECK_EQ_DBL(x[m - 500], b == 0 ? 4.501 : 9.102);
        }
        free(dat);
    }
    /* The tail view: 1 - F on log axes, the largest value (1 - F = 0) left out, the p99
     * marked. */
    static const char *const tail[] = {"set logscale xy", "'SLO: p99 TTFT <= 2 s'", "first 0.01",
                                       "1 - CDF", NULL};
    check_script(rep.plots_dir, "latency_ccdf", tail);
    dat = read_file(rep.plots_dir, "latency_ccdf.dat");
    if (CHECK(dat != NULL)) {
        static double x[6000], y[6000];
        size_t m = dat_rows(dat, 0, x, y, 6000);
        CHECK(m >= 1000 && m <= 2000);
        CHECK_EQ_DBL(x[0], 0.001);
        CHECK_NEAR(y[0], 1 - 1.0 / 5000, 1e-9);
        CHECK_EQ_DBL(x[m - 1], 4.999);
        CHECK_NEAR(y[m - 1], 1.0 / 5000, 1e-9);
        int positive = 1;
        for (size_t i = 0; i < m; i++)
            positive &= y[i] > 0 && fabs(y[i] - (1 - x[i] / 5)) < 1e-9;
        CHECK(positive); /* 1 - F, F the share at or below */
        free(dat);
    }
    tmpdir_remove(dir);
}

static void test_cost_frontier(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "frontier.csv",
               "candidate,gpu,precision,tp,status,reason,rate_per_replica,rate_per_replica_fail,"
               "cost_per_hour_usd_per_replica,usd_per_hour_per_req_s,replicas,"
               "cost_per_hour_usd,cost_per_million_output_tokens,meets_target,on_frontier,"
               "cheapest\n"
               "0,h100-sxm,fp8,1,ok,,14,15,6.88,0.49,3,20.64,1.2,1,1,1\n"
               "1,h100-sxm,bf16,1,ok,,9,10,6.88,0.76,5,34.4,1.9,1,0,0\n"
               "2,l4,fp8,1,ok,,1.5,2,0.8,0.53,27,21.6,1.3,1,1,0\n"
               "3,a100-80gb,bf16,2,ok,,12,13,8.2,0.68,3,24.6,1.6,1,0,0\n"
               "4,l4,bf16,1,error,\"does not fit, even at tp=1\",,,,,,,,0,0,0\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 1);
    static const char *const want[] = {
        "set xlabel 'fleet cost at the target rate (USD/h): replicas x cost per replica'",
        "set ylabel 'req/s per replica, low end of its 95% band'",
        "'cheapest fleet that carries the target'",
        "'h100-sxm fp8 tp1: 3 x 6.88 = 20.64 USD/h'",
        "'l4 fp8 tp1: 27 x 0.8 = 21.6 USD/h'",
        "yerrorbars",
        "capsim capacity deploy",
        NULL};
    check_script(rep.plots_dir, "cost_frontier", want);
    char *gp = read_file(rep.plots_dir, "cost_frontier.gp");
    CHECK(gp != NULL && strstr(gp, "with labels") == NULL); /* a key, not crowded labels */
    free(gp);
    char *dat = read_file(rep.plots_dir, "cost_frontier.dat");
    if (CHECK(dat != NULL)) {
        CHECK_CONTAINS(dat, "# index 0: h100-sxm fp8 tp1");
        CHECK_CONTAINS(dat, "# index 3: h100-sxm bf16 tp1");
        CHECK(strstr(dat, "l4 bf16") == NULL);
        /* One block per candidate, cheapest fleet first; x is the fleet's cost at the target
         * rate, y the low end of the capacity band, then its high end. */
        static const double fleet[4] = {20.64, 21.6, 24.6, 34.4}, low[4] = {14, 1.5, 12, 9},
                            high[4] = {15, 2, 13, 10};
        for (int b = 0; b < 4; b++) {
            double v[8];
            CHECK_EQ_U64(dat_cols(dat, b, 0, v, 8), 6);
            CHECK_EQ_DBL(v[0], fleet[b]);
            CHECK_EQ_DBL(v[1], low[b]);
            CHECK_EQ_DBL(v[3], high[b]);
        }
        double x[8], y[8];
        CHECK_EQ_U64(dat_rows(dat, 4, x, y, 8), 0);
        free(dat);
    }
    tmpdir_remove(dir);
}

static void test_rate_search(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "search.csv",
               "step,rate_req_s,verdict,slo_metric,value_ms,ci95_ms,limit_ms\n"
               "1,10,meets,p99_ttft_ms,200,20,500\n"
               "1,10,meets,p99_tpot_ms,20,1,50\n"
               "2,20,fails,p99_ttft_ms,2000,300,500\n"
               "2,20,unclear,p99_tpot_ms,49,5,50\n"
               "3,15,meets,p99_ttft_ms,400,50,500\n"
               "3,15,meets,p99_tpot_ms,30,2,50\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 1);
    static const char *const want[] = {"set xlabel 'offered rate (req/s)'",
                                       "(ms",
                                       "'p99_ttft_ms limit (500 ms)'",
                                       "'p99_tpot_ms limit (50 ms)'",
                                       "title 'p99_ttft_ms'",
                                       "500 with lines",
                                       NULL};
    check_script(rep.plots_dir, "rate_search", want);
    char *gp = read_file(rep.plots_dir, "rate_search.gp");
    double lo = 0, hi = 0;
    if (CHECK(script_yrange(gp, &lo, &hi))) {
        CHECK(lo > 0); /* a log axis: the values span a hundredfold */
        CHECK_GE(hi, 2300);
    }
    free(gp);
    char *dat = read_file(rep.plots_dir, "rate_search.dat");
    if (CHECK(dat != NULL)) {
        for (int b = 0; b < 2; b++)
            for (size_t r = 0; r < 3; r++) {
                double v[8];
                CHECK_EQ_U64(dat_cols(dat, b, r, v, 8), 4);
                CHECK(v[2] > 0 && v[2] <= v[1] && v[3] >= v[1]);
            }
        double x[8], y[8];
        size_t n = dat_rows(dat, 0, x, y, 8);
        CHECK_EQ_U64(n, 3);
        if (n == 3) {
            CHECK_EQ_DBL(x[1], 15); /* sorted by rate, not by step */
            CHECK_EQ_DBL(y[1], 400);
        }
        free(dat);
    }
    tmpdir_remove(dir);
}

static void test_queue_load(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "load.csv",
               "rho,arrival_rate,mean_wait,mean_wait_ci95,p99_wait,p99_wait_ci95,"
               "exact_mean_wait,exact_p99_wait\n"
               "0.9,0.9,9.1,1.5,41,6,9,41.4\n"
               "0.5,0.5,1.01,0.05,5.5,0.4,1,5.8\n"
               "0.7,0.7,2.3,0.2,11,1,,\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 1);
    static const char *const want[] = {"set xlabel 'utilisation rho",
                                       "set ylabel 'waiting time (s)'",
                                       "'simulated mean wait (95% CI)'",
                                       "'exact mean wait (theory)'",
                                       "'exact p99 wait (theory)'",
                                       "yerrorbars",
                                       NULL};
    check_script(rep.plots_dir, "queue_load", want);
    char *dat = read_file(rep.plots_dir, "queue_load.dat");
    CHECK_CONTAINS(dat, " 0.7 2.3 0.2 11 1 NaN NaN\n");
    free(dat);
    tmpdir_remove(dir);
}

static void test_malformed_input(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    plot_report rep;
    char err[512] = "";
    write_file(dir, "search.csv",
               "step,rate_req_s,verdict,slo_metric,value_ms,ci95_ms,limit_ms\n"
               "1,10,meets,p99_ttft_ms,200,20,500\n"
               "2,20,fails,p99_ttft_ms,lots,300,500\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "search.csv:3:");
    CHECK_CONTAINS(err, "value_ms");
    CHECK_CONTAINS(err, "lots");
    CHECK(!file_exists(dir, "plots/rate_search.gp"));

    write_file(dir, "search.csv", "step,rate_req_s,verdict,slo_metric,value_ms,ci95_ms\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "search.csv:1: missing column 'limit_ms'");
    char path[300];
    snprintf(path, sizeof path, "%s/search.csv", dir);
    remove(path);

    write_file(dir, "timeseries.csv", "time_s,waiting,running,kv_occupancy\n0,0,0,0\n1,\"2,0,0\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "timeseries.csv");
    write_file(dir, "timeseries.csv", "time_s,waiting,running,kv_occupancy\n0,0,0\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "timeseries.csv:2: 3 fields, expected 4");
    tmpdir_remove(dir);
}

/* What-if deployments of two models whose capacities differ about a hundredfold, as
 * `capsim demo` writes them: an error row, a label with a comma, quotes and an apostrophe,
 * and the binding SLO figure of each ok row. */
static const char WHATIF_CSV[] =
    "name,label,model,gpu,precision,tp,tensor_cores,scheduler,status,reason,rate_meets_req_s,"
    "rate_estimate_req_s,rate_fails_req_s,req_s_per_gpu,cost_per_hour_usd,"
    "cost_per_million_output_tokens,binding_slo\n"
    "small,\"1B, bf16 (baseline)\",llama-3.2-1b,h100-sxm,bf16,1,on,continuous,ok,,87.5,90.4,"
    "92.5,90.4,6.88,0.104,p99_ttft_ms\n"
    "big,\"123B, \"\"big\"\" on 4 GPUs, it's fp8\",mistral-large-2407,h100-sxm,fp8,4,on,"
    "continuous,ok,,1.125,1.2,1.3125,0.3,27.52,32.2,p99_tpot_ms\n"
    "big-int4-tp1,\"123B, int4 on one GPU\",mistral-large-2407,h100-sxm,int4,1,on,continuous,"
    "error,\"does not fit, even at tp=1\",,,,,,,\n"
    "small-static,\"1B, static batching\",llama-3.2-1b,h100-sxm,bf16,1,on,static,ok,,0.25,0.28,"
    "0.33,0.28,6.88,36.7,p99_ttft_ms\n";

static void test_whatif(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "whatif.csv", WHATIF_CSV);
    plot_report rep;
    char err[512] = "";
    int rc = plot_dir(dir, PLOT_PNG | PLOT_SVG, &rep, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_EQ_U64(rep.n_written, 2);
    CHECK(report_has(&rep, "whatif"));
    CHECK(report_has(&rep, "whatif_cost"));

    static const char *const capacity[] = {
        "set title 'Capacity under the SLO: every what-if'",
        "set xlabel 'capacity under the SLO, with its 95% band (req/s, log scale)'",
        "set format x '%g'",
        "set logscale x",
        "xmin = 0.1 ", /* a decade at least a factor 2 below the lowest band end, 0.25 */
        "set yrange [3.6:-0.6]",
        "ytic(5)",
        "using 2:1:3:4:ytic(5) with xerrorbars",
        "title 'llama-3.2-1b'",
        "title 'mistral-large-2407'",
        "with labels",
        "whatif.csv",
        "capsim demo",
        NULL};
    check_script(rep.plots_dir, "whatif", capacity);
    static const char *const cost[] = {
        "set title 'Cost per million output tokens: every what-if'",
        "set xlabel 'cost per million output tokens (USD, log scale)'",
        "set logscale x",
        "xmin = 0.01 ", /* 0.104 is less than a factor 2 above 0.1 */
        "using 2:1:ytic(5) with points",
        "title 'mistral-large-2407'",
        NULL};
    check_script(rep.plots_dir, "whatif_cost", cost);
    char *gp = read_file(rep.plots_dir, "whatif_cost.gp");
    if (CHECK(gp != NULL)) {
        CHECK(strstr(gp, "xerrorbars") == NULL); /* no band on the cost */
        CHECK(strstr(gp, "boxxyerror") == NULL); /* dots, not bars */
        free(gp);
    }

    /* One block per model with a bar, rows numbered from the top in file order, and a last
     * block of the rows without one. */
    char *dat = read_file(rep.plots_dir, "whatif.dat");
    if (CHECK(dat != NULL)) {
        double x[8], y[8];
        size_t n = dat_rows(dat, 0, x, y, 8);
        CHECK_EQ_U64(n, 2);
        if (n == 2) {
            CHECK_EQ_DBL(x[0], 0);
            CHECK_EQ_DBL(y[0], 90.4);
            CHECK_EQ_DBL(x[1], 3);
            CHECK_EQ_DBL(y[1], 0.28);
        }
        n = dat_rows(dat, 1, x, y, 8);
        CHECK_EQ_U64(n, 1);
        if (n == 1)
            CHECK_EQ_DBL(x[0], 1);
        n = dat_rows(dat, 2, x, y, 8);
        CHECK_EQ_U64(n, 1);
        if (n == 1) {
            CHECK_EQ_DBL(x[0], 2);
            CHECK(isnan(y[0]));
        }
        CHECK_CONTAINS(dat, "# index 0: llama-3.2-1b");
        CHECK_CONTAINS(dat, "# index 1: mistral-large-2407");
        CHECK_CONTAINS(dat, " 0 90.4 87.5 92.5 \"1B, bf16 (baseline)\" "
                            "\"90.4 req/s, limited by p99_ttft_ms\"\n");
        /* gnuplot's data strings have no escapes: the double quotes become single ones. */
        CHECK_CONTAINS(dat, " 1 1.2 1.125 1.3125 \"123B, 'big' on 4 GPUs, it's fp8\" "
                            "\"1.2 req/s, limited by p99_tpot_ms\"\n");
        CHECK_CONTAINS(dat, " 2 NaN NaN NaN \"123B, int4 on one GPU\" \"cannot meet the SLO\"\n");
        CHECK(strstr(dat, "does not fit") == NULL);
        free(dat);
    }
    dat = read_file(rep.plots_dir, "whatif_cost.dat");
    if (CHECK(dat != NULL)) {
        double x[8], y[8];
        size_t n = dat_rows(dat, 0, x, y, 8);
        CHECK_EQ_U64(n, 2);
        if (n == 2) {
            CHECK_EQ_DBL(y[0], 0.104);
            CHECK_EQ_DBL(y[1], 36.7);
        }
        CHECK_CONTAINS(dat, " 1 32.2 32.2 32.2 \"123B, 'big' on 4 GPUs, it's fp8\" \"32.2 USD\"\n");
        CHECK_CONTAINS(dat, " 2 NaN NaN NaN \"123B, int4 on one GPU\" \"cannot meet the SLO\"\n");
        free(dat);
    }
    if (!rep.gnuplot_missing) {
        CHECK_EQ_U64(rep.n_drawn, 2);
        for (int k = 0; k < 2; k++) {
            char *png = read_file(rep.plots_dir, k ? "whatif_cost.png" : "whatif.png");
            CHECK(png != NULL && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
            free(png);
        }
        CHECK(!dir_has_temporary(rep.plots_dir));
    }
    tmpdir_remove(dir);
}

/* A file of an older capsim (no binding_slo) with many rows: the picture grows taller, the
 * bar texts carry the figure alone, a row without a label is named by its folder, and a row
 * without a cost has no bar on the cost chart only. */
static void test_whatif_older_and_tall(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    char path[300];
    snprintf(path, sizeof path, "%s/whatif.csv", dir);
    FILE *fp = fopen(path, "w");
    if (!CHECK(fp != NULL))
        return;
    fputs("name,label,model,gpu,precision,tp,tensor_cores,scheduler,status,reason,"
          "rate_meets_req_s,rate_estimate_req_s,rate_fails_req_s,req_s_per_gpu,"
          "cost_per_hour_usd,cost_per_million_output_tokens\n",
          fp);
    fputs("nolabel,,m,l4,bf16,1,on,continuous,ok,,4,5,6,5,,\n", fp);
    for (int i = 1; i < 20; i++)
        fprintf(fp, "w%d,what-if %d,m,l4,bf16,1,on,continuous,ok,,%d,%d.5,%d,1,1,%d\n", i, i, i, i,
                i + 1, 10 * i);
    fclose(fp);
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    CHECK_EQ_U64(rep.n_written, 2);
    char *gp = read_file(rep.plots_dir, "whatif.gp");
    if (CHECK(gp != NULL)) {
        /* 20 rows: 8 past the 12 that fit the usual height, 38 pixels each. */
        CHECK_CONTAINS(gp, "set terminal pngcairo size 1000,924");
        CHECK_CONTAINS(gp, "set yrange [19.6:-0.6]");
        CHECK_CONTAINS(gp, "title 'm'");
        free(gp);
    }
    char *dat = read_file(rep.plots_dir, "whatif.dat");
    if (CHECK(dat != NULL)) {
        double x[32], y[32];
        CHECK_EQ_U64(dat_rows(dat, 0, x, y, 32), 20);
        CHECK_CONTAINS(dat, " 0 5 4 6 \"nolabel\" \"5 req/s\"\n");
        CHECK_CONTAINS(dat, "\"what-if 3\" \"3.5 req/s\"\n");
        CHECK(strstr(dat, "limited by") == NULL);
        free(dat);
    }
    dat = read_file(rep.plots_dir, "whatif_cost.dat");
    if (CHECK(dat != NULL)) {
        double x[32], y[32];
        CHECK_EQ_U64(dat_rows(dat, 0, x, y, 32), 19);
        CHECK_CONTAINS(dat, " 0 NaN NaN NaN \"nolabel\" \"no cost figure\"\n");
        free(dat);
    }
    tmpdir_remove(dir);
}

/* A what-if file without a needed column, or with a bad number, is an error naming it. */
static void test_whatif_malformed(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    plot_report rep;
    char err[512] = "";
    write_file(dir, "whatif.csv",
               "name,label,model,status,reason,rate_meets_req_s,rate_estimate_req_s,"
               "rate_fails_req_s\n"
               "a,A,m,ok,,1,2,3\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "whatif.csv:1: missing column 'cost_per_million_output_tokens'");
    write_file(dir, "whatif.csv",
               "name,label,model,status,reason,rate_meets_req_s,rate_estimate_req_s,"
               "rate_fails_req_s,cost_per_million_output_tokens\n"
               "a,A,m,ok,,1,2,3,4\n"
               "b,B,m,ok,,1,fast,3,4\n");
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "whatif.csv:3: column 'rate_estimate_req_s'");
    CHECK_CONTAINS(err, "fast");
    CHECK(!file_exists(dir, "plots/whatif.gp"));
    tmpdir_remove(dir);
}

/* ---- The table of plot families ---- */

/* True when list ("a, b, c", as in plot_source.plots) names name. */
static int list_names(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, name, len) == 0)
            return 1;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

/* The index of the first family one of whose files gives the plot name, or -1. */
static long family_of_plot(const char *name)
{
    for (size_t f = 0; f < plot_family_count(); f++)
        for (size_t s = 0; s < plot_family_at(f)->n_sources; s++)
            if (list_names(plot_family_at(f)->sources[s].plots, name))
                return (long)f;
    return -1;
}

/* Every family has a unique name and at least one input file, each with the command that
 * writes it, a description, its plot names and a draw function; no folder can give more
 * plots than a report holds. */
static void test_family_table(void)
{
    size_t n = plot_family_count();
    CHECK_GE(n, 9);
    CHECK(plot_family_at(n) == NULL);
    size_t all_plots = 0;
    for (size_t f = 0; f < n; f++) {
        const plot_family *fam = plot_family_at(f);
        if (!CHECK(fam != NULL && fam->name != NULL && fam->name[0] != '\0'))
            continue;
        CHECK_LE(strlen(fam->name), 12); /* the help text's column */
        for (size_t g = 0; g < f; g++)
            CHECK(strcmp(fam->name, plot_family_at(g)->name) != 0);
        CHECK_GE(fam->n_sources, 1);
        for (size_t s = 0; s < fam->n_sources; s++) {
            const plot_source *src = &fam->sources[s];
            size_t len = strlen(src->file);
            CHECK(len > 4 && strcmp(src->file + len - 4, ".csv") == 0 &&
                  strchr(src->file, '/') == NULL);
            CHECK(strncmp(src->command, "capsim ", 7) == 0);
            CHECK(src->help[0] != '\0' && src->plots[0] != '\0' && src->draw != NULL);
            /* Plot names: lower case, digits and '_', short enough for the report. */
            for (const char *p = src->plots; *p;) {
                size_t w = strcspn(p, ",");
                CHECK(w > 0 && w < PLOT_NAME_MAX);
                CHECK_EQ_U64(strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_"), w);
                all_plots++;
                p += w;
                if (*p == ',')
                    CHECK(*++p == ' ');
                while (*p == ' ')
                    p++;
            }
        }
    }
    CHECK_LE(all_plots, PLOT_MAX);
}

/* The help text and the list of input files come from the table: every family and file
 * is named, and no help line is wider than 80 columns. */
static void test_family_help(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (!CHECK(fp != NULL))
        return;
    plot_help(fp);
    fclose(fp);
    char files[512];
    plot_input_files(files, sizeof files);
    for (size_t f = 0; f < plot_family_count(); f++) {
        const plot_family *fam = plot_family_at(f);
        char head[64];
        snprintf(head, sizeof head, "  %-12s %s (", fam->name, fam->sources[0].file);
        CHECK_CONTAINS(text, head);
        for (size_t s = 0; s < fam->n_sources; s++) {
            CHECK_CONTAINS(text, fam->sources[s].file);
            CHECK_CONTAINS(files, fam->sources[s].file);
        }
    }
    for (const char *line = text; *line;) {
        size_t w = strcspn(line, "\n");
        CHECK_LE(w, 80);
        line += w + (line[w] == '\n');
    }
    /* Each file once, the last after "or". */
    CHECK(strncmp(files, "summary.csv, timeseries.csv, ", 29) == 0);
    CHECK(strstr(strstr(files, "summary.csv") + 1, "summary.csv") == NULL);
    CHECK_CONTAINS(files, " or fit_points.csv");
    free(text);
}

/* A folder with the files of several families: every plot written is named by the table
 * and comes in the table's order. */
static void test_family_order(void)
{
    char dir[256], empty[300];
    tmpdir_make(dir, sizeof dir);
    snprintf(empty, sizeof empty, "%s/empty-bin", dir);
    CHECK_EQ_INT(mkdir(empty, 0755), 0);
    write_file(dir, "summary.csv", SWEEP_CSV);
    write_file(dir, "whatif.csv", WHATIF_CSV);
    write_file(dir, "load.csv",
               "rho,arrival_rate,mean_wait,mean_wait_ci95,p99_wait,p99_wait_ci95,"
               "exact_mean_wait,exact_p99_wait\n0.5,0.5,1,0.1,5,0.5,1,5\n");
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", empty, 1); /* the scripts are enough */
    plot_report rep;
    char err[512] = "";
    int rc = plot_dir(dir, PLOT_PNG, &rep, err, sizeof err);
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    } else {
        unsetenv("PATH");
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_U64(rep.n_written, 5 + 1 + 2);
    long last = -1;
    for (size_t i = 0; i < rep.n_written; i++) {
        long f = family_of_plot(rep.names[i]);
        CHECK(f >= 0);
        CHECK_GE(f, last);
        last = f;
    }
    CHECK_EQ_INT(family_of_plot("latency_vs_load"), family_of_plot("tpot_vs_load"));
    CHECK_EQ_INT(family_of_plot("no_such_plot"), -1);
    tmpdir_remove(dir);
}

/* Without gnuplot on PATH the scripts are written, nothing is drawn, and it is no error. */
static void test_gnuplot_missing(void)
{
    char dir[256], empty[300];
    tmpdir_make(dir, sizeof dir);
    snprintf(empty, sizeof empty, "%s/empty-bin", dir);
    CHECK_EQ_INT(mkdir(empty, 0755), 0);
    write_file(dir, "load.csv",
               "rho,arrival_rate,mean_wait,mean_wait_ci95,p99_wait,p99_wait_ci95,"
               "exact_mean_wait,exact_p99_wait\n0.5,0.5,1,0.1,5,0.5,1,5\n");
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", empty, 1);
    plot_report rep;
    char err[512] = "";
    int rc = plot_dir(dir, PLOT_PNG | PLOT_SVG, &rep, err, sizeof err);
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    } else {
        unsetenv("PATH");
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(rep.gnuplot_missing, 1);
    CHECK_EQ_U64(rep.n_written, 1);
    CHECK_EQ_U64(rep.n_drawn, 0);
    CHECK(file_exists(rep.plots_dir, "queue_load.gp"));
    CHECK(file_exists(rep.plots_dir, "queue_load.dat"));
    CHECK(!file_exists(rep.plots_dir, "queue_load.png"));
    tmpdir_remove(dir);
}

/* Puts an executable script called gnuplot, with the given body, in dir/bin. */
static void fake_gnuplot(const char *dir, const char *body)
{
    char bin[300], path[320];
    snprintf(bin, sizeof bin, "%s/bin", dir);
    mkdir(bin, 0755);
    snprintf(path, sizeof path, "%s/gnuplot", bin);
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        exit(1);
    }
    fprintf(fp, "#!/bin/sh\n%s\n", body);
    fclose(fp);
    chmod(path, 0755);
}

/* Runs plot_dir with PATH set to dir/bin only. */
static int plot_with_fake_path(const char *dir, plot_report *rep, char *err, size_t errlen)
{
    char bin[300];
    snprintf(bin, sizeof bin, "%s/bin", dir);
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", bin, 1);
    int rc = plot_dir(dir, PLOT_PNG | PLOT_SVG, rep, err, errlen);
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    } else {
        unsetenv("PATH");
    }
    return rc;
}

/* A gnuplot that fails is an error naming the script and quoting gnuplot; one that draws
 * nothing is one too; and neither leaves a picture under a final or temporary name. */
static void test_gnuplot_failure(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "load.csv",
               "rho,arrival_rate,mean_wait,mean_wait_ci95,p99_wait,p99_wait_ci95,"
               "exact_mean_wait,exact_p99_wait\n0.5,0.5,1,0.1,5,0.5,1,5\n");
    plot_report rep;
    char err[512] = "";
    /* Draws half a picture under the name it was given, then fails. */
    fake_gnuplot(dir, "base=${3#outbase=\\'}; base=${base%%\\'*}\n"
                      "echo partial > \"$base.png\"\n"
                      "echo 'plot x' >&2\n"
                      "echo '\"queue_load.gp\" line 3: undefined variable: x' >&2\n"
                      "exit 1");
    CHECK_EQ_INT(plot_with_fake_path(dir, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "gnuplot failed on ");
    CHECK_CONTAINS(err, "plots/queue_load.gp");
    CHECK_CONTAINS(err, "undefined variable: x");
    CHECK(file_exists(rep.plots_dir, "queue_load.gp"));
    CHECK(!file_exists(rep.plots_dir, "queue_load.png"));
    CHECK(!dir_has_temporary(rep.plots_dir));

    fake_gnuplot(dir, "exit 0");
    CHECK_EQ_INT(plot_with_fake_path(dir, &rep, err, sizeof err), -1);
    CHECK_CONTAINS(err, "gnuplot did not draw queue_load.png");
    CHECK(!file_exists(rep.plots_dir, "queue_load.png"));
    CHECK(!dir_has_temporary(rep.plots_dir));
    tmpdir_remove(dir);
}

/* Labels from CSV fields cannot break out of their gnuplot strings. */
static void test_label_escaping(void)
{
    char dir[256];
    tmpdir_make(dir, sizeof dir);
    write_file(dir, "search.csv",
               "step,rate_req_s,verdict,slo_metric,value_ms,ci95_ms,limit_ms\n"
               "1,10,meets,\"it's \"\"x\"\"\\n_^{y}\",200,20,500\n");
    plot_report rep;
    char err[512] = "";
    CHECK_EQ_INT(plot_dir(dir, PLOT_PNG, &rep, err, sizeof err), 0);
    static const char *const want[] = {"title 'it''s \"x\"\\n_^{y}'", "noenhanced", NULL};
    check_script(rep.plots_dir, "rate_search", want);
    if (!rep.gnuplot_missing)
        CHECK_EQ_U64(rep.n_drawn, 1);
    tmpdir_remove(dir);
}

TEST_MAIN(TEST(test_sweep_against_load), TEST(test_sweep_compare_configs),
          TEST(test_nothing_to_plot), TEST(test_timeseries_first_replication),
          TEST(test_sweep_without_slo), TEST(test_sweep_log_axis_seconds),
          TEST(test_compare_and_calibration_seconds), TEST(test_timeseries_long_replicas),
          TEST(test_latency_cdf), TEST(test_cost_frontier), TEST(test_rate_search),
          TEST(test_queue_load), TEST(test_whatif), TEST(test_whatif_older_and_tall),
          TEST(test_whatif_malformed), TEST(test_malformed_input), TEST(test_gnuplot_missing),
          TEST(test_gnuplot_failure), TEST(test_label_escaping), TEST(test_family_table),
          TEST(test_family_help), TEST(test_family_order))
