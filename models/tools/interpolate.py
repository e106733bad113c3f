"""Weight-space interpolation of a fine-tuned checkpoint with its starting point (WiSE-FT, Wortsman et al., CVPR 2022).

    /usr/bin/python3 models/tools/interpolate.py INIT.pt FINETUNED.pt ALPHA OUT_DIR

Writes OUT_DIR/best.pt with theta = (1 - ALPHA) * theta_init + ALPHA * theta_finetuned for every tensor of the
model, and copies FINETUNED's config.json beside it (export_release.py reads the manifest from there). ALPHA 1 is the
fine-tuned model, 0 the starting point. Both checkpoints must hold the same architecture ({"model": state_dict}).
"""
import json
import os
import shutil
import sys

import torch


def interpolate(init, ft, alpha):
    if set(init) != set(ft):
        raise SystemExit("checkpoints differ in tensors: %s" % sorted(set(init) ^ set(ft))[:5])
    out = {}
    for k, v in ft.items():
        if v.shape != init[k].shape:
            raise SystemExit("%s: shape %s vs %s" % (k, tuple(init[k].shape), tuple(v.shape)))
        out[k] = (1.0 - alpha) * init[k] + alpha * v if v.is_floating_point() else v
    return out


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    init_path, ft_path, alpha, out_dir = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    if not 0.0 <= alpha <= 1.0:
        raise SystemExit("ALPHA must be in [0, 1]")
    init = torch.load(init_path, map_location="cpu")["model"]
    ft = torch.load(ft_path, map_location="cpu")["model"]
    os.makedirs(out_dir, exist_ok=True)
    torch.save({"model": interpolate(init, ft, alpha), "interpolated": {
        "init": init_path, "finetuned": ft_path, "alpha": alpha}}, os.path.join(out_dir, "best.pt"))
    cfg = os.path.join(os.path.dirname(ft_path), "config.json")
    if os.path.exists(cfg):
        shutil.copyfile(cfg, os.path.join(out_dir, "config.json"))
    print(json.dumps({"out": os.path.join(out_dir, "best.pt"), "alpha": alpha}))


if __name__ == "__main__":
    main()
