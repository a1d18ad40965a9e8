import importlib.util

import pytest

from bot.config import ConfigError, Settings
from bot.monitor.policy import Policy, PolicyError


def test_defaults_need_nothing():
    s = Settings.from_env({})
    assert s.database_url == "sqlite:///data/vigil.db"
    assert s.slack_api_url == "https://slack.com/api/"
    assert (s.port, s.sweep_interval_seconds, s.team_timezone) == (3000, 300, "UTC")
    assert s.policy == Policy()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "http"}, "PORT"),
        ({"TEAM_TIMEZONE": "Mars/Olympus"}, "TEAM_TIMEZONE"),
        ({"HOLIDAY_COUNTRY": "XX"}, "HOLIDAY_COUNTRY"),
        ({"HOLIDAY_COUNTRY": "GB-XX"}, "HOLIDAY_COUNTRY"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({"SLACK_API_URL": "localhost:3001"}, "SLACK_API_URL"),
        ({"VIGIL_POLICY": "stall_days=soon"}, "VIGIL_POLICY"),
        ({"PORT": "99999"}, "PORT must be from 1 to 65535"),
        ({"PORT": "0"}, "PORT must be from 1 to 65535"),
        ({"DATABASE_URL": "garbage"}, "DATABASE_URL is not a database URL"),
        ({"DATABASE_URL": "mysql+nosuchdriver://u@h/db"}, "DATABASE_URL"),
    ],
)
def test_malformed_configuration_names_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_a_database_url_whose_driver_is_missing_says_what_to_install():
    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed here")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"DATABASE_URL": "postgresql://vigil:s3cret@db.example/vigil"})
    message = str(caught.value)
    assert "DATABASE_URL" in message and "pip install 'psycopg[binary]'" in message
    assert "s3cret" not in message  # a password in the URL is never printed


def test_a_plain_postgres_url_means_psycopg():
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed here")
    s = Settings.from_env({"DATABASE_URL": "postgres://vigil:s3cret@db.example/vigil"})
    assert s.database_url == "postgresql+psycopg://vigil:s3cret@db.example/vigil"


def test_holidays_of_a_region():
    assert Settings.from_env({"HOLIDAY_COUNTRY": "gb-eng"}).holiday_country == "GB-ENG"


def test_rules_are_retuned_and_switched_off_per_workspace():
    s = Settings.from_env(
        {
            "VIGIL_POLICY": "stall_days=5 disabled=behind_pace working_hours=08:00-17:00",
            "MANAGER_USER_IDS": "U1, U2",
        }
    )
    assert s.policy.stall_days == 5 and not s.policy.enabled("behind_pace")
    assert s.policy.day_start.hour == 8 and s.manager_user_ids == {"U1", "U2"}


@pytest.mark.parametrize(
    "pair",
    ["stall_days", "stalldays=3", "disabled=snoring", "working_hours=18:00-09:00", "stall_days=0"],
)
def test_bad_policy_overrides_say_what_is_expected(pair):
    with pytest.raises(PolicyError):
        Policy().with_overrides([pair])
