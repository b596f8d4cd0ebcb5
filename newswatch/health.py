"""Outlet health judged against the outlet's own history (filled in by the daemon work)."""

from __future__ import annotations


def outlet_health(db, config) -> list[dict]:
    """Warnings as {"outlet": id, "message": text}."""
    return []
