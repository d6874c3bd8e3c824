/*
 * model: architectures from the catalog or a Hugging Face config.json (see model.h).
 */
#include "models/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

double model_derive_params(const model_arch *m, double *active)
{
    double h = m->hidden, hd = m->head_dim;
    double attn = h * m->heads * hd            /* q */
                  + 2.0 * h * m->kv_heads * hd /* k, v */
                  + m->heads * hd * h;         /* o */
    double mlp_one = (m->gated_mlp ? 3.0 : 2.0) * h * m->ffn;
    double n_exp = m->experts > 0 ? m->experts : 1;
    double k_exp = m->experts > 0 ? m->experts_per_token : 1;
    double router = m->experts > 0 ? h * m->experts : 0.0;
    double norms = 2.0 * h;
    double emb = (double)m->vocab * h;
    double head = m->tied_embeddings ? 0.0 : emb;
    double per_layer_shared = attn + router + norms;
    double total = emb + head + h + m->layers * (per_layer_shared + n_exp * mlp_one);
    if (active)
        *active = emb + head + h + m->layers * (per_layer_shared + k_exp * mlp_one);
    return total;
}

double model_kv_bytes_per_token(const model_arch *m, precision kv)
{
    return 2.0 * m->layers * m->kv_heads * m->head_dim * precision_kv_bytes(kv);
}

double model_kv_bytes_per_token_per_gpu(const model_arch *m, precision kv, int tp)
{
    double heads = (double)m->kv_heads / tp;
    if (heads < 1)
        heads = 1;
    return 2.0 * m->layers * heads * m->head_dim * precision_kv_bytes(kv);
}

double model_weight_bytes(const model_arch *m, precision p)
{
    return m->params * precision_weight_bytes(p);
}

double model_expert_bytes(const model_arch *m, precision p)
{
    if (m->experts <= 0)
        return 0.0;
    return (m->gated_mlp ? 3.0 : 2.0) * m->hidden * (double)m->ffn * precision_weight_bytes(p);
}

/* --- catalog -------------------------------------------------------------------------- */

enum {
    C_NAME,
    C_FAMILY,
    C_PARAMS,
    C_ACTIVE,
    C_LAYERS,
    C_HIDDEN,
    C_HEADS,
    C_KV_HEADS,
    C_HEAD_DIM,
    C_FFN,
    C_VOCAB,
    C_MAX_CTX,
    C_EXPERTS,
    C_EXPERTS_PER_TOK,
    C_GATED,
    C_TIED,
    C_HF_ID,
    C_SOURCE,
    C_COUNT
};

static const char *const COLS[C_COUNT] = {
    "name",      "family",
    "params",    "active_params",
    "layers",    "hidden",
    "heads",     "kv_heads",
    "head_dim",  "ffn",
    "vocab",     "max_context",
    "experts",   "experts_per_token",
    "gated_mlp", "tied_embeddings",
    "hf_id",     "source",
};
static const int REQUIRED[C_COUNT] = {1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1};

static int field_num(csvin *in, const int *idx, int c, double min, double max, double dflt,
                     double *out, char *err, size_t errlen)
{
    return csvin_number(in, idx[c], COLS[c], min, max, !REQUIRED[c], dflt, out, err, errlen);
}

static int field_int(csvin *in, const int *idx, int c, int min, int max, int dflt, int *out,
                     char *err, size_t errlen)
{
    double v;
    if (field_num(in, idx, c, min, max, dflt, &v, err, errlen) != 0)
        return -1;
    if (v != floor(v)) {
        util_errf(err, errlen, "%s:%ld: column '%s': expected a whole number, found '%s'",
                  csvin_path(in), csvin_line(in), COLS[c], csvin_field(in, (size_t)idx[c]));
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int read_row(csvin *in, const int *idx, void *item, char *err, size_t errlen)
{
    model_arch *m = item;
    memset(m, 0, sizeof *m);
    const char *name = csvin_field(in, (size_t)idx[C_NAME]);
    if (*name == '\0' || strlen(name) >= sizeof m->name) {
        util_errf(err, errlen, "%s:%ld: column 'name': expected a name of 1 to %zu characters",
                  csvin_path(in), csvin_line(in), sizeof m->name - 1);
        return -1;
    }
    snprintf(m->name, sizeof m->name, "%s", name);
    if (idx[C_FAMILY] >= 0)
        snprintf(m->family, sizeof m->family, "%s", csvin_field(in, (size_t)idx[C_FAMILY]));
    snprintf(m->source, sizeof m->source, "%s", csvin_field(in, (size_t)idx[C_SOURCE]));
    m->quant_precision = -1;
    if (idx[C_HF_ID] >= 0) {
        const char *ids = csvin_field(in, (size_t)idx[C_HF_ID]);
        if (strlen(ids) >= sizeof m->hf_id) {
            util_errf(err, errlen, "%s:%ld: column 'hf_id': expected at most %zu characters",
                      csvin_path(in), csvin_line(in), sizeof m->hf_id - 1);
            return -1;
        }
        snprintf(m->hf_id, sizeof m->hf_id, "%s", ids);
    }
    const int big = 1 << 30;
    if (field_num(in, idx, C_PARAMS, 1, 1e15, 0, &m->params, err, errlen) ||
        field_num(in, idx, C_ACTIVE, 1, 1e15, NAN, &m->active_params, err, errlen) ||
        field_int(in, idx, C_LAYERS, 1, 100000, 0, &m->layers, err, errlen) ||
        field_int(in, idx, C_HIDDEN, 1, big, 0, &m->hidden, err, errlen) ||
        field_int(in, idx, C_HEADS, 1, big, 0, &m->heads, err, errlen) ||
        field_int(in, idx, C_KV_HEADS, 1, big, 0, &m->kv_heads, err, errlen) ||
        field_int(in, idx, C_HEAD_DIM, 1, big, 0, &m->head_dim, err, errlen) ||
        field_int(in, idx, C_FFN, 1, big, 0, &m->ffn, err, errlen) ||
        field_int(in, idx, C_VOCAB, 1, big, 0, &m->vocab, err, errlen) ||
        field_int(in, idx, C_MAX_CTX, 1, big, 0, &m->max_context, err, errlen) ||
        field_int(in, idx, C_EXPERTS, 0, 100000, 0, &m->experts, err, errlen) ||
        field_int(in, idx, C_EXPERTS_PER_TOK, 0, 100000, 0, &m->experts_per_token, err, errlen) ||
        field_int(in, idx, C_GATED, 0, 1, 1, &m->gated_mlp, err, errlen) ||
        field_int(in, idx, C_TIED, 0, 1, 0, &m->tied_embeddings, err, errlen))
        return -1;
    if (isnan(m->active_params))
        m->active_params = m->params;
    if (m->experts > 0 && (m->experts_per_token < 1 || m->experts_per_token > m->experts)) {
        util_errf(err, errlen,
                  "%s:%ld: column 'experts_per_token': expected 1 to %d for a model with %d "
                  "experts, found %d",
                  csvin_path(in), csvin_line(in), m->experts, m->experts, m->experts_per_token);
        return -1;
    }
    if (m->kv_heads > m->heads || m->heads % m->kv_heads != 0) {
        util_errf(err, errlen,
                  "%s:%ld: column 'kv_heads': expected a divisor of heads (%d), found %d",
                  csvin_path(in), csvin_line(in), m->heads, m->kv_heads);
        return -1;
    }
    return 0;
}

int model_list_load(const char *path, model_list *out, char *err, size_t errlen)
{
    void *items;
    int rc = csvin_load_table(path, COLS, REQUIRED, C_COUNT, sizeof(model_arch), read_row, &items,
                              &out->n, err, errlen);
    out->items = items;
    return rc;
}

void model_list_free(model_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* name is one of the ';'-separated ids, whole or without its organisation. */
static int hf_id_matches(const char *ids, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = ids; *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *slash = memchr(p, '/', len);
        const char *repo = slash ? slash + 1 : p;
        size_t repo_len = len - (size_t)(repo - p);
        if ((len == n && strncasecmp(p, name, n) == 0) ||
            (repo_len == n && strncasecmp(repo, name, n) == 0))
            return 1;
        p += len + (end != NULL);
    }
    return 0;
}

const model_arch *model_list_find(const model_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->items[i].name, name) == 0)
            return &l->items[i];
    for (size_t i = 0; i < l->n; i++)
        if (hf_id_matches(l->items[i].hf_id, name))
            return &l->items[i];
    return NULL;
}

/* --- Hugging Face config.json ------------------------------------------------------------- */

/* Integer field key of obj, or dflt when absent; -1 with a message when present but not a
 * positive integer. */
static int json_int(json_object *obj, const char *key, int dflt, int *out, const char *path,
                    char *err, size_t errlen)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
        if (dflt < 0) {
            util_errf(err, errlen, "%s: missing field '%s' (expected a positive integer)", path,
                      key);
            return -1;
        }
        *out = dflt;
        return 0;
    }
    if (!json_object_is_type(v, json_type_int)) {
        util_errf(err, errlen, "%s: field '%s': expected an integer, found %s", path, key,
                  json_object_to_json_string(v));
        return -1;
    }
    int64_t x = json_object_get_int64(v);
    if (x < 0 || x > (1 << 30)) {
        util_errf(err, errlen, "%s: field '%s': expected 0 to %d, found %lld", path, key, 1 << 30,
                  (long long)x);
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* Reads a JSON object from path; on failure a message with the line and what is wrong. */
static json_object *read_json(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (64u << 20)) {
                util_errf(err, errlen, "%s: larger than 64 MB (expected a config.json)", path);
                free(buf);
                fclose(fp);
                return NULL;
            }
            char *p = realloc(buf, cap * 2);
            if (p == NULL)
                free(buf);
            buf = p;
            cap *= 2;
        }
    }
    fclose(fp);
    if (buf == NULL) {
        util_errf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    json_tokener *tok = json_tokener_new();
    if (tok == NULL) {
        free(buf);
        util_errf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    json_object *root = json_tokener_parse_ex(tok, buf, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (root == NULL || jerr != json_tokener_success) {
        size_t at = json_tokener_get_parse_end(tok);
        long line = 1;
        for (size_t i = 0; i < at && i < n; i++)
            line += buf[i] == '\n';
        const char *why = jerr == json_tokener_continue ? "the JSON ends early (truncated?)"
                                                        : json_tokener_error_desc(jerr);
        util_errf(err, errlen, "%s:%ld: not valid JSON: %s", path, line, why);
        json_object_put(root);
        root = NULL;
    } else if (!json_object_is_type(root, json_type_object)) {
        util_errf(err, errlen, "%s: expected a JSON object (a config.json), found %s", path,
                  json_type_to_name(json_object_get_type(root)));
        json_object_put(root);
        root = NULL;
    }
    json_tokener_free(tok);
    free(buf);
    return root;
}

/* The weight precision of a compressed-tensors quantization_config: its first config group's
 * weights (num_bits and type). */
static int compressed_tensors_precision(json_object *q, int *bits, int *is_float)
{
    json_object *groups, *w, *v;
    if (!json_object_object_get_ex(q, "config_groups", &groups) ||
        !json_object_is_type(groups, json_type_object))
        return -1;
    json_object_object_foreach(groups, key, group)
    {
        (void)key;
        if (!json_object_object_get_ex(group, "weights", &w) ||
            !json_object_is_type(w, json_type_object))
            continue;
        *bits = json_object_object_get_ex(w, "num_bits", &v) ? json_object_get_int(v) : 0;
        *is_float = json_object_object_get_ex(w, "type", &v) &&
                    strcmp(json_object_get_string(v), "float") == 0;
        return 0;
    }
    return -1;
}

/* Reads a config's quantization_config (if any) into m->quant_precision and quant_desc:
 * quant_method fp8; awq, gptq and others with bits 4 or 8 (integer weights); and
 * compressed-tensors (float 8 bits: fp8; int 8 or 4: int8, int4). */
static void read_quantization(json_object *root, json_object *cfg, model_arch *m)
{
    json_object *q, *v;
    m->quant_precision = -1;
    if (!json_object_object_get_ex(root, "quantization_config", &q) &&
        !json_object_object_get_ex(cfg, "quantization_config", &q))
        return;
    if (!json_object_is_type(q, json_type_object))
        return;
    const char *method = json_object_object_get_ex(q, "quant_method", &v)
                             ? json_object_get_string(v)
                             : "";
    int bits = json_object_object_get_ex(q, "bits", &v) ? json_object_get_int(v) : 0;
    int is_float = 0;
    if (strcmp(method, "fp8") == 0) {
        bits = 8;
        is_float = 1;
    } else if (strcmp(method, "compressed-tensors") == 0) {
        if (compressed_tensors_precision(q, &bits, &is_float) != 0)
            bits = 0;
    }
    if (bits == 8)
        m->quant_precision = is_float ? PREC_FP8 : PREC_INT8;
    else if (bits == 4 && !is_float)
        m->quant_precision = PREC_INT4;
    if (m->quant_precision >= 0)
        snprintf(m->quant_desc, sizeof m->quant_desc, "%s (quant_method %s, %d-bit %s)",
                 precision_name((precision)m->quant_precision), method, bits,
                 is_float ? "float" : "integer");
    else
        snprintf(m->quant_desc, sizeof m->quant_desc, "quant_method '%.40s', %d bits", method,
                 bits);
}

/* The name of a config.json: its _name_or_path (the part after the last '/'), else its
 * folder's name when the file is called config.json, else the file's name without .json. */
static void config_name(json_object *root, const char *path, const char *dflt, char *out,
                        size_t len)
{
    json_object *v;
    const char *np = json_object_object_get_ex(root, "_name_or_path", &v) &&
                             json_object_is_type(v, json_type_string)
                         ? json_object_get_string(v)
                         : "";
    const char *slash = strrchr(np, '/');
    if (slash && slash[1])
        np = slash + 1;
    if (*np) {
        snprintf(out, len, "%s", np);
        return;
    }
    const char *base = strrchr(path, '/');
    if (base && strcmp(base + 1, "config.json") == 0) {
        const char *dir = base;
        while (dir > path && dir[-1] != '/')
            dir--;
        if (dir < base) {
            snprintf(out, len, "%.*s", (int)(base - dir), dir);
            return;
        }
    }
    snprintf(out, len, "%s", dflt);
}

int model_from_hf_config(const char *path, const char *name, model_arch *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_object *root = read_json(path, err, errlen);
    if (root == NULL)
        return -1;
    json_object *cfg = root;
    json_object *text;
    /* Multimodal configs (Llama 4) keep the language model under text_config. */
    if (json_object_object_get_ex(root, "text_config", &text) &&
        json_object_is_type(text, json_type_object))
        cfg = text;
    model_arch *m = out;
    config_name(root, path, name, m->name, sizeof m->name);
    read_quantization(root, cfg, m);
    json_object *mt;
    if (json_object_object_get_ex(cfg, "model_type", &mt) &&
        json_object_is_type(mt, json_type_string))
        snprintf(m->family, sizeof m->family, "%s", json_object_get_string(mt));
    int rc = json_int(cfg, "num_hidden_layers", -1, &m->layers, path, err, errlen) ||
             json_int(cfg, "hidden_size", -1, &m->hidden, path, err, errlen) ||
             json_int(cfg, "num_attention_heads", -1, &m->heads, path, err, errlen) ||
             json_int(cfg, "num_key_value_heads", m->heads, &m->kv_heads, path, err, errlen) ||
             json_int(cfg, "intermediate_size", -1, &m->ffn, path, err, errlen) ||
             json_int(cfg, "vocab_size", -1, &m->vocab, path, err, errlen) ||
             json_int(cfg, "max_position_embeddings", 4096, &m->max_context, path, err, errlen);
    if (rc == 0 && (m->heads < 1 || m->hidden < 1 || m->layers < 1 || m->kv_heads < 1)) {
        util_errf(err, errlen, "%s: layers, hidden_size and heads must be at least 1", path);
        rc = -1;
    }
    if (rc == 0)
        rc = json_int(cfg, "head_dim", m->hidden / m->heads, &m->head_dim, path, err, errlen);
    if (rc == 0 && (m->head_dim < 1 || m->ffn < 1 || m->vocab < 1)) {
        util_errf(err, errlen,
                  "%s: head_dim, intermediate_size and vocab_size must be at least "
                  "1 (found %d, %d, %d)",
                  path, m->head_dim, m->ffn, m->vocab);
        rc = -1;
    }
    /* MoE: Mixtral says num_local_experts, Qwen-MoE num_experts. */
    if (rc == 0) {
        int e = 0;
        rc = json_int(cfg, "num_local_experts", 0, &e, path, err, errlen);
        if (rc == 0 && e == 0)
            rc = json_int(cfg, "num_experts", 0, &e, path, err, errlen);
        m->experts = e;
        if (rc == 0 && e > 0)
            rc = json_int(cfg, "num_experts_per_tok", 2, &m->experts_per_token, path, err, errlen);
    }
    /* Shared experts (Qwen2-MoE's shared_expert_intermediate_size, DeepSeek's
     * n_shared_experts) run for every token beside the routed ones. capsim does not model
     * them yet, and ignoring them would understate every step: refuse rather than guess. */
    static const char *const shared_keys[] = {"shared_expert_intermediate_size",
                                              "n_shared_experts"};
    for (size_t i = 0; rc == 0 && i < sizeof shared_keys / sizeof shared_keys[0]; i++) {
        int shared = 0;
        rc = json_int(cfg, shared_keys[i], 0, &shared, path, err, errlen);
        if (rc == 0 && shared > 0) {
            util_errf(err, errlen,
                      "%s: %s is %d: models with shared experts are not modelled yet "
                      "(expected a dense or Mixtral-style MoE config)",
                      path, shared_keys[i], shared);
            rc = -1;
        }
    }
    if (rc == 0) {
        json_object *t;
        m->tied_embeddings = json_object_object_get_ex(root, "tie_word_embeddings", &t) &&
                             json_object_get_boolean(t);
        json_object *act;
        const char *a = json_object_object_get_ex(cfg, "hidden_act", &act)
                            ? json_object_get_string(act)
                            : "silu";
        /* SiLU-activated models use gated MLPs (three matrices); GELU ones mostly do not. */
        m->gated_mlp = strstr(a ? a : "", "gelu") == NULL;
        m->params = model_derive_params(m, &m->active_params);
        snprintf(m->source, sizeof m->source, "derived from %s", path);
    }
    json_object_put(root);
    return rc == 0 ? 0 : -1;
}
