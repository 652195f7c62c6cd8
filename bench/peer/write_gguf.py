#!/usr/bin/python3
"""Writes a Qwen3-MoE or DeepSeek-V3 checkpoint in the Hugging Face layout (config.json,
*.safetensors) as a GGUF file llama.cpp loads, so both engines run the very same weights in one
benchmark run.

    write_gguf.py --checkpoint DIR --tokenizer tokenizer.json --out model.gguf [--type bf16|q8_0|q4_0|q4_0_pure|q4_k_m|q5_k_m]

Our own writer of the GGUF v3 format (llama.cpp's gguf-py is not a Debian package): a header,
key/value metadata, tensor infos, then the tensor data, each aligned to 32 bytes. Tensor names
and metadata keys are llama.cpp's for its `qwen3moe` and `deepseek2` architectures; each expert's
HF matrices are stacked into one 3-D tensor per projection, as llama.cpp's converter does. A
DeepSeek checkpoint is written in llama.cpp's MLA form: kv_b_proj split per head into attn_k_b
(the W_UK half, transposed, so a query's nope part multiplies it into the latent space) and
attn_v_b (W_UV), the `_mla` keys giving the per-head widths, and one KV head (the cache holds one
latent per position). Matrices keep their
bf16 bits (or are quantised to Q8_0 / Q4_0 blocks of 32: one f16 scale and 32 int8 or 4-bit
values, the output head at Q8_0 under q4_0 and at Q4_0 too under q4_0_pure, as llama-quantize
--pure writes; or as llama.cpp's K-quant mixes Q4_K_M and Q5_K_M: super-blocks of 256 weights, Q6_K for
the output head and for attn_v and ffn_down in every other layer, and for a matrix whose rows
are not whole super-blocks the types llama.cpp's quantiser falls back to: Q5_0 for Q4_K, Q5_1
for Q5_K, Q8_0 for Q6_K), and vectors and the router
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
GGML_F32, GGML_Q4_0, GGML_Q5_0, GGML_Q5_1, GGML_Q8_0, GGML_Q4_K, GGML_Q5_K, GGML_Q6_K, GGML_BF16 = 0, 2, 6, 7, 8, 12, 13, 14, 30
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


def _five_bit_blocks(d_bytes, m_bytes, q):
    """Q5_0 / Q5_1 bytes: d (and m) as f16, the levels' fifth bits as one little-endian uint32
    (bit j for level j), then byte j holding level j's low nibble and level j + 16's."""
    high = ((q >> 4).astype(np.uint64) << np.arange(32, dtype=np.uint64)).sum(axis=1).astype(np.uint32)
    parts = [d_bytes] + ([m_bytes] if m_bytes is not None else [])
    parts += [high.view(np.uint8).reshape(-1, 4), ((q[:, :16] & 15) | ((q[:, 16:] & 15) << 4)).astype(np.uint8)]
    return np.concatenate(parts, axis=1).reshape(-1)


def quantize_q5_0(x):
    """ggml's Q5_0: blocks of 32, d = (the value of largest magnitude) / -16 as f16,
    q = min(31, floor(x / d + 16.5)); weight = d·(q − 16)."""
    blocks = x.reshape(-1, 32)
    extreme = blocks[np.arange(blocks.shape[0]), np.abs(blocks).argmax(axis=1)]
    d = extreme / -16.0
    q = np.clip(np.floor(blocks * _safe_inverse(d)[:, None] + 16.5), 0, 31).astype(np.uint8)
    return _five_bit_blocks(_f16(d)[0], None, q)


def quantize_q5_1(x):
    """ggml's Q5_1: blocks of 32, d = (max − min) / 31 and m = min as f16,
    q = floor((x − min) / d + 0.5); weight = d·q + m."""
    blocks = x.reshape(-1, 32)
    low, high = blocks.min(axis=1), blocks.max(axis=1)
    d = (high - low) / 31.0
    q = np.clip(np.floor((blocks - low[:, None]) * _safe_inverse(d)[:, None] + 0.5), 0, 31).astype(np.uint8)
    return _five_bit_blocks(_f16(d)[0], _f16(low)[0], q)


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
    if ggml_type == GGML_F32:
        return np.asarray(data).view(np.float32).copy()
    if ggml_type == GGML_BF16:
        return (np.asarray(data).view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    if ggml_type == GGML_Q8_0:
        b = data.reshape(-1, 34)
        return (_halves(b, 0)[:, None] * b[:, 2:].view(np.int8)).reshape(-1)
    if ggml_type == GGML_Q4_0:
        b = data.reshape(-1, 18)
        levels = np.concatenate([b[:, 2:] & 15, b[:, 2:] >> 4], axis=1).astype(np.float32) - 8
        return (_halves(b, 0)[:, None] * levels).reshape(-1)
    if ggml_type in (GGML_Q5_0, GGML_Q5_1):
        affine = ggml_type == GGML_Q5_1
        b = data.reshape(-1, 24 if affine else 22)
        at = 4 if affine else 2
        high = b[:, at:at + 4].copy().view(np.uint32)[:, 0]
        low = np.concatenate([b[:, at + 4:] & 15, b[:, at + 4:] >> 4], axis=1).astype(np.uint32)
        levels = (low | (((high[:, None] >> np.arange(32, dtype=np.uint32)) & 1) << 4)).astype(np.float32)
        if affine:
            return (_halves(b, 0)[:, None] * levels + _halves(b, 2)[:, None]).reshape(-1)
        return (_halves(b, 0)[:, None] * (levels - 16)).reshape(-1)
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


class GgufModel:
    """What both architectures share: the file's type, the checkpoint's tensors, and how a
    matrix or a vector of the checkpoint becomes a GGUF tensor."""

    def __init__(self, args, config, tensors):
        self.args, self.config, self.tensors = args, config, tensors
        self.w = Writer()
        self.dequantized = {}
        self.row_orders = {}  # name -> the order its rows were written in (reorder_rows)
        # The K-quant mixes as llama.cpp's quantiser makes them: Q4_K (Q5_K) for most matrices,
        # Q6_K for the output head and for attn_v and ffn_down in every other layer.
        self.k_main = {"q4_k_m": "q4_k", "q5_k_m": "q5_k"}.get(args.type)

    def type_of(self, role, layer=0):
        if self.k_main is None:
            return self.args.type
        if role == "output" or (role == "more_bits" and layer % 2 == 0):
            return "q6_k"
        return self.k_main

    def matrix_bytes(self, parts, file_type):
        """One GGUF matrix from HF [rows, cols] pieces (or f32 arrays) stacked in order, in the given type."""
        if file_type == "bf16" and all(not isinstance(p, np.ndarray) and p[0] == "BF16" for p in parts):
            return np.concatenate([p[2] for p in parts]), GGML_BF16
        values = np.concatenate([(p if isinstance(p, np.ndarray) else as_f32(p[0], p[2], p[1])).reshape(-1)
                                 for p in parts]).astype(np.float32)
        if file_type == "bf16":
            return (values.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8), GGML_BF16
        cols = (parts[0].shape if isinstance(parts[0], np.ndarray) else parts[0][1])[-1]
        if cols % 32 != 0:
            # Rows that are not whole blocks of 32 (the DeepSeek fixtures' 16- and 24-wide
            # heads) take no block type: kept exact in f32, as agentd keeps such a matrix as stored.
            return values.view(np.uint8), GGML_F32
        if file_type in ("q4_k", "q5_k", "q6_k") and cols % 256 != 0:
            # K-quants need rows of whole super-blocks: llama.cpp's quantiser falls back as here.
            file_type = {"q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0"}[file_type]
        if file_type == "q5_0":
            return quantize_q5_0(values), GGML_Q5_0
        if file_type == "q5_1":
            return quantize_q5_1(values), GGML_Q5_1
        if file_type == "q8_0":
            return quantize_q8_0(values), GGML_Q8_0
        if file_type == "q4_k":
            return quantize_q4_k(values), GGML_Q4_K
        if file_type == "q5_k":
            return quantize_q5_k(values), GGML_Q5_K
        if file_type == "q6_k":
            return quantize_q6_k(values), GGML_Q6_K
        return quantize_q4_0(values), GGML_Q4_0

    def matrix(self, gguf_name, hf_names, dims, file_type=None):
        file_type = file_type or self.type_of("main")
        data, ggml_type = self.matrix_bytes([self.tensors[n] for n in hf_names], file_type)
        self.w.tensor(gguf_name, dims, ggml_type, data)
        if self.args.dequantized_out:
            values = dequantize(np.asarray(data), ggml_type).reshape(len(hf_names), -1)
            for n, v in zip(hf_names, values):
                self.dequantized[n] = ("F32", self.tensors[n][1], v)

    def reorder_rows(self, name, order):
        """Row j of tensor `name` becomes its row order[j] (as f32, which holds every bf16 value);
        the dequantised reference gets the checkpoint's order back."""
        dtype, shape, raw = self.tensors[name]
        values = np.ascontiguousarray(as_f32(dtype, raw, shape)[order], dtype=np.float32)
        self.tensors[name] = ("F32", shape, values.reshape(-1).view(np.uint8))
        self.row_orders[name] = order

    def f32(self, name):
        dtype, shape, raw = self.tensors[name]
        return np.ascontiguousarray(as_f32(dtype, raw, shape), dtype=np.float32)

    def vector(self, gguf_name, hf_name, dims=None):
        values = self.f32(hf_name)
        self.w.tensor(gguf_name, dims or [values.size], GGML_F32, values.reshape(-1).view(np.uint8))

    def experts(self, prefix, b, count, ff, hidden, layer):
        hidden_dims, down_dims = [hidden, ff, count], [ff, hidden, count]
        for proj, gguf_proj, dims in (("gate_proj", "ffn_gate_exps", hidden_dims), ("up_proj", "ffn_up_exps", hidden_dims),
                                      ("down_proj", "ffn_down_exps", down_dims)):
            self.matrix(b + gguf_proj + ".weight", [f"{prefix}mlp.experts.{e}.{proj}.weight" for e in range(count)], dims,
                        self.type_of("more_bits" if proj == "down_proj" else "main", layer))

    def embeddings_and_head(self):
        hidden, vocab = self.config["hidden_size"], self.config["vocab_size"]
        # The embedding stays bf16 in the quantised files (llama.cpp's get_rows reads any type,
        # and a random row lookup gains nothing from quantisation), as in agentd's q8 and q4; a
        # pure file has it at 4 bits, as agentd's q4-pure.
        embed = self.tensors["model.embed_tokens.weight"]
        if self.args.type == "q4_0_pure":  # llama-quantize --pure rounds them as every matrix
            self.matrix("token_embd.weight", ["model.embed_tokens.weight"], [hidden, vocab], self.type_of("output"))
        else:
            if embed[0] == "BF16":
                embed_bytes = embed[2]
            else:  # truncated to bf16, as the checkpoint writer does
                embed_bytes = (as_f32(embed[0], embed[2], embed[1]).reshape(-1).view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
            self.w.tensor("token_embd.weight", [hidden, vocab], GGML_BF16, embed_bytes)
        self.vector("output_norm.weight", "model.norm.weight")
        # A 4-bit file keeps its output head at 8 bits, as agentd's q4 does (llama.cpp's own
        # quantiser keeps it above 4 bits too, at Q6_K): the same bytes read on both sides. A
        # pure one (agentd's q4-pure) has it at 4 bits too.
        self.matrix("output.weight", ["lm_head.weight"], [hidden, vocab],
                    "q8_0" if self.args.type == "q4_0" else self.type_of("output"))


def write_qwen3moe(m):
    c, w, arch = m.config, m.w, "qwen3moe"
    hidden, layers = c["hidden_size"], c["num_hidden_layers"]
    experts, ff = c["num_experts"], c["moe_intermediate_size"]
    head_dim = c.get("head_dim", hidden // c["num_attention_heads"])
    w.add(f"{arch}.feed_forward_length", T_UINT32, c.get("intermediate_size", ff))
    w.add(f"{arch}.expert_feed_forward_length", T_UINT32, ff)
    w.add(f"{arch}.expert_count", T_UINT32, experts)
    w.add(f"{arch}.expert_used_count", T_UINT32, c["num_experts_per_tok"])
    w.add(f"{arch}.attention.head_count_kv", T_UINT32, c["num_key_value_heads"])
    w.add(f"{arch}.attention.key_length", T_UINT32, head_dim)
    w.add(f"{arch}.attention.value_length", T_UINT32, head_dim)
    w.add(f"{arch}.rope.freq_base", T_FLOAT32, c.get("rope_theta", 1e6))
    m.embeddings_and_head()
    q_rows = c["num_attention_heads"] * head_dim
    kv_rows = c["num_key_value_heads"] * head_dim
    for i in range(layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        m.vector(b + "attn_norm.weight", p + "input_layernorm.weight")
        m.matrix(b + "attn_q.weight", [p + "self_attn.q_proj.weight"], [hidden, q_rows])
        m.matrix(b + "attn_k.weight", [p + "self_attn.k_proj.weight"], [hidden, kv_rows])
        m.matrix(b + "attn_v.weight", [p + "self_attn.v_proj.weight"], [hidden, kv_rows], m.type_of("more_bits", i))
        m.matrix(b + "attn_output.weight", [p + "self_attn.o_proj.weight"], [q_rows, hidden])
        m.vector(b + "attn_q_norm.weight", p + "self_attn.q_norm.weight")
        m.vector(b + "attn_k_norm.weight", p + "self_attn.k_norm.weight")
        m.vector(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
        m.vector(b + "ffn_gate_inp.weight", p + "mlp.gate.weight", [hidden, experts])
        m.experts(p, b, experts, ff, hidden, i)


def adjacent_rotary_pairs(m, c, layers, heads, nope, rope, rank, q_rank):
    """llama.cpp's deepseek2 rotates adjacent pairs (2i, 2i + 1), as DeepSeek's own checkpoints
    are laid out (rope_interleave, the default); a checkpoint with rope_interleave false (the
    shipped default model) rotates halves (i, i + rope / 2). Its query and rotary-key rows are
    reordered so that each half-split pair becomes an adjacent one: the same rotation by the same
    frequency, and the same q·k, since both sides move alike. Rows are whole quantisation blocks
    apart, so the blocks are those of the checkpoint's rows; the f32 reference checkpoint
    (--dequantized-out) gets them back in the checkpoint's order."""
    half = rope // 2
    pairs = np.stack([np.arange(half), np.arange(half) + half], axis=1).reshape(-1)  # new row j <- old row pairs[j]
    for i in range(layers):
        a = f"model.layers.{i}.self_attn."
        q_name = a + ("q_b_proj.weight" if q_rank else "q_proj.weight")
        order = np.arange(heads * (nope + rope)).reshape(heads, nope + rope)
        order[:, nope:] = order[:, nope:][:, pairs]
        m.reorder_rows(q_name, order.reshape(-1))
        order = np.arange(rank + rope)
        order[rank:] = order[rank:][pairs]
        m.reorder_rows(a + "kv_a_proj_with_mqa.weight", order)


def write_deepseek2(m):
    """llama.cpp's deepseek2 architecture (DeepSeek-V2/V3) in its MLA form."""
    c, w, arch = m.config, m.w, "deepseek2"
    hidden, layers, heads = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"]
    nope, rope, vdim = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    rank, q_rank = c["kv_lora_rank"], c.get("q_lora_rank")
    experts, ff, dense = c["n_routed_experts"], c["moe_intermediate_size"], c.get("first_k_dense_replace", 0)
    shared = c.get("n_shared_experts", 0)
    if c.get("moe_layer_freq", 1) != 1:
        sys.exit("moe_layer_freq other than 1 has no llama.cpp key")
    if not c.get("rope_interleave", True):
        adjacent_rotary_pairs(m, c, layers, heads, nope, rope, rank, q_rank)
    w.add(f"{arch}.feed_forward_length", T_UINT32, c["intermediate_size"])
    w.add(f"{arch}.leading_dense_block_count", T_UINT32, dense)
    w.add(f"{arch}.vocab_size", T_UINT32, c["vocab_size"])
    if q_rank:
        w.add(f"{arch}.attention.q_lora_rank", T_UINT32, q_rank)
    w.add(f"{arch}.attention.kv_lora_rank", T_UINT32, rank)
    # MLA as llama.cpp runs it is multi-query attention over the latent: one KV head whose key is
    # the latent and the rotary key, whose value is the latent; the per-head widths go under _mla.
    w.add(f"{arch}.attention.head_count_kv", T_UINT32, 1)
    w.add(f"{arch}.attention.key_length", T_UINT32, rank + rope)
    w.add(f"{arch}.attention.value_length", T_UINT32, rank)
    w.add(f"{arch}.attention.key_length_mla", T_UINT32, nope + rope)
    w.add(f"{arch}.attention.value_length_mla", T_UINT32, vdim)
    w.add(f"{arch}.rope.dimension_count", T_UINT32, rope)
    w.add(f"{arch}.rope.freq_base", T_FLOAT32, c.get("rope_theta", 10000.0))
    scaling = c.get("rope_scaling") or {}
    if scaling.get("type", scaling.get("rope_type")) == "yarn":
        w.add(f"{arch}.rope.scaling.type", T_STRING, "yarn")
        w.add(f"{arch}.rope.scaling.factor", T_FLOAT32, scaling["factor"])
        w.add(f"{arch}.rope.scaling.original_context_length", T_UINT32, scaling["original_max_position_embeddings"])
        # llama.cpp's converter writes 0.1 · mscale_all_dim and its graph undoes the 0.1.
        w.add(f"{arch}.rope.scaling.yarn_log_multiplier", T_FLOAT32, 0.1 * scaling.get("mscale_all_dim", 0))
        if scaling.get("mscale", 1.0) != scaling.get("mscale_all_dim", 0):
            sys.exit("YaRN with mscale != mscale_all_dim has no llama.cpp key")
    elif scaling:
        sys.exit(f"rope_scaling {scaling} is not written")
    w.add(f"{arch}.expert_count", T_UINT32, experts)
    w.add(f"{arch}.expert_used_count", T_UINT32, c["num_experts_per_tok"])
    w.add(f"{arch}.expert_feed_forward_length", T_UINT32, ff)
    w.add(f"{arch}.expert_shared_count", T_UINT32, shared)
    w.add(f"{arch}.expert_weights_scale", T_FLOAT32, c.get("routed_scaling_factor", 1.0))
    w.add(f"{arch}.expert_weights_norm", T_BOOL, bool(c.get("norm_topk_prob", False)))
    w.add(f"{arch}.expert_gating_func", T_UINT32, 2 if c.get("scoring_func", "softmax") == "sigmoid" else 1)
    if c.get("topk_method") in ("group_limited_greedy", "noaux_tc") and c.get("n_group", 1) > 1:
        w.add(f"{arch}.expert_group_count", T_UINT32, c["n_group"])
        w.add(f"{arch}.expert_group_used_count", T_UINT32, c["topk_group"])
    m.embeddings_and_head()
    for i in range(layers):
        p, b, a = f"model.layers.{i}.", f"blk.{i}.", f"model.layers.{i}.self_attn."
        m.vector(b + "attn_norm.weight", p + "input_layernorm.weight")
        if q_rank:
            m.matrix(b + "attn_q_a.weight", [a + "q_a_proj.weight"], [hidden, q_rank])
            m.vector(b + "attn_q_a_norm.weight", a + "q_a_layernorm.weight")
            m.matrix(b + "attn_q_b.weight", [a + "q_b_proj.weight"], [q_rank, heads * (nope + rope)])
        else:
            m.matrix(b + "attn_q.weight", [a + "q_proj.weight"], [hidden, heads * (nope + rope)])
        m.matrix(b + "attn_kv_a_mqa.weight", [a + "kv_a_proj_with_mqa.weight"], [hidden, rank + rope])
        m.vector(b + "attn_kv_a_norm.weight", a + "kv_a_layernorm.weight")
        # kv_b_proj is [heads · (nope + v), rank]: per head, nope rows of W_UK then v rows of W_UV.
        kv_b = m.f32(a + "kv_b_proj.weight").reshape(heads, nope + vdim, rank)
        k_b = np.ascontiguousarray(kv_b[:, :nope, :].transpose(0, 2, 1))  # [heads, rank, nope]
        v_b = np.ascontiguousarray(kv_b[:, nope:, :])                     # [heads, v, rank]
        halves = []
        for gguf_name, values, dims in (("attn_k_b.weight", k_b, [nope, rank, heads]),
                                        ("attn_v_b.weight", v_b, [rank, vdim, heads])):
            data, ggml_type = m.matrix_bytes([values], m.type_of("main"))
            w.tensor(b + gguf_name, dims, ggml_type, data)
            if m.args.dequantized_out:
                halves.append(dequantize(np.asarray(data), ggml_type).reshape(values.shape))
        if m.args.dequantized_out:  # kv_b_proj again, from the halves as the file holds them
            kv_b_file = np.concatenate([halves[0].transpose(0, 2, 1), halves[1]], axis=1)
            m.dequantized[a + "kv_b_proj.weight"] = ("F32", m.tensors[a + "kv_b_proj.weight"][1], kv_b_file.reshape(-1))
        m.matrix(b + "attn_output.weight", [a + "o_proj.weight"], [heads * vdim, hidden])
        m.vector(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
        if i < dense:
            m.matrix(b + "ffn_gate.weight", [p + "mlp.gate_proj.weight"], [hidden, c["intermediate_size"]])
            m.matrix(b + "ffn_up.weight", [p + "mlp.up_proj.weight"], [hidden, c["intermediate_size"]])
            m.matrix(b + "ffn_down.weight", [p + "mlp.down_proj.weight"], [c["intermediate_size"], hidden])
            continue
        m.vector(b + "ffn_gate_inp.weight", p + "mlp.gate.weight", [hidden, experts])
        if p + "mlp.gate.e_score_correction_bias" in m.tensors:
            m.vector(b + "exp_probs_b.bias", p + "mlp.gate.e_score_correction_bias")
        m.experts(p, b, experts, ff, hidden, i)
        if shared:
            width = ff * shared
            m.matrix(b + "ffn_gate_shexp.weight", [p + "mlp.shared_experts.gate_proj.weight"], [hidden, width])
            m.matrix(b + "ffn_up_shexp.weight", [p + "mlp.shared_experts.up_proj.weight"], [hidden, width])
            m.matrix(b + "ffn_down_shexp.weight", [p + "mlp.shared_experts.down_proj.weight"], [width, hidden])


ARCHITECTURES = {  # model_type -> (llama.cpp architecture, tokenizer.ggml.pre, writer)
    "qwen3_moe": ("qwen3moe", "qwen2", write_qwen3moe),
    "deepseek_v3": ("deepseek2", "deepseek-v3", write_deepseek2),
    "deepseek_v2": ("deepseek2", "deepseek-llm", write_deepseek2),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--type", default="bf16", choices=["bf16", "q8_0", "q4_0", "q4_0_pure", "q4_k_m", "q5_k_m"])
    parser.add_argument("--dequantized-out", default="",
                        help="also write DIR: the checkpoint with every matrix as the file holds it, in f32 "
                             "(what the file's weights compute, for bench/peer/agreement.sh)")
    args = parser.parse_args()

    with open(os.path.join(args.checkpoint, "config.json")) as f:
        config = json.load(f)
    if config.get("model_type") not in ARCHITECTURES:
        sys.exit(f"model_type {config.get('model_type')} is not written (only {', '.join(ARCHITECTURES)})")
    arch, pre, write_tensors = ARCHITECTURES[config["model_type"]]
    m = GgufModel(args, config, read_safetensors(args.checkpoint))
    w = m.w
    w.add("general.architecture", T_STRING, arch)
    w.add("general.name", T_STRING, "agentd peer benchmark " + os.path.basename(os.path.normpath(args.checkpoint)))
    w.add("general.alignment", T_UINT32, ALIGNMENT)
    w.add("general.file_type", T_UINT32, {"bf16": 32, "q8_0": 7, "q4_0": 2, "q4_0_pure": 2, "q4_k_m": 15, "q5_k_m": 17}[args.type])
    w.add("general.quantization_version", T_UINT32, 2)
    w.add(f"{arch}.context_length", T_UINT32, config["max_position_embeddings"])
    w.add(f"{arch}.embedding_length", T_UINT32, config["hidden_size"])
    w.add(f"{arch}.block_count", T_UINT32, config["num_hidden_layers"])
    w.add(f"{arch}.attention.head_count", T_UINT32, config["num_attention_heads"])
    w.add(f"{arch}.attention.layer_norm_rms_epsilon", T_FLOAT32, config["rms_norm_eps"])
    tokens, token_types, merges = vocabulary(args.tokenizer, config["vocab_size"])
    w.add("tokenizer.ggml.model", T_STRING, "gpt2")
    w.add("tokenizer.ggml.pre", T_STRING, pre)
    w.add("tokenizer.ggml.tokens", T_ARRAY, (T_STRING, tokens))
    w.add("tokenizer.ggml.token_type", T_ARRAY, (T_INT32, token_types))
    w.add("tokenizer.ggml.merges", T_ARRAY, (T_STRING, merges))
    w.add("tokenizer.ggml.bos_token_id", T_UINT32, config.get("bos_token_id", 151643))
    w.add("tokenizer.ggml.eos_token_id", T_UINT32, config.get("eos_token_id", 151645))
    w.add("tokenizer.ggml.add_bos_token", T_BOOL, False)
    write_tensors(m)
    w.write(args.out)
    if args.dequantized_out:
        os.makedirs(args.dequantized_out, exist_ok=True)
        with open(os.path.join(args.dequantized_out, "config.json"), "w") as f:
            json.dump(config, f)
        for name, order in m.row_orders.items():
            dtype, shape, raw = m.dequantized.get(name, m.tensors[name])
            values = np.empty(shape, dtype=np.float32)
            values[order] = as_f32(dtype, np.asarray(raw), shape)
            m.dequantized[name] = ("F32", shape, values.reshape(-1).view(np.uint8))
        write_safetensors(os.path.join(args.dequantized_out, "model.safetensors"),
                          {n: m.dequantized.get(n, t) for n, t in m.tensors.items()})
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.0f} MB, {len(w.tensors)} tensors, {args.type})")


if __name__ == "__main__":
    main()
