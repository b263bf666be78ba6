from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator import DEMO_SEED_PATH, Emulator, VirtualClock
from reconciler.emulator.seed import load_document

from .client import Api

#: Parsed once: building an emulator from a mapping skips the YAML parse.
DEMO_DOC: dict[str, Any] = load_document(DEMO_SEED_PATH)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def emu(clock: VirtualClock) -> Emulator:
    return Emulator(clock=clock, seed=DEMO_DOC)


@pytest.fixture
def api(emu: Emulator) -> Api:
    return Api(emu)
