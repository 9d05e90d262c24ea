"""The command line speaks the configured language: --help, argparse's errors, config
errors, the un-migrated database, roles with region names, jobs and their results."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.cli.audit_text import ACTION_NAMES, SUBJECT_NAMES, action_text, subject_text
from bot.cli.run import unreachable_host
from bot.i18n import get_translator
from bot.jobs import describe_result
from bot.services.regions import SAMPLE_CSV

ENGLISH_ARGPARSE = ("usage:", "positional arguments", "options:", "show this help message")


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at a fresh SQLite file, with no config file and no locale override."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", url)
    monkeypatch.delenv("KEPUBOT_CONFIG", raising=False)
    monkeypatch.delenv("KEPUBOT_I18N__DEFAULT_LOCALE", raising=False)
    return url


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``kepubot argv`` in-process; return the exit code, stdout and stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # --help and argparse errors exit
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["admin", "grant", "--help"],
        ["jobs", "run", "--help"],
        ["chat", "--help"],
        ["--config", "/no/such/file.toml", "db", "--help"],  # a broken config: still Chinese
    ],
)
def test_help_speaks_chinese(
    fresh_db: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, _err = cli(capsys, *argv)
    assert code == 0
    assert out.startswith("用法：kepubot")
    assert "选项：" in out and "显示本帮助并退出" in out
    assert not any(word in out for word in ENGLISH_ARGPARSE), out


def test_help_follows_lang_and_the_configured_locale(
    fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "--lang", "en", "db", "--help")
    assert code == 0 and out.startswith("usage: kepubot db") and "Database migrations." in out
    cfg = tmp_path / "en.toml"
    cfg.write_text('[i18n]\ndefault_locale = "en"\n')
    code, out, _ = cli(capsys, "--config", str(cfg), "admin", "--help")
    assert code == 0 and "grant, revoke and list roles" in out.lower()


def test_argparse_errors_are_chinese(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = cli(capsys, "admin", "grant")
    assert code == 2
    assert "出错：缺少必需的参数：--telegram-id, --role" in err
    code, _out, err = cli(capsys, "station", "invite", "1", "--expires-days", "x")
    assert code == 2 and "参数 --expires-days：不是整数：'x'" in err
    code, _out, err = cli(capsys, "station", "invite", "x")  # a plain int argument
    assert code == 2 and "参数 ID：不是整数：'x'" in err and "invalid" not in err
    code, _out, err = cli(capsys, "regions", "list", "330100")
    assert code == 2 and "出错：无法识别的参数：330100" in err
    code, _out, err = cli(capsys, "nonsense")
    assert code == 2 and "无效的选项" in err and "invalid choice" not in err


def test_config_errors_are_chinese(
    fresh_db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _out, err = cli(capsys, "--config", str(tmp_path / "nope.toml"), "db", "current")
    assert code == 2 and err.strip() == f"配置错误：找不到文件 {tmp_path / 'nope.toml'}"
    monkeypatch.setenv("KEPUBOT_WEB__PORT", "x")
    code, _out, err = cli(capsys, "db", "current")
    assert code == 2 and err.strip() == "配置错误：web.port：必须是整数"
    monkeypatch.delenv("KEPUBOT_WEB__PORT")
    monkeypatch.setenv("KEPUBOT_LIMITS__GLOBAL_PER_SECOND", "-1")
    code, _out, err = cli(capsys, "db", "current")
    assert err.strip() == "配置错误：limits.global_per_second：必须大于 0"
    monkeypatch.setenv("KEPUBOT_LIMITS__GLOBAL_PER_SECOND", "30")
    monkeypatch.setenv("KEPUBOT_WEB__PUBLIC_BASE_URL", "ftp://x")
    code, _out, err = cli(capsys, "db", "current")
    assert err.strip() == "配置错误：web.public_base_url：必须是 http:// 或 https:// 开头的网址"
    code, _out, err = cli(capsys, "--lang", "en", "db", "current")
    assert err.strip() == "config error: web.public_base_url: must be an http:// or https:// URL"


def test_an_unmigrated_database_says_what_to_run(
    fresh_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _out, err = cli(capsys, "admin", "list")
    assert code == 1
    assert err.strip() == "数据库尚未初始化（还没有任何表）。请先运行：kepubot db upgrade"
    monkeypatch.setenv("KEPUBOT_TELEGRAM__TOKEN", "1:fake")
    monkeypatch.setenv("KEPUBOT_TELEGRAM__BASE_URL", "http://127.0.0.1:9/bot")
    code, _out, err = cli(capsys, "run")
    assert code == 2
    assert "数据库尚未初始化（还没有任何表）。请先运行：kepubot db upgrade" in err
    assert "database is at revision" not in err


def test_roles_read_with_names_and_regions_first(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "db", "upgrade")[0] == 0
    grant = ("admin", "grant", "--telegram-id", "42", "--role", "coordinator", "--region")
    code, _out, err = cli(capsys, *grant, "330106")
    assert code == 2
    assert "尚未导入任何地区" in err and "请先运行：kepubot regions import" in err
    assert cli(capsys, "regions", "import", str(SAMPLE_CSV))[0] == 0
    code, out, _err = cli(capsys, "regions", "list")
    assert code == 0 and "330000\t浙江省\t省级" in out and "province" not in out
    code, out, _err = cli(capsys, *grant, "330106")
    assert code == 0 and out.strip() == "已授予 42 县级科协角色（范围：西湖区）。"
    code, out, _err = cli(capsys, "admin", "grant", "--telegram-id", "7", "--role", "admin")
    assert code == 0 and "已授予 7 系统管理员角色（范围：全部地区）" in out
    code, out, _err = cli(capsys, "admin", "list")
    assert "42\t县级科协\t西湖区（330106）" in out
    assert "7\t系统管理员\t全部地区" in out
    assert "coordinator" not in out and "admin\t" not in out
    cli(
        capsys,
        "station",
        "add",
        "--name",
        "文三路e站",
        "--region",
        "330106",
        "--venue-type",
        "school",
    )
    code, out, _err = cli(capsys, "stations", "list")
    assert code == 0 and "\t西湖区\t" in out and "recognised" not in out
    code, out, _err = cli(capsys, "audit")
    assert code == 0 and "\t命令行\t添加站点\t允许\t站点 #1（文三路e站）\t西湖区\t" in out, out
    assert "cli/system" not in out and "\tok\t" not in out
    assert "station.create" not in out and "station:1" not in out


def test_jobs_list_and_run_speak_chinese(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "db", "upgrade")[0] == 0
    code, out, _err = cli(capsys, "jobs", "list")
    assert code == 0
    assert "向各级科协发送上周周报" in out and "下次运行：2026年" in out and "上次运行：无" in out
    assert "Send each coordinator" not in out
    code, out, _err = cli(capsys, "jobs", "run", "weekly_tally", "--period", "2026-W48")
    assert code == 0, _err
    assert "已完成" in out and "2026年第48周" in out
    assert "stations:" not in out and "week:" not in out and "done" not in out


def test_job_results_are_sentences() -> None:
    t = get_translator("zh_CN")
    text = describe_result(
        "weekly_digest", {"week": "2026-W48", "recipients": 2, "queued": 2, "skipped": 1}, t
    )
    assert text.startswith("2026年第48周")
    assert "周报：收件人 2 位，2 份已排队发送；1 位已收到过，不重复发送" in text
    assert "=" not in text and "recipients" not in text
    tally = describe_result("weekly_tally", {"week": "2026-W48", "stations": 3, "regions": 4}, t)
    assert tally.endswith("）统计：3 个e站，4 个地区汇总")


@pytest.mark.parametrize(
    ("url", "private"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("https://10.1.2.3", True),
        ("https://192.168.1.5", True),
        ("https://172.16.0.1", True),
        ("https://172.31.255.1", True),
        ("https://[::1]:8080", True),
        ("https://[fd12:3456::1]", True),
        ("http://kepubot", True),
        ("https://172.32.0.1", False),
        ("https://8.8.8.8", False),
        ("https://kepubot.example.org", False),
        ("https://[2001:4860::8888]", False),
    ],
)
def test_unreachable_hosts(url: str, private: bool) -> None:
    assert unreachable_host(url) is private


def test_run_warns_about_a_private_public_base_url(
    fresh_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEPUBOT_TELEGRAM__TOKEN", "1:fake")
    code, _out, err = cli(capsys, "run")  # the default public_base_url is 127.0.0.1
    assert code == 2  # then refuses the un-migrated database
    assert "警告：web.public_base_url 是 http://127.0.0.1:8080" in err
    assert '"url": "http://127.0.0.1:8080"' in err  # the JSON log line
    monkeypatch.setenv("KEPUBOT_WEB__PUBLIC_BASE_URL", "https://kepubot.example.org")
    code, _out, err = cli(capsys, "run")
    assert "public_base_url" not in err


def test_audit_names_actions_and_subjects_in_words() -> None:
    t = get_translator("zh_CN")
    untranslated = [code for code, msgid in {**ACTION_NAMES, **SUBJECT_NAMES}.items()
                    if t(msgid, id=1) == msgid.format(id=1)]  # fmt: skip
    assert untranslated == []
    assert action_text(t, "finding.confirm") == "确认疑点"
    assert action_text(t, "finding.raise.photo_reuse") == "提出疑点：照片重复使用"
    assert action_text(t, "flag.application_burst").startswith("提出疑点：")
    assert action_text(t, "command.me") == "命令 /me"
    assert action_text(t, "something.new") == "something.new"  # unknown: the code itself
    assert subject_text(t, "integrity_flag", 7) == "疑点 #7"
    assert subject_text(t, "station", 1, "文三路e站") == "站点 #1（文三路e站）"
    assert subject_text(t, "command", None) == "-"
    assert subject_text(t, "gadget", 3) == "gadget:3"
    assert action_text(get_translator("en"), "station.create") == "added a station"
