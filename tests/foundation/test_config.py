"""Settings: file, environment, errors that name the key."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, require_token

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_loads_and_documents_every_key() -> None:
    example = ROOT / "config.example.toml"
    settings = load_settings(example)
    assert settings.scheduler.timezone == "Asia/Shanghai"
    assert settings.i18n.default_locale == "zh_CN"
    text = example.read_text(encoding="utf-8")
    for section, model in settings.model_dump().items():
        assert f"[{section}]" in text
        for key in model:
            line = next(
                (ln for ln in text.splitlines() if ln.lstrip("# ").startswith(f"{key} =")), None
            )
            assert line is not None, f"{section}.{key} missing from config.example.toml"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[web]\nport = 9000\nhost = "0.0.0.0"\n[telegram]\ntoken = "file"\n')
    monkeypatch.setenv("KEPUBOT_WEB__PORT", "9100")
    monkeypatch.setenv("KEPUBOT_TELEGRAM__TOKEN", "from-env")
    settings = load_settings(cfg)
    assert settings.web.port == 9100
    assert settings.web.host == "0.0.0.0"  # untouched keys survive the override
    assert require_token(settings) == "from-env"


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[scheduler]\npush_time = "08:15"\n')
    monkeypatch.setenv("KEPUBOT_CONFIG", str(cfg))
    assert load_settings().scheduler.push_time == dt.time(8, 15)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[web]\nport = 'x'\n", "config error: web.port:"),
        ("[web]\nfoo = 1\n", "config error: web.foo: unknown key"),
        ("[scheduler]\ntimezone = 'Mars/Base'\n", "config error: scheduler.timezone:"),
        ("[database]\nurl = 'mysql://x'\n", "config error: database.url:"),
        ("[telegram]\nmode = 'carrier-pigeon'\n", "config error: telegram.mode:"),
        ("[telegram]\nwebhook_secret = 'has spaces'\n", "config error: telegram.webhook_secret:"),
        ("[web\n", "is not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, toml: str, expected: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_token_required_to_run_and_webhook_needs_url_and_secret() -> None:
    with pytest.raises(ConfigError, match="telegram.token"):
        require_token(load_settings(None))
    settings = load_settings(None, telegram={"token": "1:a", "mode": "webhook"})
    with pytest.raises(ConfigError, match="telegram.webhook_url"):
        require_token(settings)
    settings = load_settings(
        None, telegram={"token": "1:a", "mode": "webhook", "webhook_url": "https://x/y"}
    )
    with pytest.raises(ConfigError, match="telegram.webhook_secret"):
        require_token(settings)


def test_cli_config_error_exits_2_without_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[limits]\nglobal_per_second = -1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(cfg), "db", "current"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "配置错误：limits.global_per_second：必须大于 0"
    assert "Traceback" not in proc.stderr


def test_cli_grant_errors_are_localised_lines(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    env = {"KEPUBOT_DATABASE__URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "bot"]
    subprocess.run(
        [*run, "db", "upgrade"], env=env, cwd=ROOT, check=True, timeout=60, capture_output=True
    )
    proc = subprocess.run(
        [
            *run,
            "admin",
            "grant",
            "--telegram-id",
            "5",
            "--role",
            "coordinator",
            "--region",
            "999999",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "尚未导入任何地区，因此不认识地区代码“999999”。请先运行：kepubot regions import 文件.csv"
        "（示例数据：bot/data/regions_sample.csv）"
    )
    missing = subprocess.run(
        [*run, "admin", "grant", "--telegram-id", "5", "--role", "coordinator"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "--region" in missing.stderr
    ok = subprocess.run(
        [*run, "--lang", "en", "admin", "grant", "--telegram-id", "5", "--role", "admin"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and ok.stdout.strip() == (
        "Granted system administrator to 5 (scope: everywhere)."
    )
