"""Start-up benchmark: seconds from launching ``docqa-desktop`` to its main window on screen.

Run by hand (not part of the test suite)::

    .venv/bin/python tests/bench/startup_bench.py [--library DIR] [--repeat 3] [--platform xvfb|offscreen]

Each launch is a fresh process with ``DOCQA_STARTUP_TRACE=quit``: the app prints the time
its main window is first exposed, then quits. ``--library`` copies a library into the
data folder of the run and makes it the one opened at start-up (a user's usual case: the
last library, with its documents listed). The first launch of a run is "cold": a new data
folder, and with ``--drop-caches`` (root; it slows everyone on the machine for a while)
an empty page cache too; the others are "warm", reported as their median.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=False)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def launch(home: Path, platform: str, timeout: float) -> float:
    exe = Path(sys.executable).parent / "docqa-desktop"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "desktop"]
    env = {**os.environ, "DOCQA_HOME": str(home), "DOCQA_STARTUP_TRACE": "quit",
           "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    if platform == "xvfb":
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", *cmd]
        env.pop("QT_QPA_PLATFORM", None)
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    t0 = time.time()
    # Its own process group, so the app, and xvfb-run's X server, go away together.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                            cwd=REPO, start_new_session=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the app prints the line, then quits
            if line.startswith("docqa-window-exposed "):
                return float(line.split()[1]) - t0
            if time.time() - t0 > timeout:
                break
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
    sys.exit(f"no window within {timeout:.0f} s (rc {proc.returncode})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, help="a library folder to open at start-up (copied)")
    ap.add_argument("--repeat", type=int, default=3, help="warm launches after the cold one")
    ap.add_argument("--platform", choices=("xvfb", "offscreen"), default="xvfb")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--drop-caches", action="store_true", help="empty the OS page cache before the cold launch")
    args = ap.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    try:
        settings = {"first_run_done": True}
        if args.library:
            shutil.copytree(args.library, home / "libraries" / "bench")
            settings["last_library"] = "bench"  # type: ignore[assignment]
        home.mkdir(exist_ok=True)
        (home / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        xvfb = 0.0
        if args.platform == "xvfb":
            t0 = time.time()
            subprocess.run(["xvfb-run", "-a", "true"], check=True)
            xvfb = time.time() - t0
        dropped = drop_caches() if args.drop_caches else False
        cold = launch(home, args.platform, args.timeout) - xvfb
        warm = [launch(home, args.platform, args.timeout) - xvfb for _ in range(args.repeat)]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"platform {args.platform} (xvfb-run's own start-up, {xvfb:.2f} s, subtracted); "
          f"library: {args.library or 'none'}; load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"cold start to a visible window: {cold:.2f} s ({'page cache dropped' if dropped else 'page cache kept'})")
    print(f"warm start to a visible window: median {statistics.median(warm):.2f} s "
          f"({', '.join(f'{w:.2f}' for w in warm)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
