"""The `relance` console command: Flask's CLI group with the project's commands (DESIGN: public contract)."""
import json
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale
from peewee import DatabaseError

from integrations.plugins import source_type

from .demo import load_demo
from .demo_patients import ensure_source, export_csv
from .mailreader import read_mail
from .models import Prospect, User, database
from .security import TOKEN_SCOPES
from .services import patient_sync
from .services.audit import record as audit
from .services.defaults import setting
from .services.intake import due_for_rescan, process
from .services.mailbox import dispatch_to_worker, mailbox_sources, poll_source
from .services.reminders import send_reminders
from .services.rights import erase_person
from .services.sources import SourceError, create_source, embed_snippet
from .services.sweep import end_of_day, run_sweep
from .services.tokens import create_token
from .services.users import UserError, create_user
from .timeutil import parse_iso_date, utcnow
from .views.sources import error_message
from .vocabulary import ROLES


def _app():
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_app, add_default_commands=True)
def main():
    """Relance: prospect follow-up."""


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
@click.option("--password", default=None, help="Read from stdin when omitted.")
@with_appcontext
def create_user_command(email, role, name, password):
    """Create a staff account."""
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
@click.option("--scope", "scopes", multiple=True, type=click.Choice(list(TOKEN_SCOPES)),
              help="What the token may do (repeat for several); every scope when none is given.")
@with_appcontext
def create_token_command(name, scopes):
    """Create an API token and print it (shown once, stored hashed)."""
    with database.connection_context():
        row, plain = create_token(name, scopes=list(scopes) or None)
        audit("token.create", "api_token", row.id, detail=f"{row.prefix}… {name} [{row.scopes}]")
        click.echo(plain)


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when staff accounts already exist.")
@click.option("--seed", default=20261123, help="Random seed, for repeatable data.")
@with_appcontext
def demo_command(if_empty, seed):
    """Load realistic demo data: staff, about 300 prospects over six months, their interactions."""
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
    with database.connection_context():
        click.echo(f"{send_reminders(utcnow(), kind)} {kind} mail(s) sent")


@click.command("add-source", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("slug")
@click.option("--type", "type_", default="webform", show_default=True,
              help="Source type: webform, imap, or one a plugin adds.")
@click.option("--name", default="", help="What the staff see (defaults to the slug).")
@click.option("--preset", default="html", show_default=True, help="Field names: html, cf7 or json.")
@click.option("--mode", type=click.Choice(["triage", "auto"]), default="triage", show_default=True,
              help="triage: the lead reviews each request; auto: it becomes a prospect at once.")
@click.option("--thank-you-url", default="", help="Where a browser goes after posting.")
@click.option("--origin", "origins", multiple=True, help="An allowed website origin (CORS); repeatable.")
@click.option("--rate-limit", default="20 per minute", show_default=True, help="Per address; empty for none.")
@click.option("--secret-stdin", is_flag=True, help="Read an HMAC secret from stdin (server-to-server posts).")
@click.option("--base-url", default="http://localhost:5000", show_default=True,
              help="This app's public address, for the printed intake URL and embed form.")
@click.pass_context
@with_appcontext
def add_source_command(ctx, slug, type_, name, preset, mode, thank_you_url, origins, rate_limit, secret_stdin,
                       base_url):
    """Add an intake source and print its URL (and, for a web form, the HTML to embed).

    A type a plugin declares with its settings takes them as options: for imap, --host, --port (993),
    --security (tls, starttls, or plain to this machine only), --user, --folder (INBOX),
    --interval-minutes (5), and the password on stdin with --password-stdin (never on the command line).
    """
    # The web form has options of its own (above); another type takes its settings as options.
    kind = source_type(type_) if type_ != "webform" else None
    if kind is None and ctx.args:
        raise click.UsageError(f"unknown option(s) for a {type_} source: {' '.join(ctx.args)}")
    secret = sys.stdin.readline().rstrip("\r\n") if secret_stdin else None
    if kind is not None:
        config = {"mode": mode, **_setting_options(kind, ctx.args)}
    else:
        config = {"preset": preset, "mode": mode, "thank_you_url": thank_you_url,
                  "allowed_origins": list(origins), "rate_limit": rate_limit}
    with database.connection_context():
        try:
            source = create_source(slug, type_, name, config, secret)
        except SourceError as exc:
            raise click.ClickException(_source_error(exc))
    if kind is not None:
        settings = ", ".join(f"{key}={value}" for key, value in source.config.items())
        click.echo(f"added {source.type} source {source.slug}: {settings}"
                   + (" (secret stored encrypted)" if source.secret else ""))
        if kind.channel == "email":   # a mailbox is polled: nothing posts to it
            return
    url = f"{base_url.rstrip('/')}/intake/{source.slug}"
    click.echo(f"added {source.type} source {source.slug}: POST {url}")
    snippet = embed_snippet(source, url)   # the source type's form to paste, if it has one
    if snippet:
        click.echo(snippet)


def _setting_options(kind, args: list[str]) -> dict:
    """A plugin type's settings from `--name value` (or `--name=value`) options; a secret setting only
    from stdin (`--NAME-stdin`): a command line is visible to every user of the machine."""
    by_option = {setting.name.replace("_", "-"): setting for setting in kind.settings}
    values, rest = {}, list(args)
    while rest:
        token = rest.pop(0)
        if not token.startswith("--"):
            raise click.UsageError(f"unexpected argument: {token}")
        option, has_value, value = token[2:].partition("=")
        if option.endswith("-stdin") and by_option.get(option[:-6]) and by_option[option[:-6]].kind == "secret":
            values[by_option[option[:-6]].name] = sys.stdin.readline().rstrip("\r\n")
            continue
        setting = by_option.get(option)
        if setting is None:
            known = ", ".join(f"--{name}" for name in by_option)
            raise click.UsageError(f"unknown option --{option} for a {kind.name} source (known: {known})")
        if setting.kind == "secret":
            raise click.UsageError(f"give --{option} on stdin with --{option}-stdin, never on the command line")
        if not has_value:
            if setting.kind == "bool" and (not rest or rest[0].startswith("--")):
                value = "1"
            elif not rest:
                raise click.UsageError(f"--{option} needs a value")
            else:
                value = rest.pop(0)
        values[setting.name] = value
    return values


def _source_error(exc) -> str:
    """A refused source setting as the settings page says it (French first), with its code."""
    with current_app.test_request_context():
        text = error_message(exc.code, getattr(exc, "field", None))
    return f"{text} ({exc.code}{', ' + exc.field if getattr(exc, 'field', None) else ''})"


@click.command("poll-inbox")
@click.option("--source", "slug", default=None, help="Only this mailbox source (by default every active one).")
@click.option("--process", "process_now", is_flag=True,
              help="Process the new requests here as well, instead of handing them to the worker.")
@with_appcontext
def poll_inbox_command(slug, process_now):
    """Read what is new in the mailbox sources now (what the worker does every few minutes)."""
    failed = 0
    with database.connection_context():
        sources = mailbox_sources(slug)
        if slug and not sources:
            raise click.BadParameter(f"no mailbox source {slug!r}", param_hint="--source")
        if not sources:
            click.echo("no active mailbox source")
        for source in sources:
            result = poll_source(source, dispatch=None if process_now else dispatch_to_worker)
            if result.error:
                failed += 1
                click.echo(f"{source.slug}: error {result.error}" + (f" ({result.detail})" if result.detail else ""))
                continue
            states = [process(request_id) for request_id in result.stored] if process_now else []
            ids = ", ".join(map(str, result.stored))
            click.echo(f"{source.slug}: {result.fetched} mail(s) read, {len(result.stored)} new request(s)"
                       + (f" [{ids}]" if ids else "") + f", {result.duplicates} seen before"
                       + (f"; processed: {sum(s == 'processed' for s in states)}" if process_now else ""))
    if failed:
        sys.exit(1)


@click.command("intake-rescan")
@with_appcontext
def intake_rescan_command():
    """Process now every stored request still waiting past its lease (what the worker's re-scan does)."""
    with database.connection_context():
        ids = due_for_rescan(utcnow())
        states = [process(request_id) for request_id in ids]
    click.echo(f"{len(ids)} request(s) re-scanned: {sum(s == 'processed' for s in states)} processed, "
               f"{sum(s == 'failed' for s in states)} failed")


@click.command("erase")
@click.option("--prospect", "prospect_id", type=int, required=True, help="The prospect's id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def erase_command(prospect_id, yes):
    """Erase a person's data on their request (anonymised; counts kept), as the manager's button does."""
    with database.connection_context():
        prospect = Prospect.get_or_none(Prospect.id == prospect_id)
        if prospect is None:
            raise click.BadParameter("no such prospect", param_hint="--prospect")
        if not yes:
            click.confirm(f"Erase the personal data of prospect {prospect_id}? This cannot be undone", abort=True)
        result = erase_person(prospect, None)
    click.echo(f"prospect {prospect_id} erased: {result.detail}")


@click.command("sync-patients")
@click.option("--source", "slug", default=None, help="The patient source's slug (every pull source when omitted).")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A patient export (CSV or XLSX) for a file source.")
@click.option("--dry-run", is_flag=True, help="Say what the file would do; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def sync_patients_command(slug, path, dry_run, as_json):
    """Import a patient export into a file source, or pull a FHIR source once (all of them without --source)."""
    # French first (the fault list is for the clinic's staff); no request here to choose a language.
    with database.connection_context(), force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            if path:
                source = patient_sync.source_for(slug, patient_sync.FILE_TYPES) if slug else None
                if source is None:
                    raise patient_sync.SyncError("source_required")
                with open(path, "rb") as handle:
                    data = handle.read(patient_sync.MAX_UPLOAD + 1)
                summaries = [patient_sync.import_file(source, data, path, dry_run=dry_run)]
            elif slug:
                summaries = [patient_sync.pull(patient_sync.source_for(slug))]
            else:
                summaries = patient_sync.pull_all()
        except patient_sync.SyncError as exc:
            raise click.ClickException(str(exc).replace("_", " "))
    for summary in summaries:
        if as_json:
            click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
            continue
        for problem in summary.refused_lines:
            click.echo(problem["message"], err=True)
        click.echo(f"{summary.source}: {summary.rows_read} read, {summary.patients_created} created, "
                   f"{summary.patients_updated} updated, {summary.converted} converted, {summary.to_review} to "
                   f"review, {summary.unmatched} unmatched" + (f"; {summary.error}" if summary.error else "")
                   + (" (dry run: nothing written)" if summary.dry_run else ""))
    if any(summary.error for summary in summaries):
        sys.exit(1)


@click.command("demo-patient-export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def demo_patient_export_command(path):
    """Write the demo clinic's patient export (French Excel CSV) from the demo prospects, and make sure the
    `dossiers` patient source exists: then `relance sync-patients --source dossiers --file PATH`."""
    with database.connection_context():
        source = ensure_source()
        data = export_csv(utcnow())
    with open(path, "wb") as handle:
        handle.write(data)
    rows = data.count(b"\r\n") - 1
    click.echo(f"{rows} patients written to {path}; import them with: "
               f"relance sync-patients --source {source.slug} --file {path}")


@click.command("parse-mail")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, one per line, in order.")
@with_appcontext
def parse_mail_command(files, as_json):
    """Read mail files (raw RFC 822) as the mailbox reads them: sender, automated or not, new text…"""
    import json



    region, keywords = current_app.config.get("PHONE_REGION", "SN"), _qualification_keywords()
    unreadable = []
    for name in files:
        try:
            with open(name, "rb") as handle:
                raw = handle.read()
        except OSError as exc:
            click.echo(f"{name}: {exc.strerror or exc}", err=True)
            unreadable.append(name)
            raw = b""
        reading = read_mail(raw, region=region, keywords=keywords)
        if as_json:
            click.echo(json.dumps(reading.as_json(name), ensure_ascii=True))
        else:
            click.echo(_mail_summary(name, reading))
    if unreadable:
        raise click.ClickException(f"{len(unreadable)} file(s) could not be read")


def _qualification_keywords() -> dict | None:
    """The business's qualification words (setting `qualification_keywords`), or None for the defaults
    when the database is not there (parse-mail also runs on a bare checkout)."""


    try:
        with database.connection_context():
            return setting("qualification_keywords")
    except DatabaseError:
        return None


def _mail_summary(name: str, reading) -> str:
    sender = f"{reading.sender_name} <{reading.sender_address}>".strip() if reading.sender_address \
        else reading.sender_name or "(no sender)"
    new_text = " ".join(reading.new_text.split())
    lines = [name, f"  from:          {sender}", f"  subject:       {reading.subject}",
             f"  automated:     {reading.automated or 'no (a person wrote it)'}"]
    if reading.bounce_recipients:
        lines.append(f"  bounced:       {', '.join(reading.bounce_recipients)}")
    lines += [f"  new text:      {new_text[:200] + ('…' if len(new_text) > 200 else '')}",
              f"  phones:        {', '.join(reading.phones) or '-'}",
              f"  qualification: {reading.qualification or '-'}"]
    if reading.attachments:
        lines.append("  attachments:   " + ", ".join(
            f"{a.filename or '(unnamed)'} ({a.content_type}, {a.size:,} bytes)" for a in reading.attachments))
    return "\n".join(lines)


def register_commands(app) -> None:
    for command in (create_user_command, create_token_command, demo_command, sweep_command,
                    send_reminders_command, add_source_command, poll_inbox_command, intake_rescan_command,
                    erase_command, parse_mail_command, sync_patients_command, demo_patient_export_command):
        app.cli.add_command(command)
