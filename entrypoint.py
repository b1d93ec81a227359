#!/usr/bin/env python3
"""The plugin image's entry (Woodpecker, Drone) and the composite action's: run the CI step."""

import sys
from pathlib import Path

# Run from a checkout too (`python3 entrypoint.py`), where alba_action sits beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from alba_action.action import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
