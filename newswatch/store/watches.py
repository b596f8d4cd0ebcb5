"""Watches created in the web view (table `web_watches`): their CRUD.

Rows: {id, name, query, outlets (JSON list or None), recipients (JSON list or None),
paused (0/1), created, updated}. Plain statements with parameters only, portable to
PostgreSQL."""

from __future__ import annotations

_COLS = "id, name, query, outlets, recipients, paused, created, updated"


class WatchesMixin:
    def stored_watches(self) -> list[dict]:
        """Every browser-created watch, by name."""
        return self._all(f"SELECT {_COLS} FROM web_watches ORDER BY name")

    def stored_watch(self, watch_id: int) -> dict | None:
        return self._one(f"SELECT {_COLS} FROM web_watches WHERE id = ?", [int(watch_id)])

    def create_stored_watch(self, *, name: str, query: str, outlets: str | None,
                            recipients: str | None, now: str) -> int:
        """Insert one; a taken name raises `store.errors` (UNIQUE). Returns its id."""
        with self.write_transaction():
            self._run("INSERT INTO web_watches (name, query, outlets, recipients, paused, "
                      "created, updated) VALUES (?, ?, ?, ?, 0, ?, ?)",
                      [name, query, outlets, recipients, now, now])
            return self._value("SELECT id FROM web_watches WHERE name = ?", [name])

    def update_stored_watch(self, watch_id: int, *, name: str, query: str,
                            outlets: str | None, recipients: str | None, now: str) -> bool:
        with self.write_transaction():
            return bool(self._run(
                "UPDATE web_watches SET name = ?, query = ?, outlets = ?, recipients = ?, "
                "updated = ? WHERE id = ?",
                [name, query, outlets, recipients, now, int(watch_id)]))

    def set_stored_watch_paused(self, watch_id: int, paused: bool, now: str) -> bool:
        with self.write_transaction():
            return bool(self._run("UPDATE web_watches SET paused = ?, updated = ? WHERE id = ?",
                                  [1 if paused else 0, now, int(watch_id)]))

    def delete_stored_watch(self, watch_id: int) -> bool:
        with self.write_transaction():
            return bool(self._run("DELETE FROM web_watches WHERE id = ?", [int(watch_id)]))
