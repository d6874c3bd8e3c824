/*
 * csvout: CSV writing helpers (see csvout.h).
 */
#include "sim/base/csvout.h"

#include <math.h>
#include <string.h>

#include <csv.h>

void csvout_init(csvout *c, FILE *fp)
{
    c->fp = fp;
    c->n_fields = 0;
}

static void separator(csvout *c)
{
    if (c->n_fields++ > 0)
        fputc(',', c->fp);
}

void csvout_str(csvout *c, const char *s)
{
    separator(c);
    /* Quote only when needed, so plain names stay readable. */
    if (strpbrk(s, ",\"\r\n") != NULL)
        csv_fwrite(c->fp, s, strlen(s));
    else
        fputs(s, c->fp);
}

void csvout_num(csvout *c, double x)
{
    separator(c);
    if (isfinite(x))
        fprintf(c->fp, "%.9g", x);
}

void csvout_u64(csvout *c, uint64_t x)
{
    separator(c);
    fprintf(c->fp, "%llu", (unsigned long long)x);
}

void csvout_end_row(csvout *c)
{
    fputc('\n', c->fp);
    c->n_fields = 0;
}
