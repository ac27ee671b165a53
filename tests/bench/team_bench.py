"""Team mode at scale (issue 21): docqa-server over PostgreSQL with many matters and many
users asking at once, against the single-user SQLite store on the same data.

    DOCQA_PASSPHRASE=x nice -n 5 .venv/bin/python tests/bench/team_bench.py \\
        [--passages 100000] [--matters 50] [--users 20] [--questions 20] [--think 2]

It starts its own PostgreSQL (tests/helpers/postgres.py) and docqa-server (uvicorn on
loopback, in a process of its own), loads synthetic passages into ``--matters`` matters (their
vectors are random unit vectors unless ``--embed``: embedding 100,000 passages takes
longer than the rest of the bench on two cores), makes ``--users`` users each a member of
one matter (20 users, 20 matters: no two share a matter's caches), and has them sign in and
ask search questions concurrently, each a bounded loop of ``--questions``. Every question is
made afresh (a template and two words of the matters' vocabulary) and embedded for real:
no cache answers for the server. Every passage returned is checked against the asker's
matter (cross_matter counts the ones from another).

Two runs, each on a server started cold: first all users at once, each asking again the
moment an answer comes (20 searches always in flight: the server's ceiling); then users
as people are, each asking again ``--think`` seconds (0.5-1.5 times) after an answer, their
loops out of step. The last line is the second run's (``--think 0``: the first's):
``users=N passages=N p50_ms=N p95_ms=N errors=N cross_matter=N``. Then the same searches,
one at a time, over the SQLite store holding one matter's passages (what a single user's
library would hold), and the ingest throughput of uploads through the server.

Measured 2026-12-03 on this 2-core machine (nothing else running), 20 users x 20 searches,
k=8, 100,000 passages in 50 matters:

- all at once, no pause: 56.6 searches/s, p50 298 ms, p95 650 ms (first searches p50 1,048
  ms, the others' p95 542 ms); CPU per search: docqa-server 14.5 ms, PostgreSQL 10.3 ms, the
  simulated users 2.3 ms. The server is CPU-bound there: 27 ms of CPU per search on two
  cores is at most ~75/s, and 20 requests always in flight wait their turn (Little's law:
  20 / 57 per s = 350 ms on average). The day before, with ten questions asked over and
  over (their vectors cached for all users, a timing channel since removed), keyword ranking
  in one SQL scan per search and each first search reading its matter row by row: 54.7
  searches/s, p95 922 ms; with fresh questions and those, 45 searches/s, p95 935 ms.
- 2 s between a user's searches, out of step: 8.9 searches/s, p50 36 ms, p95 65 ms, max
  229 ms, errors 0, cross-matter 0 (first searches p50 49 ms: a user's matters are read when
  they sign in).
- SQLite store, one matter's 2,000 passages, one search at a time: p50 14 ms, p95 26 ms;
  ingest through the server 44.4 passages/s (small text files); HNSW build 68 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import rag  # noqa: E402,F401

PASSWORD = "bench password, long enough"
PER_DOC = 40  # passages per document
PER_PAGE = 4
WORDS = ("agreement party supplier buyer licence term termination notice payment invoice warranty "
         "liability indemnity confidential information governing law arbitration court delivery goods "
         "services fee royalty audit records insurance assignment consent breach remedy damages cap "
         "renewal exclusivity territory patent trademark copyright employee contractor data privacy "
         "security incident clinic patient discharge medication dosage allergy referral consultation").split()
# Questions are made afresh for every search (a reviewer's words, a term of the matter's):
# no two users ask the same one twice, so no cache answers for the server.
TEMPLATES = ("what does the agreement say about {a}?", "is there a {a} {b} clause?",
             "who is responsible for {a} and {b}?", "how much notice is needed for {a}?",
             "what happens to the {a} on {b}?", "which {a} applies to the {b}?",
             "can the {a} be assigned without {b}?", "where is the {a} for {b} recorded?")


def question(rng: random.Random) -> str:
    return rng.choice(TEMPLATES).format(a=rng.choice(WORDS), b=rng.choice(WORDS))


def _text(rng: random.Random, matter: int, doc: int, i: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 60)))
    return f"Matter {matter} document {doc} clause {i}. The {words}."


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def load(owner, n_passages: int, n_matters: int, embedder, embed: bool) -> tuple[dict[int, int], dict]:
    """Bulk-load as the superuser; the HNSW index is built once at the end (faster than
    keeping it up to date row by row). Returns passage id -> matter id and one matter's
    data (texts, vectors per document) for the SQLite comparison."""
    from team import admin
    from tests.helpers.team_server import admin_tx

    rng, nrng = random.Random(7), np.random.default_rng(7)
    per_matter = n_passages // n_matters
    with admin_tx(owner) as db:
        db.run("DROP INDEX IF EXISTS passages_embedding")
    sample: dict = {}
    t0 = time.perf_counter()
    for m in range(n_matters):
        with admin_tx(owner) as db:
            mid = admin.matter_add(db, f"matter-{m:02d}")
            for d in range(0, per_matter, PER_DOC):
                texts = [_text(rng, m, d // PER_DOC, i) for i in range(min(PER_DOC, per_matter - d))]
                vecs = embedder.embed(texts) if embed else _unit(nrng, len(texts))
                _insert(db, mid, f"m{m}-doc{d // PER_DOC}.txt", texts, vecs)
                if m == 0:
                    sample[f"m{m}-doc{d // PER_DOC}.txt"] = (texts, np.asarray(vecs))
        print(f"  matter {m + 1}/{n_matters} loaded ({time.perf_counter() - t0:.0f} s)", flush=True)
    t1 = time.perf_counter()
    with admin_tx(owner) as db:
        db.run("SET maintenance_work_mem = '1GB'")
        db.run("CREATE INDEX passages_embedding ON passages USING hnsw (embedding vector_cosine_ops)")
        db.run("ANALYZE")
        owners = {int(i): int(m) for i, m in db.run("SELECT id, matter_id FROM passages")}
    print(f"  HNSW index over {len(owners)} passages built in {time.perf_counter() - t1:.0f} s", flush=True)
    return owners, sample


def _insert(db, mid: int, name: str, texts: list[str], vecs: np.ndarray) -> None:
    pages = ["\n\n".join(texts[i:i + PER_PAGE]) for i in range(0, len(texts), PER_PAGE)]
    now = time.time()
    doc = db.run("INSERT INTO documents (matter_id, path, name, kind, status, pages, added_at, updated_at) "
                 "VALUES (:m, :n, :n, 'txt', 'ready', :p, :now, :now) RETURNING id",
                 m=mid, n=name, p=len(pages), now=now)[0][0]
    db.run("INSERT INTO pages (matter_id, doc_id, number, text) SELECT :m, :d, u.n, u.t "
           "FROM unnest(CAST(:ns AS int[]), CAST(:ts AS text[])) AS u(n, t)",
           m=mid, d=doc, ns=list(range(1, len(pages) + 1)), ts=pages)
    starts, pg = [], []
    for i, t in enumerate(texts):
        if i % PER_PAGE == 0:
            pos = 0
        starts.append(pos)
        pg.append(i // PER_PAGE + 1)
        pos += len(t) + 2
    db.run('INSERT INTO passages (matter_id, doc_id, ordinal, page, start, "end", text, embedding) '
           "SELECT :m, :d, u.o, u.p, u.s, u.s + length(u.t), u.t, CAST(u.v AS vector) FROM unnest("
           "CAST(:os AS int[]), CAST(:ps AS int[]), CAST(:ss AS int[]), CAST(:ts AS text[]), CAST(:vs AS text[])) "
           "AS u(o, p, s, t, v)", m=mid, d=doc, os=list(range(len(texts))), ps=pg, ss=starts, ts=texts,
           vs=[str(v.tolist()) for v in np.asarray(vecs, dtype=np.float32)])
    db.run("INSERT INTO matter_state (matter_id, generation) VALUES (:m, 1) ON CONFLICT (matter_id) "
           "DO UPDATE SET generation = matter_state.generation + 1", m=mid)


def ask_concurrently(url: str, users: list[tuple[str, str, int]], questions: int, owners: dict[int, int],
                     on_start=None, think: float = 0.0) -> tuple[list[float], int, int, list[float]]:
    """Each user signs in, then all ask at once (``on_start`` runs then, once). Returns the
    latencies, errors, cross-matter passages and each user's first latency (a cold start:
    the server reads the matter's vectors and document profiles for that user then)."""
    import httpx

    lat: list[float] = []
    first: list[float] = []
    errors = cross = 0
    lock = threading.Lock()
    start = threading.Barrier(len(users), action=on_start)

    def user(name: str, matter: str, mid: int, seed: int) -> None:
        nonlocal errors, cross
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=120) as c:
            token = c.post("/login", json={"name": name, "password": PASSWORD}).json()["token"]
            c.headers["Authorization"] = f"Bearer {token}"
            start.wait()
            if think > 0:  # users' loops out of step, as people's are: the first question comes anytime
                time.sleep(rng.uniform(0, think))
            for i in range(questions):
                t = time.perf_counter()
                try:
                    r = c.post(f"/matters/{matter}/search", json={"query": question(rng), "k": 8})
                    ok = r.status_code == 200
                    found = r.json()["passages"] if ok else []
                except Exception:
                    ok, found = False, []
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    lat.append(ms)
                    if i == 0:
                        first.append(ms)
                    errors += 0 if ok and len(found) == 8 else 1
                    cross += sum(1 for p in found if owners.get(p["chunk_id"]) != mid)
                if think > 0 and i < questions - 1:  # reading the answer before the next question
                    time.sleep(rng.uniform(0.5, 1.5) * think)

    threads = [threading.Thread(target=user, args=(*u, i)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors, cross, first


def sqlite_latency(sample: dict, embedder, questions: int) -> list[float]:
    """The same searches, one at a time, over the single-user store holding one matter."""
    from rag.ask.retrieval import HybridRetriever
    from rag.library import Library
    from rag.store.sqlite_store import SqlCipherStore
    from rag.types import Chunk, Page, ParsedDocument

    with tempfile.TemporaryDirectory() as tmp, Library(Path(tmp) / "lib", embedder) as lib:
        store = SqlCipherStore(lib.manifest, lib.index)
        for name, (texts, vecs) in sample.items():
            pages, chunks = [], []
            for p in range(0, len(texts), PER_PAGE):
                body, pos = "", 0
                for i, t in enumerate(texts[p:p + PER_PAGE]):
                    chunks.append(Chunk(page=p // PER_PAGE + 1, start=pos, end=pos + len(t), text=t,
                                        ordinal=p + i))
                    body += t + "\n\n"
                    pos += len(t) + 2
                pages.append(Page(p // PER_PAGE + 1, body[:-2]))
            store.add_document(path=name, name=name, sha256="", size=0, parsed=ParsedDocument(pages, "txt"),
                               chunks=chunks, vectors=vecs)
        retriever = HybridRetriever(store, embedder)
        rng, lat = random.Random(1), []
        for _ in range(questions):
            t = time.perf_counter()
            retriever.search(question(rng), 8)
            lat.append((time.perf_counter() - t) * 1000)
        return lat


def ingest_rate(url: str, name: str, matter: str, files: int) -> tuple[float, int]:
    """Passages per second for ``files`` uploads, from the first byte sent to the last done."""
    import httpx

    rng = random.Random(3)
    with httpx.Client(base_url=url, timeout=120) as c:
        token = c.post("/login", json={"name": name, "password": PASSWORD}).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        t = time.perf_counter()
        jobs = []
        for f in range(files):
            body = "\n\n".join(_text(rng, 0, 1000 + f, i) for i in range(30))
            jobs.append(c.post(f"/matters/{matter}/documents", params={"name": f"upload-{f}.txt"},
                               content=body.encode()).json()["job"])
        passages = 0
        for j in jobs:
            while (p := c.get(f"/matters/{matter}/ingest/{j}").json())["state"] not in ("done", "failed"):
                time.sleep(0.1)
            passages += p["passages"]
        return passages / (time.perf_counter() - t), passages


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU time (user + system) of a process, and with ``children`` of its child processes
    too (PostgreSQL's backends): Linux's /proc, 0.0 elsewhere. Under the load of other
    work, CPU per search says what latency cannot."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def own(p: int) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick

    total = own(pid)
    if children:
        for d in Path("/proc").glob("[0-9]*"):
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    total += own(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return total


@contextmanager
def server_process(app_db, users: int) -> Iterator[tuple[str, int]]:
    """``docqa-server serve`` in a process of its own, as the application role: the
    simulated users in this process do not share its interpreter lock."""
    import httpx

    from tests.helpers.team_server import free_port

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "team.cli", "serve", "--db", app_db.database, "--db-socket",
                             app_db.unix_sock, "--db-user", app_db.user, "--port", str(port),
                             "--pool", str(users + 4)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"docqa-server exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("docqa-server did not start")
            time.sleep(0.5)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q) - 1] if len(xs) > 1 else (xs[0] if xs else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=100_000)
    ap.add_argument("--matters", type=int, default=50)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--questions", type=int, default=20, help="searches per user")
    ap.add_argument("--embed", action="store_true", help="embed the passages instead of random vectors")
    ap.add_argument("--ingest-files", type=int, default=10)
    ap.add_argument("--think", type=float, default=2.0,
                    help="mean seconds a user waits after an answer before the next search (0.5-1.5 times it; "
                         "the users out of step); a run with none, all at once, comes first. 0: that run only")
    args = ap.parse_args()
    os.environ.setdefault("DOCQA_PASSPHRASE", "team bench passphrase")
    os.environ.setdefault("DOCQA_HOME", tempfile.mkdtemp(prefix="docqa-bench-home-"))

    from rag.models.embedder import SentenceTransformerEmbedder
    from team import admin
    from tests.helpers.postgres import running_postgres
    from tests.helpers.team_server import admin_tx, make_team_db

    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    with running_postgres() as pg:
        owner, app_db = make_team_db(pg, "bench")
        print(f"loading {args.passages} passages into {args.matters} matters "
              f"({'embedded' if args.embed else 'random unit vectors'})", flush=True)
        owners, sample = load(owner, args.passages, args.matters, embedder, args.embed)
        users = []
        with admin_tx(owner) as db:
            for u in range(args.users):
                m = u % args.matters
                admin.user_add(db, f"user{u:02d}", PASSWORD)
                admin.member_add(db, f"matter-{m:02d}", f"user{u:02d}")
                users.append((f"user{u:02d}", f"matter-{m:02d}",
                              int(db.run("SELECT id FROM matters WHERE name = :n", n=f"matter-{m:02d}")[0][0])))
        runs = {}
        # Each run on a server of its own, started cold: every user's first search in it is
        # the server's first in that matter.
        for think in ((0.0, args.think) if args.think > 0 else (0.0,)):
            with server_process(app_db, args.users) as (url, pid):
                ask_concurrently(url, users[:2], 2, owners)  # warm: the lexicon, the first connections
                began: list[float] = []  # when every user has signed in: time, CPU of server, PostgreSQL, users

                def signed_in(began: list[float] = began, pid: int = pid) -> None:
                    began.extend((time.perf_counter(), cpu_seconds(pid), cpu_seconds(pg.proc.pid, children=True),
                                  time.process_time()))

                got = ask_concurrently(url, users, args.questions, owners, signed_in, think)
                wall = time.perf_counter() - began[0]
                cpu = (cpu_seconds(pid) - began[1], cpu_seconds(pg.proc.pid, children=True) - began[2],
                       time.process_time() - began[3])
                runs[think] = (*got, wall, cpu)
                if think == args.think:
                    rate, uploaded = ingest_rate(url, users[0][0], users[0][1], args.ingest_files)
        single = sqlite_latency(sample, embedder, args.questions * 2)
    for think, (lat, errors, cross, first, wall, cpu) in runs.items():
        rest = sorted(lat)
        for x in first:
            rest.remove(x)
        pace = (f"each asking again {think:g} s (0.5-1.5 times) after an answer, out of step" if think else
                "all starting at once, each asking again the moment an answer comes")
        print(f"\nteam server, {args.users} concurrent users ({pace}): {len(lat)} searches in {wall:.1f} s "
              f"({len(lat) / wall:.1f}/s): p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms, "
              f"max {max(lat):.0f} ms, errors {errors}, cross-matter passages {cross}")
        print(f"  each user's first search (cold): p50 {pct(first, 50):.0f} ms; the others: "
              f"p95 {pct(rest, 95):.0f} ms")
        print(f"  CPU per search: docqa-server {cpu[0] * 1000 / len(lat):.1f} ms, "
              f"PostgreSQL {cpu[1] * 1000 / len(lat):.1f} ms, the simulated users (this process) "
              f"{cpu[2] * 1000 / len(lat):.1f} ms")
    print(f"single-user SQLite store ({sum(len(t) for t, _ in sample.values())} passages of one matter), "
          f"one at a time: p50 {pct(single, 50):.0f} ms, p95 {pct(single, 95):.0f} ms")
    print(f"ingest through the server: {uploaded} passages in {args.ingest_files} uploads, {rate:.1f} passages/s")
    lat, errors, cross = runs[args.think][:3]  # the line for the pace asked for (--think)
    print(f"users={args.users} passages={len(owners)} p50_ms={pct(lat, 50):.0f} p95_ms={pct(lat, 95):.0f} "
          f"errors={errors} cross_matter={cross}")
    return 0 if all(r[1] == 0 and r[2] == 0 for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
