/*
 * trace_mooncake: the Mooncake traces, JSON lines: one object a line with `timestamp`
 * (milliseconds), `input_length`, `output_length` and an optional `hash_ids` array. A line
 * is held whole, up to TRACE_MAX_JSON_LINE bytes; a longer one, a NUL byte or malformed
 * JSON is a bad row, and reading goes on at the next line.
 *
 * What a request shares (request.prefix_id, issue 13) comes from its hash_ids, one per
 * 512-token block of the prompt, equal ids meaning equal blocks after equal prefixes (a
 * chain). Branching prefixes (every conversation starts with the same system block, then
 * goes its own way) form a tree, which one (prefix_id, shared_tokens) per request cannot
 * hold exactly; the mapping below is a lower bound that never claims a block a request
 * does not share. Streams are chains of full blocks (a partial last block is not shared:
 * the next turn fills it differently). Reading in file order, a request's leading run of
 * k full blocks already in a stream S (the longest; S owns its last block):
 *  - S ends there (the request continues S, as a conversation's next turn does): the
 *    request joins S, S grows by the request's new blocks, shared = all its full blocks;
 *  - S goes on differently and k is at least a quarter of the request's full blocks: the
 *    request joins S with shared = k blocks (its hit is exact; its new blocks stay its own);
 *  - else (nothing found, or only a short common head such as a system prompt): the
 *    request starts a stream of its own with all its full blocks (so its later turns hit;
 *    it loses the short head).
 * On the bundled traces the perfect-cache share this gives is 33.9% against 37.3% by
 * hash_ids (conversation) and 65.03% against 65.04% (synthetic). Streams are numbered from
 * 1 in order of creation. A hash_ids that is not an array of whole numbers >= 0 shares
 * nothing (as before, the row is read). The map of ids grows with the distinct blocks.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sim/base/util.h"
#include "workloads/trace_reader.h"

/* The open file, the line being read and the JSON parser. */
typedef struct mc_state {
    FILE *fp;
    char *line;
    size_t line_cap;
    long lineno;
    json_tokener *tok;
    /* the streams: block id + 1 -> (stream, position), open addressing; blocks per stream */
    uint64_t *blk_id;
    uint32_t *blk_stream, *blk_pos;
    size_t blk_cap, blk_n;
    uint32_t *stream_len; /* [stream - 1] */
    size_t streams, stream_cap;
    uint64_t *run; /* the row's full-block ids */
    size_t run_cap;
} mc_state;

#define MC_BLOCK_TOKENS 512u

static size_t blk_slot(const uint64_t *ids, size_t cap, uint64_t key)
{
    size_t i = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (cap - 1);
    while (ids[i] != 0 && ids[i] != key)
        i = (i + 1) & (cap - 1);
    return i;
}

/* The slot of block id (found or where it goes), growing the table; SIZE_MAX when out of
 * memory. */
static size_t blk_find(mc_state *m, uint64_t id)
{
    if (2 * (m->blk_n + 1) > m->blk_cap) {
        size_t cap = m->blk_cap ? 2 * m->blk_cap : 4096;
        uint64_t *ids = calloc(cap, sizeof *ids);
        uint32_t *st = malloc(cap * sizeof *st), *pos = malloc(cap * sizeof *pos);
        if (!ids || !st || !pos) {
            free(ids);
            free(st);
            free(pos);
            return SIZE_MAX;
        }
        for (size_t i = 0; i < m->blk_cap; i++) {
            if (m->blk_id[i] == 0)
                continue;
            size_t j = blk_slot(ids, cap, m->blk_id[i]);
            ids[j] = m->blk_id[i];
            st[j] = m->blk_stream[i];
            pos[j] = m->blk_pos[i];
        }
        free(m->blk_id);
        free(m->blk_stream);
        free(m->blk_pos);
        m->blk_id = ids;
        m->blk_stream = st;
        m->blk_pos = pos;
        m->blk_cap = cap;
    }
    return blk_slot(m->blk_id, m->blk_cap, id + 1);
}

/* Blocks run[from..n) become stream s's positions from..n where no stream has them. */
static int blk_claim(mc_state *m, uint32_t s, size_t from, size_t n)
{
    for (size_t j = from; j < n; j++) {
        size_t i = blk_find(m, m->run[j]);
        if (i == SIZE_MAX)
            return -1;
        if (m->blk_id[i] == 0) {
            m->blk_id[i] = m->run[j] + 1;
            m->blk_stream[i] = s;
            m->blk_pos[i] = (uint32_t)j;
            m->blk_n++;
        }
    }
    m->stream_len[s - 1] = (uint32_t)n;
    return 0;
}

/* The row's full-block ids into m->run; their count, 0 when hash_ids is absent or not an
 * array of whole numbers >= 0, or -1 when out of memory. */
static long mc_run(mc_state *m, json_object *hash, uint32_t prompt_tokens)
{
    if (hash == NULL || !json_object_is_type(hash, json_type_array))
        return 0;
    size_t n = json_object_array_length(hash);
    if (n > prompt_tokens / MC_BLOCK_TOKENS)
        n = prompt_tokens / MC_BLOCK_TOKENS;
    if (n > m->run_cap) {
        uint64_t *p = realloc(m->run, n * sizeof *p);
        if (p == NULL)
            return -1;
        m->run = p;
        m->run_cap = n;
    }
    for (size_t j = 0; j < n; j++) {
        json_object *v = json_object_array_get_idx(hash, j);
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_int64(v) == INT64_MAX)
            return 0;
        m->run[j] = (uint64_t)json_object_get_int64(v);
    }
    return (long)n;
}

/* Sets row->prefix_id and shared_tokens from hash_ids by the rule in the header comment.
 * Returns 0, or -1 when out of memory. */
static int mc_prefix(mc_state *m, json_object *hash, trace_row *row)
{
    long got = mc_run(m, hash, row->prompt_tokens);
    if (got <= 0)
        return (int)got;
    size_t n = (size_t)got, k = 0;
    uint32_t s = 0;
    /* The longest leading run whose last block some stream has at that position. */
    for (size_t j = 0; j < n; j++) {
        size_t i = blk_find(m, m->run[j]);
        if (i == SIZE_MAX)
            return -1;
        if (m->blk_id[i] == 0 || m->blk_pos[i] != j)
            break;
        k = j + 1;
        s = m->blk_stream[i];
    }
    size_t shared = n;
    if (k > 0 && m->stream_len[s - 1] == k) {
        if (blk_claim(m, s, k, n) != 0)
            return -1;
    } else if (k > 0 && 4 * k >= n) {
        shared = k;
    } else {
        if (m->streams == m->stream_cap) {
            size_t cap = m->stream_cap ? 2 * m->stream_cap : 1024;
            uint32_t *p = realloc(m->stream_len, cap * sizeof *p);
            if (p == NULL)
                return -1;
            m->stream_len = p;
            m->stream_cap = cap;
        }
        s = (uint32_t)++m->streams;
        if (blk_claim(m, s, 0, n) != 0)
            return -1;
    }
    row->prefix_id = s;
    row->shared_tokens = (uint32_t)(shared * MC_BLOCK_TOKENS);
    return 0;
}

/* Reads the next physical line into m->line (NUL-terminated, without "\n"), never
 * holding more than TRACE_MAX_JSON_LINE bytes. Returns the length, -1 at end of file,
 * -2 when the line is too long (the rest of it is skipped), -3 out of memory, -4 on a
 * read error. */
static long jl_read_line(mc_state *m)
{
    if (m->line == NULL) {
        m->line_cap = 4096;
        m->line = malloc(m->line_cap);
        if (m->line == NULL)
            return -3;
    }
    size_t n = 0;
    int c, any = 0, too_long = 0;
    while ((c = getc_unlocked(m->fp)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (too_long)
            continue;
        if (n >= TRACE_MAX_JSON_LINE) {
            too_long = 1;
            continue;
        }
        if (n + 1 >= m->line_cap) {
            size_t cap = m->line_cap * 2 < TRACE_MAX_JSON_LINE + 1 ? m->line_cap * 2
                                                                   : TRACE_MAX_JSON_LINE + 1;
            char *p = realloc(m->line, cap);
            if (p == NULL)
                return -3;
            m->line = p;
            m->line_cap = cap;
        }
        m->line[n++] = (char)c;
    }
    if (ferror(m->fp))
        return -4;
    if (!any)
        return -1;
    m->lineno++;
    m->line[n] = '\0';
    if (too_long)
        return -2;
    return (long)n;
}

static int mooncake_open(trace_reader *r, char *err, size_t errlen)
{
    mc_state *m = calloc(1, sizeof *m);
    if (m == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    r->state = m;
    m->fp = fopen(r->path, "rb");
    if (m->fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", r->path, strerror(errno));
        return -1;
    }
    m->tok = json_tokener_new();
    if (m->tok == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Column (1-based) of "key" in the line, or 1 when it is not there. */
static long key_col(const char *line, const char *key)
{
    char quoted[40];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = strstr(line, quoted);
    return p ? (long)(p - line) + 1 : 1;
}

/* Reads key of obj as a finite number in [lo, hi] (whole when whole is set). */
static int mc_number(trace_reader *r, json_object *obj, const char *line, const char *key,
                     double lo, double hi, int whole, const char *expected, double *out, char *err,
                     size_t errlen)
{
    const mc_state *m = r->state;
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v)) {
        trace_errf(err, errlen, r->path, m->lineno, 1,
                   "missing key '%s' (expected an object with timestamp, input_length, "
                   "output_length)",
                   key);
        return -1;
    }
    json_type ty = json_object_get_type(v);
    double x = (ty == json_type_int || ty == json_type_double) ? json_object_get_double(v) : NAN;
    if (!isfinite(x) || x < lo || x > hi || (whole && x != floor(x))) {
        char shown[64];
        util_printable(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), shown,
                       sizeof shown);
        trace_errf(err, errlen, r->path, m->lineno, key_col(line, key),
                   "key '%s': found %s, expected %s", key, shown, expected);
        return -1;
    }
    *out = x;
    return 0;
}

static int mooncake_read(trace_reader *r, trace_row *row, char *err, size_t errlen)
{
    mc_state *m = r->state;
    char *p;
    size_t len;
    for (;;) {
        long n = jl_read_line(m);
        if (n == -1)
            return TR_END;
        if (n == -2) {
            trace_errf(err, errlen, r->path, m->lineno, 1,
                       "line longer than %u bytes (expected one JSON object per line)",
                       TRACE_MAX_JSON_LINE);
            return TR_BAD;
        }
        if (n < -2) {
            util_errf(err, errlen, "%s:%ld: %s", r->path, m->lineno + 1,
                      n == -3 ? "out of memory" : "read error");
            return TR_FATAL;
        }
        p = m->line;
        len = (size_t)n;
        if (m->lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            len -= 3;
        }
        const char *nul = memchr(p, '\0', len);
        if (nul != NULL) {
            trace_errf(err, errlen, r->path, m->lineno, (long)(nul - m->line) + 1,
                       "NUL byte (binary data, expected a JSON object)");
            return TR_BAD;
        }
        if (strspn(p, " \t\r") != len)
            break;
    }
    json_tokener_reset(m->tok);
    /* The terminating NUL goes in too: it ends a bare number, and an object left open at
     * the end of the line becomes an "unexpected end of data" error. */
    json_object *obj = json_tokener_parse_ex(m->tok, p, (int)len + 1);
    enum json_tokener_error je = json_tokener_get_error(m->tok);
    long col0 = (long)(p - m->line) + 1;
    if (obj == NULL || je != json_tokener_success) {
        if (je == json_tokener_continue || je == json_tokener_error_parse_eof)
            trace_errf(err, errlen, r->path, m->lineno, col0 + (long)len,
                       "the line ends inside a JSON value (truncated? expected one complete "
                       "JSON object per line)");
        else
            trace_errf(err, errlen, r->path, m->lineno,
                       col0 + (long)json_tokener_get_parse_end(m->tok),
                       "malformed JSON (%s; expected one JSON object per line)",
                       json_tokener_error_desc(je));
        json_object_put(obj);
        return TR_BAD;
    }
    size_t end = json_tokener_get_parse_end(m->tok);
    end += strspn(p + end, " \t\r");
    if (end < len) {
        trace_errf(err, errlen, r->path, m->lineno, col0 + (long)end,
                   "unexpected text after the JSON object (expected one object per line)");
        json_object_put(obj);
        return TR_BAD;
    }
    int rc = TR_BAD;
    double ts, in, out;
    json_object *hash;
    if (!json_object_is_type(obj, json_type_object)) {
        trace_errf(err, errlen, r->path, m->lineno, col0, "found a JSON %s, expected an object",
                   json_type_to_name(json_object_get_type(obj)));
    } else if (mc_number(r, obj, p, "timestamp", 0, TRACE_MAX_TIME_S * 1000, 0, "milliseconds >= 0",
                         &ts, err, errlen) == 0 &&
               mc_number(r, obj, p, "input_length", 1, REQSRC_MAX_TOKENS, 1, TRACE_TOKENS_EXPECTED,
                         &in, err, errlen) == 0 &&
               mc_number(r, obj, p, "output_length", 1, REQSRC_MAX_TOKENS, 1, TRACE_TOKENS_EXPECTED,
                         &out, err, errlen) == 0) {
        if (json_object_object_get_ex(obj, "hash_ids", &hash) &&
            !json_object_is_type(hash, json_type_array)) {
            trace_errf(err, errlen, r->path, m->lineno, key_col(p, "hash_ids"),
                       "key 'hash_ids': found a JSON %s, expected an array",
                       json_type_to_name(json_object_get_type(hash)));
        } else {
            row->t_s = ts / 1000;
            row->prompt_tokens = (uint32_t)in;
            row->output_tokens = (uint32_t)out;
            row->cls = 0;
            row->line = m->lineno;
            row->col = key_col(p, "timestamp");
            rc = TR_ROW;
            if (mc_prefix(m, json_object_object_get_ex(obj, "hash_ids", &hash) ? hash : NULL,
                          row) != 0) {
                util_errf(err, errlen, "%s:%ld: out of memory", r->path, m->lineno);
                rc = TR_FATAL;
            }
        }
    }
    json_object_put(obj);
    return rc;
}

static void mooncake_close(trace_reader *r)
{
    mc_state *m = r->state;
    if (m == NULL)
        return;
    if (m->fp)
        fclose(m->fp);
    if (m->tok)
        json_tokener_free(m->tok);
    free(m->line);
    free(m->blk_id);
    free(m->blk_stream);
    free(m->blk_pos);
    free(m->stream_len);
    free(m->run);
}

static const char *const MOONCAKE_KEYS[] = {"\"input_length\"", "\"output_length\"", "\"hash_ids\"",
                                            NULL};

const trace_format_def trace_format_mooncake = {
    .name = "mooncake",
    .title = "Mooncake JSONL",
    .expected = "one JSON object per line with timestamp, input_length, output_length",
    .json_keys = MOONCAKE_KEYS,
    .json_lines = 1,
    .open = mooncake_open,
    .read = mooncake_read,
    .close = mooncake_close,
};
