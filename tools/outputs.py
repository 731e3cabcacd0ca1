"""`python -m tools.outputs RAW OUT`: flattens `cdk deploy --outputs-file` for frontend teams.

The CLI writes `{"Chat-dev": {"Region": ..., ...}}`; frontend teams get `{"Region": ..., ...}` with
exactly the keys of PROTOCOL.md (plus `ManagedLoginUrl` where the environment has managed login), or
the command fails and says which are missing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stacks.constants import OPTIONAL_OUTPUT_KEYS, OUTPUT_KEYS


class OutputsError(ValueError):
    """The raw outputs file is not what one `cdk deploy` of this app writes."""


def flatten(raw: Mapping[str, Any]) -> dict[str, str]:
    """The one stack's outputs, key -> value: the published keys (all required), and the optional
    ones (`ManagedLoginUrl`) where the environment has them."""
    if len(raw) != 1:
        raise OutputsError(f"expected the outputs of one stack, got {sorted(raw) or 'none'}")
    (stack_outputs,) = raw.values()
    missing = [key for key in OUTPUT_KEYS if key not in stack_outputs]
    if missing:
        raise OutputsError(f"stack outputs lack {', '.join(missing)}")
    published = [*OUTPUT_KEYS, *(key for key in OPTIONAL_OUTPUT_KEYS if key in stack_outputs)]
    return {key: str(stack_outputs[key]) for key in published}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tools.outputs RAW_OUTPUTS_JSON FLAT_OUTPUTS_JSON", file=sys.stderr)
        return 2
    raw_path, out_path = Path(argv[0]), Path(argv[1])
    try:
        flat = flatten(json.loads(raw_path.read_text()))
    except (OSError, json.JSONDecodeError, OutputsError) as error:
        print(f"error: {raw_path}: {error}", file=sys.stderr)
        return 1
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(flat, indent=2) + "\n")
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
