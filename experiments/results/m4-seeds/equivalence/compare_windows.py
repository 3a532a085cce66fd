"""Whether two window files of windows.py hold the same windows (as sets: row order aside).

    python compare_windows.py old_win.npz new_win.npz
"""
import sys

import numpy as np


def rows(path):
    d = np.load(path)
    a = np.concatenate([d["z"], d["mask"], d["target"]], axis=1).astype(np.float64)
    return a[np.lexsort(a.T[::-1])]


a, b = rows(sys.argv[1]), rows(sys.argv[2])
print("windows", len(a), len(b), "largest difference", np.abs(a - b).max())
