"""Outlets and pass runs."""

from __future__ import annotations

from typing import Sequence

from .base import marks


class RunsMixin:
    def start_run(self, outlet_id: str, outlet_name: str, now: str) -> int:
        """Record the outlet (name kept current) and a 'running' row; returns the run id."""
        with self.transaction():
            self._insert_ignore("outlets", {"id": outlet_id, "name": outlet_name,
                                            "first_seen": now})
            self._update("outlets", "id", outlet_id, {"name": outlet_name})
            return self._insert("runs", {"outlet": outlet_id, "started": now,
                                         "status": "running", "pages": 0, "new_articles": 0,
                                         "duplicates": 0, "errors": 0})

    def finish_run(self, run_id: int, outlet_id: str, row: dict, now: str) -> None:
        """`row`: finished, status, pages, new_articles, duplicates, errors, ms, message and
        (once migration m003 ran) found. An 'ok' run completes the outlet's first pass."""
        if "found" in row and not self.has_column("runs", "found"):
            row = {k: v for k, v in row.items() if k != "found"}
        self._update("runs", "id", run_id, row)
        if row["status"] == "ok":
            self._run("UPDATE outlets SET first_pass_done = coalesce(first_pass_done, ?) "
                      "WHERE id = ?", [now, outlet_id])

    def recover_stale_runs(self, outlet_ids: Sequence[str], now: str) -> int:
        """Mark 'running' rows of these outlets 'interrupted'. Call only while holding their
        pass locks (no live pass can own such a row then)."""
        ids = list(outlet_ids)
        if not ids:
            return 0
        with self.transaction():
            return self._run(
                "UPDATE runs SET status = 'interrupted', finished = coalesce(finished, ?), "
                "message = coalesce(message, 'the pass was killed before it finished') "
                f"WHERE status = 'running' AND outlet IN ({marks(ids)})", [now, *ids])
