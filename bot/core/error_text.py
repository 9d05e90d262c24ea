"""The text of every domain error code, in one table, and the one function that renders it.

Keys are ``area.code`` (see ``bot.core.errors.DomainError.key``), so two areas may use the
same code with different wording. ``cli.<key>`` holds the wording on the command line where
it differs from the chat. ``line.<code>`` and ``rejection.<code>`` are the fragments of a
CSV line report and of an import's rejected item.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.core.errors import DomainError
from bot.i18n import N_, Translator

log = logging.getLogger(__name__)

UNKNOWN = N_("Sorry, that did not work ({code}).")

MESSAGES: dict[str, str] = {
    # Evaluation runs and decisions (bot.services.evaluation, evaluation_decisions).
    "evaluation.not_allowed": N_(
        "Sorry, this proposal is outside your area or your level does not decide it "
        "(eliminate and revoke are decided by the city)."
    ),
    "evaluation.already_decided": N_("This proposal has already been decided."),
    "evaluation.reason_required": N_("Please give a reason."),
    "evaluation.proposal_not_found": N_("That proposal was not found."),
    "evaluation.illegal_transition": N_("That is not possible now: the station is {state_name}."),
    "evaluation.deadline_not_future": N_("The deadline must be after today."),
    "evaluation.year_not_started": N_("The year {year} has not started yet."),
    "evaluation.findings_open": N_(
        "This commendation waits: {name} has integrity findings awaiting review. "
        "Send /findings to confirm or dismiss them first."
    ),
    # Integrity findings (bot.services.findings).
    "finding.not_allowed": N_(
        "Sorry, this finding is outside your area: only a coordinator of its region decides it."
    ),
    "finding.already_decided": N_("This finding has already been decided."),
    "finding.reason_required": N_("Please give a reason; a decision on a finding needs one."),
    "finding.not_found": N_("That finding was not found."),
    "finding.not_a_decision": N_("That is not a decision on a finding."),
    # Activities (bot.services.activities).
    "activity.type_unknown": N_("Please pick one of the types with the buttons."),
    "activity.title_empty": N_(
        "The title cannot be empty. What was the activity's title or topic?"
    ),
    "activity.title_no_words": N_(
        "A title needs words, not only emoji or punctuation. What was the activity's title "
        "or topic?"
    ),
    "activity.title_too_long": N_(
        "That title is too long (at most {limit} characters). Please send a shorter one."
    ),
    "activity.place_empty": N_("The place cannot be empty. Where was it held?"),
    "activity.place_too_long": N_("That is too long for a place (at most {limit} characters)."),
    "activity.date_in_future": N_(
        "The date is in the future. Activities are registered after they took place — "
        "please send the date it was held."
    ),
    "activity.date_too_old": N_(
        "That date is more than {days} days ago; activities must be registered within "
        "{days} days. Please check the date."
    ),
    "activity.date_unreadable": N_(
        "I could not read a date there. Try 今天, 昨天, 上周五, 11月20日, 11/20 or 2026-11-20."
    ),
    "activity.date_impossible": N_(
        "{written} does not exist. Please check the date and send it again, e.g. 11月20日."
    ),
    "activity.participants_unreadable": N_(
        "Please send the number of participants, e.g. 45, 约80人 or 200人左右."
    ),
    "activity.participants_negative": N_(
        "The number of participants cannot be negative. How many people took part?"
    ),
    "activity.participants_zero": N_("The number of participants must be at least 1."),
    "activity.participants_too_many": N_(
        "That is more than {limit} participants — please check the number."
    ),
    "activity.campaign_unknown": N_("Please pick a campaign with the buttons."),
    "activity.photos_missing": N_("At least one photo of the activity is needed."),
    "activity.photos_too_many": N_("At most {limit} photos per activity, please."),
    "activity.not_station_admin": N_("Only the station's administrators can do that."),
    "activity.station_unknown": N_("That station does not exist any more."),
    "activity.station_closed": N_("This station has been revoked; it cannot register activities."),
    "activity.activity_unknown": N_("That activity no longer exists."),
    "activity.edit_window_over": N_(
        "Activities can be changed only within {days} days of registering them. Ask your "
        "county coordinator if something must be corrected."
    ),
    "activity.incomplete": N_("Something is still missing."),
    # Content used at a station (bot.services.content_use).
    "content_use.not_station_admin": N_("Only the station's administrators can do that."),
    "content_use.place_empty": N_("The place cannot be empty. Where was it held?"),
    "content_use.place_too_long": N_("That is too long for a place (at most {limit} characters)."),
    "content_use.content_unknown": N_("That content item is no longer in the catalogue."),
    "content_use.kind_unknown": N_("Please pick how it was used with the buttons."),
    "content_use.audience_unreadable": N_(
        "Please send how many people saw it, e.g. 80, 约80人 or 两百人左右."
    ),
    "content_use.audience_zero": N_("The number of people must be at least 1."),
    "content_use.audience_negative": N_(
        "The number of people cannot be negative. How many people saw it?"
    ),
    "content_use.audience_too_many": N_(
        "That is more than {limit} people — please check the number."
    ),
    # Stations, applications and reviews (bot.services.stations, review, regions).
    "station.illegal_transition": N_("That is not possible now: the station is {state_name}."),
    "station.not_allowed": N_(
        "Sorry, this station is outside your area or your role does not allow that."
    ),
    "station.not_found": N_("Station #{station_id} was not found."),
    "station.not_editable": N_("This application can no longer be edited: it is {state_name}."),
    "station.reason_required": N_("Please give a reason."),
    "station.bad_name": N_(
        "A station name has {min}–{max} characters. Please send the name again."
    ),
    "station.bad_address": N_("Please send the address in one message (up to {max} characters)."),
    "station.bad_venue": N_("Please pick the venue type with the buttons."),
    "station.bad_region_code": N_(
        "“{value}” is not a region code. Send a 6-digit county code such as 330106, or "
        "pick with the buttons."
    ),
    "station.unknown_region": N_(
        "There is no region with code {code}. Check the code, or pick with the buttons."
    ),
    "station.not_county": N_(
        "{code} is {name}, not a county. Pick one of its counties, or send a county code."
    ),
    "station.region_required": N_("Please choose the county first."),
    "station.incomplete": N_("The application is not complete yet. Still missing: {missing}."),
    "station.empty_evidence": N_("Please send a photo or a description."),
    "station.onsite_date_future": N_("The on-site check date cannot be in the future."),
    "station.onsite_inspector_required": N_("Please send the inspector's name."),
    "station.onsite_proof_required": N_(
        "Please send a photo taken on site or share the location."
    ),
    "station.deadline_not_future": N_(
        "The deadline must be after today. Send a date such as 2027-01-31."
    ),
    # Typed counts and dates read by the one parser of each (bot.core.zh_numbers, zh_dates).
    "quantity.empty": N_("Please send a number of people, e.g. 45, 约80人 or 200人左右."),
    "quantity.unreadable": N_(
        "I could not read a number there. Send it like 45, 约80人, 五十 or 200人左右."
    ),
    "quantity.negative": N_("The number cannot be negative."),
    "quantity.zero": N_("The number must be at least {minimum}."),
    "quantity.too_many": N_("That is more than {limit} — please check the number."),
    "date.unreadable": N_(
        "I could not read a date there. Send it like 11月20日, 11/20, 2026年11月20日 or 下周三."
    ),
    "date.impossible": N_("{written} does not exist. Please check the date."),
    "date.past": N_("That time has passed. Please send a time in the future."),
    # Invite links (bot.services.invites).
    "invite.unknown_invite": N_(
        "This invite link is not valid. Ask your station for a new link or scan the QR "
        "code on its notice board."
    ),
    "invite.revoked": N_(
        "This invite link has been withdrawn by its station. Ask the station for its "
        "current link or scan the QR code on its notice board."
    ),
    "invite.expired": N_(
        "This invite link has expired. Ask the station for a new link or scan the QR code"
        " on its notice board."
    ),
    "invite.used_up": N_(
        "This invite link has been used as often as allowed. Ask the station for a new link."
    ),
    "invite.station_closed": N_(
        "{station} is not accepting new informants at the moment. Please ask your local "
        "science association (科协) which station you can join."
    ),
    "invite.unknown_station": N_("That station does not exist."),
    "invite.station_not_open": N_(
        "{station} is not a recognised station yet, so it cannot invite informants."
    ),
    "invite.bad_expiry": N_("--expires-days must be positive."),
    "invite.bad_max_uses": N_("--max-uses must be positive."),
    "invite.already_revoked": N_("The invite link {payload} was already revoked."),
    # Tally and digest requests (bot.services.tally, digest).
    "tally.bad_week": N_("{week} is not a week. Write it like 2026-W48."),
    "tally.week_not_over": N_("Week {week} is not over yet; digests cover finished weeks."),
    "tally.unknown_region": N_("Unknown region code {region}."),
    "tally.not_computed": N_(
        "The figures of week {week} have not been tallied yet (the tally runs every "
        "Monday night); please try again later."
    ),
    "tally.not_your_region": N_("Region {region} is outside the regions you coordinate."),
    "tally.no_region": N_("You coordinate no region. Ask for one with a code: /digest 330106"),
    "tally.usage": N_(
        "I did not understand {arg}. Use /digest, /digest 2026-W48 or /digest 2026-W48 330106."
    ),
    "tally.tally_failed": N_("The tally of week {week} failed; the administrators were told."),
    # Catalogue changes (bot.content.catalogue).
    "catalogue.empty": N_("Please send some text."),
    "catalogue.too_long": N_(
        "That is too long: {length} characters, at most {max}. Please shorten it."
    ),
    "catalogue.bad_url": N_(
        "That is not a web link. Please send a link starting with http:// or https://"
    ),
    "catalogue.url_control": N_(
        "That link contains an invisible control character (copying often brings one "
        "along). Please type or paste the link again."
    ),
    "catalogue.bad_region": N_(
        "“{value}” is not a 6-digit region code. Send codes like 330106, or press “All regions”."
    ),
    "catalogue.bad_category": N_("Unknown category."),
    "catalogue.not_found": N_("This item no longer exists."),
    "catalogue.already_retired": N_("This item is already retired."),
    "catalogue.not_editable": N_("This field cannot be edited."),
    # Pushes (bot.services.push).
    # Channels linked to regions (bot.services.channels, migration channels_1).
    "channel.not_admin": N_(
        "Please make this bot an administrator of the channel first (it needs the right to "
        "post messages), then try again."
    ),
    "channel.cannot_post": N_(
        "The bot is an administrator of the channel but may not post messages: turn on "
        "“Post messages” for it in the channel's administrators, then try again."
    ),
    "channel.not_channel": N_("That is not a channel. Forward a post from the channel itself."),
    "channel.not_found": N_(
        "I cannot see that channel. Make this bot an administrator of the channel first, "
        "then forward a post from it to me."
    ),
    "channel.out_of_scope": N_(
        "Sorry, that region is outside your area: a coordinator links channels only within "
        "their own region."
    ),
    "push.not_found": N_("This item no longer exists."),
    "push.retired": N_("This item is retired; it cannot be pushed."),
    "push.expired": N_("This item has expired; it cannot be pushed."),
    # Shares (bot.services.shares).
    "share.rate_limited": N_(
        "You have recorded {limit} shares in the last hour. Please try again later."
    ),
    "share.bad_audience": N_(
        "Please send about how many people, e.g. 80, 约80人 or 200人左右 (at most {max})."
    ),
    "share.audience_zero": N_("The number of people must be at least 1."),
    "share.audience_negative": N_(
        "The number of people cannot be negative. About how many people will see it?"
    ),
    "share.no_content": N_("That content is no longer available."),
    "share.bad_channel": N_("Sorry, that share could not be recorded."),
    # Informants (bot.services.informants).
    "informant.bad_name": N_(
        "That does not look like a real name. Please send 2–30 Chinese or Latin letters; "
        "a middle dot (·) or spaces between parts are fine, digits and symbols are not."
    ),
    "informant.bad_phone": N_("That phone number looks wrong. Please try the button again."),
    "informant.no_interests": N_("Please choose at least one topic."),
    "informant.last_interest": N_("Keep at least one topic."),
    "informant.bad_quiet_hours": N_("Those hours do not work. Please choose again."),
    "informant.already_registered": N_(
        "You are already registered. Send /me to see your profile."
    ),
    "informant.not_informant": N_(
        "You are not an informant yet. Open your station's invite link to join."
    ),
    "informant.not_in_station": N_("That informant is no longer in the roster."),
    "informant.not_station_admin": N_("Sorry, you are not allowed to do that."),
    "informant.unknown_person": N_("You are not registered with the bot yet. Send /start."),
    "informant.unknown_station": N_("That station does not exist."),
    # Role grants (bot.services.roles).
    "role.unknown_role": N_("Unknown role: {role}."),
    "role.region_required": N_("The role {role} needs --region CODE."),
    "role.unknown_region": N_("Unknown region code {region}. Import regions first."),
    "role.regions_not_imported": N_(
        "No regions are imported yet, so {region} is unknown. "
        "Run first: kepubot regions import FILE.csv"
    ),
    "role.station_required": N_("The role {role} needs --station ID."),
    "role.unknown_station": N_("Unknown station {station_id}."),
    "role.station_not_allowed": N_("The role {role} is not scoped to a station."),
    # Content imports (bot.content.importer; pack_ and feed_ wrap PackError, FeedError).
    "import.not_found": N_("Not found: {path}"),
    "import.bad_category": N_("Unknown category “{value}”. Use one of: {codes}"),
    "import.category_required": N_(
        "A feed needs --category CODE for entries without a matching tag. Codes: {codes}"
    ),
    "import.fetch_status": N_("Could not download {url}: HTTP status {status}"),
    "import.fetch_too_large": N_("{url} is larger than {max} bytes; not imported"),
    "import.pack_not_found": N_("Not found: {path}"),
    "import.pack_no_manifest": N_("{path} has neither pack.toml nor pack.json"),
    "import.pack_ambiguous_manifest": N_("{path} has both pack.toml and pack.json; keep one"),
    "import.pack_unsupported_format": N_("{path} is not a .toml or .json pack manifest"),
    "import.pack_bad_encoding": N_("{path} is not UTF-8 text"),
    "import.pack_bad_toml": N_("The pack manifest is not valid TOML (line {line}): {detail}"),
    "import.pack_bad_json": N_("The pack manifest is not valid JSON (line {line}): {detail}"),
    "import.pack_bad_manifest": N_("The pack manifest is malformed (section “{field}”)"),
    "import.pack_bad_pack_name": N_(
        "Bad pack name “{value}” (lowercase letters, digits, - and _)"
    ),
    "import.feed_fetch_required": N_("Cannot download {url}"),
    "import.feed_fetch_failed": N_("Could not download {url}: {detail}"),
    "import.feed_not_found": N_("Not found: {path}"),
    "import.feed_empty_source": N_("The feed is empty"),
    "import.feed_malformed_feed": N_("The feed is malformed: {detail}"),
    "import.feed_not_a_feed": N_("This is not an RSS or Atom feed"),
    "import.feed_bad_default_category": N_("Unknown category “{value}”"),
    "import.feed_bad_default_kind": N_("Unknown kind “{value}”"),
    # One rejected item of a pack or feed (fragments after “item N (guid):”).
    "rejection.bad_item": N_("the entry is not a table of fields"),
    "rejection.missing_field": N_("“{field}” is missing"),
    "rejection.bad_field": N_("“{field}” has the wrong type ({type})"),
    "rejection.too_long": N_("“{field}” is too long ({length} characters, at most {max})"),
    "rejection.duplicate_guid": N_("the guid repeats item {first}"),
    "rejection.bad_category": N_("unknown category “{value}”"),
    "rejection.bad_kind": N_("unknown kind “{value}” (video, article or poster)"),
    "rejection.bad_campaign": N_("unknown campaign “{value}”"),
    "rejection.bad_url": N_("the link is not an http(s) address: {value}"),
    "rejection.url_control": N_("the link contains an invisible control character: {value}"),
    "rejection.bad_region": N_("“{value}” is not a 6-digit region code"),
    "rejection.bad_date": N_("“{value}” in “{field}” is not a date"),
    "rejection.expires_before_publish": N_("it expires before it is published"),
    "rejection.media_missing": N_("media file “{value}” does not exist"),
    "rejection.media_outside_pack": N_("media file “{value}” is outside the pack"),
    "rejection.bad_media_type": N_("media file “{value}” is not an image or video"),
    # One line of a regions or stations CSV file (fragments after “line N:”).
    "line.empty_file": N_("the file is empty"),
    "line.bad_csv": N_("not valid CSV ({detail})"),
    "line.bad_delimiter": N_("columns are separated by “{delimiter}”; use commas"),
    "line.missing_column": N_("the required column is missing"),
    "line.bad_code": N_("“{value}” is not a 6-digit region code"),
    "line.bad_level": N_("“{value}” is not province, city or county"),
    "line.level_code_mismatch": N_(
        "level “{value}” does not match the code (expected {expected})"
    ),
    "line.empty_name": N_("the name is empty"),
    "line.bad_encoding": N_("“{value}” looks garbled: save the file as UTF-8"),
    "line.name_too_long": N_("the name is longer than {max} characters"),
    "line.duplicate_code": N_("code {value} already appeared on line {first_line}"),
    "line.missing_parent": N_("parent “{parent_code}” is neither in the file nor imported"),
    "line.unexpected_parent": N_("a province has no parent (got {parent_code})"),
    "line.parent_level_mismatch": N_("parent {parent_code} is a {actual}, expected {expected}"),
    "line.code_prefix_mismatch": N_(
        "the code must start with {prefix} like its parent {parent_code}"
    ),
    "line.bad_name": N_("a station name has {min}–{max} characters"),
    "line.bad_address": N_("the address is too long (at most {max} characters)"),
    "line.bad_venue": N_("“{value}” is not a venue type (use one of: {choices})"),
    "line.bad_region_code": N_("“{value}” is not a 6-digit region code"),
    "line.unknown_region": N_("region {code} is not imported (run `kepubot regions import`)"),
    "line.not_county": N_("{code} ({name}) is not a county-level region"),
    "line.region_required": N_("a region code is required"),
    "line.bad_telegram_id": N_("“{value}” is not a Telegram user id"),
    "line.bad_date": N_("“{value}” is not a date (YYYY-MM-DD)"),
    "line.duplicate_row": N_("the same station already appeared on line {first_line}"),
    # On the command line, where the wording differs from the chat.
    "cli.push.not_found": N_("No content item #{content_id}."),
    "cli.push.retired": N_("Item #{content_id} is retired; it cannot be pushed."),
    "cli.push.expired": N_("Item #{content_id} has expired; it cannot be pushed."),
    "cli.invite.unknown_invite": N_("No invite link {payload} for this station."),
    "cli.invite.unknown_station": N_("Unknown station {station_id}."),
    "cli.invite.station_not_open": N_(
        "Station {station} is {status}: only recognised stations accept informants."
    ),
}


class _Blank(dict[str, object]):
    """Fill a placeholder the error did not give with "?" rather than fail."""

    def __missing__(self, key: str) -> str:
        return "?"


def code_text(key: str, params: Mapping[str, Any], t: Translator) -> str:
    """Return the localised text of ``key`` filled with ``params`` (generic if unknown)."""
    msgid = MESSAGES.get(key)
    if msgid is None:
        log.warning("no message for error code %s", key)
        return t(UNKNOWN, code=key)
    values = _Blank({name: value for name, value in params.items() if value is not None})
    return t(msgid).format_map(values)


def error_text(
    error: DomainError,
    t: Translator,
    *,
    cli: bool = False,
    params: Mapping[str, Any] | None = None,
) -> str:
    """Return the localised text of ``error``; ``params`` override or add to its own."""
    key = error.key
    if cli and f"cli.{key}" in MESSAGES:
        key = f"cli.{key}"
    return code_text(key, {"code": error.code, **error.params, **(params or {})}, t)
