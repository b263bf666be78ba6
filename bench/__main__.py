"""``python -m bench``: every scale figure from one run (:mod:`bench.all`)."""

from __future__ import annotations

import sys

from bench.all import main

sys.exit(main())
