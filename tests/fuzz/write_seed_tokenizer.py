#!/usr/bin/python3
"""Writes the fuzz_gguf seeds' tokenizer.json: a 64-token BPE vocabulary (<s>, </s>, a-z, A-Z,
0-9) with two merges, so a seed GGUF file carries a tokenizer the reader builds.

    write_seed_tokenizer.py OUT
"""
import json
import sys

tokens = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [str(d) for d in range(10)]
json.dump({"model": {"type": "BPE", "vocab": {t: i for i, t in enumerate(tokens, 2)}, "merges": ["a b", "c d"]},
           "added_tokens": [{"id": 0, "content": "<s>", "special": True}, {"id": 1, "content": "</s>", "special": True}]},
          open(sys.argv[1], "w"))
