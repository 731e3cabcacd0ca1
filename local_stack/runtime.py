"""The directory of what Lambda's Python runtime provides to every function: boto3 and its dependencies.

It is copied from this venv's installed distributions (the pinned boto3 of requirements-dev.txt), so it
needs no network, and it holds nothing else: a function that imports anything more must bundle it.
"""

from __future__ import annotations

import json
import re
import shutil
from importlib import metadata
from pathlib import Path

RUNTIME_DISTRIBUTIONS = ("boto3",)
_STAMP = ".distributions.json"


def _closure(names: tuple[str, ...]) -> dict[str, metadata.Distribution]:
    """The distributions and their (non-extra) requirements, transitively."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(names)
    while pending:
        name = re.split(r"[ ;<>=!~\[(]", pending.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if name in found:
            continue
        distribution = metadata.distribution(name)
        found[name] = distribution
        pending += [req for req in distribution.requires or [] if "extra ==" not in req]
    return found


def ensure_runtime(directory: Path) -> Path:
    """Create (or reuse, when the versions match) the runtime directory and return it."""
    distributions = _closure(RUNTIME_DISTRIBUTIONS)
    versions = {name: dist.version for name, dist in sorted(distributions.items())}
    stamp = directory / _STAMP
    if stamp.exists() and json.loads(stamp.read_text()) == versions:
        return directory
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for distribution in distributions.values():
        for file in distribution.files or []:
            source = Path(str(distribution.locate_file(file)))
            if file.parts[0] == ".." or "__pycache__" in file.parts or not source.is_file():
                continue
            target = directory / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    stamp.write_text(json.dumps(versions))
    return directory
