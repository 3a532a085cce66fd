"""200 training steps of one member (lookback 156) on the same batches, in either code version.

    python member_steps.py <old|new> old_win.npz <out.npz>

Same seed, same windows (windows.py's file), same batch order: the two versions' initial
weights, losses and final weights can be compared array by array.
"""
import sys

import numpy as np

import forecastkit as fk
from forecastkit.data.frames import to_panel
from forecastkit.evaluation.registry import make_model


def main(which: str, windows: str, out: str) -> None:
    w = np.load(windows)
    z, mask, target = w["z"][:, -156:], w["mask"][:, -156:], w["target"]
    order = np.random.default_rng(0).permutation(len(z))[: 256 * 200]
    m = make_model("lstm", horizon=13, season_length=1, seed=0)
    m.set_params(lookback=(104, 78, 156))
    if which == "old":
        m.lookbacks_ = [156]
        member = m._new_member(m._units(), 156, 1, 0, "member_0")

        def inputs(idx):
            return [z[idx][..., None], mask[idx].astype(bool)]
    else:
        from forecastkit.forecasters import _rnn_setup as setup

        setup.resolve_structure(m, to_panel(fk.datasets.load_m4("weekly")[0]))
        member = setup.new_member(m, 156, 0, "member_0")

        def inputs(idx):
            return {"z": z[idx], "mask": mask[idx]}
    first = member.predict(inputs(order[:512]), verbose=0)
    losses = [float(member.train_on_batch(inputs(order[b * 256:(b + 1) * 256]),
                                          target[order[b * 256:(b + 1) * 256]]))
              for b in range(200)]
    weights = {f"weight_{i}": w for i, w in enumerate(member.get_weights())}
    np.savez(out, first=first, losses=np.array(losses), **weights)


if __name__ == "__main__":
    main(*sys.argv[1:4])
