"""Prompt and generation speed of every llama.cpp CPU build this machine has, in one run,
and the one the app chooses (with the probe's reasons for the others).

    python tests/bench/cpu_variants_bench.py [--root DIR] [--model F.gguf] [--rounds 3]
        [--tokens 64] [--threads 2]

The builds: the venv's own library (a source install's -march=native build) and the
folders under ``--root`` (default: the app's llama_libs, e.g. .venv/llama_libs from
installer/setup-venv.sh, or the output of installer/build-llama-portable.sh). Each round
runs every build, in turn, in a fresh process on the same model and prompt
(tests/bench/llama_build_bench.py's child). A build that dies is reported with its signal,
as the app's probe would. Ratios against the AVX2 baseline are per round; on a shared
machine trust them more than the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.llama_build_bench import CHILD  # noqa: E402


def run(lib: Path, model: Path, tokens: int, threads: int) -> dict[str, float] | str:
    from rag.ask.llama_probe import signal_name

    env = dict(os.environ, LLAMA_CPP_LIB_PATH=str(lib))
    r = subprocess.run([sys.executable, "-c", CHILD, str(model), str(tokens), str(threads)],
                       capture_output=True, text=True, env=env, timeout=600)
    if r.returncode < 0:
        return f"dies: {signal_name(r.returncode)}"
    if r.returncode:
        return f"fails: {(r.stderr.strip().splitlines() or ['?'])[-1][:100]}"
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from rag.ask.cpu_builds import cpu_builds, own_library_folder
    from rag.ask.llama_backend import choose, variants_root

    root = args.root or variants_root()
    if args.model is None:
        from rag.models.defaults import default_llm_path
        from rag.paths import models_dir

        args.model = default_llm_path(models_dir())
    builds = [(b.label, b.path or own_library_folder()) for b in cpu_builds(root)]
    results: dict[str, list[dict[str, float] | str]] = {label: [] for label, _ in builds}
    for i in range(args.rounds):
        for label, folder in builds:
            assert folder is not None
            results[label].append(run(folder, args.model, args.tokens, args.threads))
        print(f"round {i + 1} done", file=sys.stderr)
    base = next((label for label, _ in builds if "AVX2" in label), None)
    print(f"{args.model.name}, {args.threads} threads, {args.rounds} rounds, prompt of the bench's fixed text")
    print(f"{'build':<24} {'prompt t/s':>11} {'gen t/s':>8} {'prompt vs AVX2':>15}")
    for label, _ in builds:
        runs = results[label]
        ok = [r for r in runs if isinstance(r, dict)]
        if not ok:
            print(f"{label:<24} {runs[0]}")
            continue
        prompt = statistics.median(r["prompt_tps"] for r in ok)
        gen = statistics.median(r["gen_tps"] for r in ok)
        ratio = ""
        if base and base != label and all(isinstance(r, dict) for r in results[base]):
            ratios = [a["prompt_tps"] / b["prompt_tps"] for a, b in zip(runs, results[base])  # type: ignore[index]
                      if isinstance(a, dict) and isinstance(b, dict)]
            ratio = f"{statistics.median(ratios):.2f}x"
        print(f"{label:<24} {prompt:>11.0f} {gen:>8.1f} {ratio:>15}")
    choice = choose(root, want_gpu=False)
    print(f"chosen by the app: {choice.label}" + (f" ({choice.note()})" if choice.skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
