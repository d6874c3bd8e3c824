#!/usr/bin/env python3
"""prune.py: builds capsim's shipped kernel tables (models/kernels/) from the AIConfigurator
kernel database as laid out in ../shared/data/kernels/aiconfigurator/.

Usage:  python3 prune.py SOURCE_DIR DEST_DIR [CATALOG_CSV] [--write-pruned=DIR]
        (e.g. from the source folder: python3 /path/to/capsim/models/kernels/prune.py . \
         /path/to/capsim/models/kernels /path/to/capsim/models/catalog/models.csv)

The source is the full database (65 MB); what git can carry is at most 25 MB, so this keeps
the rows capsim can use and interpolate from, and drops the rest. Every rule is below with
its reason; kept rows are copied field for field (no value is changed), in the source's
order, without the columns that are constant. With --write-pruned=DIR the pruned rows go
to DIR/<gpu>/<stack>/<table>.csv (all source columns), so that the accuracy cost of the
pruning can be measured: `bench_ktable --pruned DIR` predicts them from the kept rows.

Rules, per table:
  gemm     dtypes bfloat16 and fp8 only (capsim has no block-scaled fp8 precision); shapes
           (n, k) restricted to the grid values that enclose some per-GPU shape of a catalog
           model (QKV, O, gate/up, down, LM head at tp 1, 2, 4, 8), kept as a full product
           so that any shape in between still interpolates bilinearly; the smallest and
           largest n and k stay. Every m is kept: the vLLM 0.19 grids measure m + 1 next to
           each m above 16 (129 next to 128, ...), the step up when m crosses a tile; dropping
           them was tried and cost a median 2.6-3.8% and a p90 of 15-24% on those rows.
  attention (prefill and decode) sliding-window rows (window_size != 0) dropped, since no
           catalog model uses a window; head counts kept only where they enclose a catalog
           model's per-GPU heads or KV heads (smallest and largest kept).
  moe      dtypes bfloat16, fp8 and int4_wo (capsim's int4 is weight-only); distributions
           balanced and power_law_1.01 (one power law); every model shape kept.
  custom all-reduce, nccl: kept whole (they are small).
"""
import csv
import os
import sys


def catalog_shapes(path):
    """Per-GPU GEMM shapes (n, k) and attention head counts of every catalog model."""
    shapes, heads, kvheads = set(), set(), set()
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            hid, h, kv = int(r["hidden"]), int(r["heads"]), int(r["kv_heads"])
            hd, ffn, voc = int(r["head_dim"]), int(r["ffn"]), int(r["vocab"])
            gated = int(r["gated_mlp"]) != 0
            for tp in (1, 2, 4, 8):
                hq = max(1, h // tp)
                hk = max(1, kv // tp)
                heads.add(hq)
                kvheads.add(hk)
                shapes.add(((hq + 2 * hk) * hd, hid))          # QKV
                shapes.add((hid, hq * hd))                     # O
                shapes.add(((2 if gated else 1) * ffn // tp, hid))  # gate/up
                shapes.add((hid, ffn // tp))                   # down
                shapes.add((max(1, voc // tp), hid))           # LM head
    return shapes, heads, kvheads


def enclosing(grid, values):
    """Grid values that bracket each of values, plus the grid's ends."""
    g = sorted(grid)
    keep = {g[0], g[-1]}
    for v in values:
        lo = [x for x in g if x <= v]
        hi = [x for x in g if x >= v]
        if lo:
            keep.add(lo[-1])
        if hi:
            keep.add(hi[0])
    return keep


def read(path):
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        return header, list(rd)


def col(header, name):
    return header.index(name) if name in header else -1


def prune_gemm(header, rows, shapes):
    cd, cn, ck = (col(header, c) for c in ("gemm_dtype", "n", "k"))
    rows = [r for r in rows if r[cd] in ("bfloat16", "fp8")]
    ngrid = {int(r[cn]) for r in rows}
    kgrid = {int(r[ck]) for r in rows}
    keep_n = enclosing(ngrid, [s[0] for s in shapes])
    keep_k = enclosing(kgrid, [s[1] for s in shapes])
    return [r for r in rows if int(r[cn]) in keep_n and int(r[ck]) in keep_k]


def prune_attention(header, rows, heads, kvheads):
    cw, ch, ckv = (col(header, c) for c in ("window_size", "num_heads", "num_key_value_heads"))
    if cw >= 0:
        rows = [r for r in rows if float(r[cw]) == 0]
    keep_h = enclosing({int(r[ch]) for r in rows}, heads)
    keep_kv = enclosing({int(r[ckv]) for r in rows}, kvheads)
    return [r for r in rows if int(r[ch]) in keep_h and int(r[ckv]) in keep_kv]


def prune_moe(header, rows):
    cd, cdist = col(header, "moe_dtype"), col(header, "distribution")
    return [r for r in rows if r[cd] in ("bfloat16", "fp8", "int4_wo")
            and r[cdist] in ("balanced", "power_law_1.01")]


# Columns that hold one value in every source table (the kernel's name, beam width 1, the
# bfloat16 activation dtype) or that the rules above fix (window_size 0): dropped, since
# they cost a third of the bytes and say nothing. (Prefill's step is always 0 and decode's
# isl always 1; the reader does not need them either.)
CONSTANT = {"op_name", "kernel_source", "beam_width", "attn_dtype", "window_size"}


def drop_constant(header, rows, table):
    keep = [i for i, c in enumerate(header) if c not in CONSTANT
            and not (table == "context_attention_perf.csv" and c == "step")
            and not (table == "generation_attention_perf.csv" and c == "isl")]
    if table in ("custom_allreduce_perf.csv", "nccl_perf.csv"):
        keep = list(range(len(header)))  # small; op_name tells the collectives apart
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]


def write(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        sys.exit(__doc__)
    src, dst = args[0], args[1]
    cat = args[2] if len(args) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "..", "catalog", "models.csv")
    write_pruned = next((a.split("=", 1)[1] for a in argv if a.startswith("--write-pruned=")), None)
    shapes, heads, kvheads = catalog_shapes(cat)
    for gpu in sorted(os.listdir(src)):
        gdir = os.path.join(src, gpu)
        if not os.path.isdir(gdir) or gpu == "systems":
            continue
        for stack in sorted(os.listdir(gdir)):
            for table in sorted(os.listdir(os.path.join(gdir, stack))):
                if not table.endswith(".csv"):
                    continue
                header, rows = read(os.path.join(gdir, stack, table))
                if table == "gemm_perf.csv":
                    kept = prune_gemm(header, rows, shapes)
                elif table.endswith("attention_perf.csv"):
                    kept = prune_attention(header, rows, heads, kvheads)
                elif table == "moe_perf.csv":
                    kept = prune_moe(header, rows)
                else:
                    kept = rows
                h2, k2 = drop_constant(header, kept, table)
                write(os.path.join(dst, gpu, stack, table), h2, k2)
                if write_pruned:
                    ids = {id(r) for r in kept}
                    gone = [r for r in rows if id(r) not in ids]
                    write(os.path.join(write_pruned, gpu, stack, table), header, gone)
                print(f"{gpu}/{stack}/{table}: kept {len(kept)} of {len(rows)} rows")


if __name__ == "__main__":
    main(sys.argv)
