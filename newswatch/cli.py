"""The `newswatch` command line. Errors become messages and exit codes in one place
(`newswatch.errors.report`)."""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from datetime import timedelta

from . import __version__, clock
from .errors import DatabaseError, NewswatchError, report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswatch", description="Watch news outlets; email new stories that match.")
    parser.add_argument("--version", action="version", version=f"newswatch {__version__}")
    parser.add_argument("--config", metavar="PATH",
                        help="config file (default: $NEWSWATCH_CONFIG, else ./newswatch.toml)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, Scrapy's own included")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("crawl", help="run one pass now over all or the named outlets, then exit")
    p.add_argument("outlets", nargs="*", metavar="OUTLET_ID")
    p.add_argument("--no-mail", action="store_true", help="store and match, but send nothing")

    sub.add_parser("run", help="the daemon: crawl each outlet on its schedule")

    p = sub.add_parser("search", help="search stored articles")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--outlet")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("status", help="outlets, last passes, counts, pending alerts")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("demo", help="offline demo: crawl a bundled local site, show the alerts")
    p.add_argument("--dir", default="newswatch-demo", help="where to write the demo's files")

    sub.add_parser("check", help="validate the config and exit")

    p = sub.add_parser("watch", help="try a query before saving it as a watch")
    wsub = p.add_subparsers(dest="watch_command", required=True, metavar="SUBCOMMAND")
    t = wsub.add_parser("test", help="show stored articles a query would match")
    t.add_argument("query")
    t.add_argument("--limit", type=int, default=20)

    p = sub.add_parser("alerts", help="list recent alerts; retry failed ones; backfill a watch")
    asub = p.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND")
    lst = asub.add_parser("list", help="recent alerts and their states (the default)")
    lst.add_argument("--limit", type=int, default=50)
    asub.add_parser("retry", help="re-queue failed emails")
    b = asub.add_parser("backfill", help="send a watch's matches among stored stories, once")
    b.add_argument("watch")
    b.add_argument("--days", type=int, required=True)

    p = sub.add_parser("explain", help="why did (or didn't) this URL alert?")
    p.add_argument("url")
    return parser


def setup_logging(verbose: bool, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if not verbose:
        # Scrapy resets its loggers' levels when a crawl starts: its chatter is filtered here.
        handler.addFilter(quiet_libraries)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        for noisy in ("scrapy", "twisted", "trafilatura", "htmldate", "courlan", "apscheduler",
                      "filelock", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


LIBRARIES = ("scrapy", "twisted", "py.warnings", "trafilatura", "htmldate", "courlan",
             "filelock", "asyncio", "apscheduler")


def quiet_libraries(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith(LIBRARIES)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": clock.to_iso(clock.now()), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        # A pass's figures ride on the record (newswatch.crawl), as fields for log shippers.
        data.update(getattr(record, "nw_pass", None) or {})
        return json.dumps(data, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.log_format)
    try:
        return dispatch(args) or 0
    except NewswatchError as exc:
        message, code = report(exc)
        print(message, file=sys.stderr)
        return code
    except sqlite3.Error as exc:
        # A database failure outside the places that report it themselves (disk full,
        # read-only file): the same message and exit code as DatabaseError.
        message, code = report(DatabaseError(str(exc)))
        print(message, file=sys.stderr)
        return code
    except KeyboardInterrupt:
        return 130


def load(args):
    from .config import find_config, load_config

    return load_config(find_config(args.config))


def dispatch(args) -> int:
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(args.dir)
    config = load(args)
    if args.command == "check":
        print(f"config ok: {config.path}: {len(config.outlets)} outlets, "
              f"{len(config.watches)} watches")
        return 0
    if args.command == "crawl":
        from .crawl import run_pass
        from .locks import pass_lock

        with pass_lock(config, args.outlets):
            results = run_pass(config, args.outlets or None, verbose=args.verbose,
                               deliver=not args.no_mail)
        for r in results:
            print(f"{r.outlet}: {r.found} found, {r.new} new, {r.updated} updated, "
                  f"{r.duplicates} duplicates, {r.errors} errors")
        return 0
    if args.command == "run":
        import scheduler

        return scheduler.main(config, verbose=args.verbose, log_format=args.log_format)
    from .db import open_db

    db = open_db(config.database)
    if args.command == "search":
        return cmd_search(db, args)
    if args.command == "status":
        return cmd_status(db, config, args)
    if args.command == "watch":
        return cmd_watch_test(db, args)
    if args.command == "alerts":
        return cmd_alerts(db, config, args)
    if args.command == "explain":
        from .alerts import explain

        for line in explain(db, config, args.url):
            print(line)
        return 0
    raise AssertionError(args.command)


def cmd_search(db, args) -> int:
    from .query import compile_query, search

    rows = search(db, compile_query(args.query), limit=args.limit, outlet=args.outlet)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print_articles(rows)
    print(f"{len(rows)} result{'s' if len(rows) != 1 else ''}")
    return 0


def print_articles(rows: list[dict]) -> None:
    for row in rows:
        print(f"{(row.get('published') or '')[:10]:10}  {row['outlet']:12}  {row['title']}")
        print(f"{'':10}  {row['url']}")
        if row.get("snippet"):
            print(f"{'':10}  {row['snippet']}")


def cmd_watch_test(db, args) -> int:
    from .alerts import watch_test
    from .query import compile_query

    rows = watch_test(db, compile_query(args.query), limit=args.limit)
    print_articles(rows)
    print(f"{len(rows)} stored article{'s' if len(rows) != 1 else ''} would match")
    return 0


def cmd_alerts(db, config, args) -> int:
    from . import alerts

    sub = args.alerts_command or "list"
    if sub == "retry":
        n = alerts.retry_failed(db)
        print(f"{n} failed email{'s' if n != 1 else ''} queued again")
        alerts.flush(db, config)
        return 0
    if sub == "backfill":
        n = alerts.backfill(db, config, args.watch, args.days)
        print(f"{n} stor{'ies' if n != 1 else 'y'} queued for {args.watch}")
        alerts.flush(db, config)
        return 0
    for row in alerts.list_alerts(db, getattr(args, "limit", 50)):
        print(f"{row['created'][:16]}  {row['state']:8}  {row['watch']:20}  {row['title']}")
    return 0


def status_data(db, config) -> dict:
    """Everything `newswatch status` shows, as data (also `--json`)."""
    import scheduler

    from .alerts import status_counts, status_problems
    from .config import cron_trigger

    now = clock.now()
    daemon = (scheduler.read_state(config) or {}).get("outlets", {})
    day_ago = clock.to_iso(now - timedelta(days=1))
    outlets = []
    for outlet in config.outlets:
        runs = db.execute(
            "SELECT started, finished, status, pages, new_articles, duplicates, errors, ms, "
            "message FROM runs WHERE outlet = ? ORDER BY id DESC LIMIT 50", [outlet.id]).fetchall()
        streak = 0
        for run in runs:
            # An interrupted pass (daemon stopped) is not the outlet failing.
            if run[2] == "error":
                streak += 1
            elif run[2] == "ok":
                break
        total, recent = db.execute(
            "SELECT count(*), sum(first_seen >= ?) FROM articles WHERE outlet = ?",
            [day_ago, outlet.id]).fetchone()
        trigger = cron_trigger(outlet.schedule, config.timezone)
        next_run = trigger.get_next_fire_time(None, now)
        last = runs[0] if runs else None
        state = daemon.get(outlet.id, {})
        outlets.append({
            "id": outlet.id, "name": outlet.name,
            "last_pass": last[0] if last else None,
            "last_status": last[2] if last else None,
            "last_result": ({"pages": last[3], "new": last[4], "duplicates": last[5],
                             "errors": last[6], "ms": last[7], "message": last[8]}
                            if last else None),
            "next_pass": state.get("next_pass") or (clock.to_iso(next_run) if next_run else None),
            "backoff_until": state.get("backoff_until"),
            "articles": total or 0, "articles_24h": recent or 0,
            "error_streak": streak,
        })
    return {"outlets": outlets, "alerts": status_counts(db),
            "mail_problems": status_problems(db)}


def cmd_status(db, config, args) -> int:
    from .health import outlet_health

    data = status_data(db, config)
    data["health"] = outlet_health(db, config)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{'outlet':14} {'last pass':20} {'result':12} {'next pass':20} "
          f"{'articles':>8} {'24h':>5} {'errors':>6}")
    for o in data["outlets"]:
        print(f"{o['id']:14} {(o['last_pass'] or 'never')[:19]:20} "
              f"{(o['last_status'] or '-'):12} {(o['next_pass'] or '-')[:19]:20} "
              f"{o['articles']:>8} {o['articles_24h']:>5} {o['error_streak']:>6}")
    for warning in data["health"]:
        print(f"warning: {warning['outlet']}: {warning['message']}")
    counts = data["alerts"]
    print("alerts: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    for line in data["mail_problems"]:
        print(f"mail: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
