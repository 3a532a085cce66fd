"""MkDocs hooks: the committed study reports and the README's results, included at build time.

``experiments/results/<study>/`` holds the last run's report (markdown and plots); copying them
into ``docs/`` by hand would let the site go stale, so :func:`on_files` adds every report and
plot to the site as ``results/<study>/...`` (relative links between reports keep working), and
:func:`on_page_markdown` replaces a ``<!-- readme-section: Title -->`` marker with that ``##``
section of the README.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results"
SUFFIXES = {".md", ".png"}
# the studies the results pages show; the cost runs committed without their plots stay out
STUDIES = (
    "m3",
    "m4",
    "m4-classical",
    "m4-validated",
    "probabilistic",
    "missing_data",
    "covariates",
    "tuning",
    "trend_seasonality",
    "selection",
)
_MARKER = re.compile(r"<!--\s*readme-section:\s*(.+?)\s*-->")


def on_files(files: Files, config) -> Files:
    paths = sorted(p for study in STUDIES for p in (RESULTS / study).rglob("*"))
    for path in paths:
        rel = path.relative_to(RESULTS)
        if path.suffix not in SUFFIXES or not path.is_file() or "cache" in rel.parts:
            continue
        uri = f"results/{rel.as_posix()}"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def readme_section(title: str, readme: Path = ROOT / "README.md") -> str:
    """The body of README's ``## <title>`` section (up to the next ``##`` heading)."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"## {title}")), None)
    if start is None:
        raise ValueError(f"README.md has no '## {title}' section")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
    )
    return "\n".join(lines[start + 1 : end]).strip() + "\n"


def on_page_markdown(markdown: str, page, config, files) -> str:
    return _MARKER.sub(lambda m: readme_section(m.group(1)), markdown)
