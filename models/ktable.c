/*
 * ktable: reading, indexing and interpolating one table of measured kernel latencies (see
 * ktable.h for the interpolation: multilinear, plain or log-log per axis, and why).
 */
#include "models/ktable.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

/* The columns of one kind of table: keys first, then axes in the order the lookup walks
 * them, and which axes are interpolated in log-log coordinates. A hole in the grid is
 * bridged along the last axis, so each order ends with the axis that bridged held-out rows
 * best (ktable.h); on a complete grid the order does not change the result. */
typedef struct kschema {
    const char *file;
    int nkeys;
    const char *keys[KTABLE_MAX_KEYS];
    int naxes;
    const char *axes[KTABLE_MAX_AXES];
    unsigned loglog; /* bit i: interpolate axis i in log-log coordinates (else linear) */
} kschema;

static const kschema SCHEMAS[KTABLE_NKINDS] = {
    [KTABLE_GEMM] = {"gemm_perf.csv", 1, {"gemm_dtype"}, 3, {"m", "n", "k"}, 0},
    [KTABLE_PREFILL_ATTN] = {"context_attention_perf.csv",
                             1,
                             {"kv_cache_dtype"},
                             5,
                             {"head_dim", "num_heads", "num_key_value_heads", "isl", "batch_size"},
                             1u << 3},
    [KTABLE_DECODE_ATTN] = {"generation_attention_perf.csv",
                            1,
                            {"kv_cache_dtype"},
                            5,
                            {"head_dim", "num_key_value_heads", "batch_size", "step", "num_heads"},
                            0},
    [KTABLE_MOE] = {"moe_perf.csv",
                    2,
                    {"moe_dtype", "distribution"},
                    7,
                    {"hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size",
                     "moe_ep_size", "num_tokens"},
                    (1u << 4) | (1u << 5)},
    [KTABLE_CUSTOM_AR] = {"custom_allreduce_perf.csv",
                          2,
                          {"backend", "allreduce_dtype"},
                          2,
                          {"num_gpus", "message_size"},
                          0},
    [KTABLE_NCCL] = {"nccl_perf.csv", 2, {"op_name", "nccl_dtype"}, 2, {"num_gpus", "message_size"}, 0},
};

/* One row: key ids into the table's dictionaries, each axis value, the latency in ms.
 * Unused key and axis slots are 0, so one comparison serves every kind. */
typedef struct krow {
    unsigned char key[KTABLE_MAX_KEYS];
    double x[KTABLE_MAX_AXES];
    double v;
} krow;

struct ktable {
    ktable_kind kind;
    const kschema *s;
    char *dict[KTABLE_MAX_KEYS][KTABLE_MAX_KEYVALS];
    int ndict[KTABLE_MAX_KEYS];
    size_t n;
    krow *rows;
};

const char *ktable_kind_file(ktable_kind kind)
{
    return (unsigned)kind < KTABLE_NKINDS ? SCHEMAS[kind].file : "";
}

int ktable_kind_of_file(const char *filename)
{
    for (int k = 0; k < KTABLE_NKINDS; k++)
        if (strcmp(filename, SCHEMAS[k].file) == 0)
            return k;
    return -1;
}

static int row_cmp(const void *pa, const void *pb)
{
    const krow *a = pa, *b = pb;
    for (int i = 0; i < KTABLE_MAX_KEYS; i++)
        if (a->key[i] != b->key[i])
            return a->key[i] < b->key[i] ? -1 : 1;
    for (int i = 0; i < KTABLE_MAX_AXES; i++)
        if (a->x[i] != b->x[i])
            return a->x[i] < b->x[i] ? -1 : 1;
    return 0;
}

static int same_point(const krow *a, const krow *b)
{
    return memcmp(a->key, b->key, sizeof a->key) == 0 && memcmp(a->x, b->x, sizeof a->x) == 0;
}

/* Sorts the rows and merges duplicated points by the geometric mean of their latencies. */
static void sort_and_merge(ktable *t)
{
    if (t->n == 0)
        return;
    qsort(t->rows, t->n, sizeof *t->rows, row_cmp);
    size_t out = 0;
    for (size_t i = 0; i < t->n;) {
        size_t j = i + 1;
        double sum = log(t->rows[i].v);
        while (j < t->n && same_point(&t->rows[i], &t->rows[j]))
            sum += log(t->rows[j++].v);
        t->rows[out] = t->rows[i];
        if (j - i > 1)
            t->rows[out].v = exp(sum / (double)(j - i));
        out++;
        i = j;
    }
    t->n = out;
}

/* The id of key value v in column c, adding it if new; -1 when the column is full. */
static int intern(ktable *t, int c, const char *v)
{
    for (int i = 0; i < t->ndict[c]; i++)
        if (strcmp(t->dict[c][i], v) == 0)
            return i;
    if (t->ndict[c] >= KTABLE_MAX_KEYVALS)
        return -1;
    size_t len = strlen(v);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, v, len + 1);
    t->dict[c][t->ndict[c]] = copy;
    return t->ndict[c]++;
}

static int find_key(const ktable *t, int c, const char *v)
{
    for (int i = 0; i < t->ndict[c]; i++)
        if (strcmp(t->dict[c][i], v) == 0)
            return i;
    return -1;
}

/* Reads field col of the current record as a positive finite number. */
static int read_positive(csvin *in, int col, const char *name, double *out, char *err,
                         size_t errlen)
{
    const char *f = csvin_field(in, (size_t)col);
    double v;
    if (util_parse_double(f, &v) != 0 || !(v >= DBL_MIN) || !isfinite(v)) {
        char shown[64];
        util_printable(f, shown, sizeof shown);
        util_errf(err, errlen, "%s:%ld:%d: column '%s': expected a positive number, found '%s'",
                  csvin_path(in), csvin_line(in), col + 1, name, shown);
        return -1;
    }
    *out = v;
    return 0;
}

typedef struct kcols {
    int key[KTABLE_MAX_KEYS];
    int axis[KTABLE_MAX_AXES];
    int latency, window;
} kcols;

static int find_columns(csvin *in, const kschema *s, kcols *c, char *err, size_t errlen)
{
    const char *missing = NULL;
    for (int i = 0; i < s->nkeys; i++)
        if ((c->key[i] = csvin_column(in, s->keys[i])) < 0 && missing == NULL)
            missing = s->keys[i];
    for (int i = 0; i < s->naxes; i++)
        if ((c->axis[i] = csvin_column(in, s->axes[i])) < 0 && missing == NULL)
            missing = s->axes[i];
    if ((c->latency = csvin_column(in, "latency")) < 0 && missing == NULL)
        missing = "latency";
    c->window = csvin_column(in, "window_size");
    if (missing != NULL) {
        util_errf(err, errlen, "%s:%ld:1: no column '%s' in the header of a %s table",
                  csvin_path(in), csvin_header_line(in), missing, s->file);
        return -1;
    }
    return 0;
}

/* Parses the current record into r. Returns 1 for a row, 0 for a skipped row (a sliding
 * window), -1 on error. */
static int parse_row(ktable *t, csvin *in, const kcols *c, krow *r, char *err, size_t errlen)
{
    if (c->window >= 0) {
        double w;
        const char *f = csvin_field(in, (size_t)c->window);
        if (util_parse_double(f, &w) != 0 || w != 0.0)
            return 0;
    }
    memset(r, 0, sizeof *r);
    for (int i = 0; i < t->s->nkeys; i++) {
        const char *f = csvin_field(in, (size_t)c->key[i]);
        int id = *f != '\0' ? intern(t, i, f) : -1;
        if (id < 0) {
            util_errf(err, errlen, "%s:%ld:%d: column '%s': empty, or more than %d distinct values",
                      csvin_path(in), csvin_line(in), c->key[i] + 1, t->s->keys[i],
                      KTABLE_MAX_KEYVALS);
            return -1;
        }
        r->key[i] = (unsigned char)id;
    }
    for (int i = 0; i < t->s->naxes; i++)
        if (read_positive(in, c->axis[i], t->s->axes[i], &r->x[i], err, errlen) != 0)
            return -1;
    if (read_positive(in, c->latency, "latency", &r->v, err, errlen) != 0)
        return -1;
    return 1;
}

static int read_rows(ktable *t, csvin *in, char *err, size_t errlen)
{
    kcols c;
    if (find_columns(in, t->s, &c, err, errlen) != 0)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = csvin_next(in)) == 1) {
        if (t->n == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            krow *nr = realloc(t->rows, ncap * sizeof *nr);
            if (nr == NULL) {
                util_errf(err, errlen, "%s: out of memory", csvin_path(in));
                return -1;
            }
            t->rows = nr;
            cap = ncap;
        }
        int got = parse_row(t, in, &c, &t->rows[t->n], err, errlen);
        if (got < 0)
            return -1;
        t->n += (size_t)got;
    }
    if (rc < 0) {
        util_errf(err, errlen, "%s", csvin_error(in));
        return -1;
    }
    return 0;
}

ktable *ktable_load(const char *path, ktable_kind kind, char *err, size_t errlen)
{
    if ((unsigned)kind >= KTABLE_NKINDS) {
        util_errf(err, errlen, "%s: unknown kind of kernel table", path);
        return NULL;
    }
    csvin *in = csvin_open(path, err, errlen);
    if (in == NULL)
        return NULL;
    ktable *t = calloc(1, sizeof *t);
    int ok = t != NULL;
    if (ok) {
        t->kind = kind;
        t->s = &SCHEMAS[kind];
        int rc = csvin_read_header(in);
        if (rc != 1) {
            util_errf(err, errlen, "%s", rc == 0 ? "empty file" : csvin_error(in));
            ok = 0;
        }
    } else {
        util_errf(err, errlen, "%s: out of memory", path);
    }
    if (ok && read_rows(t, in, err, errlen) != 0)
        ok = 0;
    if (ok && t->n == 0) {
        util_errf(err, errlen, "%s: no rows", path);
        ok = 0;
    }
    csvin_close(in);
    if (!ok) {
        ktable_free(t);
        return NULL;
    }
    sort_and_merge(t);
    return t;
}

ktable *ktable_subset(const ktable *t, const unsigned char *drop)
{
    ktable *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->kind = t->kind;
    s->s = t->s;
    s->rows = malloc((t->n ? t->n : 1) * sizeof *s->rows);
    int ok = s->rows != NULL;
    for (int c = 0; ok && c < t->s->nkeys; c++)
        for (int i = 0; ok && i < t->ndict[c]; i++)
            ok = intern(s, c, t->dict[c][i]) == i;
    for (size_t i = 0; ok && i < t->n; i++)
        if (!drop[i])
            s->rows[s->n++] = t->rows[i];
    if (!ok || s->n == 0) {
        ktable_free(s);
        return NULL;
    }
    return s;
}

void ktable_free(ktable *t)
{
    if (t == NULL)
        return;
    for (int c = 0; c < KTABLE_MAX_KEYS; c++)
        for (int i = 0; i < t->ndict[c]; i++)
            free(t->dict[c][i]);
    free(t->rows);
    free(t);
}

ktable_kind ktable_kind_get(const ktable *t) { return t->kind; }
size_t ktable_nrows(const ktable *t) { return t->n; }
int ktable_naxes(const ktable *t) { return t->s->naxes; }
int ktable_nkeys(const ktable *t) { return t->s->nkeys; }

const char *ktable_axis_name(const ktable *t, int axis)
{
    return axis >= 0 && axis < t->s->naxes ? t->s->axes[axis] : "";
}

const char *ktable_key_name(const ktable *t, int key)
{
    return key >= 0 && key < t->s->nkeys ? t->s->keys[key] : "";
}

void ktable_row(const ktable *t, size_t i, const char **keys, double *axes, double *latency_ms)
{
    const krow *r = &t->rows[i];
    for (int c = 0; c < t->s->nkeys; c++)
        keys[c] = t->dict[c][r->key[c]];
    for (int a = 0; a < t->s->naxes; a++)
        axes[a] = r->x[a];
    *latency_ms = r->v;
}

/* First row in [lo, hi) whose axis value is >= x (or > x when strict); rows in the range
 * are sorted on that axis. */
static size_t bound(const krow *rows, size_t lo, size_t hi, int axis, double x, int strict)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double v = rows[mid].x[axis];
        if (v < x || (strict && v == x))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Blends fa (at xa) and fb (at xb) at x, with xa < x < xb: linearly, or linearly in
 * log-log coordinates. Either way a convex combination of fa and fb in its space. */
static double blend(double x, double xa, double xb, double fa, double fb, int loglog)
{
    if (!loglog)
        return fa + (x - xa) / (xb - xa) * (fb - fa);
    double w = log(x / xa) / log(xb / xa);
    return fa * pow(fb / fa, w);
}

/* The latency at q over the rows [lo, hi), which share every axis before `axis`. */
static double interp(const ktable *t, size_t lo, size_t hi, int axis, const double *q,
                     unsigned *outside)
{
    const krow *rows = t->rows;
    if (axis == t->s->naxes)
        return rows[lo].v; /* merged on loading: one row per point */
    double x = q[axis];
    size_t p = bound(rows, lo, hi, axis, x, 0);
    if (p < hi && rows[p].x[axis] == x)
        return interp(t, p, bound(rows, p, hi, axis, x, 1), axis + 1, q, outside);
    if (p == lo || p == hi) {
        /* Outside this range's grid on this axis: the edge value, flagged. */
        *outside |= 1u << axis;
        double edge = p == lo ? rows[lo].x[axis] : rows[hi - 1].x[axis];
        size_t a = bound(rows, lo, hi, axis, edge, 0), b = bound(rows, lo, hi, axis, edge, 1);
        return interp(t, a, b, axis + 1, q, outside);
    }
    double xa = rows[p - 1].x[axis], xb = rows[p].x[axis];
    double fa = interp(t, bound(rows, lo, p, axis, xa, 0), p, axis + 1, q, outside);
    double fb = interp(t, p, bound(rows, p, hi, axis, xb, 1), axis + 1, q, outside);
    return blend(x, xa, xb, fa, fb, (int)((t->s->loglog >> axis) & 1u));
}

/* The range of rows with exactly these key ids. */
static void key_range(const ktable *t, const unsigned char *key, size_t *lo, size_t *hi)
{
    size_t a = 0, b = t->n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (memcmp(t->rows[mid].key, key, KTABLE_MAX_KEYS) < 0)
            a = mid + 1;
        else
            b = mid;
    }
    size_t c = a, d = t->n;
    while (c < d) {
        size_t mid = c + (d - c) / 2;
        if (memcmp(t->rows[mid].key, key, KTABLE_MAX_KEYS) <= 0)
            c = mid + 1;
        else
            d = mid;
    }
    *lo = a;
    *hi = c;
}

ktable_status ktable_lookup(const ktable *t, const char *const *keys, const double *axes,
                            ktable_result *r)
{
    unsigned char key[KTABLE_MAX_KEYS] = {0};
    r->latency_ms = NAN;
    r->extrapolated_axes = 0;
    r->status = KTABLE_NO_KEY;
    for (int c = 0; c < t->s->nkeys; c++) {
        int id = find_key(t, c, keys[c]);
        if (id < 0)
            return r->status;
        key[c] = (unsigned char)id;
    }
    size_t lo, hi;
    key_range(t, key, &lo, &hi);
    if (lo == hi)
        return r->status;
    double q[KTABLE_MAX_AXES];
    for (int a = 0; a < t->s->naxes; a++) {
        q[a] = axes[a];
        if (!(axes[a] > 0.0) || !isfinite(axes[a])) {
            /* No grid holds zero, negative or non-finite sizes: below (or above) them all. */
            r->extrapolated_axes |= 1u << a;
            q[a] = axes[a] > 0.0 ? DBL_MAX : 0.0;
        }
    }
    r->latency_ms = interp(t, lo, hi, 0, q, &r->extrapolated_axes);
    r->status = r->extrapolated_axes ? KTABLE_EXTRAPOLATED : KTABLE_OK;
    return r->status;
}

ktable_status ktable_gemm(const ktable *t, const char *dtype, double m, double n, double k,
                          ktable_result *r)
{
    const char *keys[] = {dtype};
    const double axes[] = {m, n, k};
    return ktable_lookup(t, keys, axes, r);
}

ktable_status ktable_prefill_attn(const ktable *t, double batch, double isl, double heads,
                                  double kv_heads, double head_dim, const char *kv_dtype,
                                  ktable_result *r)
{
    const char *keys[] = {kv_dtype};
    const double axes[] = {head_dim, heads, kv_heads, isl, batch};
    return ktable_lookup(t, keys, axes, r);
}

ktable_status ktable_decode_attn(const ktable *t, double batch, double context, double heads,
                                 double kv_heads, double head_dim, const char *kv_dtype,
                                 ktable_result *r)
{
    const char *keys[] = {kv_dtype};
    const double axes[] = {head_dim, kv_heads, batch, context, heads};
    return ktable_lookup(t, keys, axes, r);
}

ktable_status ktable_allreduce(const ktable *t, double num_gpus, double message_elems,
                               const char *backend, ktable_result *r)
{
    const char *keys[] = {backend, "bfloat16"};
    const double axes[] = {num_gpus, message_elems};
    return ktable_lookup(t, keys, axes, r);
}

ktable_status ktable_nccl(const ktable *t, const char *op, double num_gpus,
                          double message_elems, ktable_result *r)
{
    const char *keys[] = {op, "half"};
    const double axes[] = {num_gpus, message_elems};
    return ktable_lookup(t, keys, axes, r);
}

ktable_status ktable_moe(const ktable *t, const char *dtype, double num_tokens,
                         const ktable_moe_shape *shape, const char *distribution,
                         ktable_result *r)
{
    const char *keys[] = {dtype, distribution};
    const double axes[] = {shape->hidden, shape->inter, shape->topk, shape->experts,
                           shape->tp,     shape->ep,    num_tokens};
    return ktable_lookup(t, keys, axes, r);
}
