"""The layout rules of the product code (newswatch/, spiders/, pipelines/, scheduler.py):
no import cycle, no SQL outside newswatch/store/, no module over 500 lines.

Each failure names the file and line to change.  The checks read the source with `ast`
and never import it; they are tested on small trees of their own first, so a check that
passes on the product is known to be able to fail."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT

PRODUCT = ("newswatch", "spiders", "pipelines", "scheduler.py")
SKIP = ("newswatch/demosite/content",)  # data served by the demo site, not code
MAX_LINES = 500
STORE = "newswatch/store/"
# The query language compiles to FTS5 by design: its in-memory matcher (and the probe of
# SQLite's tokenizer) is query code, not storage.
SQL_EXEMPT = ("newswatch/store/", "newswatch/query.py", "newswatch/query/")


def product_files(root: Path) -> list[Path]:
    out = []
    for name in PRODUCT:
        path = root / name
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out += [p for p in path.rglob("*.py") if "__pycache__" not in p.parts
                    and not p.relative_to(root).as_posix().startswith(SKIP)]
    return sorted(out)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# ------------------------------------------------------------------------ import graph


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module):
    """(node, dotted names, level) of every import, at any depth (a function-level import
    runs too, only later), except under `if TYPE_CHECKING:`."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.append((node, [a.name for a in node.names], 0, None))
        elif isinstance(node, ast.ImportFrom):
            found.append((node, [a.name for a in node.names], node.level, node.module or ""))
        elif isinstance(node, ast.Call) and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                found.append((node, [node.args[0].value], 0, None))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """module -> {imported product module: (file, line) of the first such import}."""
    files = {module_name(root, p): p for p in product_files(root)}

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, tuple[str, int]]] = {}
    for me, path in files.items():
        rel = path.relative_to(root).as_posix()
        package = me if path.name == "__init__.py" else me.rpartition(".")[0]
        edges: dict[str, tuple[str, int]] = {}
        for node, names, level, module in _imports(ast.parse(path.read_text("utf-8"), rel)):
            if module is None:  # import a.b.c: the module a.b.c (its parents are trivial)
                targets = [known(n) for n in names]
            else:
                base = module
                if level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
                    base = ".".join(p for p in [*parts, module] if p)
                # from X import a: the submodule X.a if there is one, else X's namespace
                targets = [f"{base}.{n}" if f"{base}.{n}" in files else known(base)
                           for n in names]
            for target in targets:
                if target and target != me and target not in edges:
                    edges[target] = (rel, node.lineno)
        graph[me] = edges
    return graph


def cycles(graph: dict[str, dict[str, tuple[str, int]]]) -> list[list[str]]:
    """One cycle (as a closed path a -> b -> a) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan; the graph is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    found = []
    for component in components:
        start = min(component)
        # Shortest way back to start inside the component (breadth first).
        came_from = {start: None}
        queue = [start]
        path = None
        while queue and path is None:
            v = queue.pop(0)
            for w in sorted(graph[v]):
                if w == start:
                    path = [w, v]
                    while came_from[path[-1]] is not None:
                        path.append(came_from[path[-1]])
                    break
                if w in component and w not in came_from:
                    came_from[w] = v
                    queue.append(w)
        found.append(list(reversed(path)))
    return found


def describe_cycle(graph, cycle: list[str]) -> str:
    steps = [f"{graph[a][b][0]}:{graph[a][b][1]}: {a} imports {b}"
             for a, b in zip(cycle, cycle[1:])]
    return "import cycle " + " -> ".join(cycle) + "\n    " + "\n    ".join(steps)


# ------------------------------------------------------------------------------- SQL

# A call that runs SQL, or opens a database, or a sqlite-utils table/query method.
SQL_CALL = re.compile(
    r"\.(execute|executemany|executescript|query|rows_where|count_where|insert_all|"
    r"upsert_all|create_table|create_index|enable_fts|search_sql)\(|\bdb\[[\"'f]|"
    r"\bsqlite3\.connect\(|\bDatabase\(")
SQL_KEYWORDS = re.compile(
    r"\b(SELECT \S|INSERT (OR \w+ )?INTO|REPLACE INTO|UPDATE \w+ SET|DELETE FROM|"
    r"CREATE (UNIQUE |TEMP |TEMPORARY )?(TABLE|INDEX|VIRTUAL|VIEW|TRIGGER)|"
    r"(ALTER|DROP) (TABLE|INDEX|VIEW|TRIGGER)|PRAGMA \w|BEGIN (IMMEDIATE|EXCLUSIVE|DEFERRED)|"
    r"SAVEPOINT \w|VACUUM\b)")


def sql_lines(root: Path) -> list[str]:
    """file:line: text, for every line outside the store that runs or spells SQL.  Lines
    are read as text (as layout_check does) and each string literal is read whole too, so a
    statement split over lines ("INSERT\\n INTO") is found."""
    found: dict[tuple[str, int], str] = {}
    for path in product_files(root):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(SQL_EXEMPT):
            continue
        source = path.read_text("utf-8")
        lines = source.splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip().startswith("#"):
                continue
            if SQL_CALL.search(line) or SQL_KEYWORDS.search(line):
                found[(rel, number)] = line.strip()
        for node in ast.walk(ast.parse(source, rel)):
            text = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else "x"
                               for v in node.values)
            if text and SQL_KEYWORDS.search(" ".join(text.split())):
                found.setdefault((rel, node.lineno), lines[node.lineno - 1].strip())
    return [f"{rel}:{number}: {text[:100]}" for (rel, number), text in sorted(found.items())]


def long_modules(root: Path) -> list[str]:
    out = []
    for path in product_files(root):
        count = len(path.read_text("utf-8").splitlines())
        if count > MAX_LINES:
            out.append(f"{path.relative_to(root).as_posix()}:{MAX_LINES + 1}: {count} lines, "
                       f"over the {MAX_LINES}-line limit")
    return out


# ------------------------------------------------------------------ the product itself


def test_no_import_cycle():
    graph = import_graph(ROOT)
    assert len(graph) > 20, "the product's modules were not found"
    found = cycles(graph)
    assert not found, "\n".join(describe_cycle(graph, c) for c in found)


def test_no_sql_outside_the_store():
    found = sql_lines(ROOT)
    assert not found, (f"{len(found)} lines of SQL outside {STORE} (move them into the "
                       "store's interface):\n" + "\n".join(found))


def test_no_module_over_500_lines():
    found = long_modules(ROOT)
    assert not found, "\n".join(found)


# ------------------------------------------------------- the checks, on trees of their own


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_cycle_through_a_lazy_relative_import_is_found_and_named(tmp_path):
    root = tree(tmp_path, {
        "newswatch/__init__.py": "",
        "newswatch/cli/__init__.py": "from .run import main\n",
        "newswatch/cli/run.py": "def main():\n    import scheduler\n",
        "scheduler.py": "import os\n\nfrom newswatch.cli import main\n",
    })
    graph = import_graph(root)
    assert graph["newswatch.cli"] == {"newswatch.cli.run": ("newswatch/cli/__init__.py", 1)}
    (cycle,) = cycles(graph)
    message = describe_cycle(graph, cycle)
    assert "newswatch/cli/run.py:2: newswatch.cli.run imports scheduler" in message
    assert "scheduler.py:3: scheduler imports newswatch.cli" in message


def test_type_checking_imports_and_parent_packages_are_not_cycles(tmp_path):
    root = tree(tmp_path, {
        "newswatch/__init__.py": "",
        "newswatch/mail/__init__.py": "from .render import render\nfrom . import smtp\n",
        "newswatch/mail/render.py": "from .. import clock\nfrom . import clean\n",
        "newswatch/mail/clean.py": "",
        "newswatch/mail/smtp.py": "from .clean import x\n",
        "newswatch/clock.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from newswatch.mail import render
            """,
    })
    graph = import_graph(root)
    assert set(graph["newswatch.mail.render"]) == {"newswatch.clock", "newswatch.mail.clean"}
    assert cycles(graph) == []


def test_importing_a_name_from_the_own_package_is_a_cycle(tmp_path):
    # mail/__init__ imports render, which wants a name from the half-initialised package.
    root = tree(tmp_path, {
        "newswatch/__init__.py": "",
        "newswatch/mail/__init__.py": "from .render import render\nStory = 1\n",
        "newswatch/mail/render.py": "from newswatch.mail import Story\n",
    })
    assert cycles(import_graph(root)) == [["newswatch.mail", "newswatch.mail.render",
                                           "newswatch.mail"]]


@pytest.mark.parametrize("code", [
    'conn.execute("UPDATE runs SET state = ?", (s,))',
    'sql = """\n    INSERT\n    INTO articles (url) VALUES (?)\n"""',
    'rows = db["articles"].rows_where("id = ?", [1])',
    "q = f'SELECT {cols} FROM runs'",
    'db = sqlite3.connect(path)',
])
def test_sql_outside_the_store_is_found_with_its_line(tmp_path, code):
    root = tree(tmp_path, {"newswatch/__init__.py": "", "newswatch/cli.py": "x = 1\n" + code,
                           "newswatch/store/runs.py": code, "newswatch/query.py": code})
    assert [line.split(": ")[0] for line in sql_lines(root)] == ["newswatch/cli.py:2"]


def test_a_long_module_is_named(tmp_path):
    root = tree(tmp_path, {"spiders/__init__.py": "", "spiders/big.py": "x = 1\n" * 501,
                           "spiders/ok.py": "x = 1\n" * 500})
    assert long_modules(root) == ["spiders/big.py:501: 501 lines, over the 500-line limit"]
