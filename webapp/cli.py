"""The `relance` console command: Flask's CLI group with the project's commands (DESIGN: public contract)."""
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from .models import database
from .models.users import ROLES


def _app():
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_app, add_default_commands=True)
def main():
    """Relance: prospect follow-up."""


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
@click.option("--password", default=None, help="Read from stdin when omitted.")
@with_appcontext
def create_user_command(email, role, name, password):
    """Create a staff account."""
    from .services.users import UserError, create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True) \
            if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    with database.connection_context():
        try:
            user = create_user(email, name, role, password)
        except UserError as exc:
            raise click.ClickException(str(exc).replace("_", " "))
    click.echo(f"created {user.role} {user.email}")


@click.command("create-token")
@click.argument("name")
@with_appcontext
def create_token_command(name):
    """Create an API token and print it (shown once, stored hashed)."""
    from .services.tokens import create_token

    with database.connection_context():
        click.echo(create_token(name)[1])


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when staff accounts already exist.")
@click.option("--seed", default=20261123, help="Random seed, for repeatable data.")
@with_appcontext
def demo_command(if_empty, seed):
    """Load realistic demo data: staff, about 300 prospects over six months, their interactions."""
    from .demo import load_demo
    from .models import User

    with database.connection_context():
        if if_empty and User.select().exists():
            click.echo("demo: staff accounts exist; nothing loaded")
            return
        logins = load_demo(seed=seed)
    click.echo("Demo data loaded. Sign in with one of:")
    for email, role, password in logins:
        click.echo(f"  {email:<28} {role:<10} password: {password}")


@click.command("sweep")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Sweep as of the end of this day in the business timezone (default: now).")
@with_appcontext
def sweep_command(as_of):
    """Recompute activity statuses and plan the rules' follow-ups (the periodic task's code)."""
    from .services.sweep import end_of_day, run_sweep
    from .timeutil import parse_iso_date, utcnow

    try:
        moment = end_of_day(parse_iso_date(as_of)) if as_of else utcnow()
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD", param_hint="--as-of")
    with database.connection_context():
        result = run_sweep(moment)
    changes = ", ".join(f"{status} {count}" for status, count in result.activity_changes.items())
    click.echo(f"sweep as of {result.as_of:%Y-%m-%d %H:%M:%S} UTC")
    click.echo(f"activity statuses changed: {result.activity_changed} ({changes})")
    click.echo(f"prospects evaluated: {result.prospects_evaluated}; "
               f"follow-ups planned: {result.followups_created}")


@click.command("send-reminders")
@click.option("--kind", type=click.Choice(["morning", "digest"]), default="morning")
@with_appcontext
def send_reminders_command(kind):
    """Send the morning reminders (or the lead's digest) now, as the worker does each morning."""
    from .services.reminders import send_reminders
    from .timeutil import utcnow

    with database.connection_context():
        click.echo(f"{send_reminders(utcnow(), kind)} {kind} mail(s) sent")


def register_commands(app) -> None:
    for command in (create_user_command, create_token_command, demo_command, sweep_command,
                    send_reminders_command):
        app.cli.add_command(command)
