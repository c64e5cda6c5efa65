"""The tree and its maps agree: module sizes, ``docs/architecture.md``, the README's layout, no import cycle.

Fast and light: files are parsed as text or with :mod:`ast`, never imported, and the import graph
comes from grimp (import-linter's engine, installed with the ``test`` extra), which reads every import
statement of every module, function-local ones included.
"""
from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The project's packages (the ``root_packages`` of ``[importlinter]`` in setup.cfg).
PACKAGES = ("airwarn", "forecast", "enterprise_list", "emergency", "dashboard")
#: Top-level folders whose paths the docs may name.
TOP_FOLDERS = PACKAGES + ("models", "tests", "docs", "bench")
#: A module longer than this says why in a ``Size:`` line of its docstring.
MAX_LINES = 800
ARCHITECTURE = REPO / "docs" / "architecture.md"
README = REPO / "README.md"

#: Suffixes that make a dotted token a file name (``forecast.nc``, ``airwarn.toml``), not a module.
_FILE_SUFFIXES = {"py", "nc", "csv", "json", "toml", "yaml", "yml", "html", "txt", "md", "xlsx", "gz", "cfg"}
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE = re.compile(r"`([^`\n]+)`")


def _package_dirs() -> list[Path]:
    """The package folders: the five packages and the folders below them with an ``__init__.py``."""
    found = []
    for top in PACKAGES:
        stack = [REPO / top]
        while stack:
            folder = stack.pop()
            if not (folder / "__init__.py").is_file():
                continue
            found.append(folder)
            stack.extend(p for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__")
    return sorted(found)


def _modules() -> list[Path]:
    """Every module of the project's packages (not tests): the ``.py`` files of the package folders."""
    return sorted(p for d in _package_dirs() for p in d.glob("*.py"))


def _dotted(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _code_spans(text: str) -> list[str]:
    """The inline code spans of a Markdown text (fenced blocks left out), split into tokens."""
    tokens = []
    for span in _CODE.findall(_FENCE.sub("", text)):
        tokens += [t.strip(",;:()") for t in span.split()]
    return [t for t in tokens if t]


def _path_tokens(tokens: list[str], tops=TOP_FOLDERS) -> list[str]:
    """The tokens that are paths inside one of ``tops`` (``forecast/io/prsa.py``, ``dashboard/services/``)."""
    return [t for t in tokens if "/" in t and t.split("/", 1)[0] in tops]


def _path_exists(token: str, base: Path = REPO) -> bool:
    """Whether a named path exists; ``*`` and ``<placeholder>`` match any name part."""
    pattern = re.sub(r"<[^>]*>", "*", token).rstrip("/")
    if "*" in pattern:
        return any(base.glob(pattern))
    target = base / pattern
    return target.is_dir() if token.endswith("/") else target.exists()


def _top_level_names(path: Path) -> set[str]:
    """Names a module defines or imports at its top level (functions, classes, assignments, imports)."""
    names: set[str] = set()
    statements = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            statements += node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", [])
            statements += [s for h in getattr(node, "handlers", []) for s in h.body]
    return names


def _dotted_problem(token: str) -> str | None:
    """Why a dotted name ``pkg.module[.attribute]`` does not resolve in the tree, or None if it does."""
    parts = token.split(".")
    for i in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:i])
        file = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        if file.is_file():
            if i == len(parts) or parts[i] in _top_level_names(file):
                return None
            return f"{'.'.join(parts[:i])} ({_rel(file)}) defines no {parts[i]!r}"
    return "no such module"


# --------------------------------------------------------------------------- module size


def test_long_modules_state_why():
    """Every module over ~800 lines has a ``Size:`` line in its docstring giving the reason."""
    offenders = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        n = len(text.splitlines())
        if n <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if not any(line.strip().startswith("Size:") for line in doc.splitlines()):
            offenders.append(f"{_rel(path)}: {n} lines, no 'Size:' line in its module docstring")
    assert not offenders, (f"modules over {MAX_LINES} lines must say why in a 'Size:' line of the module "
                           "docstring (or be split):\n" + "\n".join(offenders))


# --------------------------------------------------------------------------- docs/architecture.md


def test_architecture_names_only_what_exists():
    """Every path and dotted project name in ``docs/architecture.md`` exists in the tree."""
    tokens = _code_spans(ARCHITECTURE.read_text(encoding="utf-8"))
    missing = [f"{t}: no such path" for t in _path_tokens(tokens) if not _path_exists(t)]
    dotted = [t for t in tokens if re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", t)
              and t.split(".")[0] in PACKAGES and t.rsplit(".", 1)[1] not in _FILE_SUFFIXES]
    missing += [f"{t}: {why}" for t in dotted if (why := _dotted_problem(t))]
    assert not missing, f"{_rel(ARCHITECTURE)} names what the tree lacks:\n" + "\n".join(missing)


def test_architecture_names_every_package_and_module():
    """Every package folder and every public module of the five packages is named in the map.

    A module is named by its path in backticks (``forecast/io/prsa.py``), a package folder with a
    trailing slash (``forecast/io/``). Private modules (``_csv.py``) and ``__init__.py`` need not be;
    Alembic revision scripts (a ``versions/`` folder) are named by their folder.
    """
    named = set(_path_tokens(_code_spans(ARCHITECTURE.read_text(encoding="utf-8"))))
    unnamed = [f"{_rel(d)}/ (package)" for d in _package_dirs() if f"{_rel(d)}/" not in named]
    for path in _modules():
        if path.name.startswith("_") or _rel(path) in named:
            continue
        if path.parent.name == "versions" and f"{_rel(path.parent)}/" in named:
            continue
        unnamed.append(_rel(path))
    assert not unnamed, (f"{_rel(ARCHITECTURE)} must say where each module and package lives; "
                         "add a line for:\n" + "\n".join(unnamed))


# --------------------------------------------------------------------------- README layout


def _ignored(name: str) -> bool:
    patterns = [".*", "__pycache__", "*.egg-info"]
    gitignore = REPO / ".gitignore"
    if gitignore.is_file():
        patterns += [line.strip().strip("/") for line in gitignore.read_text().splitlines()
                     if line.strip() and not line.startswith("#") and not line.startswith("!")]
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _readme_layout() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no '## Layout' section"
    return match.group(1)


def test_readme_layout_names_the_top_level_folders():
    """The README's layout table names each top-level folder that exists, and none that does not."""
    rows = [line for line in _readme_layout().splitlines() if line.startswith("| `")]
    listed = {}
    for row in rows:
        first = row.split("|")[1].strip().strip("`")
        listed[first.rstrip("/")] = row
    folders = {p.name for p in REPO.iterdir() if p.is_dir() and not _ignored(p.name)}
    assert sorted(listed) == sorted(folders), (
        f"README layout lists {sorted(listed)}; the tree's top-level folders are {sorted(folders)}")
    missing = []
    for name, row in listed.items():
        for token in _CODE.findall(row.split("|", 2)[2]):
            token = token.strip()
            if " " in token:
                continue
            if "/" in token and not (_path_exists(token, REPO) or _path_exists(token, REPO / name)):
                missing.append(f"{name}/ row: {token}")
            elif re.fullmatch(r"[\w.-]+\.(py|md)", token) and not any((REPO / name).rglob(token)):
                missing.append(f"{name}/ row: {token} (not found under {name}/)")
    assert not missing, "README layout names paths the tree lacks:\n" + "\n".join(missing)


def test_readme_layout_points_to_the_map_and_starts_with_make():
    """The layout section points to docs/architecture.md; the first commands are make demo, make test."""
    assert "docs/architecture.md" in _readme_layout()
    block = re.search(r"^```bash\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)
    assert block, "README.md has no bash block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands[:2] == ["make demo", "make test"], commands[:2]


# --------------------------------------------------------------------------- import cycles


def strongly_connected(graph) -> list[list[str]]:
    """The import cycles of a grimp graph: its strongly connected components of more than one module
    (or a module importing itself), by Tarjan's algorithm, iteratively.

    Parameters
    ----------
    graph : grimp.ImportGraph

    Returns
    -------
    list of list of str
        Each component's modules, sorted; components sorted.
    """
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in edges[node]:
                        found.append(sorted(component))
    return sorted(found)


def _describe(graph, components) -> str:
    lines = []
    for component in components:
        lines.append("cycle: " + ", ".join(component))
        for importer in component:
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported in component:
                    for d in graph.get_import_details(importer=importer, imported=imported):
                        lines.append(f"  {importer} -> {imported}, line {d['line_number']}: "
                                     f"{d['line_contents']}")
    return "\n".join(lines)


def test_no_import_cycle_in_the_project():
    """No import cycle between any two modules of the project (grimp's graph, lazy imports included)."""
    import grimp

    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert {_dotted(p) for p in _modules()} <= set(graph.modules), "grimp's graph misses project modules"
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles between project modules:\n" + _describe(graph, cycles)


def test_cycle_check_sees_function_local_imports(tmp_path, monkeypatch):
    """The check finds a cycle held together by a function-local import (a real package on disk)."""
    import grimp

    pkg = tmp_path / "airwarn_layout_probe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from airwarn_layout_probe import b\n    return b\n")
    (pkg / "b.py").write_text("import airwarn_layout_probe.a\n")
    (pkg / "c.py").write_text("import airwarn_layout_probe.b\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("airwarn_layout_probe", cache_dir=None)
    cycles = strongly_connected(graph)
    assert cycles == [["airwarn_layout_probe.a", "airwarn_layout_probe.b"]]
    assert "line 2: from airwarn_layout_probe import b" in _describe(graph, cycles)


@pytest.mark.parametrize("token, ok", [
    ("forecast/io/prsa.py", True), ("forecast/io/", True), ("forecast/io.py", False),
    ("emergency/data/warning_rules_<name>_<date>.yaml", True), ("dashboard/data.py", False),
])
def test_path_check(token, ok):
    """The doc checks tell an existing path from a stale one (``forecast/io.py`` became a package)."""
    assert _path_exists(token) is ok


def test_dotted_check():
    """A dotted name resolves to a module and, if given, a name it defines at the top level."""
    assert _dotted_problem("forecast.product.open_forecast") is None
    assert _dotted_problem("airwarn.core.errors") is None
    assert _dotted_problem("dashboard.data") == "dashboard (dashboard/__init__.py) defines no 'data'"
    assert _dotted_problem("forecast.model.write_forecast") == (
        "forecast.model (forecast/model.py) defines no 'write_forecast'")


# --------------------------------------------------------------------------- references in docstrings
_ROLE = re.compile(r":(?:func|mod|class|data|attr|meth|exc|obj):`~?([A-Za-z_][\w.]*)`")


def _references() -> list[tuple[str, int, str]]:
    """(file, line, target) of every Sphinx cross-reference to a project name in the modules and docs/."""
    files = [*_modules(), *sorted((REPO / "docs").glob("*.md"))]
    found = []
    for path in files:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for target in _ROLE.findall(line):
                if target.split(".")[0] in PACKAGES:
                    found.append((_rel(path), no, target))
    return found


def test_docstring_references_resolve():
    """``:func:`forecast.model.write_forecast``` and the like name what exists (moved names leave none behind)."""
    refs = _references()
    assert len(refs) > 100  # the check reads the references at all
    stale = [f"{f}:{no}: {t}: {why}" for f, no, t in refs if (why := _dotted_problem(t))]
    assert stale == []
