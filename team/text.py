"""Small text helpers shared by the routes."""

from __future__ import annotations

import hashlib


def question_digest(text: str) -> str:
    """What the audit trail keeps of a question: enough to tell two questions apart or
    match one a user reports, not the words (they can say as much as the documents)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]
