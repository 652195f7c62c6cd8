#!/usr/bin/python3
"""Checks agentd's engine against the training code on an exported checkpoint: the logits and
MTP logits of `agentctl engine logits` versus this package's own forward pass (float32, on the
same bf16-rounded weights). Prints the relative errors and exits 1 above the bar (1e-3).

    /usr/bin/python3 engine/train/check_parity.py --model var/train/model --agentctl build/bin/agentctl
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from model import DeepseekV3  # noqa: E402

BAR = 1e-3


def load_exported(model_dir):
    """The exported bf16 tensors as float32, mapped back to the training module's names."""
    path = os.path.join(model_dir, "model.safetensors")
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        base = 8 + n
        raw = f.read()
    config = json.load(open(os.path.join(model_dir, "config.json")))
    layers = config["num_hidden_layers"]
    state = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        bits = np.frombuffer(raw[start:end], dtype=np.uint16).astype(np.uint32) << 16
        tensor = torch.from_numpy(bits.view(np.float32).copy()).reshape(meta["shape"])
        mtp_prefix = "model.layers.%d." % layers
        if name.startswith(mtp_prefix):
            rest = name[len(mtp_prefix):]
            if rest in ("embed_tokens.weight", "shared_head.head.weight"):
                continue  # copies of the shared embedding and head
            rest = "norm.weight" if rest == "shared_head.norm.weight" else rest
            key = "mtp." + rest if rest.split(".")[0] in ("enorm", "hnorm", "eh_proj", "norm") else "mtp.block." + rest
        elif name.startswith("model."):
            key = name[len("model."):]
        else:
            key = name
        state[key] = tensor
    if config.get("tie_word_embeddings") and "lm_head.weight" not in state:
        state["lm_head.weight"] = state["embed_tokens.weight"]
    model = DeepseekV3(config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing]:
        raise SystemExit("checkpoint does not match the training module: missing %s unexpected %s" % (missing, unexpected))
    return model.eval(), config


def relative_error(ours, ref):
    return float(np.linalg.norm(ours - ref) / np.linalg.norm(ref))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--agentctl", default="build/bin/agentctl")
    parser.add_argument("--text", default="<｜begin▁of▁sentence｜>DeepSeek-V3 的装机量在 2023 年增长了 35%。The report cites [2] and [3].")
    args = parser.parse_args()
    model, config = load_exported(args.model)
    tok = bpe.load(args.model)
    ids = tok.encode(args.text)
    with torch.no_grad():
        logits, mtp = model(torch.tensor([ids]), with_mtp=True)
    ref, ref_mtp = logits[0].numpy(), mtp[0].numpy()
    with tempfile.TemporaryDirectory() as tmp:
        out, mtp_out = os.path.join(tmp, "logits.f32"), os.path.join(tmp, "mtp.f32")
        subprocess.run([args.agentctl, "engine", "logits", "--model", args.model, "--ids", ",".join(map(str, ids)),
                        "--out", out, "--mtp-out", mtp_out], check=True, capture_output=True)
        ours = np.fromfile(out, dtype=np.float32).reshape(ref.shape)
        ours_mtp = np.fromfile(mtp_out, dtype=np.float32).reshape(ref_mtp.shape)
    err, err_mtp = relative_error(ours, ref), relative_error(ours_mtp, ref_mtp)
    same_argmax = float((ours.argmax(-1) == ref.argmax(-1)).mean())
    print(json.dumps({"tokens": len(ids), "logits_rel_err": err, "mtp_rel_err": err_mtp, "argmax_agreement": same_argmax}))
    sys.exit(0 if err < BAR and err_mtp < BAR else 1)


if __name__ == "__main__":
    main()
