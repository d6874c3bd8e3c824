/*
 * progress: a bar or periodic lines on stderr for long commands (see progress.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/base/progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Redraws of a bar at most this often, s: more is flicker, not information. */
#define PROGRESS_BAR_INTERVAL_S 0.2
#define PROGRESS_BAR_WIDTH      30
#define PROGRESS_BAR_MIN_WIDTH  5

/* The columns of the terminal fp writes to, or 80 when it does not say. */
static int terminal_columns(FILE *fp)
{
    struct winsize ws;
    if (ioctl(fileno(fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

progress_mode progress_mode_from_env(void)
{
    const char *env = getenv("CAPSIM_PROGRESS");
    if (env && strcmp(env, "off") == 0)
        return PROGRESS_OFF;
    if (env && strcmp(env, "lines") == 0)
        return PROGRESS_LINES;
    if (env && strcmp(env, "bar") == 0)
        return PROGRESS_BAR;
    return isatty(2) ? PROGRESS_BAR : PROGRESS_LINES;
}

void progress_start(progress *p, const char *what, const char *unit, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->fp = stderr;
    p->mode = progress_mode_from_env();
    snprintf(p->what, sizeof p->what, "%s", what);
    snprintf(p->unit, sizeof p->unit, "%s", unit);
    p->total = total;
    const char *iv = getenv("CAPSIM_PROGRESS_INTERVAL");
    char *end;
    double v = iv ? strtod(iv, &end) : 0;
    p->interval_s = iv && end != iv && *end == '\0' && v >= 0 ? v : 10.0;
    p->t0_s = p->last_s = now_s();
}

int progress_due(const progress *p)
{
    if (p->mode == PROGRESS_OFF)
        return 0;
    double every = p->mode == PROGRESS_BAR ? PROGRESS_BAR_INTERVAL_S : p->interval_s;
    return now_s() - p->last_s >= every;
}

void progress_show(progress *p, uint64_t done)
{
    if (!progress_due(p))
        return;
    double t = now_s();
    p->last_s = t;
    unsigned long long d = done, n = p->total;
    double el = t - p->t0_s;
    if (p->mode == PROGRESS_LINES) {
        fprintf(p->fp, "%s: %llu/%llu %s, %.0f s\n", p->what, d, n, p->unit, el);
        fflush(p->fp);
        return;
    }
    double share = n > 0 ? (double)d / (double)n : 0;
    double left = share > 0 ? el * (1 - share) / share : 0;
    char tail[96];
    int tail_len = snprintf(tail, sizeof tail, "%llu/%llu %s, %.0f s, about %.0f s left  ", d, n,
                            p->unit, el, left);
    /* Within the terminal's width, the bar narrowed first and the line cut last: \r does
     * not go back over a line that wrapped. */
    int cols = terminal_columns(p->fp) - 1;
    int width = cols - (int)strlen(p->what) - tail_len - 4;
    width = width < PROGRESS_BAR_MIN_WIDTH   ? PROGRESS_BAR_MIN_WIDTH
            : width > PROGRESS_BAR_WIDTH ? PROGRESS_BAR_WIDTH
                                         : width;
    int fill = (int)(share * width + 0.5);
    char bar[PROGRESS_BAR_WIDTH + 1];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char line[256];
    int w = snprintf(line, sizeof line, "%s [%s] %s", p->what, bar, tail);
    if (w > cols)
        w = cols;
    if (w > (int)sizeof line - 1)
        w = (int)sizeof line - 1;
    if (w < 0)
        w = 0;
    fprintf(p->fp, "\r%.*s", w, line);
    fflush(p->fp);
    p->drawn = 1;
    if (w > p->width)
        p->width = w;
}

void progress_show_of(void *arg, uint64_t done, uint64_t total)
{
    progress *p = arg;
    p->total = total;
    progress_show(p, done);
}

void progress_finish(progress *p)
{
    if (p->drawn)
        fputc('\n', p->fp);
    p->drawn = 0;
    p->width = 0;
}

void progress_clear(progress *p)
{
    if (!p->drawn)
        return;
    fprintf(p->fp, "\r%*s\r", p->width, "");
    fflush(p->fp);
    p->drawn = 0;
    p->width = 0;
}

void progress_stage(progress *p, const char *what, uint64_t total)
{
    snprintf(p->what, sizeof p->what, "%s", what);
    p->total = total;
    p->t0_s = now_s();
}
