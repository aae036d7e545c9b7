"""French first, English second (Flask-Babel); dates and numbers in the business timezone and locale."""
from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import parse_pattern
from flask import Flask, current_app, session
from babel.dates import format_date, format_datetime
from flask_babel import Babel, format_decimal, get_locale, get_timezone
from flask_login import current_user

from .timeutil import as_utc, to_local

LOCALES = ("fr", "en")
# Dates are written day first in every language: English takes the British conventions (3 Dec 2026,
# 03/12/2026), never the American month first ("12/3/26" read as the 12th of March here).
DATE_LOCALES = {"en": "en_GB"}


def select_locale() -> str:
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    # French first: the business default, not the browser's language, unless a person chose.
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def date_locale() -> str:
    """The locale that writes the person's dates and times: their language, day first."""
    name = str(get_locale())
    return DATE_LOCALES.get(name, name)


@lru_cache(maxsize=16)
def _short_pattern(locale_name: str):
    """The locale's short date-time pattern, parsed once (Babel parses it on every call otherwise)."""
    locale = Locale.parse(locale_name)
    text = locale.datetime_formats["short"].format(locale.time_formats["short"], locale.date_formats["short"])
    return locale, parse_pattern(text)


def short_datetime_formatter():
    """short_datetime with the person's locale and the timezone looked up once, for formatting many
    times in one response (the board's cards: the lookups cost twice the formatting itself)."""
    locale, pattern = _short_pattern(date_locale())
    zone = get_timezone()

    def format_short(value: datetime | None) -> str:
        return "" if value is None else pattern.apply(to_local(value, zone), locale)
    return format_short


def short_datetime(value: datetime | None) -> str:
    """A stored naive-UTC time in the person's locale and the business timezone, e.g. 05/03/2026 14:30."""
    return "" if value is None else short_datetime_formatter()(value)


def _datetime(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    if fmt == "short":
        return short_datetime(value)
    return format_datetime(as_utc(value), fmt, tzinfo=get_timezone(), locale=date_locale())


def _date(value: date | None, fmt: str = "short") -> str:
    if not value:
        return ""
    if isinstance(value, datetime):  # a stored UTC time: its day in the business timezone
        value = to_local(value, get_timezone())
    return format_date(value, fmt, locale=date_locale())


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["number"] = lambda n: format_decimal(n)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
