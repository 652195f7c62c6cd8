#!/usr/bin/python3
"""Trains agentd's default embedding model: a small dense DeepSeek-V3-layout encoder, mean-pooled,
trained contrastively so that a question lands next to the passage that answers it. Written in
the sentence-transformers layout (config.json + model.safetensors + tokenizer, modules.json,
1_Pooling/config.json, config_sentence_transformers.json with the query prompt), which agentd's
engine reads for `agentd --embedding-model DIR` and which real embedding checkpoints also use.

Why a separate model: the language model's pooled hidden states are trained to predict the next
token, not to place a question near its answer; on the seed corpus they retrieve no better than
chance. Nothing can be downloaded here, so the embedding model is made like the default model:
by project code, on text a Debian machine has.

Data (no labelled questions are used; the seed corpus's questions are only for evaluation):
  passages   the training corpus (build_corpus.py's text.jsonl: Debian documentation in English
             and Chinese, and the example research reports), chunked like agentd's memory does
             (max 512 characters, 64 overlap, cut at sentence ends)
  queries    synthesised from a passage's own sentences, as in the inverse cloze task: a window
             of one sentence, its figures removed and a question ending added in most cases (a
             question asks for the number the passage holds), spacing between Han characters and
             Latin letters or digits randomised (PDF text has it, typed questions rarely do); the
             sentence is cut out of the passage half of the time, so context has to carry the match
Loss: InfoNCE over the batch (temperature 0.05); a batch holds several passages of each of a few
documents, so negatives are mostly hard (same document, same vocabulary).

Initialisation: the token embeddings and the first (dense) decoder layer of the default language
model, so training starts from tokens that already mean something.

    /usr/bin/python3 engine/train/train_embedder.py --corpus var/train/corpus \
        --init engine/models/agentd-default --out var/train/embedder --minutes 30
"""

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from check_parity import load_exported  # noqa: E402
from model import DeepseekV3  # noqa: E402
from train import BASE_CONFIG, save_safetensors  # noqa: E402

QUERY_PROMPT = "query: "
INHERITED_FROM_LM = ("hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "kv_lora_rank",
                     "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "max_position_embeddings",
                     "rms_norm_eps", "rope_theta")
TEMPERATURE = 0.05

PRESETS = {
    # The default model's width (its embeddings and first layer seed this one), two dense layers.
    "default": dict(model=dict(hidden_size=256, intermediate_size=768, moe_intermediate_size=256, num_hidden_layers=2,
                               first_k_dense_replace=2, num_attention_heads=4, num_key_value_heads=4,
                               n_routed_experts=8, kv_lora_rank=64, q_lora_rank=128, qk_rope_head_dim=16,
                               qk_nope_head_dim=32, v_head_dim=32, max_position_embeddings=1024),
                    docs_per_batch=4, passages_per_doc=8, lr=5e-4, steps=100000),
    "smoke": dict(model=dict(hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=1,
                             first_k_dense_replace=1, num_attention_heads=2, num_key_value_heads=2,
                             n_routed_experts=4, kv_lora_rank=16, q_lora_rank=24, qk_rope_head_dim=8,
                             qk_nope_head_dim=16, v_head_dim=16, max_position_embeddings=512),
                  docs_per_batch=2, passages_per_doc=4, lr=2e-3, steps=20),
}

SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=[.])(?=\s)|\n\s*\n")
HAN = "[\u4e00-\u9fff]"
# A figure as the reports write them: 266.4 万, 1,570 亿美元, 17%, 72.6 — not years or dates,
# which questions keep ("2023年…是多少？").
FIGURE = re.compile(r"(?<![\d年月])\d[\d,]*(?:\.\d+)?\s*(?:%|％|万亿|亿|万|千)?\s*(?:美元|元|人民币|个|块|台|小时|倍|ZB|TB|GB|B)?(?![\d年月日])")
QUESTION_ENDINGS_ZH = ["是多少？", "是多少", "有多少？", "是什么？", "？", "", "达到多少？", "多少亿元？"]
QUESTION_ENDINGS_EN = ["?", "", " is what?", " how many?"]


def chunk(text, max_chars=512, overlap=64):
    """Passages cut like agentd's memory chunker: sentences packed up to max_chars, the next
    passage starting `overlap` characters before the previous one ended."""
    passages, start = [], 0
    while start < len(text):
        end = min(len(text), start + max_chars)
        if end < len(text):
            cut = max((m.end() for m in SENTENCE_END.finditer(text, start + max_chars // 2, end)), default=end)
            end = cut if cut > start else end
        piece = text[start:end].strip()
        if len(piece) >= 32:
            passages.append(piece)
        if end >= len(text):
            break
        start = max(start + 1, end - overlap)
    return passages


def sentences(passage):
    return [s.strip() for s in SENTENCE_END.split(passage) if s and len(s.strip()) >= 8]


def randomise_spacing(text, rng):
    """PDF extraction spaces Han text from Latin letters and digits ("1 月 27 日"); questions
    are typed either way."""
    if rng.random() < 0.5:
        text = re.sub(r"(?<=%s) +| +(?=%s)" % (HAN, HAN), "", text)
    return text


def make_query(sentence, rng):
    chinese = re.search(HAN, sentence) is not None
    s = " ".join(sentence.split())
    if len(s) > 24 and rng.random() < 0.8:
        width = rng.randint(16, min(len(s), 64))
        begin = rng.randint(0, len(s) - width)
        s = s[begin:begin + width]
    if rng.random() < 0.7:
        s = FIGURE.sub("", s).strip(" ，,、：:")
        s += rng.choice(QUESTION_ENDINGS_ZH if chinese else QUESTION_ENDINGS_EN)
    return randomise_spacing(s, rng)


class Pairs:
    """Documents as lists of tokenised passages, and (query, passage) batches drawn from them."""

    def __init__(self, corpus, tok, rng, max_tokens, seed_share, max_other_chars):
        self.tok, self.rng, self.max_tokens = tok, rng, max_tokens
        self.bos = tok.special["<｜begin▁of▁sentence｜>"]
        self.seeds, self.others = [], []
        other_chars = 0
        for line in open(os.path.join(corpus, "text.jsonl"), encoding="utf-8"):
            row = json.loads(line)
            is_seed = row.get("source", "").startswith("seeds:")
            if not is_seed and other_chars > max_other_chars:
                continue
            passages = [p for p in chunk(row["text"]) if len(sentences(p)) >= 2]
            if len(passages) < 2:
                continue
            (self.seeds if is_seed else self.others).append(passages)
            if not is_seed:
                other_chars += sum(len(p) for p in passages)
        self.seed_share = seed_share if self.others else 1.0
        self.cache = {}

    def encode(self, text):
        if text not in self.cache:
            self.cache[text] = ([self.bos] + self.tok.encode(text))[: self.max_tokens]
        return self.cache[text]

    def batch(self, docs, per_doc):
        queries, passages = [], []
        for _ in range(docs):
            pool = self.seeds if self.rng.random() < self.seed_share else self.others
            doc = self.rng.choice(pool)
            for passage in self.rng.sample(doc, min(per_doc, len(doc))):
                sents = sentences(passage)
                sentence = self.rng.choice(sents)
                if self.rng.random() < 0.5:
                    passage = passage.replace(sentence, "", 1)
                queries.append(self.encode(QUERY_PROMPT + make_query(sentence, self.rng)))
                passages.append(self.encode(passage))
        return queries, passages


def pad(rows):
    length = max(len(r) for r in rows)
    tokens = torch.zeros(len(rows), length, dtype=torch.long)
    mask = torch.zeros(len(rows), length)
    for i, r in enumerate(rows):
        tokens[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return tokens, mask


def embed(model, rows):
    """Mean of the final-norm hidden states over each sequence's tokens, L2-normalised: what the
    engine computes for a model whose 1_Pooling/config.json says mean pooling."""
    tokens, mask = pad(rows)
    h = model.embed_tokens(tokens)
    positions = torch.arange(tokens.shape[1])
    for layer in model.layers:
        h = layer(h, positions)  # causal, so padding on the right never reaches real tokens
    h = model.norm(h)
    pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return F.normalize(pooled.float(), dim=-1)


@torch.no_grad()
def recall(model, tok, seeds_dir, question_files, bos, batch=16):
    """recall@1/5/10 of vector search alone over the seed reports chunked like agentd's memory."""
    model.eval()
    chunks = []
    for name in sorted(os.listdir(seeds_dir)):
        chunks += chunk(open(os.path.join(seeds_dir, name), encoding="utf-8").read())
    ids = [([bos] + tok.encode(c))[:1024] for c in chunks]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    vectors = torch.zeros(len(ids), model.config["hidden_size"])
    for i in range(0, len(order), batch):
        part = order[i:i + batch]
        vectors[part] = embed(model, [ids[j] for j in part])
    out = {}
    for path in question_files:
        qs = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        q = embed(model, [[bos] + tok.encode(QUERY_PROMPT + x["question"]) for x in qs])
        ranked = (q @ vectors.t()).argsort(dim=-1, descending=True)[:, :10]
        found = [next((r for r, c in enumerate(ranked[i].tolist()) if qs[i]["answer_contains"] in chunks[c]), 99)
                 for i in range(len(qs))]
        out[os.path.basename(path)] = {"recall@%d" % k: round(sum(f < k for f in found) / len(qs), 3) for k in (1, 5, 10)}
    model.train()
    return out


def initialise_from(model, lm_dir):
    """Token embeddings, the first layer (into every layer) and the final norm of the LM."""
    lm, _ = load_exported(lm_dir)
    with torch.no_grad():
        model.embed_tokens.weight.copy_(lm.embed_tokens.weight)
        for layer in model.layers:
            layer.load_state_dict(lm.layers[0].state_dict())
        model.norm.weight.copy_(lm.norm.weight)


def export(model, config, tokenizer_dir, out_dir, report):
    os.makedirs(os.path.join(out_dir, "1_Pooling"), exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors = {("model." + k): v for k, v in model.state_dict().items() if not k.startswith("lm_head.")}
    save_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tokenizer_dir, name), os.path.join(out_dir, name))
    with open(os.path.join(out_dir, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}], f, indent=2)
    with open(os.path.join(out_dir, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": config["hidden_size"], "pooling_mode_cls_token": False,
                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                   "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
                   "pooling_mode_lasttoken": False, "include_prompt": True}, f, indent=2)
    with open(os.path.join(out_dir, "config_sentence_transformers.json"), "w") as f:
        json.dump({"prompts": {"query": QUERY_PROMPT, "document": ""}, "default_prompt_name": None,
                   "similarity_fn_name": "cosine"}, f, indent=2)
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump(report, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument("--corpus", required=True, help="build_corpus.py's output (text.jsonl)")
    parser.add_argument("--init", help="language model directory to initialise from (tokenizer too)")
    parser.add_argument("--tokenizer", help="tokenizer directory (default: --init)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--minutes", type=float, default=0, help="stop after this long (0: the preset's steps)")
    parser.add_argument("--steps", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--max-tokens", type=int, default=320, help="passage length cap in training")
    parser.add_argument("--seed-share", type=float, default=0.5, help="share of batches from the example reports")
    parser.add_argument("--max-other-chars", type=int, default=3_000_000, help="documentation text to draw passages from")
    parser.add_argument("--eval-corpus", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "corpus"))
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--no-eval", action="store_true", help="skip the recall figures (smoke runs)")
    args = parser.parse_args()

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    tokenizer_dir = args.tokenizer or args.init
    if not tokenizer_dir:
        raise SystemExit("--tokenizer or --init is required")
    tok = bpe.load(tokenizer_dir)
    bos = tok.special["<｜begin▁of▁sentence｜>"]
    shape = dict(preset["model"])
    if args.init and args.preset != "smoke":
        # The layer copied from the language model fixes the width: take the LM's.
        lm_config = json.load(open(os.path.join(args.init, "config.json")))
        for key in INHERITED_FROM_LM:
            shape[key] = lm_config[key]
    config = dict(BASE_CONFIG, **shape, vocab_size=tok.size, bos_token_id=bos,
                  eos_token_id=tok.special["<｜end▁of▁sentence｜>"], num_nextn_predict_layers=0,
                  tie_word_embeddings=True, architectures=["DeepseekV3Model"])
    model = DeepseekV3(config)
    if args.init and args.preset != "smoke":
        initialise_from(model, args.init)
    model.lm_head.weight.requires_grad_(False)  # an encoder: the head is never used
    pairs = Pairs(args.corpus, tok, random.Random(args.seed), args.max_tokens, args.seed_share, args.max_other_chars)
    questions = [] if args.no_eval else [os.path.join(args.eval_corpus, n) for n in ("questions.jsonl", "questions_dev.jsonl")
                                         if os.path.exists(os.path.join(args.eval_corpus, n))]
    seeds_dir = os.path.join(args.eval_corpus, "seeds")
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print("embedder: %.2fM parameters, %d report documents, %d documentation documents" %
          (params / 1e6, len(pairs.seeds), len(pairs.others)), flush=True)
    before = recall(model, tok, seeds_dir, questions, bos) if questions else {}
    print("before training:", json.dumps(before), flush=True)

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=preset["lr"], betas=(0.9, 0.98), weight_decay=0.01)
    steps = args.steps or preset["steps"]
    deadline = time.time() + args.minutes * 60 if args.minutes else None
    warmup = min(50, steps // 10 + 1)
    start, step, planned, history = time.time(), 0, steps, []
    while step < planned and not (deadline and time.time() > deadline):
        lr_scale = min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / planned))))
        for group in optimizer.param_groups:
            group["lr"] = preset["lr"] * lr_scale
        queries, passages = pairs.batch(preset["docs_per_batch"], preset["passages_per_doc"])
        q, p = embed(model, queries), embed(model, passages)
        scores = q @ p.t() / TEMPERATURE
        labels = torch.arange(len(queries))
        loss = F.cross_entropy(scores, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        step += 1
        if deadline and step == 10:
            planned = min(steps, int((deadline - start) / ((time.time() - start) / step)))
        if step % 25 == 0 or step == 1 or step == planned:
            accuracy = (scores.argmax(-1) == labels).float().mean().item()
            print("step %d/%d loss %.3f in-batch accuracy %.2f %.1f s/step" %
                  (step, planned, loss.item(), accuracy, (time.time() - start) / step), flush=True)
        if questions and step % args.eval_every == 0:
            figures = recall(model, tok, seeds_dir, questions, bos)
            history.append({"step": step, **figures})
            print("step %d recall: %s" % (step, json.dumps(figures)), flush=True)
    elapsed = time.time() - start
    after = recall(model, tok, seeds_dir, questions, bos) if questions else {}
    print("after training:", json.dumps(after), flush=True)
    report = dict(preset=args.preset, seed=args.seed, steps=step, seconds=round(elapsed, 1), parameters=params,
                  threads=args.threads, query_prompt=QUERY_PROMPT, temperature=TEMPERATURE,
                  vector_recall_before=before, vector_recall_after=after, history=history)
    export(model, config, tokenizer_dir, args.out, report)
    print("embedding model written to %s" % args.out, flush=True)


if __name__ == "__main__":
    main()
