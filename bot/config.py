"""Settings: one pydantic model per TOML section, overridable from the environment.

Precedence, highest first: ``KEPUBOT_SECTION__KEY`` environment variables, the TOML file
(``--config PATH`` or ``KEPUBOT_CONFIG``), the defaults below.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "KEPUBOT_"
CONFIG_ENV = "KEPUBOT_CONFIG"


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the key.

    ``key`` is the dotted key (or the file), ``kind`` the problem (a pydantic error type
    or ``file_not_found``, ``unreadable``, ``bad_toml``, ``required``) and ``params`` its
    values, so the command line can say it in the configured language.
    """

    def __init__(
        self, message: str, *, key: str = "", kind: str = "", params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.key = key
        self.kind = kind
        self.params = params or {}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelegramSettings(_Section):
    """How to reach the Bot API and receive updates."""

    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: int = Field(default=30, ge=0, le=50)
    webhook_url: str | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None
    bot_username: str | None = None

    @field_validator("webhook_path")
    @classmethod
    def _path_starts_with_slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if value is None:
            return value
        raw = value.get_secret_value()
        if not (1 <= len(raw) <= 256) or not all(c.isalnum() or c in "_-" for c in raw):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, '_' or '-'")
        return value


class DatabaseSettings(_Section):
    """Where data lives: SQLite by default, PostgreSQL for scale."""

    url: str = "sqlite+aiosqlite:///var/kepubot.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _supported_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with 'sqlite+aiosqlite://' or 'postgresql+asyncpg://'")
        return value


class WebSettings(_Section):
    """The aiohttp server: webhook, tracked links, health."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_base_url: str = "http://127.0.0.1:8080"
    # NoDecode: the validator below reads the environment's string itself.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("public_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_env_list(cls, value: object) -> object:
        # From the environment: a JSON list, or entries separated by commas.
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError("is not a valid JSON list") from exc
        return [part for part in value.split(",") if part.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _ip_networks(cls, value: list[str]) -> list[str]:
        networks: list[str] = []
        for entry in value:
            try:
                # strict=False: "10.0.0.1/8" means 10.0.0.0/8, as most configs intend.
                networks.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from exc
        return networks

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Return ``trusted_proxies`` as parsed networks."""
        return tuple(ipaddress.ip_network(entry) for entry in self.trusted_proxies)


class SchedulerSettings(_Section):
    """When jobs run; all times are in ``timezone``."""

    enabled: bool = True
    timezone: str = "Asia/Shanghai"
    push_time: dt.time = dt.time(9, 30)
    tally_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    tally_time: dt.time = dt.time(1, 0)
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_time: dt.time = dt.time(9, 0)
    reminders_time: dt.time = dt.time(10, 0)
    evaluation_month: int = Field(default=1, ge=1, le=12)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """Return the configured zone."""
        return ZoneInfo(self.timezone)


class I18nSettings(_Section):
    """Languages."""

    default_locale: Literal["zh_CN", "en"] = "zh_CN"


class LimitsSettings(_Section):
    """Telegram's send limits and our own safety bounds."""

    global_per_second: float = Field(default=30.0, gt=0)
    per_chat_per_second: float = Field(default=1.0, gt=0)
    per_group_per_minute: float = Field(default=20.0, gt=0)
    flood_window_seconds: float = Field(default=1.0, gt=0, le=60)
    max_retries: int = Field(default=3, ge=0)
    inbox_max_attempts: int = Field(default=5, ge=1)
    inbox_batch_size: int = Field(default=100, ge=1, le=10_000)
    # Unsent replies one chat may have before further replies are dropped (with one notice
    # a minute): a user writing faster than Telegram lets the bot answer is throttled.
    reply_backlog: int = Field(default=8, ge=1)
    # --- one shared cap across processes (docs/reach.md) ---
    # True: the overall cap (a window of send slots) and the paid and per-chat limits
    # (token buckets) are in PostgreSQL, shared by every process on the database; False:
    # each process paces itself; unset: shared on PostgreSQL, in-process on SQLite.
    shared: bool | None = None
    # The shared paid and group buckets refill at this share of their rate and hold the
    # rest as a burst, so in any window they let through at most the limit (buckets do not
    # track answer times as the windows do; the burst absorbs processes busy elsewhere).
    shared_headroom: float = Field(default=0.9, gt=0, lt=1)


class BroadcastSettings(_Section):
    """Paid broadcasts: faster pushes paid in Telegram Stars (docs/reach.md)."""

    # Offer paid broadcasts on a push; the bot must have them enabled in @BotFather.
    enabled: bool = False
    # Telegram's paid rate: messages per second in all, free and paid together.
    paid_per_second: float = Field(default=1000.0, gt=0)
    # What Telegram takes for each message sent with allow_paid_broadcast.
    stars_per_message: float = Field(default=0.1, gt=0)
    # The most one push may spend; the curator's confirmation shows the estimate against it.
    stars_budget: float = Field(default=1000.0, ge=0)
    # Opt the daily push into paid broadcasts too (each item's push gets stars_budget).
    daily_push_paid: bool = False


class PrivacySettings(_Section):
    """How long raw transport data about people is kept (see docs/informants.md)."""

    # Handled raw updates (inbox_update rows marked done) are deleted after this many days.
    processed_update_days: int = Field(default=7, ge=1)
    # Updates parked after repeated failures are kept this long for inspection, then deleted.
    parked_update_days: int = Field(default=30, ge=1)
    # Replies and notices the bot sent (outbox rows of kind api/message) are deleted after
    # this many days: the outbox is a queue, not an archive of conversations.
    sent_message_days: int = Field(default=7, ge=1)

    @property
    def processed_update_retention(self) -> dt.timedelta:
        """Return how long handled raw updates are kept."""
        return dt.timedelta(days=self.processed_update_days)

    @property
    def parked_update_retention(self) -> dt.timedelta:
        """Return how long parked raw updates are kept."""
        return dt.timedelta(days=self.parked_update_days)


class ConversationsSettings(_Section):
    """Steps that wait for typed input (see docs/architecture.md, "Modes never trap")."""

    # A step left unanswered this long ends: the next message is handled as if no step
    # waited, with a short note that the step timed out.
    timeout_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)

    @property
    def timeout(self) -> dt.timedelta:
        """Return how long a step waits for an answer."""
        return dt.timedelta(minutes=self.timeout_minutes)


class StationsSettings(_Section):
    """Station applications and the formalism alarm."""

    burst_window_hours: int = Field(default=24, ge=1)
    burst_threshold: int = Field(default=5, ge=2)
    rectify_reminder_days: int = Field(default=3, ge=0)
    # Review reminders (docs/stations.md "Review reminders"): the reviewers are reminded once
    # an application has waited review_reminder_days at its stage; the level above is told
    # once it has waited review_escalate_days (must be later than the reminder).
    review_reminder_days: int = Field(default=5, ge=1)
    review_escalate_days: int = Field(default=10, ge=2)

    @field_validator("review_escalate_days")
    @classmethod
    def _escalate_after_reminder(cls, value: int, info: Any) -> int:
        if value <= info.data.get("review_reminder_days", 0):
            raise ValueError("review_escalate_days must be greater than review_reminder_days")
        return value

    # How long a one-time co-admin invite link works, in hours.
    coadmin_invite_hours: int = Field(default=72, ge=1, le=720)


class ActivitiesSettings(_Section):
    """Rules for registering activities."""

    max_age_days: int = Field(default=30, ge=1)
    edit_days: int = Field(default=7, ge=0)
    participants_flag_above: int = Field(default=500, ge=1)


class PropagationSettings(_Section):
    """Weights of the propagation volume formula (see bot/core/propagation.py)."""

    w_shares: float = Field(default=1.0, ge=0)
    w_telegram_reach: float = Field(default=1.0, ge=0)
    w_reported_reach: float = Field(default=0.5, ge=0)
    w_visits: float = Field(default=1.0, ge=0)


class SharesSettings(_Section):
    """Anti-inflation rules for shares."""

    max_reported_audience: int = Field(default=500, ge=1)
    max_shares_per_hour: int = Field(default=60, ge=1)
    visit_salt_rotation_hours: int = Field(default=24, ge=1)
    # Links one address may count visits on per day (each link once per address per day).
    visits_per_address_per_day: int = Field(default=20, ge=1)


class EvaluationSettings(_Section):
    """The annual evaluation (see docs/evaluation.md)."""

    w_volume: float = Field(default=0.5, ge=0)
    w_activities: float = Field(default=0.3, ge=0)
    w_content_use: float = Field(default=0.2, ge=0)
    commend_share: float = Field(default=0.10, ge=0, le=1)
    eliminate_count: int = Field(default=1, ge=0)
    inactive_days: int = Field(default=90, ge=1)
    bottom_share: float = Field(default=0.20, ge=0, le=1)
    revoke_min_flags: int = Field(default=1, ge=1)
    rectify_days: int = Field(default=60, ge=1)
    outstanding_top: int = Field(default=10, ge=1)
    reported_reach_alert: int = Field(default=1000, ge=1)


class IntegritySettings(_Section):
    """Automatic integrity findings (疑点): thresholds of each rule (docs/integrity.md)."""

    # Photos whose 64-bit perceptual hashes (pHash) differ in at most this many bits are
    # the same picture (re-upload, resized copy); re-shots of one board measured ≥ 22.
    photo_hash_distance: int = Field(default=10, ge=0, le=32)
    # Seconds between two passes of the photo hasher (downloads photos not hashed yet).
    photo_hash_seconds: float = Field(default=30.0, gt=0)
    photo_hash_batch: int = Field(default=50, ge=1)
    # Wording that suggests a commercial activity (matched in the title and place).
    commercial_words: list[str] = Field(
        default_factory=lambda: (
            "保健品 推销 理财 会销 促销 销售 团购 带货 返利 投资 传销 产品体验 免费领".split()
        )
    )
    health_claims: list[str] = Field(
        default_factory=lambda: (
            "包治 根治 治愈 抗癌 降三高 降血压 降血糖 延年益寿 神药 特效 排毒 祖传秘方".split()
        )
    )
    # A word shortly after one of these (防范保健品诈骗, 谨防降血压神药) is a warning, not a sale.
    commercial_exempt_before: list[str] = Field(
        default_factory=lambda: "防范 谨防 识别 警惕 远离 揭秘 打击 拒绝 识破 防".split()
    )
    # The daily sweep raises findings for reported audiences without visits and paper
    # stations over the last ``sweep_days``; a decided finding is not raised again for
    # the same subject within ``decided_quiet_days``.
    sweep_days: int = Field(default=30, ge=1)
    sweep_time: dt.time = dt.time(6, 0)  # local time (scheduler.timezone) of the daily sweep
    decided_quiet_days: int = Field(default=90, ge=0)


# --- feeds: subscribed RSS/Atom feeds polled on a schedule (docs/feeds.md) ---------------
FEED_POLL_MINUTES = (5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)


class FeedSettings(_Section):
    """One subscribed feed (``[[content.feeds]]``)."""

    url: str
    name: str = Field(min_length=1, max_length=128)
    category: str = Field(min_length=1, max_length=32)
    kind: str = Field(default="article", max_length=16)
    # True: new entries are published (and pushed by the daily push) without a curator.
    auto_publish: bool = False
    regions: list[str] = Field(default_factory=list)  # 6-digit codes; empty = everywhere

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL")
        return value


class ContentSettings(_Section):
    """The scheduled daily push and the outbox sender."""

    daily_push_items: int = Field(default=3, ge=1)
    daily_push_lookback_days: int = Field(default=7, ge=1)
    # Who the daily push reaches: informants' private messages, the linked channels within
    # each item's regions (docs/channels.md), or both.
    daily_push_to: Literal["informants", "channels", "both"] = "informants"
    sender_concurrency: int = Field(default=2, ge=1, le=16)
    # Two-step publishing (content_edit): a second curator approves before any push.
    review_before_publish: bool = False
    # --- feeds (docs/feeds.md) ---
    feeds: list[FeedSettings] = Field(default_factory=list)
    feed_poll_minutes: int = 30  # one of FEED_POLL_MINUTES (the poll fires on the clock)
    feed_timeout_seconds: float = Field(default=20.0, gt=0, le=120)

    @field_validator("feed_poll_minutes")
    @classmethod
    def _poll_minutes(cls, value: int) -> int:
        if value not in FEED_POLL_MINUTES:
            raise ValueError(f"must be one of {', '.join(map(str, FEED_POLL_MINUTES))}")
        return value


class DeskSettings(_Section):
    """The coordinator's desk (Telegram Mini App, docs/desk.md), served under ``/desk/``."""

    enabled: bool = True
    # How old Telegram's signed initData may be (auth_date) before a request is refused.
    init_data_max_age_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # Rows per page of the desk's lists.
    page_size: int = Field(default=50, ge=5, le=500)
    # A station without any activity or share for this many days counts as idle.
    idle_days: int = Field(default=28, ge=1)
    # How long a desk export's one-time download link works, in minutes.
    export_link_minutes: int = Field(default=10, ge=1, le=60)
    # The current week's figures of a region are computed at most this often (seconds);
    # pages say when. 0: on every request.
    live_cache_seconds: int = Field(default=60, ge=0, le=3600)


class CampaignSettings(_Section):
    """One campaign (``[[campaigns]]``): its key, names, dates and regions (docs/campaigns.md).

    ``key`` is the code content and activities are tagged with (a taxonomy campaign code such
    as ``science_day`` gives that campaign this year's dates); ``regions`` are region codes
    (empty: everywhere); ``start`` and ``end`` are local days, both included.
    """

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(default="", max_length=64)
    start: dt.date
    end: dt.date
    regions: list[str] = Field(default_factory=list)

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, value: dt.date, info: Any) -> dt.date:
        start = info.data.get("start")
        if isinstance(start, dt.date) and value < start:
            raise ValueError("a campaign ends on or after its start")
        return value

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (len(code) == 6 and code.isdigit()):
                raise ValueError(f"not a 6-digit region code: {code}")
        return value


class Settings(BaseSettings):
    """All of kepubot's settings."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    i18n: I18nSettings = I18nSettings()
    limits: LimitsSettings = LimitsSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    privacy: PrivacySettings = PrivacySettings()
    conversations: ConversationsSettings = ConversationsSettings()
    stations: StationsSettings = StationsSettings()
    activities: ActivitiesSettings = ActivitiesSettings()
    propagation: PropagationSettings = PropagationSettings()
    shares: SharesSettings = SharesSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    content: ContentSettings = ContentSettings()
    integrity: IntegritySettings = IntegritySettings()
    desk: DeskSettings = DeskSettings()
    # Campaigns with dates and regions ([[campaigns]]; curators add more with /campaigns).
    campaigns: list[CampaignSettings] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file (passed as init kwargs) beats defaults.
        return (env_settings, init_settings)


def _config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    params = {name: value for name, value in (first.get("ctx") or {}).items()}
    if first["type"] == "value_error":
        params = {"error": str(params.get("error", message))}
    params["message"] = message
    return ConfigError(
        f"config error: {key}: {message}", key=key, kind=first["type"], params=params
    )


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or ``$KEPUBOT_CONFIG``), the environment and overrides."""
    path = path or os.environ.get(CONFIG_ENV)
    data: dict[str, Any] = {}
    if path:
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(
                f"config error: file not found: {file}", key=str(file), kind="file_not_found"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"config error: cannot read {file}: {exc}",
                key=str(file),
                kind="unreadable",
                params={"error": str(exc)},
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"config error: {file} is not valid TOML: {exc}",
                key=str(file),
                kind="bad_toml",
                params={"error": str(exc)},
            ) from exc
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise _config_error(exc) from exc


def require_token(settings: Settings) -> str:
    """Return the bot token or raise ConfigError naming the key."""
    token = settings.telegram.token
    if token is None or not token.get_secret_value().strip():
        raise ConfigError(
            "config error: telegram.token: required (get one from @BotFather)",
            key="telegram.token",
            kind="token_required",
        )
    if settings.telegram.mode == "webhook":
        if not settings.telegram.webhook_url:
            raise ConfigError(
                "config error: telegram.webhook_url: required in webhook mode",
                key="telegram.webhook_url",
                kind="webhook_required",
            )
        if settings.telegram.webhook_secret is None:
            raise ConfigError(
                "config error: telegram.webhook_secret: required in webhook mode",
                key="telegram.webhook_secret",
                kind="webhook_required",
            )
    return token.get_secret_value()
