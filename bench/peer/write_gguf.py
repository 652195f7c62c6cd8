#!/usr/bin/python3
"""Writes a Qwen3-MoE checkpoint in the Hugging Face layout (config.json, *.safetensors) as a GGUF
file llama.cpp loads, so both engines run the very same weights in one benchmark run.

    write_gguf.py --checkpoint DIR --tokenizer tokenizer.json --out model.gguf [--type bf16|q8_0|q4_0|q4_k_m|q5_k_m]

Our own writer of the GGUF v3 format (llama.cpp's gguf-py is not a Debian package): a header,
key/value metadata, tensor infos, then the tensor data, each aligned to 32 bytes. Tensor names
and metadata keys are llama.cpp's for the `qwen3moe` architecture; each expert's HF matrices are
stacked into one 3-D tensor per projection, as llama.cpp's converter does. Matrices keep their
bf16 bits (or are quantised to Q8_0 / Q4_0 blocks of 32: one f16 scale and 32 int8 or 4-bit
values; or as llama.cpp's K-quant mixes Q4_K_M and Q5_K_M: super-blocks of 256 weights, Q6_K for
the output head and for attn_v and ffn_down in every other layer), and vectors and the router
are stored as f32, as llama.cpp's converter stores them.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

# gguf_type
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64 = 4, 5, 6, 7, 8, 9, 10
# ggml_type
GGML_F32, GGML_Q4_0, GGML_Q8_0, GGML_Q4_K, GGML_Q5_K, GGML_Q6_K, GGML_BF16 = 0, 2, 8, 12, 13, 14, 30
# llama.cpp token types
TOKEN_NORMAL, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED = 1, 3, 4, 5


def read_safetensors(directory):
    """name -> (dtype string, shape, raw bytes as a numpy uint8 view) over every shard."""
    tensors = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".safetensors"):
            continue
        path = os.path.join(directory, name)
        with open(path, "rb") as f:
            header_size = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(header_size))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_size)
        for key, info in header.items():
            if key == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            tensors[key] = (info["dtype"], info["shape"], data[begin:end])
    return tensors


def as_f32(dtype, raw, shape):
    if dtype == "BF16":
        return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if dtype == "F32":
        return raw.view(np.float32).reshape(shape)
    if dtype == "F16":
        return raw.view(np.float16).astype(np.float32).reshape(shape)
    sys.exit(f"unsupported dtype {dtype}")


def quantize_q8_0(x):
    """ggml's Q8_0: blocks of 32 values, d = max|x| / 127 as f16, q = round(x / d)."""
    blocks = x.reshape(-1, 32)
    d = np.abs(blocks).max(axis=1) / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0)
    q = np.clip(np.rint(blocks * inv[:, None]), -127, 127).astype(np.int8)
    out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
    out[:, 0:2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.reshape(-1)


def quantize_q4_0(x):
    """ggml's Q4_0: blocks of 32, d = (the value of largest magnitude) / -8 as f16,
    q = clamp(round(x / d) + 8, 0, 15); byte j holds q[j] (low nibble) and q[j + 16] (high)."""
    blocks = x.reshape(-1, 32)
    idx = np.abs(blocks).argmax(axis=1)
    extreme = blocks[np.arange(blocks.shape[0]), idx]
    d = extreme / -8.0
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)
    q = np.clip(np.floor(blocks * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    out = np.empty((blocks.shape[0], 18), dtype=np.uint8)
    out[:, 0:2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.reshape(-1)


def _f16(values):
    """float32 → (f16 bytes [n, 2], the f16 values back as float32)."""
    half = values.astype(np.float16)
    return half.view(np.uint8).reshape(-1, 2), half.astype(np.float32)


def _safe_inverse(d):
    return np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)


def _affine_k(x, levels):
    """Q4_K / Q5_K's common part over super-blocks of 256: per sub-block of 32, weight =
    d·sc·q − dmin·m with 6-bit sc and m, q in 0..levels-1 (a plain min/max fit: llama.cpp
    searches harder, but every block of this kind is read the same way).
    Returns (header bytes [n, 16]: d, dmin, 12 packed scale bytes; q [n, 8, 32])."""
    sub = x.reshape(-1, 8, 32)
    lo = np.minimum(sub.min(axis=2), 0)
    hi = sub.max(axis=2)
    scale = (hi - lo) / (levels - 1)
    mins = -lo
    d_bytes, d = _f16(scale.max(axis=1) / 63)
    dmin_bytes, dmin = _f16(mins.max(axis=1) / 63)
    sc = np.clip(np.rint(scale * _safe_inverse(d)[:, None]), 0, 63).astype(np.uint8)
    m = np.clip(np.rint(mins * _safe_inverse(dmin)[:, None]), 0, 63).astype(np.uint8)
    a = d[:, None] * sc
    b = dmin[:, None] * m
    q = np.clip(np.rint((sub + b[:, :, None]) * _safe_inverse(a)[:, :, None]), 0, levels - 1).astype(np.uint8)
    packed = np.empty((sub.shape[0], 12), dtype=np.uint8)
    packed[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    packed[:, 4:8] = m[:, 0:4] | ((m[:, 4:8] >> 4) << 6)
    packed[:, 8:12] = (sc[:, 4:8] & 15) | ((m[:, 4:8] & 15) << 4)
    return np.concatenate([d_bytes, dmin_bytes, packed], axis=1), q


def _low_nibbles_k(q):
    """Sub-blocks 2c and 2c+1 share 32 bytes: the first in the low nibbles."""
    low = q & 15
    return (low[:, 0::2, :] | (low[:, 1::2, :] << 4)).reshape(q.shape[0], 128)


def quantize_q4_k(x):
    """ggml's Q4_K: super-blocks of 256 as 144 bytes (d, dmin, scales, 4-bit levels)."""
    header, q = _affine_k(x, 16)
    return np.concatenate([header, _low_nibbles_k(q)], axis=1).reshape(-1)


def quantize_q5_k(x):
    """ggml's Q5_K: 176 bytes (d, dmin, scales, qh: bit j of byte l is level l of sub-block j's
    fifth bit, then the low nibbles as Q4_K)."""
    header, q = _affine_k(x, 32)
    qh = np.zeros((q.shape[0], 32), dtype=np.uint8)
    for j in range(8):
        qh |= ((q[:, j, :] >> 4) & 1) << j
    return np.concatenate([header, qh, _low_nibbles_k(q)], axis=1).reshape(-1)


def quantize_q6_k(x):
    """ggml's Q6_K: 210 bytes (ql [128], qh [64], int8 scales per 16, f16 d); weight =
    d·sc·(L − 32) with L in 0..63, laid out in halves of 128 whose weights l, l+32, l+64, l+96
    share ql bytes l and l+32 and qh byte l."""
    sub = x.reshape(-1, 16, 16)
    scale = np.abs(sub).max(axis=2) / 31
    d_bytes, d = _f16(scale.max(axis=1) / 127)
    sc = np.clip(np.rint(scale * _safe_inverse(d)[:, None]), -128, 127).astype(np.int8)
    a = d[:, None] * sc.astype(np.float32)
    L = (np.clip(np.rint(sub * _safe_inverse(a)[:, :, None]), -32, 31) + 32).astype(np.uint8).reshape(-1, 256)
    ql = np.empty((L.shape[0], 128), dtype=np.uint8)
    qh = np.empty((L.shape[0], 64), dtype=np.uint8)
    for half in range(2):
        base = half * 128
        part = [L[:, base + k * 32: base + (k + 1) * 32] for k in range(4)]
        ql[:, half * 64: half * 64 + 32] = (part[0] & 15) | ((part[2] & 15) << 4)
        ql[:, half * 64 + 32: half * 64 + 64] = (part[1] & 15) | ((part[3] & 15) << 4)
        qh[:, half * 32: half * 32 + 32] = (part[0] >> 4) | ((part[1] >> 4) << 2) | ((part[2] >> 4) << 4) | ((part[3] >> 4) << 6)
    return np.concatenate([ql, qh, sc.view(np.uint8), d_bytes], axis=1).reshape(-1)


def _halves(b, at):
    return b[:, at:at + 2].copy().view(np.float16).astype(np.float32)[:, 0]


def dequantize(data, ggml_type):
    """A GGUF matrix's bytes back to float32 values, as ggml dequantises them (for
    --dequantized-out: the reference of what the file's weights compute)."""
    if ggml_type == GGML_BF16:
        return (np.asarray(data).view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    if ggml_type == GGML_Q8_0:
        b = data.reshape(-1, 34)
        return (_halves(b, 0)[:, None] * b[:, 2:].view(np.int8)).reshape(-1)
    if ggml_type == GGML_Q4_0:
        b = data.reshape(-1, 18)
        levels = np.concatenate([b[:, 2:] & 15, b[:, 2:] >> 4], axis=1).astype(np.float32) - 8
        return (_halves(b, 0)[:, None] * levels).reshape(-1)
    if ggml_type in (GGML_Q4_K, GGML_Q5_K):
        five = ggml_type == GGML_Q5_K
        b = data.reshape(-1, 176 if five else 144)
        d, dmin, packed = _halves(b, 0), _halves(b, 2), b[:, 4:16]
        low = b[:, 48:176] if five else b[:, 16:144]
        out = np.empty((b.shape[0], 256), dtype=np.float32)
        for j in range(8):
            if j < 4:
                sc, m = packed[:, j] & 63, packed[:, j + 4] & 63
            else:
                sc = (packed[:, j + 4] & 15) | ((packed[:, j - 4] >> 6) << 4)
                m = (packed[:, j + 4] >> 4) | ((packed[:, j] >> 6) << 4)
            q = (low[:, (j // 2) * 32:(j // 2) * 32 + 32] >> (4 * (j % 2))) & 15
            if five:
                q = q + (((b[:, 16:48] >> j) & 1) << 4)
            out[:, j * 32:(j + 1) * 32] = (d * sc)[:, None] * q - (dmin * m)[:, None]
        return out.reshape(-1)
    if ggml_type == GGML_Q6_K:
        b = data.reshape(-1, 210)
        d, scales = _halves(b, 208), b[:, 192:208].view(np.int8).astype(np.float32)
        out = np.empty((b.shape[0], 256), dtype=np.float32)
        for half in range(2):
            ql, qh = b[:, half * 64:half * 64 + 64], b[:, 128 + half * 32:128 + half * 32 + 32]
            for k in range(4):
                low = (ql[:, (k % 2) * 32:(k % 2) * 32 + 32] >> (4 * (k // 2))) & 15
                level = (low | (((qh >> (2 * k)) & 3) << 4)).astype(np.float32) - 32
                at = half * 128 + k * 32
                scale = np.repeat(scales[:, half * 8 + 2 * k:half * 8 + 2 * k + 2], 16, axis=1)
                out[:, at:at + 32] = d[:, None] * scale * level
        return out.reshape(-1)
    raise ValueError(f"ggml type {ggml_type}")


def write_safetensors(path, tensors):
    """name -> (dtype string, shape, bytes-like), written in one file."""
    header, offset = {}, 0
    for name, (dtype, shape, raw) in tensors.items():
        size = np.asarray(raw).nbytes
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for dtype, shape, raw in tensors.values():
            f.write(np.ascontiguousarray(raw).tobytes())


class Writer:
    def __init__(self):
        self.kv = []
        self.tensors = []  # (name, ggml dims (fastest first), ggml type, bytes-like)

    def add(self, key, kind, value):
        self.kv.append((key, kind, value))

    def tensor(self, name, dims, ggml_type, data):
        self.tensors.append((name, dims, ggml_type, data))

    @staticmethod
    def _string(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def _value(self, kind, value):
        if kind == T_UINT32:
            return struct.pack("<I", value)
        if kind == T_INT32:
            return struct.pack("<i", value)
        if kind == T_UINT64:
            return struct.pack("<Q", value)
        if kind == T_FLOAT32:
            return struct.pack("<f", value)
        if kind == T_BOOL:
            return struct.pack("<B", 1 if value else 0)
        if kind == T_STRING:
            return self._string(value)
        if kind == T_ARRAY:
            element_kind, items = value
            parts = [struct.pack("<IQ", element_kind, len(items))]
            parts += [self._value(element_kind, item) for item in items]
            return b"".join(parts)
        raise ValueError(kind)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv)))
            for key, kind, value in self.kv:
                f.write(self._string(key) + struct.pack("<I", kind) + self._value(kind, value))
            offset = 0
            offsets = []
            for name, dims, ggml_type, data in self.tensors:
                offsets.append(offset)
                f.write(self._string(name) + struct.pack("<I", len(dims)))
                f.write(b"".join(struct.pack("<Q", d) for d in dims))
                f.write(struct.pack("<IQ", ggml_type, offset))
                offset += (len(data) + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
            f.write(b"\0" * (-f.tell() % ALIGNMENT))
            for (name, dims, ggml_type, data), at in zip(self.tensors, offsets):
                f.write(memoryview(data))
                f.write(b"\0" * (-len(data) % ALIGNMENT))


def vocabulary(tokenizer_path, vocab_size):
    """llama.cpp's gpt2-style vocabulary from tokenizer.json: tokens by id (ids the tokenizer
    lacks padded as [PADi], unused), their types, and the merges."""
    with open(tokenizer_path, encoding="utf-8") as f:
        tok = json.load(f)
    by_id = {i: t for t, i in tok["model"]["vocab"].items()}
    types = {i: TOKEN_NORMAL for i in by_id}
    for added in tok.get("added_tokens", []):
        by_id[added["id"]] = added["content"]
        types[added["id"]] = TOKEN_CONTROL if added.get("special") else TOKEN_USER_DEFINED
    tokens, token_types = [], []
    for i in range(vocab_size):
        tokens.append(by_id.get(i, f"[PAD{i}]"))
        token_types.append(types.get(i, TOKEN_UNUSED))
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    return tokens, token_types, merges


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--type", default="bf16", choices=["bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m"])
    parser.add_argument("--dequantized-out", default="",
                        help="also write DIR: the checkpoint with every matrix as the file holds it, in f32 "
                             "(what the file's weights compute, for bench/peer/agreement.sh)")
    args = parser.parse_args()

    with open(os.path.join(args.checkpoint, "config.json")) as f:
        config = json.load(f)
    if config.get("model_type") != "qwen3_moe":
        sys.exit("only qwen3_moe checkpoints are written (llama.cpp's DeepSeek MLA layout is its own)")
    tensors = read_safetensors(args.checkpoint)
    hidden, layers = config["hidden_size"], config["num_hidden_layers"]
    experts, ff = config["num_experts"], config["moe_intermediate_size"]
    head_dim = config.get("head_dim", hidden // config["num_attention_heads"])

    w = Writer()
    arch = "qwen3moe"
    w.add("general.architecture", T_STRING, arch)
    w.add("general.name", T_STRING, "agentd peer benchmark " + os.path.basename(os.path.normpath(args.checkpoint)))
    w.add("general.alignment", T_UINT32, ALIGNMENT)
    w.add("general.file_type", T_UINT32, {"bf16": 32, "q8_0": 7, "q4_0": 2, "q4_k_m": 15, "q5_k_m": 17}[args.type])
    w.add("general.quantization_version", T_UINT32, 2)
    w.add(f"{arch}.context_length", T_UINT32, config["max_position_embeddings"])
    w.add(f"{arch}.embedding_length", T_UINT32, hidden)
    w.add(f"{arch}.block_count", T_UINT32, layers)
    w.add(f"{arch}.feed_forward_length", T_UINT32, config.get("intermediate_size", ff))
    w.add(f"{arch}.expert_feed_forward_length", T_UINT32, ff)
    w.add(f"{arch}.expert_count", T_UINT32, experts)
    w.add(f"{arch}.expert_used_count", T_UINT32, config["num_experts_per_tok"])
    w.add(f"{arch}.attention.head_count", T_UINT32, config["num_attention_heads"])
    w.add(f"{arch}.attention.head_count_kv", T_UINT32, config["num_key_value_heads"])
    w.add(f"{arch}.attention.key_length", T_UINT32, head_dim)
    w.add(f"{arch}.attention.value_length", T_UINT32, head_dim)
    w.add(f"{arch}.attention.layer_norm_rms_epsilon", T_FLOAT32, config["rms_norm_eps"])
    w.add(f"{arch}.rope.freq_base", T_FLOAT32, config.get("rope_theta", 1e6))
    tokens, token_types, merges = vocabulary(args.tokenizer, config["vocab_size"])
    w.add("tokenizer.ggml.model", T_STRING, "gpt2")
    w.add("tokenizer.ggml.pre", T_STRING, "qwen2")
    w.add("tokenizer.ggml.tokens", T_ARRAY, (T_STRING, tokens))
    w.add("tokenizer.ggml.token_type", T_ARRAY, (T_INT32, token_types))
    w.add("tokenizer.ggml.merges", T_ARRAY, (T_STRING, merges))
    w.add("tokenizer.ggml.bos_token_id", T_UINT32, config.get("bos_token_id", 151643))
    w.add("tokenizer.ggml.eos_token_id", T_UINT32, config.get("eos_token_id", 151645))
    w.add("tokenizer.ggml.add_bos_token", T_BOOL, False)

    def matrix_bytes(parts, file_type):
        """One GGUF matrix from HF [rows, cols] pieces stacked in order, in the given type."""
        if file_type == "bf16" and all(p[0] == "BF16" for p in parts):
            return np.concatenate([p[2] for p in parts]), GGML_BF16
        values = np.concatenate([as_f32(p[0], p[2], p[1]).reshape(-1) for p in parts])
        if file_type == "bf16":
            return (values.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8), GGML_BF16
        cols = parts[0][1][-1]
        if file_type in ("q4_k", "q5_k", "q6_k") and cols % 256 != 0:
            file_type = "q8_0"  # K-quants need rows of whole super-blocks
        if file_type == "q8_0":
            return quantize_q8_0(values), GGML_Q8_0
        if file_type == "q4_k":
            return quantize_q4_k(values), GGML_Q4_K
        if file_type == "q5_k":
            return quantize_q5_k(values), GGML_Q5_K
        if file_type == "q6_k":
            return quantize_q6_k(values), GGML_Q6_K
        return quantize_q4_0(values), GGML_Q4_0

    def vector_f32(name):
        dtype, shape, raw = tensors[name]
        return np.ascontiguousarray(as_f32(dtype, raw, shape), dtype=np.float32).reshape(-1).view(np.uint8)

    # The K-quant mixes as llama.cpp's quantiser makes them: Q4_K (Q5_K) for most matrices, Q6_K
    # for the output head and for attn_v and ffn_down in every other layer.
    k_main = {"q4_k_m": "q4_k", "q5_k_m": "q5_k"}.get(args.type)

    def type_of(role, layer=0):
        if k_main is None:
            return args.type
        if role == "output" or (role == "more_bits" and layer % 2 == 0):
            return "q6_k"
        return k_main

    dequantized = {}

    def add_matrix(gguf_name, hf_names, dims, file_type=None):
        file_type = file_type or type_of("main")
        data, ggml_type = matrix_bytes([tensors[n] for n in hf_names], file_type)
        w.tensor(gguf_name, dims, ggml_type, data)
        if args.dequantized_out:
            values = dequantize(np.asarray(data), ggml_type).reshape(len(hf_names), -1)
            for n, v in zip(hf_names, values):
                dequantized[n] = ("F32", tensors[n][1], v)

    vocab = config["vocab_size"]
    # The embedding stays bf16 even in the quantised files (llama.cpp's get_rows reads any type,
    # and a random row lookup gains nothing from quantisation).
    embed = tensors["model.embed_tokens.weight"]
    if embed[0] == "BF16":
        embed_bytes = embed[2]
    else:  # truncated to bf16, as the checkpoint writer does
        embed_bytes = (as_f32(embed[0], embed[2], embed[1]).view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    w.tensor("token_embd.weight", [hidden, vocab], GGML_BF16, embed_bytes)
    w.tensor("output_norm.weight", [hidden], GGML_F32, vector_f32("model.norm.weight"))
    # A 4-bit file keeps its output head at 8 bits, as agentd's q4 does (llama.cpp's own
    # quantiser keeps it above 4 bits too, at Q6_K): the same bytes read on both sides.
    add_matrix("output.weight", ["lm_head.weight"], [hidden, vocab], "q8_0" if args.type == "q4_0" else type_of("output"))
    q_rows = config["num_attention_heads"] * head_dim
    kv_rows = config["num_key_value_heads"] * head_dim
    for i in range(layers):
        p = f"model.layers.{i}."
        b = f"blk.{i}."
        w.tensor(b + "attn_norm.weight", [hidden], GGML_F32, vector_f32(p + "input_layernorm.weight"))
        add_matrix(b + "attn_q.weight", [p + "self_attn.q_proj.weight"], [hidden, q_rows])
        add_matrix(b + "attn_k.weight", [p + "self_attn.k_proj.weight"], [hidden, kv_rows])
        add_matrix(b + "attn_v.weight", [p + "self_attn.v_proj.weight"], [hidden, kv_rows], type_of("more_bits", i))
        add_matrix(b + "attn_output.weight", [p + "self_attn.o_proj.weight"], [q_rows, hidden])
        w.tensor(b + "attn_q_norm.weight", [head_dim], GGML_F32, vector_f32(p + "self_attn.q_norm.weight"))
        w.tensor(b + "attn_k_norm.weight", [head_dim], GGML_F32, vector_f32(p + "self_attn.k_norm.weight"))
        w.tensor(b + "ffn_norm.weight", [hidden], GGML_F32, vector_f32(p + "post_attention_layernorm.weight"))
        w.tensor(b + "ffn_gate_inp.weight", [hidden, experts], GGML_F32, vector_f32(p + "mlp.gate.weight"))
        for proj, gguf_proj, dims in (("gate_proj", "ffn_gate_exps", [hidden, ff, experts]),
                                      ("up_proj", "ffn_up_exps", [hidden, ff, experts]),
                                      ("down_proj", "ffn_down_exps", [ff, hidden, experts])):
            add_matrix(b + gguf_proj + ".weight", [f"{p}mlp.experts.{e}.{proj}.weight" for e in range(experts)], dims,
                       type_of("more_bits" if proj == "down_proj" else "main", i))
    w.write(args.out)
    if args.dequantized_out:
        os.makedirs(args.dequantized_out, exist_ok=True)
        with open(os.path.join(args.dequantized_out, "config.json"), "w") as f:
            json.dump(config, f)
        write_safetensors(os.path.join(args.dequantized_out, "model.safetensors"),
                          {n: dequantized.get(n, t) for n, t in tensors.items()})
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.0f} MB, {len(w.tensors)} tensors, {args.type})")


if __name__ == "__main__":
    main()
