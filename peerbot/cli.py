"""The `peerbot` command: run, serve, train, migrate, doctor, safety-check, safety-eval,
benchmark, staff accounts, and the insights rollup."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from community.settings import Environment, Settings, SettingsError, load_settings

app = typer.Typer(
    name="peerbot",
    help="peerbot: a peer-support chat bot. Start with 'peerbot run'.",
    no_args_is_help=True,
    add_completion=False,
)

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


def _step(label: str, action: Callable[[], T]) -> T:
    typer.echo(f"==> {label}", err=True)
    return action()


moderator_app = typer.Typer(help="Moderator accounts.", no_args_is_help=True)
researcher_app = typer.Typer(help="Researcher accounts.", no_args_is_help=True)
app.add_typer(moderator_app, name="moderator")
app.add_typer(researcher_app, name="researcher")
insights_app = typer.Typer(
    help="What the community asks: the insights rollup.", no_args_is_help=True
)
app.add_typer(insights_app, name="insights")


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one database transaction, from synchronous CLI code."""
    import asyncio

    from community.db import Database

    async def run() -> T:
        database = Database.connect(settings.resolved_database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


def _add_staff(name: str, role: str, display_name: str | None, expires_days: int | None) -> None:
    from datetime import timedelta

    from community.db import migrate as apply_migrations
    from community.staff import StaffError, add_staff

    settings = _settings()
    apply_migrations(settings.resolved_database_url)
    expires = timedelta(days=expires_days) if expires_days else None
    try:
        token = _in_transaction(
            settings, lambda session: add_staff(session, name, role, display_name, expires)
        )
    except StaffError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{role.capitalize()} {name} is ready. Their API token (shown only now):")
    typer.echo(token)


def _revoke_staff(name: str, role: str) -> None:

    from community.cases.handoff import release_orphaned
    from community.staff import StaffError, revoke_staff

    settings = _settings()
    homes = settings.active_moderation_homes

    async def revoke(session: AsyncSession) -> list[int]:
        await revoke_staff(session, name, role)
        return await release_orphaned(session, homes, names=[name])

    try:
        released = _in_transaction(settings, revoke)
    except StaffError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{name}'s token and linked chat accounts are revoked.")
    if released:
        typer.echo(
            f"{len(released)} case(s) they had went back to the queue; the team and each member "
            "were told."
        )


def _link_code(name: str, role: str) -> None:
    from community.db import migrate as apply_migrations
    from community.staff import StaffError, issue_link_code

    settings = _settings()
    apply_migrations(settings.resolved_database_url)
    try:
        code = _in_transaction(settings, lambda session: issue_link_code(session, name, role))
    except StaffError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{name} sends this to the bot in a private Telegram or Discord chat within 30 minutes"
        " (it works once):"
    )
    typer.echo(f"/link {code}")


DisplayName = Annotated[
    str | None, typer.Option(help="The name members see on replies (default: NAME).")
]
ExpiresDays = Annotated[
    int | None,
    typer.Option(
        min=1, max=3650, help="The token expires after this many days (1-3650; none: never)."
    ),
]


@moderator_app.command("add")
def moderator_add(
    name: str, display_name: DisplayName = None, expires_days: ExpiresDays = None
) -> None:
    """Create a moderator (or a new token for one); the token is the last line printed."""
    _add_staff(name, "moderator", display_name, expires_days)


@moderator_app.command("revoke")
def moderator_revoke(name: str) -> None:
    """Revoke a moderator's token at once."""
    _revoke_staff(name, "moderator")


@researcher_app.command("add")
def researcher_add(
    name: str, display_name: DisplayName = None, expires_days: ExpiresDays = None
) -> None:
    """Create a researcher (or a new token for one); the token is the last line printed."""
    _add_staff(name, "researcher", display_name, expires_days)


@researcher_app.command("revoke")
def researcher_revoke(name: str) -> None:
    """Revoke a researcher's token (and linked chat accounts) at once."""
    _revoke_staff(name, "researcher")


@researcher_app.command("seed-mothers101")
def researcher_seed_mothers101(name: str) -> None:
    """Submit the two questions this initiative's researchers already asked, under researcher
    NAME, for the moderators' review (then published as any question; shared answers start
    Mothers 101). Questions already there are skipped."""
    from community.db import migrate as apply_migrations
    from community.research.mothers101 import seed

    settings = _settings()
    apply_migrations(settings.resolved_database_url)
    try:
        numbers = _in_transaction(settings, lambda session: seed(session, name))
    except LookupError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if not numbers:
        typer.echo("The seed questions are already there.")
    for number in numbers:
        typer.echo(f"Question {number} submitted for review.")


@researcher_app.command("link")
def researcher_link(name: str) -> None:
    """A one-time code that lets a researcher submit questions from Telegram or Discord
    (`/submit QUESTION` in a private chat); the `/link` line to send is printed last."""
    _link_code(name, "researcher")


@insights_app.command("rollup")
def insights_rollup(
    day: Annotated[
        str | None, typer.Option(help="One day (YYYY-MM-DD, the community's time zone).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Every day from this one (YYYY-MM-DD) through today.")
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            help="Also replace settled days (rolled up before, more than 8 days ago); what "
            "members deleted since then drops out of them."
        ),
    ] = False,
) -> None:
    """(Re)build the insights rollup: by default as the hourly job does (the last days); with
    --day or --since, those days (a day never rolled up is filled in; a settled one only with
    --rebuild). A day's rows are replaced from each source that still holds its data; the
    others are kept as they were."""
    import asyncio
    from datetime import date, timedelta

    from community.db import Database
    from community.db import migrate as apply_migrations
    from community.insights.rollup import roll_up_day, roll_up_recent
    from community.insights.tallies import community_day
    from community.models import utcnow

    settings = _settings()
    apply_migrations(settings.resolved_database_url)
    given = day or since
    try:
        first = date.fromisoformat(given) if given else None
    except ValueError:
        typer.echo("Give the day as YYYY-MM-DD.", err=True)
        raise typer.Exit(2) from None
    today = community_day(utcnow(), settings.research_timezone)
    if first is not None and first > today:
        typer.echo("That day has not come yet.", err=True)
        raise typer.Exit(2)

    async def run() -> list[tuple[date, list[str]]]:
        database = Database.connect(settings.resolved_database_url)
        try:
            if first is None:
                return [(d, []) for d in await roll_up_recent(database, settings)]
            last = first if day else today
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            return [(d, await roll_up_day(database, settings, d, rebuild=rebuild)) for d in days]
        finally:
            await database.dispose()

    for rolled_day, sources in asyncio.run(run()):
        if first is not None and not sources:
            typer.echo(f"Left {rolled_day.isoformat()} as it was (settled; --rebuild to redo)")
        else:
            what = f": {', '.join(sources)}" if sources else ""
            typer.echo(f"Rolled up {rolled_day.isoformat()}{what}")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (idempotent)."""
    from community.db import migrate as apply_migrations

    settings = _settings()
    apply_migrations(settings.resolved_database_url)
    typer.echo("Database is up to date.")


@app.command()
def train(
    force: Annotated[bool, typer.Option(help="Train even if the model is current.")] = False,
) -> None:
    """Train the Rasa model from config.yml, nlu/ and responses/ (skipped when unchanged)."""
    from peerbot.training import TrainingError
    from peerbot.training import train as train_model

    settings = _settings()
    try:
        result = train_model(settings, force=force)
    except TrainingError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    state = "trained" if result.trained else "up to date, training skipped"
    typer.echo(f"Model {result.model.name}: {state}.")
    _train_screen(settings, force)


def _train_screen(settings: Settings, force: bool = False) -> None:
    """The crisis screen's learned layer, from safety/data/corpus (skipped when unchanged)."""
    from safety.training import train_screen

    screen = train_screen(settings.models_dir, force=force)
    state = "trained" if screen.trained else "up to date, training skipped"
    layers = ", ".join(screen.variants)
    typer.echo(
        f"Crisis screen {screen.artifact.name} ({screen.examples} messages; {layers}): {state}."
    )


@app.command()
def run(workers: Workers = None) -> None:
    """Start the Rasa server, the action server and the bot app; Ctrl-C stops them all."""
    from community.db import migrate as apply_migrations
    from peerbot.runner import run_stack
    from peerbot.training import TrainingError
    from peerbot.training import train as train_model

    settings = _with_workers(workers)
    _step("Migrating the database", lambda: apply_migrations(settings.resolved_database_url))
    try:
        result = _step("Checking the Rasa model", lambda: train_model(settings))
    except TrainingError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    _step("Checking the crisis screen", lambda: _train_screen(settings))
    raise typer.Exit(run_stack(settings, result.model))


@app.command()
def adapter(platform: str) -> None:
    """Run one chat platform's adapter (telegram or discord) in its own process; a second one
    for the same bot waits as a standby and takes over if the first dies. Set
    PEERBOT_ADAPTERS_IN_APP=false for the app then."""
    import asyncio

    from community.db import migrate as apply_migrations
    from peerbot.adapters import AdapterRefused, run_adapter
    from peerbot.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    apply_migrations(settings.resolved_database_url)
    try:
        asyncio.run(run_adapter(settings, platform))
    except AdapterRefused as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None


Workers = Annotated[
    int | None,
    typer.Option(min=1, max=32, help="App processes on the one port (default PEERBOT_WORKERS, 1)."),
]


def _with_workers(workers: int | None) -> Settings:
    from peerbot.app import workers_refusal

    if workers is not None:
        # Every worker process (and `peerbot run`'s app service) reads its settings anew.
        os.environ["PEERBOT_WORKERS"] = str(workers)
    settings = _settings()
    refusal = workers_refusal(settings)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    return settings


@app.command()
def serve(workers: Workers = None) -> None:
    """Run only the bot app (web chat and APIs); `peerbot run` starts it with everything else.
    With several workers, uvicorn runs them on the one port and replaces one that dies."""
    import uvicorn

    from peerbot.app import create_app
    from peerbot.logs import configure_logging

    settings = _with_workers(workers)
    configure_logging(settings.log_level)
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,  # paths carry web chat ids
        "log_config": None,
        "timeout_graceful_shutdown": 5,
    }
    if settings.workers > 1:
        uvicorn.run(
            "peerbot.app:app_from_environment", factory=True, workers=settings.workers, **common
        )
    else:
        uvicorn.run(create_app(settings, serving=True), **common)


@app.command("safety-check")
def safety_check(
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="Only the reviewed rules (no learned layer).")
    ] = False,
) -> None:
    """Screen JSON lines {"text": ...} from stdin; write one JSON verdict per line to stdout:
    decision (crisis/check/none), crisis, category, severity, language, layer, help_coming."""
    from peerbot.safety_tools import check_lines

    settings = _settings()
    for line in check_lines(sys.stdin, settings.models_dir, learned=not rules_only):
        typer.echo(line)


@app.command("safety-eval")
def safety_eval(
    batch: Annotated[
        list[str] | None,
        typer.Option(
            help="Score a new batch once with the current screen (its first pass) and print "
            "the row for safety/data/EVALUATION.md; repeatable."
        ),
    ] = None,
    write_thresholds: Annotated[
        bool,
        typer.Option(help="Choose the thresholds by cross-validation and write thresholds.yml."),
    ] = False,
    misses: Annotated[int, typer.Option(help="Also list up to N misses and false alarms.")] = 0,
) -> None:
    """Cross-validated recall, false alarms and check rate per category, language and layer
    (whole batches held out, 6 folds), or a first-pass score of new batches."""
    from peerbot.safety_tools import cross_validation_report, first_pass_report

    settings = _settings()
    lines = (
        first_pass_report(settings.models_dir, batch, misses)
        if batch
        else cross_validation_report(write_thresholds, misses)
    )
    for line in lines:
        typer.echo(line)


@app.command()
def benchmark(
    messages: Annotated[
        int, typer.Option(help="Messages to screen for the throughput figure.")
    ] = 100_000,
    handoff: Annotated[
        int,
        typer.Option(help="Simultaneous crisis conversations for the handoff figure (0: skip)."),
    ] = 200,
    broadcast: Annotated[
        int,
        typer.Option(help="Opted-in mothers for the research broadcast figure (0: skip)."),
    ] = 0,
    database_url: Annotated[
        str,
        typer.Option(help="Run the database benchmarks on this PostgreSQL (default: SQLite)."),
    ] = "",
    flood: Annotated[
        int,
        typer.Option(help="Only the flood figure: N fake crises, from one address and from N."),
    ] = 0,
    overhead: Annotated[
        bool,
        typer.Option(
            "--overhead",
            help="Only measure what the gateway adds to a bare Rasa round trip (starts Rasa).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="App workers for the handoff figure (more than one: --database-url and "
            "--redis-url).",
        ),
    ] = 1,
    redis_url: Annotated[
        str, typer.Option(help="Redis for several workers (the rate limits, the screen's window).")
    ] = "",
    sustained: Annotated[
        int,
        typer.Option(
            help="Only a sustained mixed load (crisis, FAQ, relay, research) for this many "
            "seconds, with Rasa started (0: skip).",
        ),
    ] = 0,
    rate: Annotated[float, typer.Option(min=0.1, help="Messages a second for --sustained.")] = 20.0,
) -> None:
    """Measure the crisis screen (messages/s, 10,000-character worst case), the handoff (time
    until a crisis case is visible to moderators, N conversations at once) and, if asked, a
    research broadcast (fan-out and queueing for N mothers, across a simulated crash) or the
    gateway's overhead over a bare Rasa round trip (--overhead), or a flood of fake crises
    (--flood N: what moderators get, and where a genuine crisis sent in the middle lands), or a
    sustained mixed load (--sustained SECONDS at --rate messages a second: throughput, p99 and
    errors per kind; with --database-url, --workers and --redis-url as for the handoff)."""
    from peerbot.bench import (
        run_broadcast_benchmark,
        run_flood_benchmark,
        run_handoff_benchmark,
        run_overhead_benchmark,
        run_screen_benchmark,
    )

    if flood:
        for line in run_flood_benchmark(flood):
            typer.echo(line)
        return

    if overhead:
        for line in run_overhead_benchmark():
            typer.echo(line)
        return

    if sustained:
        from peerbot.bench_sustained import run_sustained_benchmark

        for line in run_sustained_benchmark(sustained, rate, database_url, workers, redis_url):
            typer.echo(line)
        return

    for line in run_screen_benchmark(messages):
        typer.echo(line)
    if handoff:
        for line in run_handoff_benchmark(handoff, database_url, workers, redis_url):
            typer.echo(line)
    if broadcast:
        for line in run_broadcast_benchmark(broadcast, database_url):
            typer.echo(line)


@app.command()
def doctor() -> None:
    """Check the runtime, model, database and settings, and say what to do about each problem."""
    from peerbot.doctor import run_checks

    try:
        settings = load_settings()
    except SettingsError as error:
        typer.echo(f"✗ settings: {error}")
        raise typer.Exit(1) from None
    problems = 0
    for check in run_checks(settings):
        mark = {"ok": "✓", "warn": "!", "fail": "✗"}[check.status]
        typer.echo(f"{mark} {check.name}: {check.detail}")
        if check.fix and check.status != "ok":
            typer.echo(f"    → {check.fix}")
        problems += check.status == "fail"
    if settings.env is Environment.PRODUCTION and problems:
        typer.echo("peerbot should not run in production until the ✗ items are fixed.")
    raise typer.Exit(1 if problems else 0)


@app.command("new-plan-key")
def new_plan_key() -> None:
    """Print a new random key for PEERBOT_PLAN_KEYS (shown once; keep it in the environment
    or the secrets store, never in git)."""
    from community.safety_plan import PlanKeys

    typer.echo(PlanKeys.new_key())


@app.command("rotate-plan-keys")
def rotate_plan_keys() -> None:
    """Seal every safety plan again with the first key in PEERBOT_PLAN_KEYS. Rotation: put a
    new key first (PEERBOT_PLAN_KEYS=new,old), run this, then drop the old key."""
    from community.safety_plan import PlanKeysError, keys_from_settings, reseal_all

    settings = _settings()
    try:
        keys = keys_from_settings(settings)
    except PlanKeysError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    if not keys.available:
        typer.echo("PEERBOT_PLAN_KEYS is not set: there is nothing to seal with.", err=True)
        raise typer.Exit(2)
    resealed, unreadable = _in_transaction(settings, lambda session: reseal_all(session, keys))
    typer.echo(f"Sealed {resealed} safety plan(s) again with the newest key.")
    if unreadable:
        typer.echo(
            f"{unreadable} plan(s) could not be opened with any key set: keep the key they were "
            "sealed with in PEERBOT_PLAN_KEYS and run this again before dropping it.",
            err=True,
        )
        raise typer.Exit(1)
    if keys.count > 1:
        typer.echo("The older key(s) can now be removed from PEERBOT_PLAN_KEYS.")


@app.command("rasa-token")
def rasa_token() -> None:
    """Print the token for Rasa's HTTP API (for running Rasa as its own service)."""
    typer.echo(_settings().rasa_api_token())


@app.command("rasa-endpoints")
def rasa_endpoints() -> None:
    """Write the endpoints file for Rasa from the settings (Redis stores when
    PEERBOT_RASA_TRACKER_STORE=redis) and print its path (for running Rasa as its own
    service; `peerbot run` does this itself)."""
    from peerbot.rasa_endpoints import endpoints_file

    try:
        typer.echo(str(endpoints_file(_settings())))
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
