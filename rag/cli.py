"""``docqa``: the engine from a terminal. Its arguments and JSON are a stable interface
(scripts and evaluations call it), so change them only by adding."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import rag  # noqa: F401  (offline switches first)
from rag.cancel import CancelToken
from rag.paths import default_library, models_dir
from rag.types import Outcome, Progress, Quote, Support

if TYPE_CHECKING:
    from rag.library import Library

EXIT_OK, EXIT_ERROR, EXIT_PARTIAL, EXIT_CANCELLED = 0, 1, 3, 130


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="docqa", description="Private document Q&A, on this computer only.")
    ap.add_argument("--library", type=Path, default=None, help="library folder (default: %(default)s → user data dir)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add files and folders (recursively) to the library")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true", help="print the per-file report as JSON")

    p = sub.add_parser("list", help="list documents")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="remove documents from the library (not from disk)")
    p.add_argument("files", nargs="+")

    p = sub.add_parser("search", help="find passages")
    p.add_argument("query", nargs="?")
    p.add_argument("--batch", type=Path, help="JSONL file of {\"query\": ...} lines")
    p.add_argument("-k", type=int, default=8)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", type=Path, help="a GGUF file (default: the bundled Gemma 3 270M)")
    p.add_argument("-k", type=int, default=8, help="passages to retrieve")
    p.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--cpu", action="store_true", help="never offload to a GPU")
    p.add_argument("--max-tokens", type=int, default=512)

    sub.add_parser("rebuild-index", help="recreate the vector index from the manifest")
    return ap


class _Bar:
    """A one-line progress bar on a terminal; one line per finished file otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.start = time.monotonic()
        self.last_done = -1

    def __call__(self, e: Progress) -> None:
        if self.tty:
            width = 28
            frac = e.done / e.total if e.total else 1.0
            bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
            name = e.current[-40:]
            self.out.write(f"\r[{bar}] {e.done}/{e.total} files, {e.chunks} chunks  {name:<40}")
            self.out.flush()
        elif e.done != self.last_done and e.stage != "scan":
            self.out.write(f"{e.done}/{e.total} {e.current}\n")
        self.last_done = e.done

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")


def _open(args: argparse.Namespace) -> Library:
    from rag.library import Library  # lazy: keeps --help fast

    return Library(args.library or default_library())


def cmd_ingest(args: argparse.Namespace) -> int:
    lib = _open(args)
    cancel = CancelToken()
    bar = _Bar(sys.stderr)
    t0 = time.monotonic()
    try:
        report = lib.ingest(args.paths, progress=bar, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        bar.close()
        print("cancelled; the library is unchanged for files not finished", file=sys.stderr)
        return EXIT_CANCELLED
    finally:
        lib.close()
    bar.close()
    secs = time.monotonic() - t0
    if args.json:
        print(json.dumps([{"file": r.name, "outcome": r.outcome.value, "reason": r.reason,
                           "pages": r.pages, "chunks": r.chunks} for r in report.results], indent=1))
    else:
        counts = ", ".join(f"{o.value} {report.count(o)}" for o in Outcome if report.count(o))
        print(f"{counts} ({secs:.1f} s)")
        for r in report.failed:
            print(f"  FAILED  {r.name}: {r.reason}")
    if report.cancelled:
        return EXIT_CANCELLED
    return EXIT_PARTIAL if report.failed else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    lib = _open(args)
    docs = lib.documents()
    lib.close()
    if args.json:
        print(json.dumps([{"file": d.name, "path": d.path, "kind": d.kind, "pages": d.pages,
                           "chunks": d.chunks, "status": d.status.value, "error": d.error} for d in docs], indent=1))
        return EXIT_OK
    if not docs:
        print("the library is empty")
    for d in docs:
        extra = f"  ({d.error})" if d.error else ""
        print(f"{d.status.value:<8} {d.pages:>4} p {d.chunks:>5} ch  {d.name}{extra}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    lib = _open(args)
    rc = EXIT_OK
    try:
        for ref in args.files:
            found = lib.find(ref)
            if not found:
                print(f"not in the library: {ref}", file=sys.stderr)
                rc = EXIT_PARTIAL
                continue
            lib.remove([d.id for d in found])
            for d in found:
                print(f"removed {d.name}")
    finally:
        lib.close()
    return rc


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query and not args.batch:
        print("give a QUESTION or --batch FILE", file=sys.stderr)
        return EXIT_ERROR
    lib = _open(args)
    try:
        if args.batch:
            with args.batch.open(encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    q = json.loads(line)["query"]
                    res = [p.to_json() for p in lib.search(q, args.k)]
                    print(json.dumps({"query": q, "results": res}), flush=True)
            return EXIT_OK
        passages = lib.search(args.query, args.k)
    finally:
        lib.close()
    if args.json:
        print(json.dumps([p.to_json() for p in passages], indent=1))
        return EXIT_OK
    if not passages:
        print("no matching passages (is the library empty?)")
    for i, p in enumerate(passages, 1):
        print(f"[{i}] {p.file}, page {p.page}  (score {p.score:.4f})")
        print("    " + p.text.strip().replace("\n", "\n    ")[:600])
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer import NOT_STATED
    from rag.generation import LlamaGenerator, ModelLoadError
    from rag.models import ModelMissing, default_llm_path

    lib = _open(args)
    try:
        model = args.model or default_llm_path(models_dir())
        gen = LlamaGenerator(model, context_size=args.ctx, threads=args.threads,
                             gpu="cpu" if args.cpu else "auto")
        try:
            gen.warm_up()
        except (ModelLoadError, ModelMissing) as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_ERROR
        cancel = CancelToken()

        def stream(piece: str) -> None:
            sys.stdout.write(piece)
            sys.stdout.flush()

        def show_quotes(quotes: list[Quote]) -> None:
            # The exact wording first, before the model writes anything.
            if quotes:
                print("From the documents:")
                for q in quotes:
                    print(f"  [{q.n}] \u201c{' '.join(q.text.split())}\u201d")
                    print(f"      {q.passage.file}, {q.location}")
                print("\nAnswer:")
            sys.stdout.flush()

        try:
            ans = lib.ask(args.question, gen, k=args.k, on_token=None if args.json else stream,
                          on_quotes=None if args.json else show_quotes, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            print("\n[stopped]")
            return EXIT_CANCELLED
    finally:
        lib.close()
    if args.json:
        print(json.dumps(ans.to_json(), indent=1))
        return EXIT_OK
    if not ans.grounded:
        print(ans.text)
        return EXIT_OK
    if ans.text.endswith(NOT_STATED):
        print(f"\n\n{NOT_STATED}")
    marks = {Support.SUPPORTED: "ok", Support.UNSUPPORTED: "CHECK", Support.CONTRADICTED: "WRONG"}
    if ans.checks:
        # The streamed text is the model's; this is what the sources back, sentence by sentence.
        print("\nChecked against the sources:")
        for check in ans.checks:
            note = f" ({check.reason})" if check.reason else ""
            print(f"  {marks[check.verdict]:<5} {' '.join(check.text.split())}{note}")
    print("\nSources:")
    for c in ans.citations:
        snippet = " ".join(c.passage.text.split())[:160]
        print(f"  [{c.n}] {c.passage.file}, {c.passage.location}: {snippet}…")
    print(f"(backend: {ans.backend})", file=sys.stderr)
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace) -> int:
    lib = _open(args)
    n = lib.rebuild_index()
    lib.close()
    print(f"rebuilt the vector index: {n} chunks")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"ingest": cmd_ingest, "list": cmd_list, "remove": cmd_remove,
                "search": cmd_search, "ask": cmd_ask, "rebuild-index": cmd_rebuild}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return EXIT_CANCELLED
    except Exception as err:  # noqa: BLE001 (a user sees one line, not a traceback)
        from rag.library import LibraryError
        from rag.models import ModelMissing

        # ModelMissing covers a damaged bundled model: one line saying to reinstall.
        if isinstance(err, LibraryError | OSError | ModelMissing):
            print(f"error: {err}", file=sys.stderr)
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
