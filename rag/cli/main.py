"""``docqa``: the engine from a terminal. Its arguments and JSON are a stable interface
(scripts and evaluations call it), so change them only by adding."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rag  # noqa: F401  (offline switches first)
from rag.cli.common import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, chosen_documents
from rag.cli.common import open_library as _open
from rag.cli.text import MAX_K, Parser, int_in, place, refused, seconds, shown
from rag.paths import default_library, models_dir
from rag.types import Progress

if TYPE_CHECKING:
    pass



def _parser() -> argparse.ArgumentParser:
    ap = Parser(prog="docqa", description="Private document Q&A, on this computer only.")
    ap.add_argument("--library", type=Path, default=None, help="library folder (default: %(default)s → user data dir)")
    ap.add_argument("--wait", type=seconds, default=600.0, metavar="SECONDS",
                    help="how long to wait for another docqa updating the same library (default: 600)")
    ap.add_argument("--matter", metavar="NAME", help="search or ask this matter on the team server (docqa connect)")
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
    p.add_argument("--document", action="append", metavar="FILE", help="search only this document (repeatable)")
    p.add_argument("-k", type=int_in(1, MAX_K), default=8, help="passages to show (1 to 1,000)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.add_argument("--document", action="append", metavar="FILE", help="answer from this document only (repeatable)")
    p.add_argument("--model", type=Path, help="a GGUF file (default: the bundled Gemma 3 270M)")
    p.add_argument("-k", type=int_in(1, MAX_K), default=8, help="passages to retrieve (1 to 1,000)")
    p.add_argument("--ctx", type=int_in(512, 131_072), default=4096, help="context window in tokens")
    p.add_argument("--threads", type=int_in(1, 1024), default=None)
    p.add_argument("--cpu", action="store_true", help="never offload to a GPU")
    p.add_argument("--max-tokens", type=int_in(1, 32_768), default=512)
    p.add_argument("--server", metavar="URL", help="answer with this server in your organisation, this once "
                   "(docqa server set URL makes it the default)")
    p.add_argument("--unencrypted", action="store_true", help="with --server: allow http:// to another computer")
    p.add_argument("--local", action="store_true", help="answer on this computer even if a server is set")

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

    from rag.cli.review import add_parser as review_parser
    from rag.cli.server import add_parser as add_server

    review_parser(sub)
    add_server(sub)
    from rag.cli.team import add_parser as add_team

    add_team(sub)

    p = sub.add_parser("key", help="where the library's key is kept")
    p.add_argument("store", choices=["passphrase", "keychain"],
                   help="a (new) passphrase (DOCQA_NEW_PASSPHRASE for scripts), or the OS keychain")
    return ap


def _say(e: Progress) -> None:
    if e.message:
        print(e.message, file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.cli.ingest import ingest

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
        print(f"{d.status.value:<8} {d.pages:>4} p {d.chunks:>5} ch  {shown(d.name + extra)}")
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
            found = lib.find(ref)  # a NUL or an unreadable path finds nothing, no exception
            if not found:
                print(f"not in the library: {shown(ref)}", file=sys.stderr)
                rc = EXIT_PARTIAL
                continue
            lib.remove([d.id for d in found], progress=_say)
            for d in found:
                print(f"removed {shown(d.name)}")
    finally:
        lib.close()
    return rc


def cmd_search(args: argparse.Namespace) -> int:
    if args.matter:
        from rag.cli.team import search

        return search(args)
    if args.query is None and not args.batch:
        print("error: give a QUESTION or --batch FILE", file=sys.stderr)
        return EXIT_ERROR
    if not args.batch and refused(args.query):
        return EXIT_ERROR
    if args.batch and not args.batch.is_file():
        print(f"error: no such file: {shown(str(args.batch))}", file=sys.stderr)
        return EXIT_ERROR
    lib = _open(args)
    try:
        documents = chosen_documents(lib, args.document)
        if args.batch:
            from rag.cli import batch as cli_batch

            return EXIT_OK if cli_batch.run(lib, args.batch, args.k, documents) else EXIT_PARTIAL
        passages = lib.search(args.query, args.k, documents)
    finally:
        lib.close()
    if args.json:
        print(json.dumps([p.to_json() for p in passages], indent=1))
        return EXIT_OK
    if not passages:
        print("no matching passages (is the library empty?)")
    for i, p in enumerate(passages, 1):
        where = p.location if p.where else f"page {p.page}"
        print(f"[{i}] {place(p.file, where)}  (score {p.score:.4f})")
        # The passage's own lines, indented; anything else that moves the cursor escaped.
        print("    " + "\n    ".join(shown(line) for line in p.text.strip()[:600].split("\n")))
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.cli.ask import ask

    return ask(args)


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
    from rag.ask.generation import llama_info, physical_cores
    from rag.models.defaults import default_llm_file
    from rag.models.embedder import SentenceTransformerEmbedder, choose_device

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
    print(f"language model: {m['path']}{'' if m['present'] else ' (not assembled yet)'}")
    if m.get("build") is None:
        print(f"  llama.cpp: {m.get('error', 'no build runs here')}")
    else:
        gpu = "GPU offload available" if m["gpu_offload"] else "CPU only"
        print(f"  llama.cpp {m['llama_cpp']}, {m['build']}, {gpu}, {m['threads']} threads")
        for reason in m.get("skipped", []):
            print(f"  {reason}")
    extra = f": {lb['documents']} documents, {lb['passages']} passages" if "documents" in lb else " (empty)"
    print(f"library: {lb['path']}{extra}")
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    from rag.cli.ingest import sync

    return sync(args)


def cmd_privacy(args: argparse.Namespace) -> int:
    from rag.cli.privacy import privacy

    return privacy(args)


def cmd_audit(args: argparse.Namespace) -> int:
    from rag.cli.privacy import audit

    return audit(args)


def cmd_review(args: argparse.Namespace) -> int:
    from rag.cli.review import review

    return review(args)


def cmd_key(args: argparse.Namespace) -> int:
    from rag.cli.privacy import key

    return key(args)


def cmd_server(args: argparse.Namespace) -> int:
    from rag.cli.server import server

    return server(args)


def main(argv: list[str] | None = None) -> int:
    from rag.frozen import run_child_if_requested

    run_child_if_requested()  # started as a helper (the llama.cpp probe, the parser): that, and exit
    args = _parser().parse_args(argv)
    handlers = {"ingest": cmd_ingest, "list": cmd_list, "remove": cmd_remove,
                "search": cmd_search, "ask": cmd_ask, "rebuild-index": cmd_rebuild, "info": cmd_info,
                "sync": cmd_sync, "privacy": cmd_privacy, "audit": cmd_audit, "key": cmd_key,
                "review": cmd_review, "server": cmd_server}
    from rag.cli.team import COMMANDS, run

    handlers.update(dict.fromkeys(COMMANDS, run))
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return EXIT_CANCELLED
    except BaseException as err:  # noqa: BLE001 (a user sees one line, not a traceback)
        from rag.ask.remote_http import RemoteError
        from rag.ask.server_config import BadServer
        from rag.models.defaults import ModelMissing
        from rag.store.database import database_errors
        from rag.store.disk import LibraryError, explain
        from rag.store.keys import KeyUnavailable
        from rag.store.lock import LibraryBusy
        from rag.store.sealed import SealedError
        from rag.team.client import TeamError

        err = explain(err, args.library or default_library())

        # ModelMissing covers a damaged bundled model: one line saying to reinstall.
        if isinstance(err, (LibraryError, LibraryBusy, OSError, KeyUnavailable, SealedError, ModelMissing,
                            RemoteError, BadServer, TeamError, *database_errors())):
            print(f"error: {shown(str(err))}", file=sys.stderr)
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
