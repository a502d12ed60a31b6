#!/usr/bin/env python3
"""Turns the CSVs of scripts/routing-quality.sh into docs/ROUTING-QUALITY.md's generated parts.

Rewrites the text between the markers <!-- results:begin --> and <!-- results:end --> (a table per
run), between <!-- summary:begin --> and <!-- summary:end --> (our policy at each higher load
against Megatron's longest_prefix and the best peer) and between <!-- seeds:begin --> and
<!-- seeds:end --> (the same for the synthetic workloads drawn with other seeds, seeds/*.csv), and
draws docs/quality/chart.svg: TTFT p99 (log scale) and hit ratio per policy at each higher load.
Standard library only.

    scripts/quality-report.py [QUALITY_DIR] [REPORT_MD]
"""
import csv
import math
import os
import re
import sys

# (file, title, higher load of its workload)
RUNS = [
    ("mooncake-x1", "Mooncake trace, recorded speed", False),
    ("mooncake-x2", "Mooncake trace, 2x speed", True),
    ("chat-40", "chat, 40/s", False),
    ("chat-80", "chat, 80/s", True),
    ("rag-40", "rag, 40/s", False),
    ("rag-60", "rag, 60/s", True),
    ("llmd-60", "llm-d, 3 to 60/s", False),
    ("llmd-70", "llm-d, 3 to 70/s", True),
]
MEGATRON = ["longest_prefix", "first_prefix_block", "load_balanced"]
PEERS = ["relative_load", "sglang", "dynamo", "llm_d"]
OURS = "least_work"
POLICIES = MEGATRON + PEERS + [OURS]


def read(directory, name):
    with open(os.path.join(directory, name + ".csv"), newline="") as f:
        return list(csv.DictReader(f))


def row(rows, policy, feedback):
    for r in rows:
        if r["policy"] == policy and r["feedback"] == feedback:
            return r
    raise SystemExit(f"quality-report: no row for {policy}, feedback {feedback}")


def pct(x):
    return f"{float(x) * 100:.1f}%"


def ms(x):
    return f"{float(x):,.0f}"


def results(directory):
    out = []
    for name, title, _ in RUNS:
        rows = read(directory, name)
        out.append(f"### {title}\n")
        out.append("| policy | feedback | hit | best now | bound N | bound 1 | precision "
                   "| TTFT p50 ms | TTFT p99 ms | load CV | max/med |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            out.append(
                f"| {r['policy']} | {r['feedback']} | {pct(r['hit_ratio_blocks'])} "
                f"| {pct(r['best_now'])} | {pct(r['bound_routed'])} | {pct(r['bound_single'])} "
                f"| {pct(r['precision'])} "
                f"| {ms(r['ttft_p50_ms'])} | {ms(r['ttft_p99_ms'])} "
                f"| {float(r['load_cv']):.2f} | {float(r['load_max_over_median']):.2f} |")
        out.append("")
    return "\n".join(out)


SUMMARY_HEADER = [
    "| workload (higher load) | least_work + feedback, TTFT p99 | Megatron longest_prefix "
    "| best peer | hit vs bound N | hit vs best now | max/med | precision with feedback (off) "
    "| lowest precision of any policy with feedback |",
    "|---|---|---|---|---|---|---|---|---|",
]


def summary(directory):
    out = list(SUMMARY_HEADER)
    for name, title, higher in RUNS:
        if higher:
            out.append(summary_row(read(directory, name), title))
    return "\n".join(out) + "\n"


def seeds(directory):
    out = list(SUMMARY_HEADER)
    for name, title, higher in RUNS:
        if higher and not name.startswith("mooncake"):
            for seed in drawn_seeds(directory, name):
                rows = read(os.path.join(directory, "seeds"), f"{name}-seed{seed}")
                out.append(summary_row(rows, f"{title}, seed {seed}"))
    return "\n".join(out) + "\n"


def drawn_seeds(directory, name):
    """The seeds routing-quality.sh drew run NAME with, from its files seeds/NAME-seedN.csv."""
    found = (re.fullmatch(re.escape(name) + r"-seed(\d+)\.csv", f)
             for f in os.listdir(os.path.join(directory, "seeds")))
    return sorted(int(m.group(1)) for m in found if m)


def summary_row(rows, title):
    """Our policy with feedback against Megatron's longest_prefix and the best peer."""
    ours, ours_off = row(rows, OURS, "on"), row(rows, OURS, "off")
    megatron = row(rows, "longest_prefix", "off")
    best = min((r for r in rows if r["policy"] in PEERS), key=lambda r: float(r["ttft_p99_ms"]))
    p, m, b = (float(r["ttft_p99_ms"]) for r in (ours, megatron, best))
    lowest = min((r for r in rows if r["feedback"] == "on" and r["policy"] != "load_balanced"),
                 key=lambda r: float(r["precision"]))
    feedback = " + feedback" if best["feedback"] == "on" else ""
    return (
        f"| {title} | {p:,.0f} ms | {m:,.0f} ms ({(p / m - 1) * 100:+.0f}%) "
        f"| {best['policy']}{feedback} {b:,.0f} ms ({(p / b - 1) * 100:+.0f}%) "
        f"| {pct(ours['hit_ratio_blocks'])} vs {pct(ours['bound_routed'])} "
        f"| {pct(ours['hit_ratio_blocks'])} vs {pct(ours['best_now'])} "
        f"| {float(ours['load_max_over_median']):.2f} "
        f"| {pct(ours['precision'])} ({pct(ours_off['precision'])}) "
        f"| {pct(lowest['precision'])} ({lowest['policy']}) |")


def chart(directory):
    """Two panels of grouped bars: TTFT p99 (log) and hit ratio, per higher-load run."""
    runs = [(n, t) for n, t, higher in RUNS if higher]
    colours = ["#8c564b", "#c49c94", "#e7969c", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e",
               "#d62728"]
    bar, gap, left, top, panel_h = 14, 30, 70, 50, 220
    group = bar * len(POLICIES) + gap
    width = left + group * len(runs) + 20
    height = top + 2 * panel_h + 170
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">Every policy at the higher load of each '
           f'workload</text>',
           f'<text x="{left}" y="34">Megatron\'s policies without feedback, the others with '
           f'it</text>']

    rows_of = {name: read(directory, name) for name, _ in runs}

    def value(name, policy, column):
        return float(row(rows_of[name], policy, "off" if policy in MEGATRON else "on")[column])

    def panel(y0, title, column, scale, ticks, label):
        svg.append(f'<text x="{left}" y="{y0 - 8}" font-size="12">{title}</text>')
        for t in ticks:
            y = y0 + panel_h - scale(t) * panel_h
            svg.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="#ddd"/>')
            svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label(t)}</text>')
        for g, (name, runtitle) in enumerate(runs):
            x0 = left + g * group + gap / 2
            for i, policy in enumerate(POLICIES):
                h = max(1.0, scale(value(name, policy, column)) * panel_h)
                svg.append(f'<rect x="{x0 + i * bar:.1f}" y="{y0 + panel_h - h:.1f}" '
                           f'width="{bar - 1}" height="{h:.1f}" fill="{colours[i]}">'
                           f'<title>{policy}, {runtitle}: {value(name, policy, column):,.3f}'
                           f'</title></rect>')
            svg.append(f'<text x="{x0 + bar * len(POLICIES) / 2:.1f}" '
                       f'y="{y0 + panel_h + 16}" text-anchor="middle">{runtitle}</text>')

    lo, hi = 10.0, 1e6
    log = lambda v: (math.log10(min(max(v, lo), hi)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    panel(top + 10, "TTFT p99 (ms, log scale; lower is better)", "ttft_p99_ms", log,
          [10, 100, 1000, 10000, 100000, 1000000], lambda t: f"{t:,.0f}")
    panel(top + panel_h + 60, "engine-side hit ratio (higher is better)", "hit_ratio_blocks",
          lambda v: v, [0, 0.25, 0.5, 0.75, 1.0], lambda t: f"{t * 100:.0f}%")
    ly = top + 2 * panel_h + 105
    for i, policy in enumerate(POLICIES):
        x = left + (i % 3) * 150
        y = ly + (i // 3) * 18
        svg.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colours[i]}"/>')
        svg.append(f'<text x="{x + 14}" y="{y}">{policy}</text>')
    svg.append("</svg>")
    with open(os.path.join(directory, "chart.svg"), "w") as f:
        f.write("\n".join(svg) + "\n")


def replace(text, marker, body):
    pattern = re.compile(rf"(<!-- {marker}:begin -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"quality-report: the report has no <!-- {marker}:begin/end --> markers")
    return pattern.sub(lambda m: m.group(1) + "\n" + body + "\n" + m.group(2), text)


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return
    directory = sys.argv[1] if len(sys.argv) > 1 else "docs/quality"
    report = sys.argv[2] if len(sys.argv) > 2 else "docs/ROUTING-QUALITY.md"
    with open(report) as f:
        text = f.read()
    text = replace(text, "summary", summary(directory))
    text = replace(text, "seeds", seeds(directory))
    text = replace(text, "results", results(directory))
    with open(report, "w") as f:
        f.write(text)
    chart(directory)
    print(f"quality-report: wrote {report} and {directory}/chart.svg", file=sys.stderr)


if __name__ == "__main__":
    main()
