"""``kam policies rebuild``: the policies' state folded again from the log, and compared."""

from __future__ import annotations

import argparse
from typing import Any

from kam_domain.cli.common import EXIT_FINDINGS, EXIT_OK, exit_status_text

__all__ = ["EXIT_DIFFERENT", "add_rebuild", "rebuild_command"]

#: The rebuilt state differs from the stored one (the differences are listed).
EXIT_DIFFERENT = EXIT_FINDINGS

HELP = "rebuild the policies' state from the log and prove it equal to the stored one"
EPILOG = (
    "The state the policy engines checkpoint (their world and what each policy learned) is "
    "derived from the log. This folds the log again, in causal order, up to the stored "
    "checkpoint's position, compares the two cell by cell and lists every difference; unless "
    "--check is given, a state that differs (or a store without one) is replaced by the "
    "rebuilt one.\n\n"
) + exit_status_text("the stored and the rebuilt states differ (the differences are listed)")


def add_rebuild(group: Any, command: Any) -> None:
    """Register ``rebuild`` in the ``policies`` group (``command`` adds the shared options)."""
    parser = command(group, "rebuild", HELP, rebuild_command)
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare only: write nothing, whatever the comparison finds",
    )


def rebuild_command(args: argparse.Namespace) -> int:
    from kam_domain.application import KamApplication
    from kam_domain.cli.arguments import registry_with
    from kam_domain.cli.output import progress
    from kam_domain.runtime.rebuild import rebuild

    app = KamApplication(args.store, policies=registry_with(args.policies), run_policies=False)
    try:
        head = app.recorder.max_notification_id() or 0
        with progress("folding the log") as advance:
            result = rebuild(
                app,
                app.policies.registry,
                write=not args.check,
                progress=lambda position: advance(position, head),
            )
    finally:
        app.close()
    for difference in result.differences:
        print(f"differs: {difference.key}")
        print(f"  stored:  {difference.stored if difference.stored is not None else '(none)'}")
        print(f"  rebuilt: {difference.rebuilt if difference.rebuilt is not None else '(none)'}")
    where = f"at position {result.position}, {result.cells} cells"
    if not result.compared:
        done = "written" if result.written else "not written (--check)"
        print(f"no stored state to compare: rebuilt {where}, {done}")
        return EXIT_OK
    if result.equal:
        print(f"equal: the stored state is the log's, {where}")
        return EXIT_OK
    done = "replaced by the rebuilt one" if result.written else "left as it is (--check)"
    print(f"{len(result.differences)} cells differ {where}: the stored state was {done}")
    return EXIT_DIFFERENT
