"""Settings, read once from the environment (and `.env`) into a frozen value.

Nothing else in Vigil reads `os.environ`: the entry points build a `Settings` and pass it on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from bot.calendar import UnknownHolidays, parse_holiday_code
from bot.monitor.policy import Policy, PolicyError

DEFAULT_DB_PATH = Path("data") / "vigil.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DATABASE_EXAMPLE = "sqlite:///data/vigil.db or postgresql+psycopg://user:password@host/vigil"
# The package to install for a driver SQLAlchemy could not import, by module name.
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary"}


class ConfigError(Exception):
    """Configuration that stops start-up; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = f"sqlite:///{DEFAULT_DB_PATH}"
    port: int = 3000
    manager_channel: str | None = None
    manager_user_ids: frozenset[str] = frozenset()
    team_timezone: str = "UTC"
    holiday_country: str | None = None
    sweep_interval_seconds: int = 300
    policy: Policy = field(default_factory=Policy)
    # Rehearsals and tests only: a file holding an ISO-8601 instant that the bot reads as "now"
    # instead of the system clock, so that days can pass in minutes (docs/operations.md).
    clock_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def integer(name: str, default: int, maximum: int | None = None) -> int:
            return _whole_number(name, get(name), default, maximum=maximum)

        timezone = _timezone(get("TEAM_TIMEZONE") or "UTC")
        country = get("HOLIDAY_COUNTRY")
        if country:
            try:
                country = parse_holiday_code(country)
            except UnknownHolidays as exc:
                raise ConfigError(f"HOLIDAY_COUNTRY {exc}") from None
        api_url = _api_url(get("SLACK_API_URL") or DEFAULT_SLACK_API_URL)
        bot_token = _token("SLACK_BOT_TOKEN", get("SLACK_BOT_TOKEN"), "xoxb-", "a bot token")
        app_token = _token("SLACK_APP_TOKEN", get("SLACK_APP_TOKEN"), "xapp-", "an app-level token")
        managers = frozenset(
            u.strip() for u in (get("MANAGER_USER_IDS") or "").split(",") if u.strip()
        )
        try:
            policy = Policy().with_overrides((get("VIGIL_POLICY") or "").split())
        except PolicyError as exc:
            raise ConfigError(f"VIGIL_POLICY: {exc}") from None
        return cls(
            bot_token=bot_token,
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=app_token,
            slack_api_url=api_url,
            database_url=check_database_url(get("DATABASE_URL") or f"sqlite:///{DEFAULT_DB_PATH}"),
            port=integer("PORT", 3000, maximum=65535),
            manager_channel=get("MANAGER_CHANNEL"),
            manager_user_ids=managers,
            team_timezone=timezone,
            holiday_country=country,
            sweep_interval_seconds=integer("SWEEP_INTERVAL_SECONDS", 300),
            policy=policy,
            clock_file=get("CLOCK_FILE"),
        )

    def require(self, *names: str) -> None:
        """Stop with one line naming the first missing variable."""
        for name in names:
            attr = {
                "SLACK_BOT_TOKEN": self.bot_token,
                "SLACK_SIGNING_SECRET": self.signing_secret,
                "MANAGER_CHANNEL": self.manager_channel,
            }[name]
            if not attr:
                raise ConfigError(f"{name} is not set (see .env.example)")


def _whole_number(
    name: str, raw: str | None, default: int, minimum: int = 1, maximum: int | None = None
) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum else f"at least {minimum}"
        raise ConfigError(f"{name} must be {bounds}, got {value}")
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"TEAM_TIMEZONE {name!r} is not an IANA time zone, e.g. Europe/London"
        ) from None
    return name


def _api_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {url!r}")
    return url if url.endswith("/") else url + "/"


def _token(name: str, token: str | None, prefix: str, kind: str) -> str | None:
    if token and not token.startswith(prefix):
        raise ConfigError(f"{name} must be {kind} starting with {prefix}")
    return token


def check_database_url(url: str) -> str:
    """A URL SQLAlchemy can use, with its driver installed. The URL itself is never echoed:
    it may hold a password. `postgres://` and `postgresql://` (as hosting providers hand them
    out) mean psycopg 3, the driver of the `postgres` extra."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgres", "postgresql"):
        url = f"postgresql+psycopg://{rest}"
    try:
        dialect = make_url(url).get_dialect()
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL is not a database URL; use e.g. {DATABASE_EXAMPLE}"
        ) from None
    except NoSuchModuleError:
        scheme = url.split(":", 1)[0]
        raise ConfigError(
            f"DATABASE_URL names a database Vigil cannot use ({scheme}); use e.g. {DATABASE_EXAMPLE}"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = (exc.name or "").split(".")[0] or dialect.driver
        package = DRIVER_PACKAGES.get(module, module)
        raise ConfigError(
            f"DATABASE_URL needs the {module} driver, which is not installed: pip install '{package}'"
        ) from None
    return url
