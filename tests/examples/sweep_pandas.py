# The README's example: load a sweep's summary.csv with pandas and plot p99 TTFT against the
# offered rate, one line per configuration, saturated points marked. tests/test_examples.sh
# runs it on a small sweep when pandas and matplotlib are installed.
#   capsim sweep --model llama-3.1-8b --gpu h100-sxm --sweep rate=2:40:2 \
#       --sweep precision=bf16,fp8 --out results/sweep
#   python3 sweep_pandas.py results/sweep
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

out = sys.argv[1] if len(sys.argv) > 1 else "results/sweep"
df = pd.read_csv(f"{out}/summary.csv")
df = df[df["status"] == "ok"]  # points that ran; error rows have empty figures
fig, ax = plt.subplots()
for precision, g in df.groupby("precision"):
    g = g.sort_values("offered_rate")
    ax.errorbar(g["offered_rate"], g["p99_ttft_ms"], yerr=g["p99_ttft_ms_ci95"],
                marker="o", capsize=3, label=precision)
sat = df[df["saturated"] == 1]  # carried < 0.95 x offered: not steady-state figures
ax.scatter(sat["offered_rate"], sat["p99_ttft_ms"], marker="x", s=80, color="red",
           zorder=3, label="saturated")
ax.set_xlabel("offered rate (req/s)")
ax.set_ylabel("p99 TTFT (ms)")
ax.set_yscale("log")
ax.legend()
fig.savefig(f"{out}/p99_ttft.png", dpi=120)
print(df[["precision", "offered_rate", "p99_ttft_ms", "saturated"]].to_string(index=False))
