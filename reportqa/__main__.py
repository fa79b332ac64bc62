"""``python -m reportqa ...``: the same as the ``reportqa`` console script."""

import sys

from reportqa.cli import main

sys.exit(main())
