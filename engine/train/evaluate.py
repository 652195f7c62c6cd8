#!/usr/bin/python3
"""Held-out figures of an exported checkpoint: perplexity on documents and on task replies (the
same held-out split train.py set aside, rebuilt from the seed), and the MTP layer's acceptance
rate as a one-token greedy draft: how often its prediction for position i+2 equals the main
model's greedy choice there.

    /usr/bin/python3 engine/train/evaluate.py --model engine/models/agentd-default --corpus var/train/corpus
"""

import argparse
import json
import math
import os
import random
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from check_parity import load_exported  # noqa: E402
from train import PRESETS, Data  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--max-windows", type=int, default=64)
    args = parser.parse_args()
    report = json.load(open(os.path.join(args.model, "training.json")))
    model, config = load_exported(args.model)
    tok = bpe.load(args.model)
    data = Data(args.corpus, tok, PRESETS[report["preset"]]["seq_len"], random.Random(report["seed"]))
    out = {}
    with torch.no_grad():
        for name, pool in (("documents", data.eval_windows), ("task_replies", data.eval_tasks)):
            nll = count = agree = drafts = 0
            for ids, mask in pool[:args.max_windows]:
                tokens = torch.tensor([ids])
                m = torch.tensor(mask, dtype=torch.float)
                logits, mtp = model(tokens[:, :-1], with_mtp=True)
                ce = F.cross_entropy(logits[0].float(), tokens[0, 1:], reduction="none")
                nll += float((ce * m[1:]).sum())
                count += float(m[1:].sum())
                greedy = logits[0].argmax(-1)          # position i → token i+1
                drafted = mtp[0].argmax(-1)             # row i → token i+2
                agree += int((drafted == greedy[1:]).sum())  # greedy[i+1] is the model's token i+2
                drafts += len(drafted)
            out[name + "_perplexity"] = round(math.exp(nll / max(count, 1)), 2)
            out[name + "_mtp_acceptance"] = round(agree / max(drafts, 1), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
