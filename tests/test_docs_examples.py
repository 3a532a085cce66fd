"""Every ```python block of the documentation runs, page by page.

Each page's blocks run in order in one namespace (a later block may use an earlier one's names),
in a temporary working directory, so an example that goes stale with the API fails here. Blocks
that must not run (shell commands, REST requests) use other fences (```bash, ```text).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

DOCS = Path(__file__).resolve().parent.parent / "docs"
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a markdown text, each with the line number its code starts on."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _FENCE.finditer(text)]


PAGES = sorted(p for p in DOCS.rglob("*.md") if python_blocks(p.read_text(encoding="utf-8")))


def test_block_finder_finds_only_python_fences() -> None:
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = x\n")]


def test_the_docs_have_examples() -> None:
    assert len(PAGES) >= 5, PAGES


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    rel = page.relative_to(DOCS).as_posix()
    for line, code in python_blocks(page.read_text(encoding="utf-8")):
        # a padded compile keeps the page's line numbers in tracebacks
        exec(compile("\n" * (line - 1) + code, f"docs/{rel}", "exec"), namespace)
