/*
 * cmd_plot: `capsim plot DIR`, drawing the result files of a folder with gnuplot.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plots/plot.h"
#include "sim/cli/cli.h"
#include "sim/base/util.h"

static const char *CMD = "plot";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim plot DIR [--format png,svg|png|svg]\n"
            "\n"
            "Draws every plot the result files in DIR allow, with gnuplot. For each plot\n"
            "NAME it writes, in DIR/plots/, NAME.gp (a gnuplot script), NAME.dat (the numbers\n"
            "it draws) and NAME.png / NAME.svg. To restyle a plot, edit NAME.gp and run\n"
            "`gnuplot NAME.gp` inside DIR/plots/. Without gnuplot on PATH only the scripts\n"
            "are written.\n"
            "\n"
            "plot families, the files that give them and what they draw [plots]:\n");
    plot_help(out);
    fprintf(out,
            "\n"
            "options:\n"
            "  --format LIST   picture formats: png, svg or png,svg [png,svg]\n"
            "  -h, --help      show this help\n"
            "\n"
            "exit status: 0 done (also when there is nothing to plot or no gnuplot), 1 a file\n"
            "could not be read, written or drawn, 2 bad command line or no such DIR.\n"
            "\n"
            "example:\n"
            "  capsim sweep --model llama-3.1-8b --gpu h100-sxm --sweep rate=2:30:4 \\\n"
            "      --sweep precision=bf16,fp8 --slo ttft_p99=0.5 --out results/sw\n"
            "  capsim plot results/sw\n");
}

/* Parses "png", "svg" or a comma-separated list of them. */
static int parse_formats(const char *text, unsigned *out)
{
    unsigned f = 0;
    const char *p = text;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 3 && strncmp(p, "png", 3) == 0)
            f |= PLOT_PNG;
        else if (n == 3 && strncmp(p, "svg", 3) == 0)
            f |= PLOT_SVG;
        else
            return -1;
        if (e == NULL)
            break;
        p = e + 1;
    }
    *out = f;
    return 0;
}

int cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned formats = PLOT_PNG | PLOT_SVG;
    opterr = 0;
    optind = 1;
    cli_warn_repeats(CMD, argc, argv, 1, longopts, NULL);
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (parse_formats(optarg, &formats) != 0) {
                char shown[64];
                util_printable(optarg, shown, sizeof shown);
                return cli_usage_error(CMD, "--format '%s': expected png, svg or png,svg", shown);
            }
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(CMD, ch, argv[optind - 1]);
        }
    }
    if (optind == argc)
        return cli_usage_error(CMD, "expected the folder to plot (capsim plot DIR)");
    if (argc - optind > 1)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind + 1]);
    const char *dir = argv[optind];
    char shown[256];
    util_printable(dir, shown, sizeof shown);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_usage_error(CMD, "'%s': no such folder", shown);

    plot_report rep;
    char err[1024];
    int rc = plot_dir(dir, formats, &rep, err, sizeof err);
    /* The plots finished before a failure are complete; list them either way. */
    for (size_t i = 0; i < rep.n_drawn; i++) {
        if (formats & PLOT_PNG)
            printf("%s/%s.png%s", rep.plots_dir, rep.names[i], formats & PLOT_SVG ? " " : "\n");
        if (formats & PLOT_SVG)
            printf("%s/%s.svg\n", rep.plots_dir, rep.names[i]);
    }
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "capsim plot: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    if (rep.n_written == 0) {
        char files[512];
        plot_input_files(files, sizeof files);
        printf("nothing to plot in %s (expected %s)\n", shown, files);
    } else if (rep.gnuplot_missing) {
        char plots[256];
        util_printable(rep.plots_dir, plots, sizeof plots);
        fprintf(stderr,
                "capsim plot: gnuplot not found; wrote the plot scripts in %s/ (install "
                "gnuplot-nox and run capsim plot %s)\n",
                plots, shown);
    }
    return CLI_EXIT_OK;
}
