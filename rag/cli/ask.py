"""``docqa ask``: the quotes first (they need no model), then the model's answer, streamed,
with every sentence checked against the sources."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.cancel import CancelToken
from rag.cli.common import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, chosen_documents
from rag.cli.common import open_library as _open
from rag.cli.text import place, refused, shown
from rag.paths import models_dir
from rag.protocols import OffsiteGenerator
from rag.types import Quote, Support

if TYPE_CHECKING:
    from rag.ask.generation import LlamaGenerator
    from rag.ask.remote import RemoteGenerator
    from rag.team.matter import TeamMatter


def _generator(args: argparse.Namespace) -> LlamaGenerator | RemoteGenerator:
    """The in-process model, or the organisation's server (``--server`` this once, or
    ``docqa server set``) unless ``--local``."""
    from rag.ask import server_config as sc

    config = sc.load()
    if args.server:
        same = config.url and sc.check_url(args.server, unencrypted=True) == config.url
        config = replace(config if same else sc.ServerConfig(), url=args.server, enabled=True,
                         unencrypted=args.unencrypted or (bool(same) and config.unencrypted))
    if config.active and not args.local:
        from rag.ask.remote import RemoteGenerator

        config = config.checked()  # BadServer: one line (http:// to another computer, ...)
        return RemoteGenerator(config, sc.ApiKeys().get(config.url))
    from rag.ask.generation import LlamaGenerator
    from rag.models.defaults import default_llm_path

    model = args.model or default_llm_path(models_dir())
    return LlamaGenerator(model, context_size=args.ctx, threads=args.threads, gpu="cpu" if args.cpu else "auto")


def open_matter(name: str) -> TeamMatter:
    """The team matter ``name`` (``docqa --matter NAME ask``): the server quotes, this
    computer writes and checks the answer."""
    from rag.cli.team import client
    from rag.team.matter import TeamMatter

    return TeamMatter(client(), name)


def _failed(args: argparse.Namespace, err: Exception, early: list[Quote], remote: bool) -> int:
    """One line for why there is no answer (the quotes are already shown)."""
    if args.json:
        print(json.dumps({"answer": None, "quotes": [q.to_json() for q in early], "error": str(err)}, indent=1))
    if remote:
        from rag.cli.server import FALLBACK_HINT

        hint = f" ({FALLBACK_HINT})" if not args.json else ""
    else:
        hint = " (the quotes above need no model)" if early and not args.json else ""
    print(f"error: {shown(str(err))}{hint}", file=sys.stderr)
    return EXIT_ERROR


def ask(args: argparse.Namespace) -> int:
    from rag.ask.answer import NOT_STATED
    from rag.ask.generation import ModelLoadError
    from rag.ask.remote_http import RemoteError
    from rag.models.defaults import ModelMissing

    if refused(args.question):  # before the model loads: that takes seconds
        return EXIT_ERROR
    gen = _generator(args)
    remote = isinstance(gen, OffsiteGenerator)
    lib = _open(args) if not args.matter else open_matter(args.matter)
    try:
        documents = chosen_documents(lib, getattr(args, "document", None))
        already: list[list[Quote]] = []

        def show_quotes(quotes: list[Quote]) -> None:
            # The exact wording first, before the model writes anything.
            if already and [q.text for q in quotes] == [q.text for q in already[0][: len(quotes)]]:
                # Already shown before the model was loaded: the same quotes, numbered alike.
                if quotes:
                    print("\nAnswer:")
                sys.stdout.flush()
                return
            if quotes:
                print("From the documents:")
                for q in quotes:
                    print(f"  [{q.n}] \u201c{shown(' '.join(q.text.split()))}\u201d")
                    print(f"      {place(q.passage.file, q.location)}")
                if already:
                    print("\nAnswer:")
            sys.stdout.flush()

        # Quotes need no model: they are found and shown first, so that a model that is
        # slow to load, damaged or unable to run on this computer, or a server that is
        # down, still leaves the answer's evidence on the screen.
        early = lib.quotes_first(args.question, k=args.k, documents=documents)
        if not args.json:
            show_quotes(early)
        already.append(early)
        try:
            gen.warm_up()
        except (ModelLoadError, ModelMissing, RemoteError) as err:
            return _failed(args, err, early, remote)
        cancel = CancelToken()

        def stream(piece: str) -> None:
            sys.stdout.write(piece)
            sys.stdout.flush()

        try:
            ans = lib.ask(args.question, gen, k=args.k, on_token=None if args.json else stream,
                          on_quotes=None if args.json else show_quotes, cancel=cancel,
                          documents=documents, max_tokens=args.max_tokens)
        except RemoteError as err:
            if not args.json:
                print()  # after any words already streamed
            return _failed(args, err, early, remote)
        except KeyboardInterrupt:
            cancel.set()
            print("\n[stopped]")
            return EXIT_CANCELLED
    finally:
        lib.close()
    stats = getattr(gen, "last_prompt", None)  # how long the question waited for its first word, and why
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
        snippet = shown(" ".join(c.passage.text.split())[:160])
        print(f"  [{c.n}] {place(c.passage.file, c.passage.location)}: {snippet}…")
    print(f"(backend: {ans.backend})", file=sys.stderr)
    return EXIT_OK
