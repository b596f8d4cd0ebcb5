"""The job queue's schema (procrastinate's tables, in their own PostgreSQL schema beside the
store's): applied by whichever process starts first. Here because it is SQL."""

from __future__ import annotations


def ensure_queue_schema(url: str, schema: str, lock_key: int, ddl: str) -> bool:
    """Create `schema` and run `ddl` in it unless its jobs table exists; True if created now.
    A transaction-level advisory lock serialises concurrent starts. Raises psycopg.Error."""
    import psycopg

    with psycopg.connect(url, autocommit=False, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        exists = conn.execute("SELECT to_regclass(%s)",
                              (f"{schema}.procrastinate_jobs",)).fetchone()[0]
        if exists:
            return False
        conn.execute(f"SET LOCAL search_path = {schema}")
        conn.execute(ddl)
        return True
