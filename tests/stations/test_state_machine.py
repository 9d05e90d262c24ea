"""The station state machine: every (state, action) pair, legal and illegal."""

from __future__ import annotations

import itertools

import pytest

from bot.services.stations import ACTIONS, TRANSITIONS, StationError, legal_actions, next_state
from storage.models import Station

EXPECTED = {
    ("draft", "submit"): "submitted",
    ("rejected", "submit"): "submitted",
    ("submitted", "county_approve"): "county_approved",
    ("submitted", "county_reject"): "rejected",
    ("county_approved", "city_recognise"): "recognised",
    ("county_approved", "city_send_back"): "rejected",
    ("recognised", "rectify"): "rectifying",
    ("rectifying", "lift"): "recognised",
    ("rectifying", "revoke"): "revoked",
}
ALL_PAIRS = list(itertools.product(Station.STATES, ACTIONS))


def test_table_is_exactly_the_design() -> None:
    assert TRANSITIONS == EXPECTED
    assert set(TRANSITIONS.values()) | {"draft"} == set(Station.STATES)


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_every_pair(state: str, action: str) -> None:
    if (state, action) in EXPECTED:
        assert next_state(state, action) == EXPECTED[(state, action)]
        assert action in legal_actions(state)
    else:
        with pytest.raises(StationError) as caught:
            next_state(state, action)
        assert caught.value.code == "illegal_transition"
        assert caught.value.params == {"state": state, "action": action}
        assert action not in legal_actions(state)


def test_revoked_is_final() -> None:
    assert legal_actions("revoked") == []
