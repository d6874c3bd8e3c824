/*
 * profile: step-time coefficient profiles as CSV (see profile.h).
 */
#include "models/profile.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/base/csvin.h"
#include "sim/base/csvout.h"
#include "sim/base/util.h"

enum { P_GPU, P_MFU, P_MBU, P_FIXED, P_LAYER, P_COMM, P_ATTN, P_NOISE, P_BASIS, P_SOURCE, P_COUNT };
static const char *const COLS[P_COUNT] = {"gpu",        "mfu",        "mbu",        "t_fixed_ms",
                                          "t_layer_ms", "comm_scale", "attn_scale", "noise_cv",
                                          "basis",      "source"};
static const int REQUIRED[P_COUNT] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};

static int read_row(csvin *in, const int *idx, void *item, char *err, size_t errlen)
{
    profile_row *r = item;
    memset(r, 0, sizeof *r);
    const char *gpu = csvin_field(in, (size_t)idx[P_GPU]);
    if (*gpu == '\0' || strlen(gpu) >= sizeof r->gpu) {
        util_errf(err, errlen, "%s:%ld: column 'gpu': expected a GPU name or '*'", csvin_path(in),
                  csvin_line(in));
        return -1;
    }
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    if (idx[P_BASIS] >= 0)
        snprintf(r->basis, sizeof r->basis, "%s", csvin_field(in, (size_t)idx[P_BASIS]));
    if (idx[P_SOURCE] >= 0)
        snprintf(r->source, sizeof r->source, "%s", csvin_field(in, (size_t)idx[P_SOURCE]));
    double ms_fixed, ms_layer;
    if (csvin_number(in, idx[P_MFU], "mfu", 1e-6, 2, 0, 0, &r->c.mfu, err, errlen) ||
        csvin_number(in, idx[P_MBU], "mbu", 1e-6, 2, 0, 0, &r->c.mbu, err, errlen) ||
        csvin_number(in, idx[P_FIXED], "t_fixed_ms", 0, 1e6, 0, 0, &ms_fixed, err, errlen) ||
        csvin_number(in, idx[P_LAYER], "t_layer_ms", 0, 1e6, 0, 0, &ms_layer, err, errlen) ||
        csvin_number(in, idx[P_COMM], "comm_scale", 0, 1e6, 0, 0, &r->c.comm_scale, err, errlen) ||
        csvin_number(in, idx[P_ATTN], "attn_scale", 1e-6, 1e6, 0, 0, &r->c.attn_scale, err,
                     errlen) ||
        csvin_number(in, idx[P_NOISE], "noise_cv", 0, 10, 0, 0, &r->c.noise_cv, err, errlen))
        return -1;
    r->c.t_fixed_s = ms_fixed / 1e3;
    r->c.t_layer_s = ms_layer / 1e3;
    return 0;
}

int profile_list_load(const char *path, profile_list *out, char *err, size_t errlen)
{
    void *items;
    int rc = csvin_load_table(path, COLS, REQUIRED, P_COUNT, sizeof(profile_row), read_row, &items,
                              &out->n, err, errlen);
    out->items = items;
    return rc;
}

void profile_list_free(profile_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

const profile_row *profile_list_find(const profile_list *l, const char *gpu)
{
    const profile_row *any = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (strcasecmp(l->items[i].gpu, gpu) == 0)
            return &l->items[i];
        if (strcmp(l->items[i].gpu, "*") == 0)
            any = &l->items[i];
    }
    return any;
}

void profile_write(FILE *fp, const profile_row *row)
{
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < P_COUNT; i++)
        csvout_str(&c, COLS[i]);
    csvout_end_row(&c);
    csvout_str(&c, row->gpu);
    csvout_num(&c, row->c.mfu);
    csvout_num(&c, row->c.mbu);
    csvout_num(&c, row->c.t_fixed_s * 1e3);
    csvout_num(&c, row->c.t_layer_s * 1e3);
    csvout_num(&c, row->c.comm_scale);
    csvout_num(&c, row->c.attn_scale);
    csvout_num(&c, row->c.noise_cv);
    csvout_str(&c, row->basis);
    csvout_str(&c, row->source);
    csvout_end_row(&c);
}
