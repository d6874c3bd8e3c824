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
#include "sim/base/outdir.h"
#include "sim/base/util.h"
#include "sim/cli/cli.h"

static const char *CMD = "plot";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim plot DIR [--format png,svg|png|svg] [--force]\n"
            "\n"
            "Draws every plot the result files in DIR allow, with gnuplot. For each plot\n"
            "NAME it writes, in DIR/plots/, NAME.gp (a gnuplot script), NAME.dat (the numbers\n"
            "it draws) and NAME.png / NAME.svg. To restyle a plot, edit NAME.gp and run\n"
            "`gnuplot NAME.gp` inside DIR/plots/. Without gnuplot on PATH only the scripts\n"
            "are written.\n"
            "\n"
            "An edited NAME.gp is kept: capsim plot (and every command that draws plots)\n"
            "draws with it, writes the script it would have written as NAME.new.gp and says\n"
            "so; --force replaces the edited script. A script is known as capsim's own by\n"
            "its hash in DIR/MANIFEST, which lists the files capsim wrote in DIR; when DIR\n"
            "has a MANIFEST, only the result files it lists are drawn, so files an earlier\n"
            "run left behind never mix with the latest. DIR is locked while plotting: a\n"
            "second capsim command writing DIR at the same time is refused.\n"
            "\n"
            "plot families, the files that give them and what they draw [plots]:\n");
    plot_help(out);
    fprintf(out,
            "\n"
            "options:\n"
            "  --format LIST   picture formats: png, svg or png,svg [png,svg]\n"
            "  --force         replace scripts NAME.gp that were edited\n"
            "  -h, --help      show this help\n"
            "\n"
            "exit status: 0 done (also when there is nothing to plot or no gnuplot), 1 a file\n"
            "could not be read, written or drawn, or DIR is being written by another capsim\n"
            "command, 2 bad command line, no such DIR, or a plot file that is a directory,\n"
            "FIFO or device.\n"
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
        {"force", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned formats = PLOT_PNG | PLOT_SVG, force = 0;
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
        case 'F':
            force = PLOT_FORCE;
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

    /* Locked against a second writer; its plots/ recorded in DIR/MANIFEST. */
    char line[8192], err[1024], whole[4200];
    util_printable(dir, whole, sizeof whole);
    snprintf(line, sizeof line, "capsim plot %s%s", whole, force ? " --force" : "");
    struct outdir *od = NULL;
    int orc = outdir_open(&od, dir, "plots/", line, NULL, NULL, err, sizeof err);
    if (orc != 0) {
        fprintf(stderr, "capsim plot: %s\n", err);
        return orc == OUTDIR_BAD_PATH ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    plot_report rep;
    int rc = plot_dir(dir, formats | force, &rep, err, sizeof err);
    char serr[1024];
    if (outdir_settle(od, rc == 0, stderr, CMD, serr, sizeof serr) != 0 && rc == 0) {
        snprintf(err, sizeof err, "%s", serr);
        rc = -1;
    }
    outdir_report_removed(od, stderr, CMD);
    outdir_close(od, 1);
    plot_report_kept(stderr, CMD, &rep);
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
