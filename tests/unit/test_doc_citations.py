"""Citations stay inside the repository: code, tests and docs cite the design as
`docs/architecture.md §N`, every cited section exists, and nothing cites design or style
notes that the repository does not hold."""
from __future__ import annotations

import os
import re

from cli_runner import REPO

SCANNED = ("brainsim", "cython_kernels", "tests", "docs", "benchmarks", "scripts", "README.md")
SUFFIXES = (".py", ".pyx", ".pxd", ".md", ".yaml", ".sh", ".sbatch", ".pbs")
# Built from pieces so that this file does not cite them itself.
OUTSIDE = re.compile("DES" + r"IGN(\.md)?\s*(§|section|:)|STY" + r"LE(\.md)?\s*§")
CITATION = re.compile(r"architecture\.md\s+§(\d+(?:\.\d+)?)((?:\s*[-,]\s*§?\d+(?:\.\d+)?)*)")


def scanned_files():
    for entry in SCANNED:
        path = os.path.join(REPO, entry)
        if os.path.isfile(path):
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in files:
                if name.endswith(SUFFIXES):
                    yield os.path.join(root, name)


def architecture_sections() -> set[str]:
    with open(os.path.join(REPO, "docs", "architecture.md"), encoding="utf-8") as handle:
        return {match.group(1) for match in re.finditer(r"^#{2,3} (\d+(?:\.\d+)?)\.? ",
                                                        handle.read(), re.MULTILINE)}


def cited_sections(text: str) -> list[str]:
    """Every section number a citation names (§2.2-2.3 names 2.2 and 2.3)."""
    cited = []
    for match in CITATION.finditer(text):
        cited.append(match.group(1))
        cited += re.findall(r"\d+(?:\.\d+)?", match.group(2))
    return cited


def test_nothing_cites_notes_outside_the_repository():
    offenders = []
    for path in scanned_files():
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if OUTSIDE.search(line):
                    offenders.append(f"{os.path.relpath(path, REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_cited_architecture_section_exists():
    sections = architecture_sections()
    assert {"1", "2", "2.1", "2.6", "3", "4", "5"} <= sections
    missing = []
    for path in scanned_files():
        with open(path, encoding="utf-8", errors="replace") as handle:
            for section in cited_sections(handle.read()):
                if section not in sections:
                    missing.append(f"{os.path.relpath(path, REPO)}: §{section}")
    assert missing == []


def test_cited_sections_reads_ranges_and_lists():
    assert cited_sections("docs/architecture.md §2.2-2.3 and architecture.md §2.6, §4") == \
        ["2.2", "2.3", "2.6", "4"]
