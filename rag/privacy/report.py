"""What an auditor asks: is the guard on, what did it block, where is the data, is it
encrypted, with which key store, and is the disk itself encrypted. Read without the key:
checking privacy must not need unlocking the library."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.paths import data_dir
from rag.privacy import egress
from rag.privacy.audit import AUDIT_FILE
from rag.store.database import is_plaintext
from rag.store.keys import KEY_FILE, keyring_name
from rag.store.sealed import is_sealed

MANIFEST_FILE = "manifest.sqlite3"  # as rag.library names it (imported lazily there)
CHATS_FILE = "chats.sealed"


@dataclass
class PrivacyReport:
    guard: str
    blocked: list[str]
    data_dir: str
    library: str
    manifest: str
    chats: str
    key_store: str
    keychain: str
    blocked_in_log: int
    disk_encryption: str
    answer_server: str = "none: answers are written on this computer"
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs, as the CLI and the Privacy page show them."""
        blocked = ", ".join(self.blocked) if self.blocked else "nothing so far"
        return [
            ("Network guard", self.guard),
            ("Allowed server (answers)", self.answer_server),
            ("Blocked in this session", blocked),
            ("Blocked, all time (audit log)", str(self.blocked_in_log)),
            ("Data folder", self.data_dir),
            ("This library", self.library),
            ("Documents, passages, keyword index", self.manifest),
            ("Chat history", self.chats),
            ("Library key", self.key_store),
            ("OS keychain", self.keychain),
            ("Full-disk encryption", self.disk_encryption),
        ]


def report(library: Path) -> PrivacyReport:
    manifest = library / MANIFEST_FILE
    if not manifest.exists():
        m = "none yet (created encrypted)"
    elif is_plaintext(manifest):
        m = "NOT encrypted (an older library: encrypted when next opened)"
    else:
        m = "encrypted (SQLCipher, AES-256)"
    chats = library / CHATS_FILE
    if (library / "chats.json").exists():
        c = "NOT encrypted (an older library: encrypted when next opened in the app)"
    elif chats.exists():
        c = "encrypted (AES-256-GCM)" if is_sealed(chats) else "damaged"
    else:
        c = "none yet (saved encrypted)"
    return PrivacyReport(
        guard="on: connections off this computer are refused" if egress.installed() else "OFF",
        blocked=[a.target for a in egress.attempts()],
        data_dir=str(data_dir()),
        library=str(library),
        manifest=m,
        chats=c,
        key_store=_key_store(library),
        keychain=keyring_name(),
        blocked_in_log=_count_blocked(library / AUDIT_FILE),
        disk_encryption=disk_encryption(library),
        answer_server=answer_server(),
        notes=["The vector index holds numbers derived from the text (not the text); research shows "
               "such vectors can be partly turned back into text, so full-disk encryption still matters."],
    )


def answer_server() -> str:
    """The one host the guard lets answers go to (docqa server set / Settings › Model), and
    what is sent there; the addresses it resolved to once admitted in this process."""
    from rag.ask.server_config import is_loopback, load

    config = load()
    if not config.active:
        return "none: answers are written on this computer"
    admitted = egress.allowed()
    where = admitted.describe() if admitted is not None and admitted.host == config.host.lower() else (
        f"{config.host}:{config.port}")
    if config.encrypted:
        how = "TLS, verified against the OS trust store" + (" and the configured CA" if config.ca_file else "")
    elif is_loopback(config.host):
        how = "this computer"
    else:
        how = "UNENCRYPTED (http://)"
    return (f"{where}, {how}; it receives only the question and the quotes and passages picked for it; "
            "every other host stays refused")


def _key_store(library: Path) -> str:
    try:
        info = json.loads((library / KEY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "none yet"
    if info.get("store") == "keychain":
        return "a random key in the OS keychain"
    return "behind a passphrase (scrypt); the passphrase is not stored anywhere"


def _count_blocked(log: Path) -> int:
    try:
        lines = log.read_bytes().splitlines()
    except OSError:
        return 0
    return sum(1 for ln in lines if b'"event": "connection blocked"' in ln)


def disk_encryption(path: Path) -> str:
    """"on", "off" or "unknown" (with how we know), where the OS tells."""
    try:
        system = platform.system()
        if system == "Linux":
            return _linux(path)
        if system == "Darwin":
            out = _run(["fdesetup", "status"])
            return "on (FileVault)" if "FileVault is On" in out else ("off" if "Off" in out else "unknown")
        if system == "Windows":
            drive = os.path.splitdrive(str(path.resolve()))[0] or "C:"
            out = _run(["manage-bde", "-status", drive])
            if "Protection On" in out:
                return "on (BitLocker)"
            return "off" if "Protection Off" in out else "unknown (needs an administrator to tell)"
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    return "unknown"


def _run(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout


def _linux(path: Path) -> str:
    """Walk from the folder's block device down through device-mapper layers (LVM on
    LUKS, ...) looking for a dm-crypt one."""
    p = path
    while not p.exists():
        p = p.parent
    dev = os.stat(p).st_dev
    start = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if not start.exists():
        return "unknown (the folder is not on a local disk the system describes)"
    seen: set[Path] = set()
    todo = [start.resolve()]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        uuid = node / "dm" / "uuid"
        if uuid.exists() and uuid.read_text().startswith("CRYPT-"):
            return "on (dm-crypt/LUKS)"
        # A partition's parent disk, and the devices under a device-mapper target.
        todo += [s.resolve() for s in (node / "slaves").glob("*")] if (node / "slaves").is_dir() else []
        if (node / "partition").exists():
            todo.append(node.parent)
    return "off"


def print_report(r: PrivacyReport) -> None:
    width = max(len(k) for k, _ in r.lines())
    for k, v in r.lines():
        print(f"{k:<{width}}  {v}")
    for note in r.notes:
        print(f"\nNote: {note}", file=sys.stdout)
