"""A DeepSeek-V3-layout MoE language model in PyTorch, written to match agentd's engine (and
transformers' DeepseekV3ForCausalLM with rope_interleave false) line by line:

  h = embed(tokens)
  for each layer:  h += MLA(rmsnorm(h));  h += FFN(rmsnorm(h))        FFN: dense for the first
  logits = lm_head(rmsnorm(h))                                        layer(s), MoE after
  MTP:  x_i = eh_proj([enorm(embed(t_{i+1})) ; hnorm(h_i)])  (embedding zeroed at i = 0),
        one more decoder block over x, logits_mtp = head(norm(x)) predicts t_{i+2}

MLA (multi-head latent attention): queries through a low-rank bottleneck (q_a → norm → q_b),
keys and values from a shared latent c = norm(kv_a(x)) expanded by kv_b, plus one rotary key
k_pe shared by all heads. MoE: sigmoid scores, experts chosen by score + bias (the bias is only
for selection and is adjusted between steps to balance load, DeepSeek-V3's auxiliary-loss-free
balancing), weights = chosen scores normalised × routed_scaling_factor, plus a shared expert.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


def rope(x, positions, theta):
    """Rotary embedding on the last dimension (halves rotated, not interleaved pairs)."""
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    angles = positions.float()[:, None] * inv[None, :]
    cos = torch.cat((angles.cos(), angles.cos()), -1)
    sin = torch.cat((angles.sin(), angles.sin()), -1)
    if x.dim() == 4:  # [B, T, heads, d]
        cos, sin = cos[:, None, :], sin[:, None, :]
    return x * cos + rotate_half(x) * sin


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.nope, self.rope_dim, self.v = c["num_attention_heads"], c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
        self.theta = c["rope_theta"]
        d, eps = c["hidden_size"], c["rms_norm_eps"]
        self.q_a_proj = nn.Linear(d, c["q_lora_rank"], bias=False)
        self.q_a_layernorm = RMSNorm(c["q_lora_rank"], eps)
        self.q_b_proj = nn.Linear(c["q_lora_rank"], self.h * (self.nope + self.rope_dim), bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(d, c["kv_lora_rank"] + self.rope_dim, bias=False)
        self.kv_a_layernorm = RMSNorm(c["kv_lora_rank"], eps)
        self.kv_b_proj = nn.Linear(c["kv_lora_rank"], self.h * (self.nope + self.v), bias=False)
        self.o_proj = nn.Linear(self.h * self.v, d, bias=False)
        self.kv_lora = c["kv_lora_rank"]

    def forward(self, x, positions):
        B, T, _ = x.shape
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))).view(B, T, self.h, self.nope + self.rope_dim)
        q_nope, q_pe = q.split([self.nope, self.rope_dim], dim=-1)
        kv_a = self.kv_a_proj_with_mqa(x)
        latent, k_pe = kv_a.split([self.kv_lora, self.rope_dim], dim=-1)
        kv = self.kv_b_proj(self.kv_a_layernorm(latent)).view(B, T, self.h, self.nope + self.v)
        k_nope, v = kv.split([self.nope, self.v], dim=-1)
        q_pe = rope(q_pe, positions, self.theta)
        k_pe = rope(k_pe, positions, self.theta).unsqueeze(2).expand(B, T, self.h, self.rope_dim)
        q = torch.cat((q_nope, q_pe), -1).transpose(1, 2)
        k = torch.cat((k_nope, k_pe), -1).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.nope + self.rope_dim)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        scores = scores.float().masked_fill(causal, float("-inf"))
        out = torch.softmax(scores, dim=-1).type_as(v) @ v.transpose(1, 2)
        return self.o_proj(out.transpose(1, 2).reshape(B, T, self.h * self.v))


class SwiGLU(nn.Module):
    def __init__(self, d, inner):
        super().__init__()
        self.gate_proj = nn.Linear(d, inner, bias=False)
        self.up_proj = nn.Linear(d, inner, bias=False)
        self.down_proj = nn.Linear(inner, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Gate(nn.Module):
    def __init__(self, d, experts):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(experts, d))
        nn.init.normal_(self.weight, std=0.02)
        # Selection bias, not trained by gradients: adjusted by the balancing rule.
        self.register_buffer("e_score_correction_bias", torch.zeros(experts))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, inner = c["hidden_size"], c["moe_intermediate_size"]
        self.k, self.scale, self.norm = c["num_experts_per_tok"], c["routed_scaling_factor"], c["norm_topk_prob"]
        self.gate = Gate(d, c["n_routed_experts"])
        self.experts = nn.ModuleList(SwiGLU(d, inner) for _ in range(c["n_routed_experts"]))
        self.shared_experts = SwiGLU(d, inner * c["n_shared_experts"])
        self.last_load = None  # tokens routed to each expert in the last forward (for balancing)

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        scores = torch.sigmoid(x.float() @ self.gate.weight.float().t())
        chosen = torch.topk(scores + self.gate.e_score_correction_bias, self.k, dim=-1).indices
        weights = scores.gather(1, chosen)
        if self.norm:
            weights = weights / (weights.sum(-1, keepdim=True) + 1e-20)
        weights = (weights * self.scale).type_as(x)
        out = self.shared_experts(x)
        load = torch.zeros(len(self.experts))
        for e, expert in enumerate(self.experts):
            rows, slot = (chosen == e).nonzero(as_tuple=True)
            load[e] = rows.numel()
            if rows.numel():
                out = out.index_add(0, rows, expert(x[rows]) * weights[rows, slot, None])
        self.last_load = load
        return out.view(shape)


class Block(nn.Module):
    def __init__(self, c, dense):
        super().__init__()
        eps = c["rms_norm_eps"]
        self.input_layernorm = RMSNorm(c["hidden_size"], eps)
        self.self_attn = MLA(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], eps)
        self.mlp = SwiGLU(c["hidden_size"], c["intermediate_size"]) if dense else MoE(c)

    def forward(self, h, positions):
        h = h + self.self_attn(self.input_layernorm(h), positions)
        return h + self.mlp(self.post_attention_layernorm(h))


class MTP(nn.Module):
    def __init__(self, c):
        super().__init__()
        eps = c["rms_norm_eps"]
        self.enorm = RMSNorm(c["hidden_size"], eps)
        self.hnorm = RMSNorm(c["hidden_size"], eps)
        self.eh_proj = nn.Linear(2 * c["hidden_size"], c["hidden_size"], bias=False)
        self.block = Block(c, dense=False)
        self.norm = RMSNorm(c["hidden_size"], eps)


class DeepseekV3(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Block(c, dense=i < c["first_k_dense_replace"]) for i in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.mtp = MTP(c) if c.get("num_nextn_predict_layers", 0) else None
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.02)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)

    def moe_layers(self):
        blocks = list(self.layers) + ([self.mtp.block] if self.mtp else [])
        return [b.mlp for b in blocks if isinstance(b.mlp, MoE)]

    def forward(self, tokens, with_mtp=False):
        """logits [B, T, V]; with MTP also mtp_logits [B, T-1, V] (row i predicts t_{i+2})."""
        B, T = tokens.shape
        positions = torch.arange(T)
        h = self.embed_tokens(tokens)
        for layer in self.layers:
            h = layer(h, positions)
        h = self.norm(h)
        logits = self.lm_head(h)
        if not with_mtp or self.mtp is None:
            return logits, None
        emb = self.embed_tokens(tokens[:, 1:])
        emb = torch.cat((torch.zeros_like(emb[:, :1]), emb[:, 1:]), 1)  # zeroed at position 0
        x = self.mtp.eh_proj(torch.cat((self.mtp.enorm(emb), self.mtp.hnorm(h[:, :-1])), -1))
        x = self.mtp.block(x, positions[:-1])
        return logits, self.lm_head(self.mtp.norm(x))

    def state_for_export(self):
        """Tensor names as in DeepSeek-V3 checkpoints, the MTP layer at index num_hidden_layers.
        DeepSeek's checkpoints give that layer copies of the embedding and the head; they are
        left out (a third of this small model's bytes): agentd's loader uses the main ones when
        a checkpoint has none, and transformers does not load the MTP layer at all."""
        n = self.config["num_hidden_layers"]
        out = {}
        for name, tensor in self.state_dict().items():
            if name.startswith("mtp."):
                rest = name[len("mtp."):]
                if rest.startswith("block."):
                    rest = rest[len("block."):]
                elif rest.startswith("norm."):
                    rest = "shared_head." + rest
                out["model.layers.%d.%s" % (n, rest)] = tensor
            elif name.startswith("lm_head."):
                out[name] = tensor
            else:
                out["model." + name] = tensor
        return out
