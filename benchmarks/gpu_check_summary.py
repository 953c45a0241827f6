"""Assemble `gpu_check.json` and `gpu_check.md` from what `gpu_check.sh` finished.

`python benchmarks/gpu_check_summary.py OUT [--budget S] [--quick 0|1]` reads, in the
folder OUT: `steps/*.json` (status of each step, in the order they ended),
`logs/device-*.log` (the device each backend computes on), `logs/tests-*.log`
(pytest's counts), `bench-*.json` (`inside-keras bench --json`), `compile-*.json`
(`bench --suite gpu-compile --json`: eager against compiled train steps), and the
reproduction in the folder `reproduce_dir.txt` names (its `results.json`, or, for a
run stopped at its time limit, each method's checkpoint state). Run after every
step; needs only the standard library and the package's report module.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inside_keras.benchmark.report import format_table  # noqa: E402


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _last_json_line(path):
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def _pytest_counts(path):
    """`{"passed": n, "failed": n, ...}` from pytest's last summary line, else None."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", text)
    return {word.rstrip("s") if word == "errors" else word: int(n) for n, word in found} or None


def _reproduction(out):
    folder_file = out / "reproduce_dir.txt"
    if not folder_file.is_file():
        return None
    folder = Path(folder_file.read_text().strip()) / "reproduce"
    results = _read_json(folder / "results.json")
    summary = {"folder": str(folder), "finished": results is not None, "methods": {}}
    if results is not None:
        for method, row in results["methods"].items():
            summary["methods"][method] = {
                key: row[key]
                for key in ("dice", "dice_std", "dice_soft", "dice_soft_std")
                + ("epochs", "train_seconds")
                if key in row
            }
        summary["experiment"] = results.get("experiment")
        for name in ("results.json", "results.md"):
            (out / f"reproduce_{name}").write_bytes((folder / name).read_bytes())
        return summary
    for state_file in sorted(folder.glob("*/checkpoint/state.json")):
        method = state_file.parents[1].name
        state = _read_json(state_file)
        timing = _read_json(folder / method / "train_seconds.json")
        if state is not None:
            summary["methods"][method] = {
                "epochs": state.get("epoch"),
                "finished_training": state.get("finished"),
                "best_monitored": state.get("best"),
                "train_seconds": None if timing is None else timing.get("seconds"),
            }
    return summary


def collect(out, budget, quick):
    finished = sorted((out / "steps").glob("*.json"), key=lambda path: path.stat().st_mtime)
    steps = {path.stem: _read_json(path) for path in finished}
    summary = {"out": str(out), "quick": bool(quick), "budget_s": budget, "steps": steps}
    summary["devices"] = {
        b: _last_json_line(out / "logs" / f"device-{b}.log") for b in ("jax", "torch")
    }
    summary["tests"] = {
        b: _pytest_counts(out / "logs" / f"tests-{b}.log")
        for b in ("jax", "torch")
        if (out / "logs" / f"tests-{b}.log").is_file()
    }
    for kind in ("bench", "compile"):
        summary[kind] = {}
        for backend in ("jax", "torch"):
            bench = _read_json(out / f"{kind}-{backend}.json")
            if bench is not None:
                summary[kind][backend] = bench
    summary["reproduce"] = _reproduction(out)
    return summary


def markdown(summary):
    lines = [f"# GPU check{' (--quick)' if summary['quick'] else ''}", ""]
    lines += ["| step | status | seconds | limit s |", "|---|---|---|---|"]
    for name, step in summary["steps"].items():
        if step:
            lines.append(f"| {name} | {step['status']} | {step['seconds']} | {step['limit_s']} |")
    lines += ["", "Devices:", ""]
    for backend, info in summary["devices"].items():
        lines.append(f"- {backend}: {json.dumps(info)}")
    if summary["tests"]:
        lines += ["", "Tests (tests/layers, tests/models; quick: a subset):", ""]
        for backend, counts in summary["tests"].items():
            lines.append(f"- {backend}: {json.dumps(counts)}")
    records = [r for bench in summary["bench"].values() for r in bench["results"]]
    if records:
        lines += ["", "## Train steps and input pipeline", "", format_table(records)]
        for backend, bench in summary["bench"].items():
            stopped = bench["machine"].get("stopped_at_time_limit")
            if stopped:
                lines.append(f"\n{backend}: stopped at the time limit (finished workloads shown)")
    compiled = [r for bench in summary["compile"].values() for r in bench["results"]]
    if compiled:
        lines += ["", "## Eager against compiled train steps", "", format_table(compiled)]
    reproduction = summary["reproduce"]
    if reproduction is not None:
        state = "finished" if reproduction["finished"] else "not finished (stopped or running)"
        lines += ["", f"## reproduce clevr-seg (JAX): {state}", ""]
        step = summary["steps"].get("reproduce")
        if step:
            lines += [f"Wall time {step['seconds']} s (limit {step['limit_s']} s).", ""]
        lines += [
            "| method | test Dice | soft Dice (the authors') | epochs | train s "
            "| best monitored value |",
            "|---|---|---|---|---|---|",
        ]
        for method, row in reproduction["methods"].items():
            seconds = row.get("train_seconds")
            best = row.get("best_monitored")
            lines.append(
                f"| {method} | {_mean_std(row, 'dice')} | {_mean_std(row, 'dice_soft')} "
                f"| {row.get('epochs')} | {'' if seconds is None else f'{seconds:.0f}'} "
                f"| {'' if best is None else f'{best:.4f}'} |"
            )
    return "\n".join(lines) + "\n"


def _mean_std(row, key):
    """`mean ± std` of `row[key]` and `row[key + "_std"]`, or empty when not scored."""
    if row.get(key) is None:
        return ""
    return f"{row[key]:.3f} ± {row[f'{key}_std']:.3f}"


def _write(path, text):
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--quick", type=int, default=0)
    args = parser.parse_args(argv)
    summary = collect(args.out, args.budget, args.quick)
    _write(args.out / "gpu_check.json", json.dumps(summary, indent=2) + "\n")
    _write(args.out / "gpu_check.md", markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
