"""Fixtures of the originals tests: the push tests' bot on real time (``push_bot``)."""

from tests.content_push.conftest import push_bot, running_clock  # noqa: F401 - fixtures
