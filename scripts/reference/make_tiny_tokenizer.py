#!/usr/bin/env python3
"""Writes a 320-token byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) that fits
the tiny fixture checkpoints' vocab_size, so the engine's text paths (completion, chat, stop
strings, embeddings) can be tested end to end on a real architecture. Layout: ids 0-255 are the
byte-level alphabet, 256-299 frequent English merges, 300-312 DeepSeek-V3's chat tokens.

    python3 make_tiny_tokenizer.py OUT_DIR
"""
import json
import sys


def bytes_to_unicode():
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def main(out_dir):
    alphabet = bytes_to_unicode()
    vocab = {alphabet[b]: b for b in range(256)}
    space = alphabet[ord(" ")]
    pairs = ["t h", "h e", "i n", "e r", "a n", "r e", "o n", "e n", "a t", "o r", "e s", "e d",
             "i s", "i t", "a l", "a r", "s t", "o u", "t o", "n d", "i o", "l e", "c o", "d e"]
    pairs += [f"{space} t", f"{space} a", f"{space} s", f"{space} o", f"{space} w", f"{space} c",
              f"{space} i", f"{space} m", f"{space} f", f"{space} p", f"{space} d", f"{space} b"]
    pairs += [f"{space}t he", f"{space} th", "in g", f"{space}a n", f"{space}o f", "th e", "i on", "at ion"]
    merges = []
    for pair in pairs:
        left, right = pair.split(" ")
        merged = left + right
        if left not in vocab or right not in vocab or merged in vocab:
            continue
        vocab[merged] = len(vocab)
        merges.append(pair)
    assert len(vocab) <= 300, len(vocab)
    specials = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
                "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>",
                "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>",
                "<｜tool▁output▁end｜>", "<｜tool▁sep｜>"]
    # Special tokens are numbered right after the merges so ids stay contiguous.
    added = []
    for content in specials:
        token_id = len(vocab)
        vocab[content] = token_id
        added.append({"id": token_id, "content": content, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": content.startswith("<｜begin") or
                      content.startswith("<｜end")})
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
            {"type": "Split", "pattern": {"Regex": " ?\\p{L}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
             "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": merges},
    }
    config = {"add_bos_token": True, "add_eos_token": False,
              "bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>",
              "tokenizer_class": "LlamaTokenizerFast"}
    with open(f"{out_dir}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
    with open(f"{out_dir}/tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
    print(f"{len(vocab)} tokens ({len(merges)} merges, {len(added)} added)")


if __name__ == "__main__":
    main(sys.argv[1])
