"""The `newswatch` command line, on click: the group and its global options in
`newswatch.cli.main`, one module per command family (crawl, search, alerts, status, demo).
Errors become messages and exit codes in one place, the group's `invoke`."""

