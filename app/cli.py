"""`flask` commands: database migrations, demo data and staff accounts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
import holidays
from flask import Flask, current_app
from flask.cli import AppGroup

from app import migrate
from app.clock import utcnow
from app.demo import DEMO_PASSWORD, database_is_empty, seed_demo
from app.errors import DomainError
from app.models.enums import Role
from app.providers import reminder_adapters
from app.scheduler import build_scheduler, payments_tick, reminders_tick
from app.services.users import create_user
from app.web.db import get_engine, get_sessionmaker
from app.web.demo_stories import play_demo_stories
from reminders.jobs import run_tick

DEMO_ZONE = ZoneInfo("Europe/Copenhagen")  # the demo creditors' mornings (Oslo alike)

db_cli = AppGroup("db", help="Database schema migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    migrate.upgrade(get_engine(), revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (e.g. -1 or base)."""
    migrate.downgrade(get_engine(), revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
def db_revision(message: str) -> None:
    """Autogenerate a revision from the models; read and edit it before committing."""
    migrate.revision(get_engine(), message)


@db_cli.command("check")
def db_check() -> None:
    """Fail when the database schema differs from the models."""
    differences = migrate.schema_differences(get_engine())
    for difference in differences:
        click.echo(f"  {difference}")
    if differences:
        raise click.ClickException("The database does not match the models.")
    click.echo("The database matches the models.")


@click.command("demo")
@click.option(
    "--if-empty", is_flag=True, help="Seed only when the database has no creditor."
)
def demo(if_empty: bool) -> None:
    """Seed the demo agency, creditors, staff, debtors and accounts (idempotent)."""
    with get_sessionmaker()() as session:
        if if_empty and not database_is_empty(session):
            click.echo("Demo data already present; nothing to do.")
            return
        created = seed_demo(session, now=utcnow())
        session.commit()
    sent = _send_recent_reminders(current_app) if created else 0
    answered = play_demo_stories(current_app, now=utcnow()) if sent else 0
    click.echo(
        f"Demo ready ({created} new records, {sent} texts on the dev phone, "
        f"{answered} debtors who answered)."
    )
    click.echo(f"Staff password: {DEMO_PASSWORD}")


def _send_recent_reminders(app: Flask) -> int:
    """Run the engine as it would have run on a recent weekday morning.

    So the dev phone holds real texts with working links at whatever hour the demo starts,
    each sent through the contact policy like any other.
    """
    adapters = reminder_adapters(app)
    for morning in recent_working_mornings(utcnow()):
        result = run_tick(
            get_sessionmaker(),
            adapters.sender,
            now=morning.astimezone(UTC),
            rules_for=adapters.rules_for,
            link_for=adapters.link_for,
            email_sender=adapters.email_sender,
        )
        if result.dispatched.sent:
            return result.dispatched.sent
    return 0


def recent_working_mornings(now: datetime) -> list[datetime]:
    """10:30 on the last working days in Denmark and Norway, newest first.

    Counted in the demo's own calendar, not UTC's (late in the UTC evening it is already
    tomorrow in Copenhagen), and never a weekend or holiday: a tick on such a day would only
    defer the texts past every earlier morning tried after it.
    """
    today = now.astimezone(DEMO_ZONE).date()
    closed = holidays.country_holidays("DK") + holidays.country_holidays("NO")
    days = (today - timedelta(days=back) for back in range(1, 15))
    return [
        datetime.combine(day, time(10, 30), tzinfo=DEMO_ZONE)
        for day in days
        if day.weekday() < 5 and day not in closed
    ][:5]


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--creditor-id", type=int, default=None)
@click.password_option()
def create_user_command(
    email: str, name: str, role: str, creditor_id: int | None, password: str
) -> None:
    """Create a staff user."""
    with get_sessionmaker()() as session:
        try:
            create_user(
                session,
                email=email,
                name=name,
                password=password,
                role=Role(role),
                creditor_id=creditor_id,
                now=utcnow(),
            )
        except DomainError as error:
            raise click.ClickException(error.message) from error
        session.commit()
    click.echo(f"Created {role} {email}.")


@click.command("worker")
def worker() -> None:
    """Run the periodic jobs (reminder planning and dispatch) until interrupted."""
    scheduler = build_scheduler(current_app._get_current_object())
    click.echo("Venlig worker started; Ctrl+C stops it.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Venlig worker stopped.")


@click.command("tick")
def tick() -> None:
    """Run one reminder and one payments tick now and print what they did."""
    app = current_app._get_current_object()
    click.echo(reminders_tick(app))
    click.echo(payments_tick(app))


def register(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(demo)
    app.cli.add_command(create_user_command)
    app.cli.add_command(worker)
    app.cli.add_command(tick)
