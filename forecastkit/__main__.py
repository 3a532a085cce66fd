"""``python -m forecastkit``: the command line (``forecastkit --help``)."""

import sys

from forecastkit.cli import main

if __name__ == "__main__":  # importing the module (documentation tools do) runs nothing
    sys.exit(main())
