#!/usr/bin/python3
"""The table of bench/peer/quality.sh from the distributions it wrote to OUT:

    quality_table.py OUT TYPES MODEL CPU

llamacpp.TYPE.f32: llama.cpp's probabilities [positions, vocabulary]; agentd.bf16.f32,
agentd.TYPE.f32 (agentd's own --quantize) and agentd-file.TYPE.f32 (agentd on llama.cpp's file):
agentd's logits. Each quantised distribution is compared with the same engine's unquantised one.
"""
import json
import sys

import numpy as np


def log_probabilities(path, positions, kind):
    values = np.fromfile(path, dtype=np.float32)
    values = values.reshape(positions, -1).astype(np.float64)
    if kind == "probabilities":  # a softmax in float32 underflows to 0 far in the tail
        return np.log(np.maximum(values, 1e-45))
    values -= values.max(axis=1, keepdims=True)
    return values - np.log(np.exp(values).sum(axis=1, keepdims=True))


def compare(reference, quantized, targets):
    """Same top token, KL(reference ‖ quantized) mean and max, and both perplexities."""
    kl = (np.exp(reference) * (reference - quantized)).sum(axis=1)
    rows = np.arange(len(targets))
    positions = targets >= 0
    return {
        "same_top": float((reference.argmax(axis=1) == quantized.argmax(axis=1)).mean()),
        "kl_mean": float(kl.mean()),
        "kl_max": float(kl.max()),
        "reference_perplexity": float(np.exp(-reference[rows[positions], targets[positions]].mean())),
        "perplexity": float(np.exp(-quantized[rows[positions], targets[positions]].mean())),
    }


def main():
    out, types, model, cpu = sys.argv[1:5]
    windows = json.load(open(f"{out}/windows.json"))
    positions = sum(map(len, windows))
    # The token each position predicts: the next one in its window (none for a window's last).
    targets = np.concatenate([np.array(w[1:] + [-1]) for w in windows])
    agentd = log_probabilities(f"{out}/agentd.bf16.f32", positions, "logits")
    llamacpp = log_probabilities(f"{out}/llamacpp.bf16.f32", positions, "probabilities")

    print(f"{model}: {len(windows)} windows, {positions} positions; {cpu}\n")
    print("| type | compared | same top token | KL mean | KL max | perplexity: unquantised → quantised |")
    print("| --- | --- | --- | --- | --- | --- |")
    results = {}

    def row(type_name, what, r):
        results.setdefault(type_name, {})[what] = r
        print(f"| {type_name} | {what} | {100 * r['same_top']:.2f}% | {r['kl_mean']:.5f} | {r['kl_max']:.4f} | "
              f"{r['reference_perplexity']:.2f} → {r['perplexity']:.2f} |")

    row("bf16", "llama.cpp against agentd", compare(agentd, llamacpp, targets))
    for t in types.split(","):
        row(t, "llama.cpp: its file against its bf16 file",
            compare(llamacpp, log_probabilities(f"{out}/llamacpp.{t}.f32", positions, "probabilities"), targets))
        row(t, "agentd: the same file against its bf16",
            compare(agentd, log_probabilities(f"{out}/agentd-file.{t}.f32", positions, "logits"), targets))
        row(t, "agentd: its own --quantize against its bf16",
            compare(agentd, log_probabilities(f"{out}/agentd.{t}.f32", positions, "logits"), targets))
    json.dump(results, open(f"{out}/quality.json", "w"), indent=1)


if __name__ == "__main__":
    main()
