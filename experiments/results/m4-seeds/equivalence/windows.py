"""Training windows of the M4 Weekly lstm-tuned configuration, as one code version builds them.

Run at the earlier code (commit 353f3c4) and at the current one; compare the two files with
compare_windows.py:

    git worktree add /tmp/old 353f3c4
    PYTHONPATH=/tmp/old python windows.py old old_win.npz     # from /tmp/old
    python windows.py new new_win.npz                          # from the repository root
"""
import sys

import numpy as np

import forecastkit as fk
from forecastkit.data.frames import to_panel
from forecastkit.evaluation.registry import make_model

which, out = sys.argv[1], sys.argv[2]
train, test, info = fk.datasets.load_m4("weekly")
panel = to_panel(train)
m = make_model("lstm", horizon=13, season_length=1, seed=0)
m.set_params(lookback=(104, 78, 156))
if which == "old":
    from forecastkit.data.normalization import WindowNormalizer

    m.lookbacks_ = m._resolved_lookbacks()
    m.log_ = m._use_log(panel)
    m.use_position_ = m._use_position(panel)
    m.deseasonalize_ = m._use_deseasonalize()
    m.window_ = max(m.lookbacks_)
    m.level_window_ = max(1, min(m.season_length, min(m.lookbacks_)))
    config = {"log": m.log_, "level_window": m.level_window_, "season_length": m.season_length,
              "deseasonalize": m.deseasonalize_, "normalize": m.scaler != "none"}
    (z, mask, target, _), _ = m._training_arrays(panel, WindowNormalizer(**config, horizon=13),
                                                 m.early_stopping)
else:
    from forecastkit.forecasters import _rnn_setup as setup

    m.set_params(max_windows=100_000, windows_per_epoch=None)
    setup.resolve_structure(m, panel)
    data = setup.plan_training(m, panel, setup.normalizer(m), None, setup.seed_of(0))
    parts = [(x["z"].numpy(), x["mask"].numpy(), y.numpy())
             for x, y in data.dataset(156, 1000, 0)]
    z, mask, target = (np.concatenate(p) for p in zip(*parts, strict=True))
np.savez_compressed(out, z=z, mask=mask.astype(np.float32), target=target)
print(which, z.shape, mask.shape, target.shape)
