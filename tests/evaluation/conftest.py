import sys
from pathlib import Path

# The dummies module sits beside the tests; subprocesses and workers import it by this path.
sys.path.insert(0, str(Path(__file__).parent))
