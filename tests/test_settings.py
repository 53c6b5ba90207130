"""Settings: safe defaults, the generated secret, environment variables, refusals."""

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from clonechats.app import create_app
from clonechats.settings import SECRET_FILE_NAME, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CLONECHATS_* variables and no .env file from the machine running the tests."""
    for name in list(os.environ):
        if name.upper().startswith("CLONECHATS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_safe() -> None:
    settings = Settings()
    assert settings.data_dir == Path("data")
    assert settings.database_url is None
    assert settings.uses_mongodb is False
    assert settings.runs_jobs_in_server is True
    assert settings.dev_mode is False
    assert settings.secret_key is None
    assert settings.trusted_proxies == []
    assert settings.metrics_token is None


def test_secret_is_generated_once_kept_private_and_stable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Settings(data_dir=data_dir).resolved_secret()

    path = data_dir / SECRET_FILE_NAME
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32

    second = Settings(data_dir=data_dir).resolved_secret()
    assert second == first
    assert path.read_text() == first
    assert Settings(data_dir=data_dir).resolved_secret() == first


def test_each_installation_gets_its_own_secret(tmp_path: Path) -> None:
    one = Settings(data_dir=tmp_path / "one").resolved_secret()
    two = Settings(data_dir=tmp_path / "two").resolved_secret()
    assert one != two


def test_configured_secret_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    configured = "s" * 40
    settings = Settings(data_dir=tmp_path / "data", secret_key=configured)
    assert settings.resolved_secret() == configured
    assert not (tmp_path / "data" / SECRET_FILE_NAME).exists()
    assert configured not in repr(settings)
    assert configured not in str(settings.model_dump())


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_too_short_configured_secret_is_refused(secret: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(data_dir=tmp_path, secret_key=secret)


def test_too_short_secret_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLONECHATS_SECRET_KEY", "changeme")
    with pytest.raises(ValidationError, match="secret_key"):
        Settings()


def test_values_come_from_prefixed_and_nested_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLONECHATS_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("CLONECHATS_DATABASE_URL", "mongodb://db.internal:27017")
    monkeypatch.setenv("CLONECHATS_DEV_MODE", "1")
    monkeypatch.setenv("CLONECHATS_JOBS__MAX_ATTEMPTS", "7")
    monkeypatch.setenv("CLONECHATS_TRUSTED_PROXIES", '["10.0.0.0/8", "127.0.0.1"]')
    settings = Settings()
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.uses_mongodb is True
    assert settings.runs_jobs_in_server is False  # with MongoDB, `clonechats worker` runs jobs
    assert settings.dev_mode is True
    assert settings.jobs.max_attempts == 7
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]


def test_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CLONECHATS_OPERATOR_NAME=Example Personas\n")
    assert Settings().operator_name == "Example Personas"
    assert Settings(_env_file=None).operator_name == "Clone Chats"


@pytest.mark.parametrize("proxy", ["not-an-address", "10.0.0.0/33", "example.org"])
def test_invalid_trusted_proxy_is_refused(proxy: str) -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies=[proxy])


@pytest.mark.parametrize("field, value", [
    ("max_body_bytes", 0), ("max_json_bytes", -1),
])
def test_nonsense_limits_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})


async def test_app_context_uses_the_generated_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", log_json=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        secret = app.state.ctx.secret
    assert secret == (tmp_path / "data" / SECRET_FILE_NAME).read_text()
    assert Settings(data_dir=tmp_path / "data").resolved_secret() == secret
