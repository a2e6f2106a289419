"""The state of a returned file, and of a party's return in the year: one English token each, and the one
Italian word every output uses for it (``controlla``, ``raccogli``, ``stato``, the feedback note, the summary's
sources, the Relazione). docs/returns.md says what each state means."""

from __future__ import annotations

ACCEPTED = "accepted"  # no finding
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"  # warnings only: it counts as it is
REJECTED = "rejected"  # an error: the party must correct it (it still counts until a newer return supersedes it)
MISSING = "missing"  # nothing returned yet
CONFLICT = "conflict"  # different returns that cannot be ordered by when they were sent: the office must choose

#: the Italian word of each state, the same everywhere
STATUS_IT = {ACCEPTED: "accettato", ACCEPTED_WITH_WARNINGS: "accettato con avvisi", REJECTED: "da correggere",
             MISSING: "mancante", CONFLICT: "in conflitto"}


def status_it(status: str) -> str:
    """The Italian word of a state (the token itself when unknown)."""
    return STATUS_IT.get(status, status)


__all__ = ["ACCEPTED", "ACCEPTED_WITH_WARNINGS", "CONFLICT", "MISSING", "REJECTED", "STATUS_IT", "status_it"]
