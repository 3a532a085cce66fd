"""``python -m forecastkit``: the command line (``forecastkit --help``)."""

import sys

from forecastkit.cli import main

sys.exit(main())
