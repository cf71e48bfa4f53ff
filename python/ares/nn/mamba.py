"""State-space blocks for ARES: the selective scan, Mamba, bidirectional Mamba, patch embedding.

The selective scan is exported as ONE node, `SelectiveScan` in the ONNX domain `ares`, between
the Q/DQ of its four quantized inputs and of its output. Its integer semantics are defined in
docs/SEMANTICS.md ("qscan"), implemented by the C reference (src/ref/ref_ssm.c) and the
runtime kernel, and reproduced here in torch int64 arithmetic (`scan_int`), so that the
Brevitas model in eval mode computes, bit for bit, what the chip computes. The compile-time
parameters (state format, decay exponents, output multipliers) are derived from the scales
exactly as the compiler derives them (`scan_params`, mirroring src/passes/lower_ssm.c): the
same float32 scales, the same double-precision operations in the same order.

    h_t[d][n] = exp(Δ_t[d] · A[d][n]) · h_{t-1}[d][n] + Δ_t[d] · B_t[n] · x_t[d]
    y_t[d]    = Σ_n C_t[n] · h_t[d][n] + D[d] · x_t[d],      A = -exp(A_log)

Layout: x, Δ and y are [batch, L, d_inner], B and C [batch, L, d_state] (tokens x features,
as Linear layers produce them). `direction=1` scans from the last token to the first.
"""

import math
from typing import Optional

import torch
import torch.nn as tnn
import torch.nn.functional as F
from brevitas.quant import Int8ActPerTensorFloat, Uint8ActPerTensorFloat

from .layers import Add, Conv1d, Conv2d, Linear, QuantIdentity, _check_bits, _value

__all__ = ["SelectiveScan", "CausalConv1d", "Mamba", "BiMamba", "PatchEmbed", "scan_params",
           "scan_int", "scan_float", "ScanReferenceOp"]

LOG2E = 1.4426950408889634  # the double nearest log2(e), as in the C compiler
EXP_FRAC = 24               # fractional bits of the decay exponent dd * a[d][n]
STATE_MAX = 2**31 - 1


def _rhe(x: float) -> int:
    """Round half to even of a double (Python's round() on floats)."""
    return int(round(x))


def _rhe_i(p: int, s: int) -> int:
    """p / 2^s rounded to nearest, ties to even, exact integers."""
    q, r = divmod(p, 1 << s)  # floor division: 0 <= r < 2^s
    half = 1 << (s - 1)
    return q + (1 if r > half or (r == half and q & 1) else 0)


def _qinfo(quant, qt) -> tuple:
    """(scale, zero point, lowest q - zp, highest q - zp) of a tensor `qt` quantized by the
    Brevitas activation quantizer `quant` (signedness and narrow range from the quantizer,
    scale, zero point and bit width from the QuantTensor, so nothing re-runs the quantizer)."""
    p = quant.act_quant
    b, zp = int(qt.bit_width), int(qt.zero_point)
    if p.is_signed:
        lo, hi = -(1 << (b - 1)) + int(p.is_narrow_range), (1 << (b - 1)) - 1
    else:
        lo, hi = 0, (1 << b) - 1 - int(p.is_narrow_range)
    return float(qt.scale), zp, lo - zp, hi - zp


def exp2_tables() -> list:
    """T_hi[i] = 2^(-i/256), T_lo[j] = 2^(-j/65536), in Q30, i, j in 0..255."""
    hi = [_rhe(math.ldexp(math.pow(2.0, -i / 256.0), 30)) for i in range(256)]
    lo = [_rhe(math.ldexp(math.pow(2.0, -j / 65536.0), 30)) for j in range(256)]
    return hi + lo


def scan_params(s_x: float, s_d: float, s_b: float, s_c: float, s_y: float, xmax: int, dmax: int,
                bmax: int, cmax: int, length: int, a_log, d_skip, gate=None) -> dict:
    """The compile-time parameters of one scan (docs/SEMANTICS.md, qscan), from float32
    scales (passed as Python floats), the inputs' ranges (largest |q - zp|; dmax: largest
    q - zp of Δ, at least 0), the sequence length, A_log [D][N] and D [D] (float32); gate:
    (s_z, lowest and highest q - zp of z) for a scan gated by SiLU(z)."""
    pmax = dmax * bmax * xmax
    f = 30
    while True:  # the finest state format whose bound L * term_max fits 31 bits
        tmax = pmax << f if f >= 0 else _rhe_i(pmax, -f)
        if tmax <= STATE_MAX // length:
            break
        f -= 1
    hmax = length * tmax
    a_log = torch.as_tensor(a_log, dtype=torch.float32)
    d_inner, d_state = a_log.shape
    a = []
    for v in a_log.reshape(-1).tolist():
        e = math.ldexp((s_d * math.exp(v)) * LOG2E, EXP_FRAC) if v < 700 else math.inf
        a.append(STATE_MAX if e >= STATE_MAX else _rhe(e))
    r_y = math.ldexp(((s_x * s_d) * s_b) * s_c, -f) / s_y
    dl = [0.0] * d_inner if d_skip is None else torch.as_tensor(d_skip, dtype=torch.float32).tolist()
    r_d = [(v * s_x) / s_y for v in dl]
    acc_bound = d_state * cmax * hmax
    for shift in range(62, 0, -1):
        m_y = _rhe(math.ldexp(r_y, shift))
        m_d = [_rhe(math.ldexp(r, shift)) for r in r_d]
        total = float(acc_bound) * float(abs(m_y)) + float(xmax) * float(max([abs(m) for m in m_d] + [0]))
        if total < 2.0**61:
            break
    else:
        raise ValueError("ares.nn.SelectiveScan: output rescale factor too large")
    prm = {"f": f, "hmax": hmax, "a": torch.tensor(a, dtype=torch.int64).reshape(d_inner, d_state),
           "m_y": m_y, "m_d": torch.tensor(m_d, dtype=torch.int64), "shift": shift,
           "table": torch.tensor(exp2_tables(), dtype=torch.int64)}
    if gate is not None:  # (s_z, lowest q - zp, highest q - zp) of z
        s_z, zlo, zhi = gate
        u = 16 if shift > 16 else shift - 1
        pre = shift - u
        umax = (float(acc_bound) * float(abs(m_y)) + float(xmax) * float(max([abs(m) for m in m_d] + [0]))) / math.ldexp(1.0, pre) + 1
        silu = {v: (v * s_z) / (1.0 + math.exp(-(v * s_z))) for v in range(zlo, zhi + 1)}
        gmax = max(abs(g) for g in silu.values())
        gf = 30
        while gf > 0 and (umax * gmax * math.ldexp(1.0, gf) >= 2.0**61
                          or gmax * math.ldexp(1.0, gf) >= 2.0**31 - 1):  # table entries are int32
            gf -= 1
        if u + gf < 1:
            raise ValueError("ares.nn.SelectiveScan: no precision left for the gate")
        lut = torch.zeros(zhi - zlo + 1, dtype=torch.int64)
        for v, g in silu.items():
            lut[v - zlo] = _rhe(math.ldexp(g, gf))
        prm.update(gate_pre=pre, gate_shift=u + gf, gate_lut=lut, gate_lo=zlo)
    return prm


def _rhe_t(p: torch.Tensor, s) -> torch.Tensor:
    """Elementwise p / 2^s, ties to even, int64, |p| < 2^62; s an int >= 1 or a tensor of
    them: floor((p + 2^(s-1) - 1 + q0) / 2^s) with q0 the lowest bit of floor(p / 2^s)."""
    s = torch.as_tensor(s, dtype=torch.int64)
    return (p + ((torch.ones_like(s) << (s - 1)) - 1) + ((p >> s) & 1)) >> s


def scan_int(dx, dd, db, dc, prm: dict, direction: int, zp_y: int, qmin: int, qmax: int, dz=None):
    """The integer scan on int64 tensors of q - zp: dx, dd [batch, L, D], db, dc [batch, L, N]
    (dz [batch, L, D] for a gated scan); dd is clamped at 0 here. Returns y (int64, the
    output's stored integers incl. zp_y). Everything but the recurrence itself is computed for
    all tokens at once."""
    bsz, length, d_inner = dx.shape
    a, tab, f = prm["a"], prm["table"], prm["f"]
    dd = dd.clamp(min=0)[..., None]                       # [b, L, D, 1]
    v = dd * a                                             # [b, L, D, N]
    k = v >> EXP_FRAC
    fr = (v >> (EXP_FRAC - 16)) & 0xFFFF
    e30 = _rhe_t(tab[fr >> 8] * tab[256 + (fr & 255)], 30)
    e = torch.where(k >= 31, torch.zeros_like(e30), torch.where(k == 0, e30, _rhe_t(e30, k.clamp(1, 30))))
    p = dd * db[:, :, None, :] * dx[..., None]
    term = p << f if f >= 0 else _rhe_t(p, -f)
    h = torch.zeros(bsz, d_inner, a.shape[1], dtype=torch.int64)
    hs = torch.empty_like(term)
    steps = range(length - 1, -1, -1) if direction else range(length)
    for t in steps:
        hs[:, t] = h = (_rhe_t(h * e[:, t], 30) + term[:, t]).clamp(-prm["hmax"], prm["hmax"])
    acc = (dc[:, :, None, :] * hs).sum(-1)
    tot = acc * prm["m_y"] + dx * prm["m_d"]
    if dz is not None:
        tot = _rhe_t(tot, prm["gate_pre"]) * prm["gate_lut"][dz - prm["gate_lo"]]
        return (zp_y + _rhe_t(tot, prm["gate_shift"])).clamp(qmin, qmax)
    return (zp_y + _rhe_t(tot, prm["shift"])).clamp(qmin, qmax)


def scan_float(x, dt, b, c, a_log, d_skip, direction: int = 0, z=None):
    """The float semantics of the scan (float32 torch): what the quantized model approximates,
    and what ONNX Runtime would compute if it knew the op. z: gate y * SiLU(z)."""
    a = -torch.exp(a_log.float())
    bsz, length, d_inner = x.shape
    da = torch.exp(dt[..., None] * a)                      # [b, L, D, N]
    dbx = dt[..., None] * b[:, :, None, :] * x[..., None]
    h = x.new_zeros(bsz, d_inner, a.shape[1])
    hs = [None] * length
    steps = range(length - 1, -1, -1) if direction else range(length)
    da, dbx = da.unbind(1), dbx.unbind(1)  # (indexing per step would cost O(L^2) in backward)
    for t in steps:
        hs[t] = h = da[t] * h + dbx[t]
    y = (torch.stack(hs, 1) * c[:, :, None, :]).sum(-1)
    y = y if d_skip is None else y + d_skip * x
    return y if z is None else y * F.silu(z)


class _ScanFn(torch.autograd.Function):
    """Export hook: the float scan in PyTorch, one `ares::SelectiveScan` node in ONNX."""

    @staticmethod
    def forward(ctx, x, dt, b, c, a_log, d_skip, d_state: int, direction: int, z=None):
        return scan_float(x, dt, b, c, a_log, d_skip, direction, z)

    @staticmethod
    def symbolic(g, x, dt, b, c, a_log, d_skip, d_state, direction, z=None):
        ins = (x, dt, b, c, a_log, d_skip) + (() if z is None else (z,))
        return g.op("ares::SelectiveScan", *ins, d_state_i=d_state, direction_i=direction).setType(x.type())


class SelectiveScan(tnn.Module):
    """The Mamba selective scan with its own quantizers: x, B, C signed, Δ unsigned (it is a
    softplus output), the output signed, all `bit_width` bits per tensor. Parameters A_log
    [d_inner, d_state] (A = -exp(A_log), initialised to log(1..d_state) as in Mamba) and the
    skip D [d_inner] (ones).

    forward(x, delta, B, C[, z]) takes float tensors (the quantizers here quantize them) and
    returns the quantized output as a float tensor. `gated=True`: a fifth input z (its own
    signed quantizer) gates the output, y * SiLU(z), inside the op as in Mamba's
    selective_scan_fn. Training: the float scan, quantized, with the integer result
    substituted in the forward pass (straight-through), so training sees what the chip
    computes; eval: the integer semantics exactly; ONNX export: one SelectiveScan node.
    """

    def __init__(self, d_inner: int, d_state: int = 16, direction: int = 0, bit_width: int = 8,
                 gated: bool = False):
        super().__init__()
        if direction not in (0, 1):
            raise ValueError("ares.nn.SelectiveScan: direction must be 0 (forward) or 1 (reverse)")
        b = _check_bits("bit_width", bit_width)
        self.d_inner, self.d_state, self.direction = d_inner, d_state, direction
        self.A_log = tnn.Parameter(
            torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(d_inner, 1))
        self.D = tnn.Parameter(torch.ones(d_inner))
        self.x_quant = QuantIdentity(b, return_quant_tensor=True)
        self.delta_quant = QuantIdentity(b, signed=False, return_quant_tensor=True)
        self.b_quant = QuantIdentity(b, return_quant_tensor=True)
        self.c_quant = QuantIdentity(b, return_quant_tensor=True)
        self.out_quant = QuantIdentity(b, return_quant_tensor=True)
        self.z_quant = QuantIdentity(b, return_quant_tensor=True) if gated else None

    def _integer(self, qx, qd, qb, qc, qy, qz=None):
        """The chip's result, dequantized (float32), for the quantized inputs; qy is any
        output of out_quant (for its scale and zero point)."""
        info = [_qinfo(q, t) for q, t in ((self.x_quant, qx), (self.delta_quant, qd),
                                          (self.b_quant, qb), (self.c_quant, qc),
                                          (self.out_quant, qy))]
        (s_x, _, xl, xh), (s_d, _, _, dh), (s_b, _, bl, bh), (s_c, _, cl, ch), (s_y, zp, yl, yh) = info
        gate = None
        if qz is not None:
            s_z, _, zl, zh = _qinfo(self.z_quant, qz)
            gate = (s_z, zl, zh)
        prm = scan_params(s_x, s_d, s_b, s_c, s_y, max(-xl, xh), max(dh, 0), max(-bl, bh),
                          max(-cl, ch), qx.value.shape[1], self.A_log.detach(), self.D.detach(), gate)

        def dq(t):
            return torch.round(t.value.double() / t.scale.double()).to(torch.int64)

        y = scan_int(dq(qx), dq(qd), dq(qb), dq(qc), prm, self.direction, zp, yl + zp, yh + zp,
                     None if qz is None else dq(qz))
        return ((y - zp).float() * qy.scale.float()).to(torch.float32)

    def forward(self, x, delta, b, c, z=None):
        if (z is None) != (self.z_quant is None):
            raise ValueError("ares.nn.SelectiveScan: z is given exactly when the scan is gated")
        qx, qd = self.x_quant(_value(x)), self.delta_quant(_value(delta))
        qb, qc = self.b_quant(_value(b)), self.c_quant(_value(c))
        qz = None if z is None else self.z_quant(_value(z))
        zv = None if qz is None else qz.value
        if torch.onnx.is_in_onnx_export():
            y = _ScanFn.apply(qx.value, qd.value, qb.value, qc.value, self.A_log, self.D,
                              self.d_state, self.direction, zv)
            return self.out_quant(y).value
        if self.training:
            qy = self.out_quant(scan_float(qx.value, qd.value, qb.value, qc.value, self.A_log,
                                           self.D, self.direction, zv))
            with torch.no_grad():
                yi = self._integer(qx, qd, qb, qc, qy, qz)
            return qy.value + (yi - qy.value).detach()
        with torch.no_grad():
            return self._integer(qx, qd, qb, qc, self.out_quant(torch.zeros(1)), qz)


class CausalConv1d(tnn.Module):
    """Mamba's causal depthwise convolution over tokens: input and output [batch, L, channels]
    (token-major, as Linear layers produce them). Output t sees inputs t-k+1 .. t (direction
    0: zeros padded on the left) or t .. t+k-1 (direction 1, the causal convolution of the
    reversed sequence, written without reversing it: zeros on the right, and the kernel
    read in the other order - a learned kernel, so the same model family). The result goes
    through its own quantizer unless `output_quant=False` (then the next layer must quantize
    it, e.g. a SiLU into a quantizer).

    ONNX: Transpose -> Pad (one side) -> Conv (groups = channels) -> [quantizer] -> Transpose;
    ARES: qtranspose, qpad, qconv, qtranspose."""

    def __init__(self, channels: int, kernel_size: int = 4, direction: int = 0, bias: bool = True,
                 weight_bit_width: int = 8, bit_width: int = 8, output_quant: bool = True):
        super().__init__()
        if direction not in (0, 1):
            raise ValueError("ares.nn.CausalConv1d: direction must be 0 or 1")
        self.k, self.direction = kernel_size, direction
        self.conv = Conv1d(channels, channels, kernel_size, groups=channels, bias=bias,
                           weight_bit_width=weight_bit_width)
        self.quant = QuantIdentity(bit_width) if output_quant else None

    def forward(self, x):
        x = _value(x).transpose(1, 2)
        pad = (self.k - 1, 0) if self.direction == 0 else (0, self.k - 1)
        y = self.conv(F.pad(x, pad))
        if self.quant is not None:
            y = self.quant(y)
        return _value(y).transpose(1, 2)


class Mamba(tnn.Module):
    """A Mamba block on [batch, L, d_model] tokens (the input must be quantized), with a
    quantizer at every point ARES computes in integers:

        x, z = split(Q(in_proj(u)))                         Linear to 2 * d_inner, qslice
        x    = Q(SiLU(CausalConv1d(x)))                     Pad + depthwise Conv + Q, table
        dt, B, C = split(Q(x_proj(x)))                      Linear to dt_rank + 2 * d_state
        delta = softplus(Q(dt_proj(dt)))                    Linear with bias, table
        y    = SelectiveScan(x, delta, B, C, z)             one ares::SelectiveScan, gated
                                                            by SiLU(z) inside (selective_scan_fn)
        out  = Q(out_proj(y))

    d_inner = expand * d_model, dt_rank = ceil(d_model / 16) unless given. direction=1 makes
    it the block of a bidirectional Mamba that reads the sequence backwards (see
    CausalConv1d: the reversed sequence is never materialised). dt_proj's bias starts as
    Mamba's: softplus(bias) log-uniform in [dt_min, dt_max]."""

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_rank: Optional[int] = None, direction: int = 0, bit_width: int = 8,
                 weight_bit_width: int = 8, dt_min: float = 1e-3, dt_max: float = 0.1):
        super().__init__()
        b, wb = _check_bits("bit_width", bit_width), weight_bit_width
        self.d_inner = expand * d_model
        self.dt_rank = dt_rank or math.ceil(d_model / 16)
        self.d_state = d_state
        self.in_proj = Linear(d_model, 2 * self.d_inner, bias=False, weight_bit_width=wb)
        self.in_quant = QuantIdentity(b)
        self.conv = CausalConv1d(self.d_inner, d_conv, direction, weight_bit_width=wb, bit_width=b)
        self.x_act_quant = QuantIdentity(b)
        self.x_proj = Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False, weight_bit_width=wb)
        self.x_proj_quant = QuantIdentity(b)
        self.dt_proj = Linear(self.dt_rank, self.d_inner, bias=True, weight_bit_width=wb)
        self.dt_quant = QuantIdentity(b)
        self.scan = SelectiveScan(self.d_inner, d_state, direction, b, gated=True)
        self.out_proj = Linear(self.d_inner, d_model, bias=False, weight_bit_width=wb)
        self.out_quant = QuantIdentity(b)
        with torch.no_grad():
            dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus^-1(dt)

    def forward(self, u):
        xz = _value(self.in_quant(self.in_proj(_value(u))))
        x, z = torch.split(xz, [self.d_inner, self.d_inner], dim=-1)
        x = _value(self.x_act_quant(F.silu(self.conv(x))))
        dbc = _value(self.x_proj_quant(self.x_proj(x)))
        dt, b, c = torch.split(dbc, [self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = F.softplus(_value(self.dt_quant(self.dt_proj(dt))))
        y = self.scan(x, delta, b, c, z)
        return self.out_quant(self.out_proj(y))


class BiMamba(tnn.Module):
    """Bidirectional Mamba: a forward block and a block on the time-reversed sequence
    (`Mamba(direction=1)`, which scans and convolves backwards instead of reversing the
    tokens), summed by `Add` (one shared input quantizer, quantized output)."""

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_rank: Optional[int] = None, bit_width: int = 8, weight_bit_width: int = 8):
        super().__init__()
        kw = dict(d_state=d_state, d_conv=d_conv, expand=expand, dt_rank=dt_rank, bit_width=bit_width,
                  weight_bit_width=weight_bit_width)
        self.fwd = Mamba(d_model, direction=0, **kw)
        self.rev = Mamba(d_model, direction=1, **kw)
        self.add = Add(bit_width)

    def forward(self, u):
        return self.add(_value(self.fwd(u)), _value(self.rev(u)))


class PatchEmbed(tnn.Module):
    """FEMBA's patch embedding: the [batch, channels, samples] signal seen as a one-plane
    image, a Conv2d with kernel = stride = `patch` (default (2, 16): 2 electrodes x 16 samples)
    to `embed_dim` features, quantized, flattened to [batch, tokens, embed_dim] with tokens =
    (channels / 2) * (samples / 16), electrode-pair-major.

    ONNX: Unsqueeze -> Conv -> Q/DQ -> Reshape -> Transpose (ARES: qreshape, qconv, qreshape,
    qtranspose). The input must already be quantized."""

    def __init__(self, embed_dim: int, patch=(2, 16), weight_bit_width: int = 8, bit_width: int = 8):
        super().__init__()
        self.patch = tuple(patch)
        self.proj = Conv2d(1, embed_dim, self.patch, stride=self.patch, weight_bit_width=weight_bit_width)
        self.quant = QuantIdentity(bit_width)

    def forward(self, x):
        x = _value(x)
        if x.shape[1] % self.patch[0] or x.shape[2] % self.patch[1]:
            raise ValueError(f"ares.nn.PatchEmbed: input {tuple(x.shape[1:])} is not a whole number "
                             f"of {self.patch} patches")
        y = _value(self.quant(self.proj(x.unsqueeze(1))))
        return y.flatten(2).transpose(1, 2)


def _reference_op():
    """An onnx.reference operator for ares::SelectiveScan computing the float semantics in
    float32 numpy: what stands in for ONNX Runtime, which does not know the op."""
    import numpy as np
    from onnx.reference.op_run import OpRun

    class SelectiveScanRef(OpRun):
        op_domain = "ares"

        def _run(self, x, dt, b, c, a_log, d_skip=None, z=None, d_state=None, direction=0):
            def t(v):
                return None if v is None else torch.from_numpy(np.asarray(v, dtype=np.float32))
            with torch.no_grad():
                y = scan_float(t(x), t(dt), t(b), t(c), t(a_log), t(d_skip), int(direction), t(z))
            return (y.numpy().astype(np.float32),)

    SelectiveScanRef.__name__ = "SelectiveScan"
    return SelectiveScanRef


def ScanReferenceOp():  # noqa: N802 - a class factory (onnx is imported only when needed)
    return _reference_op()
