"""The laptop's side: docqa connect / login / matters / --matter NAME search and ask
against a real docqa-server; the token in the keychain; the egress guard admits the team
server besides the answer server, and nothing else."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from rag.privacy import egress
from tests.team.conftest import PASSWORD


@pytest.fixture(scope="module")
def seeded(team, embedder):
    from team import admin
    from tests.helpers.team_seed import add_document

    texts = ["The lease of the harbour office runs for seven years.",
             "The tenant pays a monthly rent of 4,200 euros to the landlord."]
    with team.admin() as db:
        admin.user_add(db, "lena", PASSWORD)
        mid = admin.matter_add(db, "harbour")
        admin.matter_add(db, "secret")
        add_document(db, mid, "lease.txt", texts, np.asarray(embedder.embed(texts)))
        admin.member_add(db, "harbour", "lena")


def test_connect_login_matters_search_ask(team, seeded, capsys, monkeypatch, memory_keyring, tiny_gguf):
    from rag.cli.main import main
    from rag.team.client import get_token, load

    monkeypatch.setenv("DOCQA_TEAM_PASSWORD", PASSWORD)
    assert main(["connect", team.url]) == 0
    assert main(["login", "lena"]) == 0
    assert get_token(load().url)  # in the keychain, not in team.json
    from rag.paths import data_dir

    assert set(json.loads((data_dir() / "team.json").read_text())) == {"url", "user", "unencrypted", "ca_file"}
    capsys.readouterr()
    assert main(["matters"]) == 0
    assert capsys.readouterr().out.split() == ["harbour"]
    assert main(["--matter", "harbour", "search", "how much is the rent?", "-k", "1", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert "4,200 euros" in found[0]["text"]
    # The server quotes; the answer is written here (the tiny model) and checked.
    assert main(["--matter", "harbour", "ask", "What rent does the tenant pay?", "--model", str(tiny_gguf),
                 "--max-tokens", "16", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert "4,200 euros" in got["quotes"][0]["text"] and got["citations"][0]["file"] == "lease.txt"
    assert main(["--matter", "secret", "search", "rent"]) == 1
    assert "not a member" in capsys.readouterr().err
    assert main(["logout"]) == 0
    assert main(["matters"]) == 1
    assert "docqa login" in capsys.readouterr().err


def test_the_team_server_is_admitted_besides_the_answer_server():
    egress.install()
    try:
        egress.allow("192.0.2.10", 8443)  # the answer server
        egress.allow_team("192.0.2.20", 443)  # the team server
        sys.audit("socket.connect", None, ("192.0.2.10", 8443))
        sys.audit("socket.connect", None, ("192.0.2.20", 443))
        for addr in (("192.0.2.20", 444), ("192.0.2.21", 443), ("192.0.2.10", 443)):
            with pytest.raises(egress.EgressBlocked):
                sys.audit("socket.connect", None, addr)
        egress.disallow()  # the answer server goes; the team server stays
        sys.audit("socket.connect", None, ("192.0.2.20", 443))
        egress.disallow_team()
        with pytest.raises(egress.EgressBlocked):
            sys.audit("socket.connect", None, ("192.0.2.20", 443))
    finally:
        egress.disallow()
        egress.disallow_team()


def test_review_a_team_matter_from_the_command_line(team, seeded, capsys, monkeypatch, memory_keyring):
    """Each row computed by the server; one JSON line per cell, as for a local library."""
    from rag.cli.main import main

    monkeypatch.setenv("DOCQA_TEAM_PASSWORD", PASSWORD)
    assert main(["connect", team.url]) == 0
    assert main(["login", "lena"]) == 0
    capsys.readouterr()
    assert main(["--matter", "harbour", "review", "--column", "Rent=How much rent does the tenant pay?",
                 "--column", "Term=How long does the lease run?", "--json"]) == 0
    cells = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(c["file"], c["column"]) for c in cells] == [("lease.txt", "Rent"), ("lease.txt", "Term")]
    rent = cells[0]
    assert rent["status"] == "found" and "4,200 euros" in rent["quotes"][0]["text"]
    assert main(["--matter", "harbour", "review", "--preset", "contract", "--answers"]) == 1
    assert main(["--matter", "secret", "review", "--preset", "contract"]) == 1
    assert "not a member" in capsys.readouterr().err
