"""The command line in the configured language: argparse's own words, config errors, roles.

argparse looks its strings ("usage: ", "options", "the following arguments are required:
%s"…) up through the module-level ``argparse._`` and ``argparse.ngettext`` each time it
builds a parser, formats help or reports an error. ``LocalisedParser`` points them at our
catalogue only while one of its own methods runs, so its help and errors are translated
with argparse's own message ids and nothing else in the process is affected.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from bot.config import ConfigError
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator

# argparse's own strings (Python 3.11–3.13), so the extractor finds them and the catalogue
# must translate each.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("%(prog)s: error: %(message)s\n"),
)
# The fixed messages of bot/config.py's validators (pydantic wraps them as value errors).
CONFIG_VALUE_MESSAGES = (
    N_("must start with '/'"),
    N_("must be 1-256 characters of A-Z, a-z, 0-9, '_' or '-'"),
    N_("must start with 'sqlite+aiosqlite://' or 'postgresql+asyncpg://'"),
    N_("must be an http:// or https:// URL"),
    N_("is not a valid JSON list"),
)
# What each kind of configuration problem is called; {…} come from ConfigError.params.
CONFIG_PROBLEMS: dict[str, str] = {
    "missing": N_("required"),
    "extra_forbidden": N_("unknown key"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "bool_parsing": N_("must be true or false"),
    "time_parsing": N_("must be a time such as 09:30"),
    "string_type": N_("must be text in quotes"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be greater than {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "less_than": N_("must be less than {lt}"),
    "literal_error": N_("must be one of {expected}"),
    "token_required": N_("required (get one from @BotFather)"),
    "webhook_required": N_("required in webhook mode"),
}
# Role names as a person reads them (stored role → words).
ROLE_NAMES: dict[str, str] = {
    "admin": N_("system administrator"),
    "curator": N_("content curator"),
    "coordinator": N_("coordinator"),
    "station_admin": N_("station admin"),
    "station-admin": N_("station admin"),
}
COORDINATOR_NAMES: dict[str, str] = {
    "county": N_("county coordinator"),
    "city": N_("city coordinator"),
    "province": N_("province coordinator"),
}
LOCALE_ENV = "KEPUBOT_I18N__DEFAULT_LOCALE"


@contextmanager
def argparse_speaks(t: Translator) -> Iterator[None]:
    """Let argparse look its strings up in our catalogue while the block runs."""
    catalogue = t.catalogue()
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = catalogue.gettext  # type: ignore[attr-defined]
    argparse.ngettext = catalogue.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class ArgValueError(argparse.ArgumentTypeError):
    """A bad argument value: ``message`` (marked N_) with ``params``, translated on parse."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


def _localised_type(t: Translator, convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap an argument type so its ArgValueError speaks the language of ``t``."""

    def localised(value: str) -> Any:
        try:
            return convert(value)
        except ArgValueError as exc:
            raise argparse.ArgumentTypeError(t(exc.message, **exc.params)) from exc
        except ValueError as exc:
            # Plain int/float arguments: say it in words, not "invalid int value".
            if convert is int:
                message = t("not a whole number: {value!r}", value=value)
            elif convert is float:
                message = t("not a number: {value!r}", value=value)
            else:
                raise
            raise argparse.ArgumentTypeError(message) from exc

    # argparse names the type in "invalid %(type)s value" by its __name__.
    localised.__name__ = getattr(convert, "__name__", repr(convert))
    return localised


def _translated(t: Translator, options: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Return ``options`` with the texts under ``keys`` translated (they are marked N_)."""
    return {
        key: t(value) if key in keys and isinstance(value, str) and value else value
        for key, value in options.items()
    }


def _speaking(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: LocalisedParser, *args: Any, **kwargs: Any) -> Any:
        with argparse_speaks(self.t):
            return method(self, *args, **kwargs)

    wrapper.__doc__ = method.__doc__
    return wrapper


class LocalisedParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words come from the catalogue of ``t``.

    Subcommand parsers are built with the same class and translator (``add_subparsers``
    passes its ``parser_class``, and ``add_parser`` passes ``t`` on).
    """

    def __init__(self, *args: Any, t: Translator, **kwargs: Any) -> None:
        self.t = t
        with argparse_speaks(t):
            super().__init__(*args, **_translated(t, kwargs, "description", "epilog"))

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:  # type: ignore[type-arg]
        """Add subcommands whose parsers speak the same language."""
        with argparse_speaks(self.t):
            action = super().add_subparsers(**kwargs)
        add_parser = action.add_parser

        def add_localised(name: str, **options: Any) -> argparse.ArgumentParser:
            return add_parser(name, t=self.t, **_translated(self.t, options, "help"))

        action.add_parser = add_localised  # type: ignore[method-assign]
        return action

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """Add an argument; its help (marked with ``N_``) is translated here."""
        options = _translated(self.t, kwargs, "help")
        if callable(options.get("type")):
            options["type"] = _localised_type(self.t, options["type"])
        with argparse_speaks(self.t):
            return super().add_argument(*args, **options)

    parse_args = _speaking(argparse.ArgumentParser.parse_args)  # type: ignore[assignment]
    parse_known_args = _speaking(argparse.ArgumentParser.parse_known_args)  # type: ignore[assignment]
    format_usage = _speaking(argparse.ArgumentParser.format_usage)  # type: ignore[assignment]

    def format_help(self) -> str:
        """Return the help text; Chinese section headings end in a full-width colon."""
        with argparse_speaks(self.t):
            text = super().format_help()
        for group in self._action_groups:
            title = group.title or ""
            if title and not title.isascii():
                text = text.replace(f"\n{title}:\n", f"\n{title}：\n")
        return text

    def error(self, message: str) -> NoReturn:
        """Print the usage and the error in the parser's language, exit 2."""
        with argparse_speaks(self.t):
            super().error(message)


def pick_locale(
    argv: Sequence[str], load: Callable[[str | None], Any]
) -> tuple[str, Any, ConfigError | None]:
    """Return the CLI's language, the settings (or None) and the config error (or None).

    ``--lang`` wins; then ``i18n.default_locale`` of the settings; when the settings cannot
    be loaded, ``$KEPUBOT_I18N__DEFAULT_LOCALE`` if valid, else zh_CN — so ``--help`` and
    the config error itself work with a missing or broken config file.
    """
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("--lang")
    known, _rest = pre.parse_known_args(list(argv))
    settings: Any = None
    error: ConfigError | None = None
    try:
        settings = load(known.config)
    except ConfigError as exc:
        error = exc
    if known.lang in SUPPORTED_LOCALES:
        return known.lang, settings, error
    if settings is not None:
        return str(settings.i18n.default_locale), settings, error
    env = os.environ.get(LOCALE_ENV, "")
    return (env if env in SUPPORTED_LOCALES else DEFAULT_LOCALE), settings, error


def config_error_text(exc: ConfigError, t: Translator) -> str:
    """Return a configuration error as one line in the language of ``t``."""
    params = exc.params
    if exc.kind == "file_not_found":
        return t("config error: file not found: {file}", file=exc.key)
    if exc.kind == "unreadable":
        return t("config error: cannot read {file}: {error}", file=exc.key, error=params["error"])
    if exc.kind == "bad_toml":
        return t(
            "config error: {file} is not valid TOML: {error}", file=exc.key, error=params["error"]
        )
    if exc.kind == "value_error":
        detail = str(params.get("error", ""))
        problem = (
            t(detail)
            if detail in CONFIG_VALUE_MESSAGES
            else t("invalid value ({detail})", detail=detail)
        )
    elif exc.kind in CONFIG_PROBLEMS:
        template = t(CONFIG_PROBLEMS[exc.kind])
        values = {
            name: t.number(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else value
            for name, value in params.items()
        }
        try:
            problem = template.format(**values)
        except (KeyError, IndexError):
            problem = template
    else:
        problem = str(params.get("message") or exc)
    if not exc.key:
        return t("config error: {problem}", problem=problem)
    return t("config error: {key}: {problem}", key=exc.key, problem=problem)


def role_name(role: str, t: Translator) -> str:
    """Return a role as a person reads it."""
    return t(ROLE_NAMES[role]) if role in ROLE_NAMES else role
