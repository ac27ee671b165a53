"""Library folders on disk: list, create, rename, delete, and open them once each.

Each library (a matter) is a folder under ``rag.paths.libraries_dir()``. Opened
:class:`rag.library.Library` objects are cached here and share the one embedder.
A library may be opened on a worker thread: :attr:`LibraryFolders.on_note` and
:attr:`LibraryFolders.on_wait` are then called there (the engine turns them into signals).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from rag.library import Library, delete_library
from rag.protocols import Embedder
from rag.store.keys import KeySource
from rag.team.client import TeamError
from rag.team.matter import TeamMatter, is_team, matter_of

_BAD_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


class LibraryNameError(ValueError):
    pass


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise LibraryNameError("a library needs a name")
    if _BAD_CHARS.search(name) or name in (".", "..") or name.startswith("."):
        raise LibraryNameError('a library name cannot contain / \\ : * ? " < > | or start with a dot')
    if len(name) > 120:
        raise LibraryNameError("that name is too long (120 characters at most)")
    return name


class TeamSessionLike(Protocol):
    matters: list[str]

    def open(self, matter: str) -> TeamMatter: ...


class LibraryFolders:
    def __init__(self, root: Path, embedder: Embedder, keys: KeySource | None = None) -> None:
        self.root = root
        self.embedder = embedder
        self.keys = keys or KeySource()
        self._open: dict[str, Library] = {}
        # (library, one line): what the engine repaired on the way (a rebuilt search index),
        # and that another docqa is making the same library (heard at once, not after).
        self.on_note: Callable[[str, str], None] = lambda name, line: None
        self.on_wait: Callable[[str, str], None] = lambda name, line: None
        # The team server's matters (desktop/team_session.py), named "team:MATTER" here.
        self.team: TeamSessionLike | None = None

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted((p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=str.casefold)

    def exists(self, name: str) -> bool:
        """A library of this computer, or a team matter the user may open now."""
        if is_team(name):
            return self.team is not None and matter_of(name) in self.team.matters
        return name in self.names()

    def path(self, name: str) -> Path:
        return self.root / name

    def create(self, name: str) -> str:
        name = check_name(name)
        target = self.root / name
        if target.exists():
            raise LibraryNameError(f"a library called '{name}' already exists")
        target.mkdir(parents=True)
        return name

    def open(self, name: str) -> Library | TeamMatter:
        """The library called ``name``, or the team matter for a ``team:`` name."""
        if is_team(name):
            if self.team is None:
                raise TeamError("not signed in to the team server: Settings › Team", 401)
            return self.team.open(matter_of(name))
        return self.local(name)

    def local(self, name: str) -> Library:
        lib = self._open.get(name)
        if lib is None:
            lib = Library(self.root / name, self.embedder, keys=self.keys,
                          notes=lambda line: self.on_note(name, line),
                          on_wait=lambda line: self.on_wait(name, line))
            self._open[name] = lib
        return lib

    def close(self, name: str) -> None:
        lib = self._open.pop(name, None)
        if lib is not None:
            lib.close()

    def rename(self, old: str, new: str) -> str:
        new = check_name(new)
        if new == old:
            return new
        if (self.root / new).exists():
            raise LibraryNameError(f"a library called '{new}' already exists")
        self.close(old)
        (self.root / old).rename(self.root / new)
        return new

    def delete(self, name: str) -> None:
        """Delete the library's folder (its index and chats) and its key, never the user's
        documents."""
        self.close(name)
        delete_library(self.root / name, self.keys)

    def close_all(self) -> None:
        for name in list(self._open):
            self.close(name)
