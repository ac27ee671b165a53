"""``docqa``: the engine from a terminal. Its arguments and JSON are a stable interface
(scripts and evaluations call it), so change them only by adding."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rag  # noqa: F401  (offline switches first)
from rag.cancel import CancelToken
from rag.paths import default_library, models_dir
from rag.types import Progress, Quote, Support

if TYPE_CHECKING:
    from rag.library import Library

EXIT_OK, EXIT_ERROR, EXIT_PARTIAL, EXIT_CANCELLED = 0, 1, 3, 130


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="docqa", description="Private document Q&A, on this computer only.")
    ap.add_argument("--library", type=Path, default=None, help="library folder (default: %(default)s → user data dir)")
    ap.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                    help="how long to wait for another docqa updating the same library (default: 600)")
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

    p = sub.add_parser("info", help="the models, where they run, and the library")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("sync", help="bring the library in line with the folders and files it was built from")
    p.add_argument("paths", nargs="*", help="only these folders or files (they are followed from now on)")
    p.add_argument("--json", action="store_true", help="print what changed as JSON")

    p = sub.add_parser("privacy", help="the network guard, where the data is and whether it is encrypted")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("audit", help="the library's tamper-evident audit log")
    a = p.add_subparsers(dest="audit_command", required=True)
    q = a.add_parser("show", help="print the log")
    q.add_argument("--json", action="store_true")
    a.add_parser("verify", help="check that no entry was edited, removed or reordered (exit 1 if so)")
    q = a.add_parser("questions", help="keep questions' text in the log (sealed), or only a keyed hash")
    q.add_argument("keep", choices=["text", "hash"])

    p = sub.add_parser("key", help="where the library's key is kept")
    p.add_argument("store", choices=["passphrase", "keychain"],
                   help="a (new) passphrase (DOCQA_NEW_PASSPHRASE for scripts), or the OS keychain")
    return ap


def _ask_passphrase(new: bool) -> str | None:
    """The passphrase, typed at the terminal (never echoed); None without a terminal."""
    import getpass

    if not sys.stdin.isatty():
        return None
    if new:
        print("Choose a passphrase for this library (this computer has no secure keychain, or you\n"
              "asked for one). Without it the library cannot be opened; nobody can recover it.", file=sys.stderr)
    pw = getpass.getpass("Passphrase: ")
    if new and pw and getpass.getpass("Again: ") != pw:
        print("the two passphrases differ", file=sys.stderr)
        return None
    return pw or None


def _migration(step: str, frac: float) -> None:
    end = "\n" if frac >= 1.0 else ""
    sys.stderr.write(f"\r{step}: {frac:.0%}{end}")
    sys.stderr.flush()


def _open(args: argparse.Namespace) -> Library:
    from rag.keys import KeySource
    from rag.library import Library  # lazy: keeps --help fast

    lib = Library(args.library or default_library(), keys=KeySource(_ask_passphrase), migration=_migration,
                  notes=lambda line: print(line, file=sys.stderr, flush=True))
    lib.lock_timeout = args.wait
    return lib


def _say(e: Progress) -> None:
    if e.message:
        print(e.message, file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.cli_ingest import ingest

    return ingest(args)


def cmd_list(args: argparse.Namespace) -> int:
    lib = _open(args)
    docs = lib.documents()
    ocr = {d.id: lib.manifest.ocr_pages(d.id) for d in docs}
    lib.close()
    if args.json:
        print(json.dumps([{"file": d.name, "path": d.path, "kind": d.kind, "pages": d.pages,
                           "chunks": d.chunks, "status": d.status.value, "error": d.error,
                           "ocr_pages": [{"page": n, "confidence": round(c, 1)} for n, c in ocr[d.id]]}
                          for d in docs], indent=1))
        return EXIT_OK
    if not docs:
        print("the library is empty")
    for d in docs:
        extra = f"  ({d.error})" if d.error else ""
        print(f"{d.status.value:<8} {d.pages:>4} p {d.chunks:>5} ch  {d.name}{extra}")
        if ocr[d.id]:
            print(" " * 26 + _ocr_line(ocr[d.id]))  # under the name
    return EXIT_OK


def _ocr_line(pages: list[tuple[int, float]], most: int = 12) -> str:
    """"page 3 read by OCR, confidence 92%": which pages to check against the paper."""
    if len(pages) == 1:
        return f"page {pages[0][0]} read by OCR, confidence {pages[0][1]:.0f}%"
    each = ", ".join(f"page {n} {c:.0f}%" for n, c in pages[:most])
    more = f" and {len(pages) - most} more (see --json)" if len(pages) > most else ""
    return f"read by OCR, confidence: {each}{more}"


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
            lib.remove([d.id for d in found], progress=_say)
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
        where = p.location if p.where else f"page {p.page}"
        print(f"[{i}] {p.file}, {where}  (score {p.score:.4f})")
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
    stats = gen.last_prompt  # how long the question waited for its first word, and why
    prompt = {"tokens": stats.tokens, "evaluated": stats.evaluated,
              "tokens_per_second": round(stats.tokens_per_second), "first_token_seconds":
              round(stats.first_token_seconds, 3)} if stats is not None else None
    if args.json:
        print(json.dumps({**ans.to_json(), "prompt": prompt}, indent=1))
        return EXIT_OK
    if prompt is not None:
        print(f"(prompt: {prompt['tokens']} tokens at {prompt['tokens_per_second']} tokens/s; first words "
              f"after {prompt['first_token_seconds']:.2f} s)", file=sys.stderr)
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
    try:
        n = lib.rebuild_index(progress=_say)
    finally:
        lib.close()
    print(f"rebuilt the vector index: {n} chunks")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    """What a support call needs first: the versions, the models, and where each runs."""
    import torch

    import rag as rag_pkg
    from rag.embedder import SentenceTransformerEmbedder, choose_device
    from rag.generation import llama_info, physical_cores
    from rag.models import default_llm_file

    emb = SentenceTransformerEmbedder()
    hw = choose_device(torch)
    llm = default_llm_file(models_dir())
    info: dict[str, Any] = {
        "version": rag_pkg.__version__,
        "embedder": {"name": emb.name, "path": str(emb.path), "device": hw.device,
                     "precision": hw.precision, "reason": hw.reason, "torch": torch.__version__},
        "language_model": {"path": str(llm), "present": llm.is_file(), "threads": physical_cores(),
                           **llama_info()},
        "library": {"path": str(args.library or default_library())},
    }
    lib_dir = Path(info["library"]["path"])
    if (lib_dir / "manifest.sqlite3").exists():
        lib = _open(args)
        try:
            docs = lib.documents()
            info["library"].update(documents=len(docs), passages=sum(d.chunks for d in docs))
        finally:
            lib.close()
    if args.json:
        print(json.dumps(info, indent=1))
        return EXIT_OK
    e, m, lb = info["embedder"], info["language_model"], info["library"]
    print(f"docqa {info['version']}")
    print(f"embedding model: {e['name']} on {hw}  (torch {e['torch']})")
    print(f"  {e['path']}")
    gpu = "GPU offload available" if m["gpu_offload"] else "CPU only"
    print(f"language model: {m['path']}{'' if m['present'] else ' (not assembled yet)'}")
    print(f"  llama.cpp {m['llama_cpp']}, {gpu}, {m['threads']} threads")
    extra = f": {lb['documents']} documents, {lb['passages']} passages" if "documents" in lb else " (empty)"
    print(f"library: {lb['path']}{extra}")
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    from rag.cli_ingest import sync

    return sync(args)


def cmd_privacy(args: argparse.Namespace) -> int:
    from rag.cli_privacy import privacy

    return privacy(args)


def cmd_audit(args: argparse.Namespace) -> int:
    from rag.cli_privacy import audit

    return audit(args)


def cmd_key(args: argparse.Namespace) -> int:
    from rag.cli_privacy import key

    return key(args)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"ingest": cmd_ingest, "list": cmd_list, "remove": cmd_remove,
                "search": cmd_search, "ask": cmd_ask, "rebuild-index": cmd_rebuild, "info": cmd_info,
                "sync": cmd_sync, "privacy": cmd_privacy, "audit": cmd_audit, "key": cmd_key}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return EXIT_CANCELLED
    except BaseException as err:  # noqa: BLE001 (a user sees one line, not a traceback)
        from rag.keys import KeyUnavailable
        from rag.library_disk import LibraryError, explain
        from rag.lock import LibraryBusy
        from rag.models import ModelMissing
        from rag.sealed import SealedError
        from rag.store import database_errors

        err = explain(err, args.library or default_library())

        # ModelMissing covers a damaged bundled model: one line saying to reinstall.
        if isinstance(err, (LibraryError, LibraryBusy, OSError, KeyUnavailable, SealedError, ModelMissing,
                            *database_errors())):
            print(f"error: {err}", file=sys.stderr)
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
