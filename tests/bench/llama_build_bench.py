"""What the portable llama.cpp build costs: tokens/s of the shipped GGML_NATIVE=OFF (AVX2)
build against the source install's -march=native build, on the same model and prompt.

    python tests/bench/llama_build_bench.py PORTABLE_LIB_DIR [NATIVE_LIB_DIR] [--model F.gguf]
        [--rounds 3] [--tokens 64] [--threads 2]

Each round runs both builds, alternating, in fresh processes (llama_cpp loads one library
per process); prints prompt and generation tokens/s per build and the portable/native
ratio per round. On a shared machine trust the ratios more than the absolute figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys, time
import llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=1024, n_threads=int(sys.argv[3]), verbose=False, seed=0)
prompt = "Summarise the obligations of the receiving party under a mutual non-disclosure agreement. " * 6
t0 = time.perf_counter()
toks = llm.tokenize(prompt.encode())
llm.eval(toks)
t1 = time.perf_counter()
n = 0
for tok in llm.generate(toks, temp=0.0, reset=False):
    n += 1
    if n >= int(sys.argv[2]):
        break
t2 = time.perf_counter()
print(json.dumps({"prompt_tps": len(toks) / (t1 - t0), "gen_tps": n / (t2 - t1)}))
"""


def run(lib: Path, model: Path, tokens: int, threads: int) -> dict[str, float]:
    env = dict(os.environ, LLAMA_CPP_LIB_PATH=str(lib))
    r = subprocess.run([sys.executable, "-c", CHILD, str(model), str(tokens), str(threads)],
                       capture_output=True, text=True, env=env, check=True)
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("portable", type=Path)
    ap.add_argument("native", type=Path, nargs="?")
    ap.add_argument("--model", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    if args.native is None:
        spec = importlib.util.find_spec("llama_cpp")
        assert spec is not None and spec.origin is not None
        args.native = Path(spec.origin).parent / "lib"
    if args.model is None:
        from rag.models.defaults import default_llm_path
        from rag.paths import models_dir

        args.model = default_llm_path(models_dir())
    ratios: list[float] = []
    for i in range(args.rounds):
        p = run(args.portable, args.model, args.tokens, args.threads)
        n = run(args.native, args.model, args.tokens, args.threads)
        ratios.append(p["gen_tps"] / n["gen_tps"])
        print(f"round {i + 1}: portable prompt {p['prompt_tps']:.0f} t/s, gen {p['gen_tps']:.1f} t/s | "
              f"native prompt {n['prompt_tps']:.0f} t/s, gen {n['gen_tps']:.1f} t/s | "
              f"gen ratio {ratios[-1]:.2f}, prompt ratio {p['prompt_tps'] / n['prompt_tps']:.2f}")
    print(f"portable/native generation speed: median {statistics.median(ratios):.2f} over {len(ratios)} rounds "
          f"({args.model.name}, {args.threads} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
