/*
 * progress: how far a long command has got, shown on stderr and never in a result file.
 *
 * On a terminal (stderr a tty) a bar redrawn in place at most five times a second;
 * otherwise (a log, a pipe, CI) one line every interval, e.g.
 *     capsim sweep: 12/40 points, 31 s
 * and nothing at all with progress off. The mode comes from the environment so that every
 * command takes it the same way: CAPSIM_PROGRESS=off (what `capsim --quiet`, anywhere on
 * the command line, sets), =lines or =bar force one, unset picks by isatty(2);
 * CAPSIM_PROGRESS_INTERVAL sets the seconds between lines (default 10).
 *
 * A progress is a caller-owned value (no allocation). progress_show reads the clock: the
 * caller calls it every so many units of work (every 65536 events, every finished point),
 * not on every event, so that it costs nothing measurable.
 */
#ifndef CAPSIM_PROGRESS_H
#define CAPSIM_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef enum progress_mode { PROGRESS_OFF, PROGRESS_LINES, PROGRESS_BAR } progress_mode;

typedef struct progress {
    FILE *fp; /* stderr */
    progress_mode mode;
    char what[96]; /* "capsim sweep" */
    char unit[24]; /* "points" */
    uint64_t total;
    double interval_s;
    double t0_s, last_s; /* monotonic clock: the start, the last line or redraw */
    int drawn;           /* a bar is on screen (progress_finish ends its line) */
    int width;           /* the characters of the bar's line on screen */
} progress;

/* The mode the environment asks for (see above). */
progress_mode progress_mode_from_env(void);

/* Starts p for total units of work ("capsim run", "requests"); the mode from the
 * environment. Shows nothing yet. */
void progress_start(progress *p, const char *what, const char *unit, uint64_t total);

/* Whether progress_show would show something now (for a caller whose count of work done
 * is itself costly). */
int progress_due(const progress *p);

/* done of total units are done: redraws the bar or writes a line when one is due. */
void progress_show(progress *p, uint64_t done);

/* progress_show for a callback of the (arg, done, total) shape (serve_config.progress): arg
 * is the progress, whose total becomes total. */
void progress_show_of(void *arg, uint64_t done, uint64_t total);

/* Ends a bar's line; a line mode writes nothing more. */
void progress_finish(progress *p);

/* Blanks a bar's line and puts the cursor at its start, so that other output (a command's
 * step log on stdout, on the same terminal) starts on a clean line; the next progress_show
 * draws the bar again below it. A line mode writes nothing. */
void progress_clear(progress *p);

/* Starts the next stage of a long command: its name and total, with the clock of the bar's
 * estimate restarted. The time of the last line is kept, so that a line mode still writes
 * one line per interval across stages shorter than the interval. */
void progress_stage(progress *p, const char *what, uint64_t total);

#endif
