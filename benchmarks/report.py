"""Regenerate the tables of RESULTS.md and the figures from benchmarks/results/*.json.

RESULTS.md keeps its prose by hand; every table of figures sits between
``<!-- results: NAME -->`` and ``<!-- /results -->`` and is rewritten from
``results/NAME.json``, so the numbers in RESULTS.md always match the JSON.

Usage: python benchmarks/report.py
"""

from __future__ import annotations

import json
import re
import sys

import numpy as np
from _common import BENCH_DIR, RESULTS_DIR

RESULTS_MD = BENCH_DIR / "RESULTS.md"
FIGURES_DIR = BENCH_DIR / "figures"
MARKER = re.compile(r"(<!-- results: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /results -->)",
                    re.S)

PRESET_COLUMNS = [
    ("preset", "preset", "{}"), ("recipe", "recipe", "{}"), ("params", "params", "params"),
    ("split", "split", "{}"),
    ("seed", "seed", "{}"), ("augmentation", "augmentation", "{}"),
    ("training images", "n_train", "{:,}"),
    ("mean per-class accuracy", "mean_class_accuracy", "pct"),
    ("encoder fit s", "seconds.encoder_fit", "{:.0f}"),
    ("extract+encode train s", "seconds.extract_encode_train", "{:.0f}"),
    ("classifier fit s", "seconds.classifier_fit", "{:.0f}"),
    ("extract+encode test s", "seconds.extract_encode_test", "{:.0f}"),
    ("predict s", "seconds.predict", "{:.0f}"), ("total s", "seconds.total", "{:.0f}"),
    ("predict ms / image", "predict_ms_per_image", "{}"), ("model MB", "model_mb", "{}"),
    ("peak memory MB", "peak_memory_mb", "{:,.0f}"),
]


def _get(row: dict, path: str):
    for key in path.split("."):
        if not isinstance(row, dict) or key not in row:
            return None
        row = row[key]
    return row


def _format(value, fmt: str) -> str:
    if value is None:
        return ""
    if fmt == "pct":
        return f"{100 * value:.1f} %"
    if fmt == "params":
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "defaults"
    if isinstance(value, float) and fmt == "{}":
        return f"{value:.4g}"
    return fmt.format(value)


def _columns(rows: list[dict]) -> list[tuple[str, str, str]]:
    if ("preset" in rows[0] or "recipe" in rows[0]) and "mean_class_accuracy" in rows[0]:
        present = [c for c in PRESET_COLUMNS if any(_get(r, c[1]) not in (None, {}) for r in rows)]
        return present
    keys = []
    for row in rows:
        for key, value in row.items():
            if (key == "params" or not isinstance(value, (dict, list))) and key not in keys:
                keys.append(key)
    return [(k.replace("_", " "), k, "params" if k == "params" else "{}") for k in keys]


def transfer_table(rows: list[dict]) -> list[str]:
    """bench_transfer rows: one line per method, accuracy as mean +- std over the splits."""
    lines = ["| method | splits | mean per-class accuracy | per split | training s | "
             "predict ms / image | model MB | peak memory MB |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    for label in dict.fromkeys(r["row"] for r in rows):
        mine = [r for r in rows if r["row"] == label]
        acc = np.array([r["mean_class_accuracy"] for r in mine])
        spread = f" +- {100 * acc.std():.1f}" if len(acc) > 1 else ""
        each = ", ".join(f"{100 * a:.1f}" for a in acc)
        lines.append(
            f"| {label} | {len(mine)} | {100 * acc.mean():.1f}{spread} % | {each} | "
            f"{np.mean([r['train_s'] for r in mine]):,.0f} | "
            f"{np.mean([r['predict_ms_per_image'] for r in mine]):.1f} | "
            f"{np.mean([r['model_mb'] for r in mine]):.1f} | "
            f"{np.mean([r['peak_memory_mb'] for r in mine]):,.0f} |")
    return lines


def table(result: dict) -> str:
    """A markdown table of ``result["rows"]``, then the run's command, date and versions."""
    rows = result["rows"]
    if rows and "row" in rows[0] and "train_s" in rows[0]:
        lines = transfer_table(rows)
    else:
        columns = _columns(rows)
        lines = ["| " + " | ".join(h for h, _, _ in columns) + " |",
                 "|" + "|".join("---" if f in ("{}", "params") else "---:"
                                for _, _, f in columns) + "|"]
        lines += ["| " + " | ".join(_format(_get(r, p), f) for _, p, f in columns) + " |"
                  for r in rows]
    summary = result.get("summary")
    if summary and any("std" in s for s in summary.values() if isinstance(s, dict)):
        lines.append("")
        lines += [f"- {name}: {100 * s['mean']:.1f} +- {100 * s['std']:.1f} % over "
                  f"{sum(r.get('preset') == name for r in rows)} run(s), "
                  f"{s['mean_total_seconds']:.0f} s each on average"
                  for name, s in summary.items() if isinstance(s, dict) and "mean" in s]
    versions = ", ".join(f"{k} {v}" for k, v in result.get("versions", {}).items())
    lines += ["", f"`{result.get('command', '')}` ({result.get('date', '')}; {versions})"]
    return "\n".join(lines) + "\n"


def figures(name: str, result: dict) -> list:
    """Figures for results that have series of (seconds, accuracy): accuracy vs time."""
    points = {}
    for row in result.get("rows", []):
        curve = row.get("curve")
        if curve:
            points[row["model"]] = [(c["seconds"], c["accuracy"]) for c in curve]
    if not points:
        return []
    from imgrec_classic.evaluation.plots import plot_accuracy_vs_time

    FIGURES_DIR.mkdir(exist_ok=True)
    ax = plot_accuracy_vs_time(points, title=f"{name}: test accuracy against training time")
    path = FIGURES_DIR / f"{name}_accuracy_vs_time.png"
    ax.figure.savefig(path, dpi=120)
    return [path]


def main() -> int:
    text = RESULTS_MD.read_text()
    missing = []

    def replace(match):
        path = RESULTS_DIR / f"{match['name']}.json"
        if not path.exists():
            missing.append(match["name"])
            return match.group(0)
        return match.group(1) + table(json.loads(path.read_text())) + match.group(4)

    RESULTS_MD.write_text(MARKER.sub(replace, text))
    made = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        made += figures(path.stem, json.loads(path.read_text()))
    for name in missing:
        print(f"no results/{name}.json for its table in RESULTS.md", file=sys.stderr)
    print(f"RESULTS.md tables regenerated; figures: {[str(p.name) for p in made]}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
