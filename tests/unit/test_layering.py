"""Dependencies run one way: the domain imports no edge, and the edges import no configuration or store.

Read from the source with ``ast``, so a new import that breaks the direction fails here at once.
"""
import ast
from pathlib import Path

import pytest

DAEMON = Path(__file__).resolve().parents[2] / "daemon"


def _imports(path: Path) -> set[str]:
    """The daemon modules ``path`` imports, as dotted names relative to the package (``mail.imap``)."""
    package = path.relative_to(DAEMON).parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - (node.level - 1)])
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("aftercare."):
                target = node.module[len("aftercare."):]
            else:
                continue
            found.add(target)
            found.update(f"{target}.{a.name}" if target else a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name[len("aftercare."):] for a in node.names if a.name.startswith("aftercare."))
    return found


RULES = [
    # (folder, what its modules must not import, why)
    ("cases", ("mail", "store", "config", "templates", "casework", "mailer", "service", "intake", "dispatch"),
     "the domain is pure: no edge, no storage, no configuration"),
    ("mail", ("config", "store", "cases", "casework", "service", "intake", "dispatch"),
     "an edge owns its settings types and decides nothing about cases"),
]


@pytest.mark.parametrize("folder,forbidden,why", RULES, ids=[r[0] for r in RULES])
def test_dependencies_run_one_way(folder, forbidden, why):
    broken = {}
    for path in sorted((DAEMON / folder).glob("*.py")):
        bad = sorted(i for i in _imports(path) if i.split(".")[0] in forbidden)
        if bad:
            broken[path.name] = bad
    assert broken == {}, why
