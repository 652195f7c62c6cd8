#!/usr/bin/env python3
"""transformers' generate on a random-weight model of a checkpoint's shape, on the GPU: the
reference the CUDA backend's decode is measured against in the same run (scripts/gpu_check.sh).

    python3 bench/gpu/transformers_generate.py bench/shapes/deepseek_v2_lite.json --batches 1,16

Prints one JSON object: per batch, the decode tokens/s of greedy generation (prompt excluded)."""
import argparse
import json
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="config.json of the shape")
    parser.add_argument("--batches", default="1,16")
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=32)
    args = parser.parse_args()
    try:
        import torch
        import transformers
    except ImportError as error:
        print(json.dumps({"skipped": f"no torch/transformers: {error}"}))
        return 0
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no GPU visible to torch"}))
        return 0

    try:
        config = transformers.AutoConfig.for_model(**json.load(open(args.config)))
    except (ValueError, KeyError) as error:
        print(json.dumps({"skipped": f"transformers {transformers.__version__} cannot build this shape: {error}"}))
        return 0
    torch.manual_seed(0)
    started = time.time()
    with torch.device("cuda"):
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.eval()
    result = {"transformers": transformers.__version__, "torch": torch.__version__,
              "gpu": torch.cuda.get_device_name(0), "model_type": config.model_type,
              "parameters": sum(p.numel() for p in model.parameters()),
              "build_s": round(time.time() - started, 1), "batches": []}
    for batch in [int(b) for b in args.batches.split(",")]:
        prompt = torch.randint(0, config.vocab_size, (batch, args.prompt), device="cuda")
        generate = dict(do_sample=False, pad_token_id=0, min_new_tokens=args.new_tokens)
        with torch.no_grad():
            model.generate(prompt, max_new_tokens=2, **{**generate, "min_new_tokens": 2})  # warm-up
            torch.cuda.synchronize()
            start = time.time()
            model.generate(prompt, max_new_tokens=1, **{**generate, "min_new_tokens": 1})
            torch.cuda.synchronize()
            prefill = time.time() - start
            start = time.time()
            model.generate(prompt, max_new_tokens=args.new_tokens, **generate)
            torch.cuda.synchronize()
            total = time.time() - start
        decode = max(total - prefill, 1e-9)
        result["batches"].append({"batch": batch, "prefill_s": round(prefill, 3),
                                  "decode_tokens_per_s": round(batch * (args.new_tokens - 1) / decode, 1)})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
