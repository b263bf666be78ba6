"""``contract``: a ready client and emulator handle, once per mode (in-process and served)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import MODES, Contract, open_contract


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def contract(mode: str) -> Iterator[Contract]:
    with open_contract(mode) as ready:
        yield ready
