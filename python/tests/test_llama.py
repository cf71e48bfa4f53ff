"""ares.nn.llama blocks: the rotation is the rotation RoPE defines, bad settings are refused
when the model is built."""

import math

import pytest
import torch

import ares.nn as ann


def _rotate_pairs(x, pos, dim, base, interleaved):
    """Independent RoPE: rotate each pair (a, b) by pos * base^(-2i/dim), pairs chosen by
    the layout."""
    y = x.clone()
    for i in range(dim // 2):
        th = pos * base ** (-2.0 * i / dim)
        ia, ib = (2 * i, 2 * i + 1) if interleaved else (i, i + dim // 2)
        a, b = x[..., ia], x[..., ib]
        y[..., ia] = a * math.cos(th) - b * math.sin(th)
        y[..., ib] = a * math.sin(th) + b * math.cos(th)
    return y


@pytest.mark.parametrize("interleaved", [False, True])
def test_rotary_is_a_rotation(interleaved):
    torch.manual_seed(0)
    dim, seq, base = 8, 5, 100.0
    rope = ann.RotaryEmbedding(dim, 7, base=base, interleaved=interleaved)
    x = torch.randn(2, 3, seq, dim)
    # the float island without the output quantizer
    got = x * rope.cos[:seq] + rope.rotate(x) * rope.sin[:seq]
    want = torch.stack([_rotate_pairs(x[:, :, p], p, dim, base, interleaved) for p in range(seq)], dim=2)
    assert torch.allclose(got, want, atol=1e-5)


def test_blocks_shapes_and_checks():
    torch.manual_seed(0)
    emb, norm, mlp = ann.Embedding(10, 8), ann.RMSNorm(8), ann.SwiGLU(8, 16)
    for m in (emb, norm, mlp):
        m.eval()
    h = mlp(norm(emb(torch.tensor([[1, 2, 9]]))))
    assert tuple(h.shape) == (1, 3, 8)
    with pytest.raises(ValueError):
        ann.RotaryEmbedding(7, 4)
    with pytest.raises(ValueError):
        ann.RMSNorm(8, bit_width=9)
    with pytest.raises(ValueError):
        ann.Embedding(10, 8, weight_bit_width=1)
