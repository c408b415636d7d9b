"""CODEOWNERS covers every module the policy pack runs (issue 17, class 8).

The pack of the base branch judges every preview and deploy, so one line in any module it imports
can turn a mandatory rule off. The set is derived here from the imports (every ``import`` in the
pack's files and, transitively, in the repository's modules they reach, packages' ``__init__.py``
included since importing ``a.b`` runs ``a/__init__.py``), so a new import of an unowned module
fails this test."""

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = ("policy", ".")
"""Where the pack's imports resolve: ``python policy/`` puts policy/ first on sys.path (for
``concurrent_infra_policy``), and the installed ``concurrent_infra`` comes from the repository root."""


def module_file(root: Path, name: str) -> Path | None:
    """The file of module ``name`` under one of :data:`SOURCE_ROOTS`, or None (not ours)."""
    for base in SOURCE_ROOTS:
        path = root / base / Path(*name.split("."))
        for candidate in (path.with_suffix(".py"), path / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def module_name(root: Path, path: Path) -> str:
    for base in SOURCE_ROOTS:
        try:
            relative = path.relative_to((root / base).resolve())
        except ValueError:
            continue
        if base == "." and relative.parts[0] == "policy":
            continue
        parts = relative.with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise AssertionError(path)


def imported_names(root: Path, path: Path) -> Iterable[str]:
    """Every module ``path`` imports (anywhere in it, lazy and TYPE_CHECKING imports too), with
    each ``from x import y`` also as ``x.y`` (``y`` may be a submodule)."""
    package = module_name(root, path.resolve())
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def pack_modules(root: Path) -> set[Path]:
    """The repository's files the policy pack runs: policy/ and everything it imports from here."""
    todo = [path.resolve() for path in (root / "policy").rglob("*.py")]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_names(root, path):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):  # a.b.c runs a/__init__.py and a/b/__init__.py
                found = module_file(root, ".".join(parts[:end]))
                if found is not None:
                    todo.append(found.resolve())
    return {path.relative_to(root.resolve()) for path in seen}


def owners(codeowners: str, path: Path) -> tuple[str, ...]:
    """The owners GitHub gives ``path`` (the last matching line wins). Only the forms this file
    uses are understood: ``/file`` and ``/directory/``."""
    result: tuple[str, ...] = ()
    for line in codeowners.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, *names = line.split()
        assert pattern.startswith("/") and not set("*?[!\\") & set(pattern), f"extend owners() for {pattern}"
        target = pattern.strip("/")
        posix = path.as_posix()
        if posix == target or (pattern.endswith("/") and posix.startswith(f"{target}/")):
            result = tuple(names)
    return result


INSTALL_FILES = ("pyproject.toml", "requirements.txt", "requirements-ci.txt", "policy/requirements.txt")
"""What decides which files and packages the pack runs: the package's build (``package-dir``
could point ``concurrent_infra`` elsewhere) and the pack's requirements."""


def unowned(root: Path) -> list[str]:
    text = (root / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    team = owners(text, Path("policy/__main__.py"))
    assert team, "CODEOWNERS names no owner of policy/"
    files = pack_modules(root) | {Path(name) for name in INSTALL_FILES if (root / name).is_file()}
    return sorted(path.as_posix() for path in files if owners(text, path) != team)


def test_codeowners_covers_every_module_the_policy_pack_imports() -> None:
    missing = unowned(ROOT)
    assert not missing, f"add to .github/CODEOWNERS, owned like /policy/: {missing}"


def test_the_derivation_follows_the_imports() -> None:
    modules = {path.as_posix() for path in pack_modules(ROOT)}
    assert {"policy/__main__.py", "concurrent_infra/__init__.py", "concurrent_infra/kube/rbac.py"} <= modules
    assert "concurrent_infra/kube/__init__.py" in modules


def test_a_new_unowned_import_fails(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text("/policy/ @org/admins\n/pkg/a.py @org/admins\n")
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "__main__.py").write_text("from pkg import a\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from . import b\nimport json\n")
    (tmp_path / "pkg" / "b.py").write_text("")
    assert unowned(tmp_path) == ["pkg/__init__.py", "pkg/b.py"]


@pytest.mark.parametrize("pattern", ["*.py", "/pkg/*.py", "docs/"])
def test_unknown_codeowners_forms_are_not_guessed(pattern: str) -> None:
    with pytest.raises(AssertionError, match="extend owners"):
        owners(f"{pattern} @org/admins\n", Path("pkg/a.py"))
