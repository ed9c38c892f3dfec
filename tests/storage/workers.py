"""Code that the storage tests run in other OS processes (spawned: importable by name)."""

from __future__ import annotations

import importlib
import os
from multiprocessing.connection import Connection
from uuid import UUID

from kam_domain.application import KamApplication
from kam_domain.errors import ConcurrencyConflict
from kam_domain.values import Percentage

#: Every this many commands a worker forms a team instead (contention on the directory).
FORM_EVERY = 10


def write(store: str, team_id: UUID, director: UUID, member: UUID, commands: int) -> dict[str, int]:
    """Issue ``commands`` commands against ``store``, retrying conflicts; report what happened.

    Commands set ``member``'s capacity to 1, 2, 3, … on the shared team (one hot aggregate),
    except every FORM_EVERY-th, which forms a new team (the team and the shared directory in
    one commit).
    """
    app = KamApplication(store)
    conflicts = 0

    def counted(command: object, *args: object, **kwargs: object) -> object:
        nonlocal conflicts
        try:
            return command(*args, **kwargs)  # type: ignore[operator]
        except ConcurrencyConflict:
            conflicts += 1
            raise

    capacity = teams = 0
    try:
        for n in range(1, commands + 1):
            if n % FORM_EVERY == 0:
                teams += 1
                app.retrying(
                    counted,
                    app.form_team,
                    name=f"Team {os.getpid()}-{n}",
                    segment="load",
                    region="test",
                    director_name="Load Director",
                    top_authority=Percentage.of(10),
                    attempts=500,
                )
            else:
                capacity += 1
                app.retrying(
                    counted,
                    app.set_capacity,
                    team_id,
                    director,
                    member,
                    capacity=capacity,
                    attempts=500,
                )
    finally:
        app.close()
    return {"capacity_sets": capacity, "teams": teams, "conflicts": conflicts}


def open_as_nobody(store: str, results: Connection) -> None:
    """Drop to the unprivileged user, then open ``store`` and try to write to it."""
    # 'nobody' may not read the interpreter's own folder: load what opening needs first.
    importlib.import_module("kam_adapters.sqlite")
    os.setgid(65534)
    os.setuid(65534)
    try:
        app = KamApplication(store)
        try:
            app.form_team(
                name="Should not land",
                segment="s",
                region="r",
                director_name="D",
                top_authority=Percentage.of(5),
            )
        finally:
            app.close()
    except Exception as error:  # sent back to the test, which checks its type and text
        results.send((type(error).__name__, str(error)))
    else:
        results.send(("nothing raised", ""))
