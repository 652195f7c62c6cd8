#!/usr/bin/python3
"""Checks agentd's embeddings against the training code on an exported embedding model: the
vectors of `agentctl engine embed` (documents, and queries with the model's query prompt) versus
train_embedder.py's own pooling over this package's forward pass (float32, on the same
bf16-rounded weights). Prints the relative errors and exits 1 above the bar (1e-3).

    /usr/bin/python3 engine/train/check_embedder_parity.py --model engine/models/agentd-embed --agentctl build/bin/agentctl
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
from check_parity import BAR, load_exported, relative_error  # noqa: E402
from train_embedder import embed  # noqa: E402

TEXTS = ["2023年中国AI Agent市场规模是多少？", "DeepSeek-V3 预训练仅花费 266.4 万 H800 GPU 小时，成本约 557.6 万美元。",
         "apt-get install installs packages and their dependencies.", "短"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--agentctl", default="build/bin/agentctl")
    args = parser.parse_args()
    model, _ = load_exported(args.model)
    tok = bpe.load(args.model)
    bos = tok.special["<｜begin▁of▁sentence｜>"]
    prompts = json.load(open(os.path.join(args.model, "config_sentence_transformers.json")))["prompts"]
    report, worst = {}, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "texts.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for text in TEXTS:
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        for role, flag in (("document", []), ("query", ["--query"])):
            prompt = prompts.get(role, "")
            with torch.no_grad():
                ref = embed(model, [[bos] + tok.encode(prompt + t) for t in TEXTS]).numpy()
            out = subprocess.run([args.agentctl, "engine", "embed", "--model", args.model, "--jsonl", path] + flag,
                                 check=True, capture_output=True, text=True).stdout
            ours = np.array([json.loads(line) for line in out.splitlines()], dtype=np.float32)
            errors = [relative_error(ours[i], ref[i]) for i in range(len(TEXTS))]
            report[role + "_rel_err_max"] = max(errors)
            worst = max(worst, max(errors))
    print(json.dumps(report))
    sys.exit(0 if worst < BAR else 1)


if __name__ == "__main__":
    main()
