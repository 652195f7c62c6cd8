#!/usr/bin/python3
"""Byte-level BPE: training, encoding, and writing a Hugging Face tokenizer.json.

Pre-tokenization is DeepSeek-V3's (digits in runs of at most three, runs of CJK characters,
then words/punctuation/whitespace), so Chinese text is merged within runs of Han characters
and never across scripts; the byte-level alphabet means no text is ever unknown. The special
tokens are DeepSeek-V3's chat and tool-call tokens, so agentd's DeepSeek-V3 chat format applies.

    /usr/bin/python3 engine/train/bpe.py --corpus var/train/corpus --vocab-size 16000 --out DIR
"""

import argparse
import collections
import heapq
import json
import os

import regex

PRE_TOKENIZER = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
        {"type": "Split", "pattern": {"Regex": "[一-龥぀-ゟ゠-ヿ]+"}, "behavior": "Isolated", "invert": False},
        {"type": "Split", "pattern": {"Regex": "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
    ],
}
SPLITS = [regex.compile(p["pattern"]["Regex"]) for p in PRE_TOKENIZER["pretokenizers"][:3]]

# (content, special): special ones are dropped when decoding with skip_special_tokens.
SPECIAL_TOKENS = [
    ("<｜begin▁of▁sentence｜>", True), ("<｜end▁of▁sentence｜>", True), ("<｜User｜>", False),
    ("<｜Assistant｜>", False), ("<｜tool▁calls▁begin｜>", False), ("<｜tool▁calls▁end｜>", False),
    ("<｜tool▁call▁begin｜>", False), ("<｜tool▁call▁end｜>", False), ("<｜tool▁outputs▁begin｜>", False),
    ("<｜tool▁outputs▁end｜>", False), ("<｜tool▁output▁begin｜>", False), ("<｜tool▁output▁end｜>", False),
    ("<｜tool▁sep｜>", False),
]


def bytes_to_unicode():
    """GPT-2's map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def _isolate(pieces, pattern):
    out = []
    for piece in pieces:
        last = 0
        for m in pattern.finditer(piece):
            if m.start() > last:
                out.append(piece[last:m.start()])
            if m.end() > m.start():
                out.append(m.group())
            last = m.end()
        if last < len(piece):
            out.append(piece[last:])
    return out


def pre_tokenize(text):
    """The words BPE works within, as byte-level strings."""
    pieces = [text]
    for pattern in SPLITS:
        pieces = _isolate(pieces, pattern)
    return ["".join(BYTE_TO_CHAR[b] for b in p.encode("utf-8")) for p in pieces]


def train(texts, vocab_size):
    """Returns (vocab {symbol: id}, merges [(a, b)]) with vocab_size - len(SPECIAL_TOKENS) entries."""
    words = collections.Counter()
    for text in texts:
        words.update(pre_tokenize(text))
    symbols = [list(w) for w in words]
    freqs = [words[w] for w in words]
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, s in enumerate(symbols):
        for a, b in zip(s, s[1:]):
            pair_counts[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    vocab = {BYTE_TO_CHAR[b]: b for b in range(256)}
    merges = []
    target = vocab_size - len(SPECIAL_TOKENS)
    while len(vocab) < target and heap:
        count, pair = heapq.heappop(heap)
        if -count != pair_counts.get(pair, 0) or -count <= 0:
            continue  # stale entry
        a, b = pair
        merged = a + b
        merges.append(pair)
        vocab[merged] = len(vocab)
        changed = collections.Counter()
        for i in list(where.pop(pair, ())):
            s, f = symbols[i], freqs[i]
            for x, y in zip(s, s[1:]):
                changed[(x, y)] -= f
            j, out = 0, []
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            symbols[i] = out
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += f
                where[(x, y)].add(i)
        for p, delta in changed.items():
            if delta == 0:
                continue
            pair_counts[p] += delta
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
        pair_counts.pop(pair, None)
    return vocab, merges


class Tokenizer:
    """Encodes like the tokenizer.json this module writes (and agentd's loader reads)."""

    def __init__(self, vocab, merges):
        self.vocab = dict(vocab)
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        base = len(self.vocab)
        self.special = {content: base + i for i, (content, _) in enumerate(SPECIAL_TOKENS)}
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.id_to_token.update({i: t for t, i in self.special.items()})
        self.special_re = regex.compile("|".join(regex.escape(t) for t, _ in SPECIAL_TOKENS))
        self.cache = {}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(ranked)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 500000:
            self.cache[word] = ids
        return ids

    def encode(self, text):
        ids, last = [], 0
        for m in self.special_re.finditer(text):
            for w in pre_tokenize(text[last:m.start()]):
                ids.extend(self._bpe(w))
            ids.append(self.special[m.group()])
            last = m.end()
        for w in pre_tokenize(text[last:]):
            ids.extend(self._bpe(w))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.id_to_token[i]
            if t in self.special:
                out += t.encode("utf-8")
            else:
                out += bytes(CHAR_TO_BYTE[c] for c in t)
        return out.decode("utf-8", "replace")

    @property
    def size(self):
        return len(self.vocab) + len(self.special)


def write(out_dir, vocab, merges):
    base = len(vocab)
    added = [{"id": base + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": special} for i, (c, special) in enumerate(SPECIAL_TOKENS)]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": []},
        "pre_tokenizer": PRE_TOKENIZER,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": ["%s %s" % m for m in merges]},
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": SPECIAL_TOKENS[0][0],
                   "eos_token": SPECIAL_TOKENS[1][0], "model_max_length": 4096,
                   "tokenizer_class": "LlamaTokenizerFast"}, f, ensure_ascii=False, indent=1)


def load(out_dir):
    t = json.load(open(os.path.join(out_dir, "tokenizer.json"), encoding="utf-8"))
    return Tokenizer(t["model"]["vocab"], [tuple(m.split(" ")) for m in t["model"]["merges"]])


def corpus_texts(corpus_dir, max_chars):
    """Documents and task examples, interleaved, up to max_chars."""
    texts, total = [], 0
    for name in ("text.jsonl", "tasks.jsonl"):
        budget = max_chars // 2
        for line in open(os.path.join(corpus_dir, name), encoding="utf-8"):
            row = json.loads(line)
            text = row["text"] if "text" in row else "\n".join(m["content"] for m in row["messages"])
            texts.append(text)
            total += len(text)
            budget -= len(text)
            if budget <= 0:
                break
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--vocab-size", type=int, default=16000)
    parser.add_argument("--max-chars", type=int, default=6_000_000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    vocab, merges = train(corpus_texts(args.corpus, args.max_chars), args.vocab_size)
    write(args.out, vocab, merges)
    tok = load(args.out)
    sample = "DeepSeek-V3 的装机量在 2023 年增长了 35%。Growth was strong [3]."
    assert tok.decode(tok.encode(sample)) == sample
    print("tokenizer: %d tokens (%d merges); %r -> %d tokens" % (tok.size, len(merges), sample, len(tok.encode(sample))))


if __name__ == "__main__":
    main()
