"""The helper process that tries one llama.cpp build: does it load, does it see a GPU,
and does a quantized matrix multiply run and give the right numbers on this processor.

:func:`run_probe` starts ``python -m rag.ask.llama_probe FOLDER MODEL [--gpu]`` (the
frozen app's ``llama-probe`` helper), which prints one JSON line. A build compiled for instructions this
processor lacks, or that a virtual machine reports but traps on (AMX tiles: the kernel
grants the permission, the hypervisor faults on ``tilezero``), never gets that far: the
helper dies by a signal, and the parent says so. That is why this runs in a child process
and never in the app itself.

The model is a tiny random Llama whose layers are Q4_0 matrices of 256 × 512: big enough
for ggml's AMX, AVX-512 and AVX2 quantized kernels to take them, and a prompt of more than
one token, as an answer's prompt does, takes the tiled (batched) path. It is written once
into the cache folder; the numbers it produces are compared by the parent across builds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rag.frozen import NO_WINDOW, child_command

# The tiny model: matrix sizes multiples of 256 (Q4_0 blocks, AMX tiles and K-quant
# alignment), two layers, a vocabulary of ~300 tokens.
MODEL_NAME = "probe-q4_0-256x512-v1.gguf"
PROMPT_TOKENS = 48
PROBE_THREADS = 2  # the fault seen in the field is on an OpenMP worker thread: use one
TOP = 8  # logits sent back for comparison: the top ones of the last position
_silent: object = None


def probe_model(folder: Path) -> Path:
    """The probe's model in ``folder``, written (atomically) the first time."""
    path = folder / MODEL_NAME
    if path.is_file():
        return path
    from rag.ask.tiny_model import write_tiny_llama

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{MODEL_NAME}.{os.getpid()}.part"
    write_tiny_llama(tmp, n_embd=256, n_layer=2, n_head=4, n_ff=512, n_ctx=256, chat_template=None,
                     seed=7, quantize="Q4_0")
    os.replace(tmp, path)
    return path


def _prompt(n_vocab: int) -> list[int]:
    # Token 1 is BOS; the rest walk the vocabulary so every row of the embedding is used.
    return [1] + [3 + (i * 37) % (n_vocab - 3) for i in range(PROMPT_TOKENS - 1)]


def run(folder: str, model: str, gpu: bool) -> dict[str, object]:
    """In the helper: load the build in ``folder`` ("" for llama_cpp's own) and run the model."""
    if folder:
        os.environ["LLAMA_CPP_LIB_PATH"] = folder
    else:  # llama_cpp's own library, whatever the parent process chose for itself
        os.environ.pop("LLAMA_CPP_LIB_PATH", None)
    import ctypes

    import llama_cpp

    result: dict[str, object] = {}
    if gpu:
        lib = llama_cpp.llama_cpp._lib
        lib.llama_supports_gpu_offload.restype = ctypes.c_bool
        result["gpu"] = bool(lib.llama_supports_gpu_offload())
        if not result["gpu"] or not model:
            return result
    global _silent
    _silent = llama_cpp.llama_log_callback(lambda *_: None)  # kept: C holds only a pointer
    llama_cpp.llama_log_set(_silent, ctypes.c_void_p(0))
    llm = llama_cpp.Llama(model_path=model, n_ctx=128, n_batch=64, n_threads=PROBE_THREADS,
                          n_threads_batch=PROBE_THREADS, n_gpu_layers=-1 if gpu else 0, verbose=False)
    tokens = _prompt(llm.n_vocab())
    started = time.perf_counter()
    llm.eval(tokens)
    llama_cpp.llama_synchronize(llm.ctx)
    seconds = time.perf_counter() - started
    n_vocab = llm.n_vocab()
    row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    logits = [float(row[i]) for i in range(n_vocab)]
    top = sorted(range(n_vocab), key=lambda i: -logits[i])[:TOP]
    result.update({
        "ok": True,
        "top": [[i, logits[i]] for i in top],
        "finite": all(v == v and abs(v) < 1e30 for v in logits),
        "tokens_per_s": len(tokens) / seconds if seconds > 0 else 0.0,
    })
    return result


def agree(a: list[list[float]], b: list[list[float]]) -> str:
    """"" when two probes' top logits agree (same best token, values within a few per cent
    of their range: kernels sum in different orders), else what differs."""
    if not a or not b:
        return "gave no output"
    if int(a[0][0]) != int(b[0][0]):
        return f"picks token {int(a[0][0])} where the baseline picks {int(b[0][0])}"
    scale = max(1e-3, max(abs(v) for _, v in b))
    ref = {int(i): v for i, v in b}
    worst = max((abs(v - ref[int(i)]) for i, v in a if int(i) in ref), default=0.0)
    if worst > 0.05 * scale:
        return f"gives numbers {worst:.3g} away from the baseline's"
    return ""


# -- the parent's side: start the helper and read its answer ---------------------------------


def signal_name(code: int) -> str:
    names = {signal.SIGILL: "an illegal instruction", signal.SIGSEGV: "a memory fault",
             signal.SIGBUS: "a bus error", signal.SIGABRT: "an abort", signal.SIGFPE: "an arithmetic fault"}
    try:
        sig = signal.Signals(-code)
    except ValueError:
        return f"signal {-code}"
    return f"{names.get(sig, sig.name)} ({sig.name})"


def run_probe(folder: Path | None, model: Path | None, *, gpu: bool, timeout: float) -> dict[str, Any] | str:
    """The helper's answer, or why there is none."""
    args = [str(folder) if folder is not None else "", str(model) if model is not None else ""]
    cmd, extra = child_command("llama-probe", *args, *(["--gpu"] if gpu else []))
    env = dict(os.environ, **extra)
    if folder is None:
        env.pop("LLAMA_CPP_LIB_PATH", None)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, creationflags=NO_WINDOW,
                           env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"did not answer within {timeout:.0f} s"
    except OSError as err:
        return f"could not be tried ({err})"
    if r.returncode < 0:
        return f"stops with {signal_name(r.returncode)} on this processor"
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (r.stderr.strip().splitlines() or [f"exit code {r.returncode}"])[-1]
        return f"does not load ({tail[:120]})"
    if not isinstance(result, dict):
        return "gave no answer"
    if result.get("error"):
        return f"does not load ({str(result['error'])[:120]})"
    return result


# -- the helper's side -----------------------------------------------------------------------


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--gpu"]
    folder, model = (args + ["", ""])[:2]
    try:
        out = run(folder, model, "--gpu" in sys.argv[1:])
    except Exception as err:  # noqa: BLE001 (the answer is the error itself)
        out = {"error": str(err) or type(err).__name__}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
