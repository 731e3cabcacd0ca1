"""Child-process entry point: synthesize ``module:function`` (which returns an ``aws_cdk.App``).

    python -m local_stack.synth stacks.app:build_app OUTDIR --context env=dev --context bundling=host

``CDK_OUTDIR`` (set by the parent) makes the app write its assembly to OUTDIR.
"""

from __future__ import annotations

import argparse
import importlib


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", help="module:function returning an aws_cdk.App")
    parser.add_argument("outdir")
    parser.add_argument("--context", action="append", default=[], help="key=value")
    args = parser.parse_args(argv)
    context = dict(item.split("=", 1) for item in args.context)
    # CDK puts the asset path on each function only when asked to (the CLI always asks).
    context.setdefault("aws:cdk:enable-asset-metadata", "true")
    module_name, function_name = args.app.split(":", 1)
    build_app = getattr(importlib.import_module(module_name), function_name)
    assembly = build_app(context).synth()
    print(assembly.directory)


if __name__ == "__main__":
    main()
