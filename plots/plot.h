/*
 * plot: pictures of capsim's result files, drawn by gnuplot from scripts capsim writes.
 *
 * plot_dir() looks in a result folder for the files the capsim commands write (summary.csv
 * from a sweep, timeseries.csv and requests.csv from a run, frontier.csv and search.csv from
 * the capacity commands, load.csv from a queue load sweep, whatif.csv from the demo,
 * fit.csv from calibrate, ...), and for every plot those files allow it writes, in
 * DIR/plots/:
 *
 *   NAME.gp   a gnuplot script that reads NAME.dat by relative path and, run as
 *             `cd DIR/plots && gnuplot NAME.gp`, writes NAME.png and NAME.svg;
 *   NAME.dat  the numbers the script draws, already filtered, grouped and sorted (CDFs,
 *             one block per configuration, ...), so the script stays short and editable.
 *
 * It then runs gnuplot on each script. The scripts and data files are written atomically;
 * gnuplot is told to draw under temporary names, which are renamed to NAME.png/NAME.svg
 * only when it succeeded, so a half-drawn picture never sits under the final name.
 *
 * Which file gives which plots is the table of plot families in plot.c: one family per
 * file plots/plot_NAME.c (see gp.h). plot_help() and plot_input_files() print that table
 * for the command's help and messages.
 *
 * There is no state between calls: each call reads the folder afresh.
 */
#ifndef CAPSIM_PLOT_H
#define CAPSIM_PLOT_H

#include <stddef.h>
#include <stdio.h>

/* Picture formats, or-ed together; with PLOT_FORCE, a script the user edited is replaced. */
#define PLOT_PNG   1u
#define PLOT_SVG   2u
#define PLOT_FORCE 4u

#define PLOT_MAX      16 /* more plots than any folder can give */
#define PLOT_NAME_MAX 32

/* What one plot_dir() call did; filled in by it (the caller owns the struct). */
typedef struct plot_report {
    size_t n_written;                    /* plots whose .gp (and .dat) were written */
    char names[PLOT_MAX][PLOT_NAME_MAX]; /* their NAMEs, in the order written */
    size_t n_drawn;                      /* of those, how many gnuplot drew */
    int gnuplot_missing;                 /* 1: no gnuplot on PATH, so nothing was drawn */
    char plots_dir[4096];                /* DIR/plots, where everything went */
    size_t n_kept;                       /* scripts kept because the user edited them */
    char kept[PLOT_MAX][PLOT_NAME_MAX];  /* their NAMEs: NAME.gp kept, NAME.new.gp written */
} plot_report;

/* Draws every plot the result files in dir allow, in the formats asked for (PLOT_PNG,
 * PLOT_SVG or both; at least one). DIR/plots is created only when there is something to
 * plot. Returns 0 on success, which includes a folder with nothing to plot
 * (rep->n_written == 0) and a system without gnuplot (rep->gnuplot_missing, scripts
 * written, nothing drawn). Returns -1 with a one-line message in err on a real failure:
 * a folder that cannot be read, a malformed CSV file (the message names file, line and
 * column), a file that cannot be written, or gnuplot failing on a script (the message
 * names the script and quotes gnuplot's complaint). Plots finished before a failure stay.
 *
 * When DIR has a MANIFEST that covers the whole folder (sim/base/outdir.h), only the input
 * files it lists are drawn: files an earlier run left behind are not mixed in.
 *
 * A NAME.gp the user edited is never overwritten (without PLOT_FORCE): a script is taken
 * as edited when it differs from the one about to be written and from the one the
 * MANIFEST (of DIR or of one of the two folders above it) records capsim wrote. The new
 * script then goes to NAME.new.gp, the pictures are drawn with the user's NAME.gp, and
 * rep->kept names the plot (plot_report_kept prints it). */
int plot_dir(const char *dir, unsigned formats, plot_report *rep, char *err, size_t errlen);

/* Prints, for each script rep kept, one line "capsim CMD: kept your edited ..." to err. */
void plot_report_kept(FILE *err, const char *cmd, const plot_report *rep);

/* Writes, for a help text, one entry per plot family and input file: the family's name,
 * the file, the command that writes it, what is drawn from it and the NAMEs of its plots,
 * in lines of at most 80 columns indented by two spaces. */
void plot_help(FILE *out);

/* Writes the names of the input files plot_dir looks for into out, each once, in the order
 * drawn: "summary.csv, timeseries.csv, ... or fit_points.csv" (cut short to fit len). */
void plot_input_files(char *out, size_t len);

#endif
