/*
 * model: transformer architectures, from the catalog (models/catalog/models.csv) or from a
 * Hugging Face config.json, and the sizes that follow from them.
 *
 * A model_arch is a plain value. Catalog loading allocates a model_list, freed with
 * model_list_free().
 */
#ifndef CAPSIM_MODEL_H
#define CAPSIM_MODEL_H

#include <stddef.h>

#include "models/precision.h"

typedef struct model_arch {
    char name[64];
    char family[32];
    double params;        /* total parameter count */
    double active_params; /* parameters used per token (MoE: shared + top-k experts) */
    int layers;
    int hidden;
    int heads;
    int kv_heads;
    int head_dim;
    int ffn; /* MLP intermediate size (per expert for MoE) */
    int vocab;
    int max_context; /* tokens */
    int experts;     /* 0 for a dense model */
    int experts_per_token;
    int gated_mlp; /* 1: three MLP matrices (SwiGLU), 0: two (GELU) */
    int tied_embeddings;
    char source[512];
    /* Hugging Face ids of this architecture, ';'-separated (base and instruct share a
     * shape): --model takes any of them, with or without the organisation. */
    char hf_id[320];
    /* A config.json's quantization_config: the weight precision it stores, or -1 when it
     * has none; quant_desc says what was read ("fp8 (quant_method fp8)"), or why it was not
     * understood when quant_precision is -1 and quant_desc is not empty. */
    int quant_precision;
    char quant_desc[96];
} model_arch;

typedef struct model_list {
    model_arch *items;
    size_t n;
} model_list;

/* Reads the catalog CSV at path (columns found by header name). On failure returns -1 with
 * a message naming file, line and column. */
int model_list_load(const char *path, model_list *out, char *err, size_t errlen);
void model_list_free(model_list *l);
/* The model called name (case-insensitive), or NULL. */
/* The model a name gives: a catalog name, or a Hugging Face id of hf_id (the whole id or the
 * part after the organisation), case-insensitive. NULL if none. */
const model_arch *model_list_find(const model_list *l, const char *name);

/* Reads a Hugging Face config.json (dense, MoE and FP8-quantised configs). The parameter
 * count is derived from the architecture. name is used as the model's name. */
int model_from_hf_config(const char *path, const char *name, model_arch *out, char *err,
                         size_t errlen);

/* Parameter count derived from the architecture: embeddings, per-layer attention and MLP
 * matrices, norms, and the LM head unless tied. *active receives the per-token count. */
double model_derive_params(const model_arch *m, double *active);

/* KV-cache bytes for one token of context across all layers (K and V). */
double model_kv_bytes_per_token(const model_arch *m, precision kv);

/* KV-cache bytes for one token held on each GPU of a tp-way replica: the KV heads are
 * split across the GPUs, but when tp exceeds the number of KV heads each GPU keeps a copy
 * of one head (models/catalog/SOURCES.md#kv-per-gpu: max(kv_heads / tp, 1) heads per GPU). */
double model_kv_bytes_per_token_per_gpu(const model_arch *m, precision kv, int tp);

/* Bytes of all weights at precision p. */
double model_weight_bytes(const model_arch *m, precision p);

/* Bytes of the weights of one expert's MLP in one layer (0 for dense models). */
double model_expert_bytes(const model_arch *m, precision p);

#endif
