/*
 * cli: helpers shared by the capsim subcommands: usage errors (exit status 2) and strict
 * option-value parsing that names the option, the value found and the form expected.
 */
#ifndef CAPSIM_CLI_H
#define CAPSIM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>

#include "sim/plan/experiment.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1 /* the run failed (I/O, a validation case failed) */
#define CLI_EXIT_USAGE 2 /* bad command line or input */

/* Prints "capsim CMD: message (see capsim CMD --help)" as one line to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same line written to fp (a step's log, say). */
int cli_usage_error_to(FILE *fp, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses an integer option value in [min, max]. On failure returns -1 and writes
 * "OPT 'VAL': expected ..." into err. */
int cli_parse_count(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out,
                    char *err, size_t errlen);

/* Parses a real option value in [min, max] (INFINITY for no upper bound), with max
 * excluded when max_open. On failure returns -1 with a message as above. */
int cli_parse_real(const char *opt, const char *val, double min, double max, int max_open,
                   double *out, char *err, size_t errlen);

/* Parses on/off (also true/false, 1/0). On failure returns -1 and writes
 * "OPT 'VAL': expected on or off" into err. */
int cli_parse_on_off(const char *opt, const char *val, int *out, char *err, size_t errlen);

/* Reports an option getopt_long rejected: getopt_result is what getopt_long returned
 * with a leading ':' in its option string (':' for a missing value, '?' for unknown). */
int cli_bad_option(const char *cmd, int getopt_result, const char *arg);

/* Warns on stderr of an option given twice on the command line with different values
 * ("capsim CMD: warning: --X given twice ('a', then 'b'): the last wins"), which the later
 * would otherwise override without a word: a pass of getopt_long over argv from index
 * first (with the option string ":h", as the commands use) before the command's own pass;
 * optind is left at first for it. The same value twice says nothing, and the options named
 * in repeatable (NULL-terminated; NULL: none) are given once per item (sweep's axes).
 * Unknown options are left to the command's pass. */
void cli_warn_repeats(const char *cmd, int argc, char **argv, int first,
                      const struct option *longopts, const char *const *repeatable);

/* Says how an experiment of sim/plan ended (see experiment.h) on err, as command cmd
 * says it (plan_error_print: PLAN_BAD_INPUT as a usage error, PLAN_FAILED as
 * "capsim CMD: [CONTEXT: ]REASON"). Returns the exit status, which is the status itself. */
int cli_plan_status(FILE *err, const char *cmd, plan_status status, const plan_error *e);

/* 0 when CAPSIM_PLOTS=off in the environment: the commands then draw no plots. */
int cli_plots_wanted(void);

/* Opens the results folder dir of command cmd before its work (outdir_open of
 * sim/base/outdir.h: created, checked writable, locked against a second capsim command,
 * its files noted), with the command line "capsim [SUB ]ARGV..." (argv as the command got
 * it, after words, "capsim" or "capsim capacity") and seed for its MANIFEST. files lists
 * the files the command will write (NULL-terminated): a directory, FIFO or device at one of
 * them is refused now. Returns CLI_EXIT_OK with *od, or the exit status (2 for a path that
 * is not a folder or a regular file, 1 otherwise) after a one-line message on stderr. */
struct outdir;
int cli_out_open(struct outdir **od, const char *cmd, const char *dir, const char *words,
                 int argc, char **argv, const char *seed, const char *const *files);

/* After the work, whose exit status is status: settles the folder (its earlier files that
 * this run did not write are removed and the MANIFEST written; see outdir_settle), draws
 * its plots when plots is set and plots are wanted (cli_plots_wanted), records them too and
 * unlocks it. A failed run only adds what it wrote to the MANIFEST, and a folder it
 * created and left empty is removed. Returns the final exit status. od may be NULL (no
 * --out): returns status. */
int cli_out_finish(struct outdir *od, const char *cmd, const char *dir, int status, int plots);

/* Prints text word by word, breaking lines so that none is longer than width columns, and
 * ends it with a newline. The caller has printed the first indent columns of the first
 * line; the following lines start with indent spaces. Help texts use it where they hold a
 * list made at run time (the format names of a table). */
void cli_print_wrapped(FILE *out, size_t indent, size_t width, const char *text);
/* The widest line of the help texts. */
#define CLI_HELP_COLUMNS 79

/* Subcommands. argv[0] is the subcommand name. */
int cmd_queue(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_estimate(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_capacity(int argc, char **argv);
int cmd_workload(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

#endif
