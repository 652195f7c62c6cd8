#!/usr/bin/python3
"""Trains agentd's default model: a small DeepSeek-V3-layout MoE with one MTP layer, on the
corpus and task data from build_corpus.py and the tokenizer from bpe.py, then writes a
checkpoint agentd loads (config.json, bf16 model.safetensors, tokenizer files).

Seeded and deterministic on one device for a given preset. Presets:
  smoke  a few dozen steps of a tiny model, for CI (well under 2 minutes on 2 CPU cores)
  cpu    the CPU fallback default model (≈ 11M parameters); --minutes bounds the run
  gpu    the larger default model for one H100/H200 (≈ 20 minutes)

    /usr/bin/python3 engine/train/train.py --preset cpu --corpus var/train/corpus \
        --tokenizer var/train/tokenizer --out var/train/model --minutes 40
"""

import argparse
import json
import math
import os
import random
import shutil
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from model import DeepseekV3  # noqa: E402

BASE_CONFIG = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "n_shared_experts": 1, "routed_scaling_factor": 2.5, "n_group": 1, "topk_group": 1,
    "num_experts_per_tok": 2, "first_k_dense_replace": 1, "norm_topk_prob": True,
    "scoring_func": "sigmoid", "topk_method": "noaux_tc", "hidden_act": "silu",
    "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_interleave": False, "attention_bias": False,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "moe_layer_freq": 1, "ep_size": 1,
    "num_nextn_predict_layers": 1, "use_cache": True,
}

PRESETS = {
    "smoke": dict(model=dict(hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=2, n_routed_experts=4, kv_lora_rank=16,
                             q_lora_rank=24, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16,
                             max_position_embeddings=512),
                  seq_len=128, batch=4, lr=3e-3, steps=40),
    "cpu": dict(model=dict(hidden_size=256, intermediate_size=768, moe_intermediate_size=256, num_hidden_layers=4,
                           num_attention_heads=4, num_key_value_heads=4, n_routed_experts=8, kv_lora_rank=64,
                           q_lora_rank=128, qk_rope_head_dim=16, qk_nope_head_dim=32, v_head_dim=32,
                           max_position_embeddings=1024),
                seq_len=512, batch=8, lr=2e-3, steps=100000),
    # 28M parameters, 54 MiB in bf16: what the device machine can hand back (at most 64 MiB, in
    # files of 16 MiB) and what still leaves the repository room under the 150 MB cap.
    "gpu": dict(model=dict(hidden_size=384, intermediate_size=1024, moe_intermediate_size=96, num_hidden_layers=6,
                           num_attention_heads=6, num_key_value_heads=6, n_routed_experts=16, kv_lora_rank=96,
                           q_lora_rank=192, qk_rope_head_dim=32, qk_nope_head_dim=64, v_head_dim=64,
                           max_position_embeddings=2048),
                seq_len=1024, batch=32, lr=1.5e-3, steps=100000),
}

BALANCE_RATE = 1e-3  # bias step of the auxiliary-loss-free balancing
MTP_WEIGHT = 0.3


def chat_text(messages):
    """agentd's DeepSeek-V3 chat rendering (system, user, assistant) and where the reply starts."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    prompt = "<｜begin▁of▁sentence｜>" + system
    for m in messages:
        if m["role"] == "user":
            prompt += "<｜User｜>" + m["content"]
    prompt += "<｜Assistant｜>"
    reply = [m["content"] for m in messages if m["role"] == "assistant"][0] + "<｜end▁of▁sentence｜>"
    return prompt, reply


class Data:
    """Training windows: documents (loss on every token) and task examples (loss on the reply),
    with a held-out share of each for evaluation."""

    def __init__(self, corpus, tok, seq_len, rng, held_out=0.02, max_docs=None):
        self.seq_len = seq_len
        bos = tok.special["<｜begin▁of▁sentence｜>"]
        eos = tok.special["<｜end▁of▁sentence｜>"]
        windows = []
        for i, line in enumerate(open(os.path.join(corpus, "text.jsonl"), encoding="utf-8")):
            if max_docs is not None and i >= max_docs:
                break
            ids = [bos] + tok.encode(json.loads(line)["text"]) + [eos]
            for start in range(0, max(1, len(ids) - 1), seq_len):
                piece = ids[start:start + seq_len + 1]
                if len(piece) > 16:
                    windows.append((piece, [1] * len(piece)))
        tasks = []
        for i, line in enumerate(open(os.path.join(corpus, "tasks.jsonl"), encoding="utf-8")):
            if max_docs is not None and i >= 8 * max_docs:
                break
            prompt, reply = chat_text(json.loads(line)["messages"])
            p, r = tok.encode(prompt), tok.encode(reply)
            ids = (p + r)[-(seq_len + 1):]
            mask = ([0] * len(p) + [1] * len(r))[-(seq_len + 1):]
            if sum(mask) > 0:
                tasks.append((ids, mask))
        rng.shuffle(windows)
        rng.shuffle(tasks)
        nw, nt = max(1, int(len(windows) * held_out)), max(1, int(len(tasks) * held_out))
        self.eval_windows, self.windows = windows[:nw], windows[nw:]
        self.eval_tasks, self.tasks = tasks[:nt], tasks[nt:]
        self.rng = rng

    def batch(self, size, pool=None):
        rows = pool if pool is not None else [
            self.rng.choice(self.tasks if self.rng.random() < 0.5 else self.windows) for _ in range(size)]
        length = max(len(ids) for ids, _ in rows)
        tokens = torch.zeros(len(rows), length, dtype=torch.long)
        mask = torch.zeros(len(rows), length)
        for i, (ids, m) in enumerate(rows):
            tokens[i, :len(ids)] = torch.tensor(ids)
            mask[i, :len(m)] = torch.tensor(m, dtype=torch.float)
        return tokens, mask


def losses(model, tokens, mask, with_mtp=True):
    logits, mtp_logits = model(tokens[:, :-1], with_mtp=with_mtp)
    target, weight = tokens[:, 1:], mask[:, 1:]
    ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="none")
    main = (ce * weight.reshape(-1)).sum() / weight.sum().clamp(min=1)
    if mtp_logits is None:
        return main, None
    # Row i of the MTP logits (input positions 0..T-2) predicts token i+2.
    t2, w2 = tokens[:, 2:], mask[:, 2:]
    ce2 = F.cross_entropy(mtp_logits.float().reshape(-1, mtp_logits.shape[-1]), t2.reshape(-1), reduction="none")
    return main, (ce2 * w2.reshape(-1)).sum() / w2.sum().clamp(min=1)


@torch.no_grad()
def evaluate(model, data, batch=8):
    model.eval()
    out = {}
    for name, pool in (("text", data.eval_windows), ("tasks", data.eval_tasks)):
        total, count, mtp_total = 0.0, 0, 0.0
        for i in range(0, min(len(pool), 64), batch):
            tokens, mask = data.batch(0, pool[i:i + batch])
            main, mtp = losses(model, tokens, mask)
            total += main.item()
            mtp_total += mtp.item() if mtp is not None else 0.0
            count += 1
        out[name + "_ppl"] = math.exp(total / max(count, 1))
        out[name + "_mtp_ppl"] = math.exp(mtp_total / max(count, 1))
    model.train()
    return out


def balance(model):
    """DeepSeek-V3's auxiliary-loss-free balancing: raise the selection bias of under-loaded
    experts and lower it for over-loaded ones, by a fixed step."""
    for moe in model.moe_layers():
        if moe.last_load is None:
            continue
        load = moe.last_load
        moe.gate.e_score_correction_bias += BALANCE_RATE * torch.sign(load.mean() - load)


def save_safetensors(path, tensors):
    """bf16 safetensors (header JSON, then the raw little-endian data)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.bfloat16).contiguous()
        data = t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
    os.replace(path + ".tmp", path)


def export(model, config, tokenizer_dir, out_dir, report):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_safetensors(os.path.join(out_dir, "model.safetensors"), model.state_for_export())
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, name), os.path.join(out_dir, name))
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump(report, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--minutes", type=float, default=0, help="stop after this long (0: the preset's steps)")
    parser.add_argument("--steps", type=int, default=0, help="override the preset's step count")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--max-docs", type=int, default=None, help="read only this many documents (smoke runs)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--init", help="continue from this train_state.pt (same preset and tokenizer)")
    args = parser.parse_args()

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    tok = bpe.load(args.tokenizer)
    config = dict(BASE_CONFIG, **preset["model"], vocab_size=tok.size,
                  bos_token_id=tok.special["<｜begin▁of▁sentence｜>"], eos_token_id=tok.special["<｜end▁of▁sentence｜>"])
    data = Data(args.corpus, tok, preset["seq_len"], random.Random(args.seed), max_docs=args.max_docs)
    model = DeepseekV3(config).to(args.device)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location=args.device))
    params = sum(p.numel() for p in model.parameters())
    print("model: %.2fM parameters, %d training windows, %d task examples" % (params / 1e6, len(data.windows), len(data.tasks)), flush=True)

    optimizer = torch.optim.AdamW(model.parameters(), lr=preset["lr"], betas=(0.9, 0.95), weight_decay=0.1)
    steps = args.steps or preset["steps"]
    deadline = time.time() + args.minutes * 60 if args.minutes else None
    warmup = min(100, steps // 10 + 1)
    start, tokens_seen, step = time.time(), 0, 0
    # The schedule assumes the time budget's end; on a budget the cosine spans an estimate.
    planned = steps
    while step < planned:
        if deadline and time.time() > deadline:
            break
        lr_scale = min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / planned))))
        for group in optimizer.param_groups:
            group["lr"] = preset["lr"] * lr_scale
        tokens, mask = data.batch(preset["batch"])
        tokens, mask = tokens.to(args.device), mask.to(args.device)
        main, mtp = losses(model, tokens, mask)
        loss = main + (MTP_WEIGHT * mtp if mtp is not None else 0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            balance(model)
        tokens_seen += int(tokens[:, 1:].numel())
        step += 1
        if deadline and step == 20:
            # Fit the cosine to the time budget from the measured speed.
            per_step = (time.time() - start) / step
            planned = min(steps, int((deadline - start) / per_step))
        if step % 25 == 0 or step == 1 or step == planned:
            rate = tokens_seen / (time.time() - start)
            print("step %d/%d loss %.3f mtp %.3f lr %.2e %.0f tok/s" % (step, planned, main.item(),
                  mtp.item() if mtp is not None else 0, preset["lr"] * lr_scale, rate), flush=True)
    elapsed = time.time() - start
    metrics = evaluate(model, data)
    loads = [moe.last_load.tolist() for moe in model.moe_layers() if moe.last_load is not None]
    previous = {}
    if args.init and os.path.exists(os.path.join(os.path.dirname(args.init), "training.json")):
        previous = json.load(open(os.path.join(os.path.dirname(args.init), "training.json")))
    report = dict(preset=args.preset, seed=args.seed, steps=step,
                  total_tokens=tokens_seen + previous.get("total_tokens", previous.get("tokens", 0)),
                  total_seconds=round(elapsed + previous.get("total_seconds", previous.get("seconds", 0)), 1), tokens=tokens_seen, seconds=round(elapsed, 1),
                  tokens_per_second=round(tokens_seen / elapsed, 1), parameters=params, device=args.device,
                  threads=args.threads, last_expert_loads=loads, **{k: round(v, 3) for k, v in metrics.items()})
    print(json.dumps(report), flush=True)
    export(model, config, args.tokenizer, args.out, report)
    torch.save(model.state_dict(), os.path.join(args.out, "train_state.pt"))


if __name__ == "__main__":
    main()
