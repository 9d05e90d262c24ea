"""Stations: apply (/apply), review (/pending), manage (/stations, /station ID).

The feature is split by audience: ``stations_apply`` (future station admins),
``stations_review`` (county and city coordinators), ``stations_manage`` (dynamic
management); ``stations_common`` holds what they share. This module declares the feature.
"""

from __future__ import annotations

from bot import jobs
from bot.handlers import stations_apply, stations_manage, stations_review
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group

FEATURE = Feature(
    name="stations",
    handlers=(
        *in_group(
            COMMAND_GROUP,
            *stations_apply.handlers(),
            *stations_review.handlers(),
            *stations_manage.handlers(),
        ),
    ),
    flows={**stations_apply.FLOWS, **stations_review.FLOWS},
    commands=(*stations_apply.COMMANDS, *stations_review.COMMANDS, *stations_manage.COMMANDS),
    jobs=(jobs.REMINDERS,),
)
