/*
 * shard: a sweep shard's identity card, shard.ini (see shard.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"

uint64_t shard_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t shard_size(uint64_t points, uint64_t index, uint64_t count)
{
    if (index < 1 || count < 1 || index > count || index - 1 >= points)
        return 0;
    return (points - (index - 1) + count - 1) / count;
}

int shard_holds(const shard_info *s, uint64_t p)
{
    return p < s->points && p % s->count == s->index - 1;
}

/* The last point of the shard (it holds at least one). */
static uint64_t last_point(const shard_info *s)
{
    return s->index - 1 + (shard_size(s->points, s->index, s->count) - 1) * s->count;
}

void shard_write(FILE *fp, const shard_info *s)
{
    fprintf(fp, "# capsim sweep: what summary.csv beside this file holds (capsim merge checks "
                "it)\n");
    fprintf(fp, "sweep_id = %s\n", s->sweep_id);
    fprintf(fp, "points = %llu\n", (unsigned long long)s->points);
    fprintf(fp, "shard = %llu/%llu\n", (unsigned long long)s->index, (unsigned long long)s->count);
    fprintf(fp, "point_indices = %llu:%llu:%llu\n", (unsigned long long)(s->index - 1),
            (unsigned long long)last_point(s), (unsigned long long)s->count);
    fprintf(fp, "rows = %llu\n", (unsigned long long)s->rows);
    fprintf(fp, "summary_bytes = %llu\n", (unsigned long long)s->summary_bytes);
    fprintf(fp, "summary_fnv1a64 = %016llx\n", (unsigned long long)s->summary_hash);
}

enum { K_ID, K_POINTS, K_SHARD, K_INDICES, K_ROWS, K_BYTES, K_HASH, K_COUNT };
static const char *const KEYS[K_COUNT] = {
    "sweep_id", "points", "shard", "point_indices", "rows", "summary_bytes", "summary_fnv1a64"};

/* Parses one "key = value" value into s; -1 with a message (without the place). */
static int parse_value(int k, const char *v, shard_info *s, uint64_t indices[3], char *err,
                       size_t errlen)
{
    char tail;
    unsigned long long a = 0, b = 0, c = 0;
    int ok = 1;
    switch (k) {
    case K_ID:
    case K_HASH:
        ok = strlen(v) == 16 && strspn(v, "0123456789abcdef") == 16;
        if (ok && k == K_ID)
            memcpy(s->sweep_id, v, 17);
        if (ok && k == K_HASH)
            s->summary_hash = strtoull(v, NULL, 16);
        break;
    case K_SHARD:
        ok = sscanf(v, "%llu/%llu%c", &a, &b, &tail) == 2;
        s->index = a;
        s->count = b;
        break;
    case K_INDICES:
        ok = sscanf(v, "%llu:%llu:%llu%c", &a, &b, &c, &tail) == 3;
        indices[0] = a;
        indices[1] = b;
        indices[2] = c;
        break;
    default:
        ok = util_parse_u64(v, k == K_POINTS ? &s->points
                               : k == K_ROWS ? &s->rows
                                             : &s->summary_bytes) == 0;
    }
    if (!ok)
        util_errf(err, errlen, "%s '%s': expected %s", KEYS[k], v,
                  k == K_ID || k == K_HASH ? "16 hex digits"
                  : k == K_SHARD           ? "I/N"
                  : k == K_INDICES         ? "first:last:step"
                                           : "a whole number");
    return ok ? 0 : -1;
}

/* Checks that the values agree with each other. */
static int check_info(const shard_info *s, const uint64_t indices[3], char *err, size_t errlen)
{
    if (s->count < 1 || s->index < 1 || s->index > s->count || s->points < 1 ||
        shard_size(s->points, s->index, s->count) == 0) {
        util_errf(err, errlen, "shard %llu/%llu of %llu points is not a shard",
                  (unsigned long long)s->index, (unsigned long long)s->count,
                  (unsigned long long)s->points);
        return -1;
    }
    if (indices[0] != s->index - 1 || indices[1] != last_point(s) || indices[2] != s->count) {
        util_errf(err, errlen, "point_indices %llu:%llu:%llu does not match shard %llu/%llu",
                  (unsigned long long)indices[0], (unsigned long long)indices[1],
                  (unsigned long long)indices[2], (unsigned long long)s->index,
                  (unsigned long long)s->count);
        return -1;
    }
    if (s->rows != shard_size(s->points, s->index, s->count)) {
        util_errf(err, errlen, "rows = %llu, but shard %llu/%llu holds %llu points",
                  (unsigned long long)s->rows, (unsigned long long)s->index,
                  (unsigned long long)s->count,
                  (unsigned long long)shard_size(s->points, s->index, s->count));
        return -1;
    }
    return 0;
}

int shard_read(const char *path, shard_info *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        util_errf(err, errlen, "%s: cannot read it (%s)", path, strerror(errno));
        return -1;
    }
    char line[512], why[256];
    int seen[K_COUNT] = {0}, lineno = 0, rc = 0;
    uint64_t indices[3] = {0, 0, 0};
    while (rc == 0 && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *eq = strstr(line, " = ");
        int k = -1;
        for (int i = 0; eq && i < K_COUNT; i++)
            if ((size_t)(eq - line) == strlen(KEYS[i]) &&
                strncmp(line, KEYS[i], strlen(KEYS[i])) == 0)
                k = i;
        if (k < 0 || seen[k]) {
            util_errf(err, errlen,
                      "%s:%d: %s '%.80s' (expected KEY = VALUE for each of "
                      "sweep_id, points, shard, point_indices, rows, summary_bytes, "
                      "summary_fnv1a64, once)",
                      path, lineno, k < 0 ? "unexpected line" : "repeated key", line);
            rc = -1;
        } else if (parse_value(k, eq + 3, s, indices, why, sizeof why) != 0) {
            util_errf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
        } else {
            seen[k] = 1;
        }
    }
    fclose(fp);
    for (int i = 0; rc == 0 && i < K_COUNT; i++)
        if (!seen[i]) {
            util_errf(err, errlen, "%s: no %s line (cut short?)", path, KEYS[i]);
            rc = -1;
        }
    if (rc == 0 && check_info(s, indices, why, sizeof why) != 0) {
        util_errf(err, errlen, "%s: %s", path, why);
        rc = -1;
    }
    return rc;
}

int shard_read_summary(const char *path, const shard_info *s, char **text, size_t *len, char *err,
                       size_t errlen)
{
    *text = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        util_errf(err, errlen, "%s: cannot read it (%s)", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *q = realloc(buf, 2 * cap);
            if (q == NULL)
                free(buf);
            buf = q;
            cap *= 2;
        }
    }
    fclose(fp);
    if (buf == NULL) {
        util_errf(err, errlen, "%s: out of memory reading it", path);
        return -1;
    }
    buf[n] = '\0';
    if (n != s->summary_bytes) {
        util_errf(err, errlen,
                  "%s: %zu bytes where shard.ini records %llu: cut short or changed since "
                  "capsim sweep wrote it",
                  path, n, (unsigned long long)s->summary_bytes);
        free(buf);
        return -1;
    }
    if (shard_hash(SHARD_HASH_START, buf, n) != s->summary_hash) {
        util_errf(err, errlen,
                  "%s: its contents differ from what capsim sweep wrote (the hash in "
                  "shard.ini does not match)",
                  path);
        free(buf);
        return -1;
    }
    *text = buf;
    *len = n;
    return 0;
}
