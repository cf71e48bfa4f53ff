"""Random models built only from ares.nn, for the property test (test_random_models.py).

A model is described by a JSON-able *spec* (a dict), drawn by `draw_spec(chooser)`. The
chooser is either Hypothesis (`HypothesisChooser`: the test, which shrinks a failing spec)
or a seeded `random.Random` (`RandomChooser`: the long-run driver below, which keeps going
after a failure and names every failing model by its seed). `build(spec)` makes the
nn.Module, `train_briefly` calibrates its activation scales on synthetic data, and
`export_and_run` exports both dialects and runs `ares run` on each.

Long run (every failure collected, each saved with its spec under --save):

    cd python && ../.venv/bin/python tests/random_models.py --count 500 --save /tmp/rand
"""

import argparse
import json
import random
import shutil
import sys
import time
import traceback
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn as tnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ares, when run as a script

from ares import nn as an  # noqa: E402

# ----------------------------------------------------------------------------------------------
# choosers


class RandomChooser:

    def __init__(self, seed):
        self.r = random.Random(seed)

    def int(self, lo, hi):
        return self.r.randint(lo, hi)

    def choice(self, seq):
        return seq[self.r.randrange(len(seq))]

    def bool(self):
        return self.r.random() < 0.5


class HypothesisChooser:

    def __init__(self, draw):
        from hypothesis import strategies as st
        self.draw, self.st = draw, st

    def int(self, lo, hi):
        return self.draw(self.st.integers(lo, hi))

    def choice(self, seq):
        return self.draw(self.st.sampled_from(list(seq)))

    def bool(self):
        return self.draw(self.st.booleans())


# ----------------------------------------------------------------------------------------------
# specs


def _conv_out(n, k, s, p, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _pool_out(n, k, s, p, ceil):
    if ceil:
        o = -(-(n + 2 * p - k) // s) + 1
        if (o - 1) * s >= n + p:  # torch drops a last window that starts in the padding
            o -= 1
        return o
    return (n + 2 * p - k) // s + 1


def _act(c: "Chooser", signed_ok=True):
    kind = c.choice(["relu", "relu", "ident"])
    a = {"kind": kind, "bits": c.int(2, 8)}
    if kind == "ident":
        a["signed"] = c.bool() if signed_ok else True
    return a


def _weights(c):
    return {"wbits": c.int(2, 8), "per_channel": c.bool(),
            "bias": c.choice(["float", "float", "none", "int32"])}


def draw_spec(c) -> dict:
    """A random, valid model spec. Sizes are tracked so every layer fits its input."""
    dim = c.choice([1, 2])
    ch = c.int(1, 4)
    size = c.int(6, 14) if dim == 2 else c.int(8, 40)
    spec = {"dim": dim, "in_ch": ch, "size": size, "in_bits": c.int(2, 8),
            "in_signed": c.choice([True, True, False]), "seed": c.int(0, 2**16), "layers": []}
    n_layers = c.int(1, 5)
    for _ in range(n_layers):
        kinds = ["conv", "conv", "res", "cat", "add", "maxpool", "avgpool"]
        kind = c.choice(kinds)
        L = {"kind": kind}
        if kind == "conv":
            k = c.int(1, min(5, size + 2))
            d = c.int(1, 2) if k > 1 and size >= 2 * k else 1
            p = c.int(0, (d * (k - 1) + 1) // 2)
            if _conv_out(size, k, 1, p, d) < 1:
                p = (d * (k - 1) + 1) // 2
            s = c.int(1, 2)
            cout = c.int(1, 8)
            g = 1
            if c.int(0, 3) == 0:  # depthwise
                g, cout = ch, ch
            L.update(out=cout, k=k, stride=s, pad=p, dil=d, groups=g, act=_act(c), **_weights(c))
            o = _conv_out(size, k, s, p, d)
            if o < 1:
                continue
            size, ch = o, cout
        elif kind == "res":
            k = c.choice([1, 3, 3, 5])
            d = c.int(1, 2) if k > 1 else 1
            s = c.int(1, 2)
            cout = c.choice([ch, ch, c.int(1, 8)])
            L.update(out=cout, k=k, stride=s, dil=d, bits=c.int(2, 8), wbits=c.int(2, 8),
                     per_channel=c.bool(), bias=c.bool())
            size, ch = _conv_out(size, k, s, d * (k // 2), d), cout
        elif kind == "cat":
            branches = []
            for _ in range(c.int(2, 3)):
                k = c.choice([1, 3])
                branches.append({"out": c.int(1, 6), "k": k, "act": _act(c), **_weights(c)})
            L.update(branches=branches, bits=c.int(2, 8), signed=c.bool())
            ch = sum(b["out"] for b in branches)
        elif kind == "add":
            k = c.choice([1, 3])
            L.update(k=k, act=_act(c), **_weights(c), bits=c.int(2, 8),
                     output_quant=c.bool(), post=_act(c))
        elif kind in ("maxpool", "avgpool"):
            if size < 2:
                continue
            k = c.int(2, min(3, size))
            s = c.int(1, k)
            p = c.int(0, k // 2)
            ceil = c.bool()
            if ceil and (-(-(size + 2 * p - k) // s)) * s >= size + p:
                # torch drops a last window that would start in the padding, ONNX (opset 13)
                # does not: the export's shapes disagree with the model (ONNX Runtime refuses
                # the graph), so no ceil_mode there
                ceil = False
            L.update(k=k, stride=s, pad=p, ceil=ceil)
            if kind == "avgpool":
                L.update(bits=c.int(2, 8), signed=c.bool(), count_include_pad=c.bool())
            size = _pool_out(size, k, s, p, ceil)
        spec["layers"].append(L)
    head = c.choice(["linear", "gap", "quant", "conv_float"])
    h = {"kind": head}
    if head == "linear":
        h.update(hidden=[{"out": c.int(1, 16), "act": _act(c), **_weights(c)}
                         for _ in range(c.int(0, 2))],
                 out=c.int(1, 10), quant_out=c.bool(), **_weights(c))
    elif head == "gap":
        h.update(bits=c.int(2, 8), signed=c.bool(), out=c.int(1, 10), **_weights(c))
    elif head == "quant":
        h.update(bits=c.int(2, 8), signed=c.bool())
    else:  # a final conv whose float output is the model's output
        h.update(out=c.int(1, 6), **_weights(c))
    spec["head"] = h
    return spec


def known_gap(spec):
    """The name of a known, reported compiler gap the spec runs into, or None. Each has a
    minimal model under tests/models/ and an xfail(strict) test in test_regressions.py;
    when the compiler is fixed that test starts passing (and fails as XPASS): then delete
    the entry here, so the random models cover the pattern again."""
    # Fixed so far (their regression models stay in test_regressions.py): Linear(bias=False);
    # the output of ares.nn.Cat read by MaxPool/Flatten/ReLU or by a layer and a quantizer.
    return None


# ----------------------------------------------------------------------------------------------
# building


class _Seq(tnn.Module):
    """Runs (module, role) steps in order; roles: 'seq' (x = m(x)), 'cat' (list of branch
    Sequentials and a Cat), 'add' (branch, Add, post)."""

    def __init__(self):
        super().__init__()
        self.steps = tnn.ModuleList()
        self.roles = []

    def add(self, m, role="seq"):
        self.steps.append(m)
        self.roles.append(role)

    def forward(self, x):
        for m, role in zip(self.steps, self.roles):
            if role == "seq":
                x = m(x)
            elif role == "cat":
                x = m.cat([b(x) for b in m.branches])
            elif role == "add":
                x = m.post(m.join(m.branch(x), x))
        return x


def _make_act(a, qt):
    if a["kind"] == "relu":
        return an.ReLU(a["bits"], return_quant_tensor=qt)
    return an.QuantIdentity(a["bits"], signed=a["signed"], return_quant_tensor=qt)


def _wkw(w):
    kw = {"weight_bit_width": w["wbits"], "per_channel": w["per_channel"],
          "bias": w["bias"] != "none"}
    if w["bias"] == "int32":
        kw["bias_quant"] = an.Int32Bias
    return kw


def build(spec) -> tnn.Module:
    """The nn.Module for a spec, under torch.manual_seed(spec['seed']). A layer with an
    Int32Bias needs a QuantTensor input: the activation before it returns one."""
    torch.manual_seed(spec["seed"])
    dim = spec["dim"]
    Conv = an.Conv1d if dim == 1 else an.Conv2d
    MaxPool = an.MaxPool1d if dim == 1 else an.MaxPool2d
    AvgPool = an.AvgPool1d if dim == 1 else an.AvgPool2d
    Gap = an.AdaptiveAvgPool1d if dim == 1 else an.AdaptiveAvgPool2d
    m = _Seq()
    ch = spec["in_ch"]
    # does the module that produces the current tensor return a QuantTensor?
    m.add(an.QuantIdentity(spec["in_bits"], signed=spec["in_signed"], return_quant_tensor=True))
    qt = True
    for L in spec["layers"]:
        k = L["kind"]
        if k == "conv":
            kw = _wkw(L)
            if kw.get("bias_quant") is not None and not qt:
                kw["bias_quant"] = None
            m.add(Conv(ch, L["out"], L["k"], stride=L["stride"], padding=L["pad"],
                       dilation=L["dil"], groups=L["groups"], **kw))
            m.add(_make_act(L["act"], True))
            ch, qt = L["out"], True
        elif k == "res":
            m.add(an.ResidualBlock(ch, L["out"], L["k"], stride=L["stride"], dilation=L["dil"],
                                   dim=dim, bit_width=L["bits"], weight_bit_width=L["wbits"],
                                   per_channel=L["per_channel"], bias=L["bias"]))
            ch, qt = L["out"], False
        elif k == "cat":
            blk = tnn.Module()
            blk.branches = tnn.ModuleList()
            for b in L["branches"]:
                kw = _wkw(b)
                if kw.get("bias_quant") is not None and not qt:
                    kw["bias_quant"] = None
                blk.branches.append(tnn.Sequential(
                    Conv(ch, b["out"], b["k"], padding=b["k"] // 2, **kw),
                    _make_act(b["act"], False)))
            blk.cat = an.Cat(L["bits"], signed=L["signed"])
            m.add(blk, "cat")
            ch, qt = sum(b["out"] for b in L["branches"]), False
        elif k == "add":
            blk = tnn.Module()
            kw = _wkw(L)
            if kw.get("bias_quant") is not None and not qt:
                kw["bias_quant"] = None
            blk.branch = tnn.Sequential(Conv(ch, ch, L["k"], padding=L["k"] // 2, **kw),
                                        _make_act(L["act"], False))
            blk.join = an.Add(L["bits"], output_quant=L["output_quant"])
            blk.post = _make_act(L["post"], False)
            m.add(blk, "add")
            qt = False
        elif k == "maxpool":
            m.add(MaxPool(L["k"], L["stride"], L["pad"], ceil_mode=L["ceil"]))
        elif k == "avgpool":
            m.add(AvgPool(L["k"], L["stride"], L["pad"], ceil_mode=L["ceil"],
                          count_include_pad=L["count_include_pad"], bit_width=L["bits"],
                          signed=L["signed"]))
            qt = False
    h = spec["head"]
    size = spec_shapes(spec)[-1]
    feat = ch * (size if dim == 1 else size * size)
    if h["kind"] == "linear":
        m.add(an.Flatten())
        for hl in h["hidden"]:
            kw = _wkw(hl)
            if kw.get("bias_quant") is not None and not qt:
                kw["bias_quant"] = None
            m.add(an.Linear(feat, hl["out"], **kw))
            m.add(_make_act(hl["act"], True))
            feat, qt = hl["out"], True
        kw = _wkw(h)
        if kw.get("bias_quant") is not None and not qt:
            kw["bias_quant"] = None
        m.add(an.Linear(feat, h["out"], **kw))
        if h["quant_out"]:
            m.add(an.QuantIdentity())
    elif h["kind"] == "gap":
        m.add(Gap(1, bit_width=h["bits"], signed=h["signed"]))
        m.add(an.Flatten())
        kw = _wkw(h)
        kw.pop("bias_quant", None)  # the pool's quantizer returns a plain tensor
        m.add(an.Linear(ch, h["out"], **kw))
    elif h["kind"] == "quant":
        m.add(an.QuantIdentity(h["bits"], signed=h["signed"]))
    else:
        kw = _wkw(h)
        if kw.get("bias_quant") is not None and not qt:
            kw["bias_quant"] = None
        m.add(Conv(ch, h["out"], 1, **kw))
    return m


def spec_shapes(spec):
    """Spatial size after each layer (the input's first)."""
    sizes = [spec["size"]]
    size = spec["size"]
    for L in spec["layers"]:
        k = L["kind"]
        if k == "conv":
            size = _conv_out(size, L["k"], L["stride"], L["pad"], L["dil"])
        elif k == "res":
            size = _conv_out(size, L["k"], L["stride"], L["dil"] * (L["k"] // 2), L["dil"])
        elif k in ("maxpool", "avgpool"):
            size = _pool_out(size, L["k"], L["stride"], L["pad"], L["ceil"])
        sizes.append(size)
    return sizes


def input_shape(spec):
    s = spec["size"]
    return (1, spec["in_ch"], s) if spec["dim"] == 1 else (1, spec["in_ch"], s, s)


def train_briefly(model, spec, steps=4, batch=4):
    """A few Adam steps on Gaussian inputs towards a random target: Brevitas collects its
    activation statistics (the scales) in training mode. Then eval()."""
    g = torch.Generator().manual_seed(spec["seed"] + 1)
    shape = (batch,) + input_shape(spec)[1:]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    target = None
    for _ in range(steps):
        x = torch.randn(shape, generator=g)
        y = model(x)
        y = y.value if hasattr(y, "value") else y
        if target is None:
            target = torch.randn(y.shape, generator=g)
        loss = torch.nn.functional.mse_loss(y, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model


def example_input(spec):
    rng = np.random.default_rng(spec["seed"] + 2)
    return rng.standard_normal(input_shape(spec)).astype(np.float32)


def make_model(spec):
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    return train_briefly(build(spec), spec)


def has_dead_scale(path) -> bool:
    """A DequantizeLinear scale at Brevitas' floor (1e-10): a quantizer that saw only zeros
    in calibration (a ReLU that never fired)."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(str(path)).graph
    inits = {t.name: t for t in g.initializer}
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[1] in inits:
            if float(np.min(numpy_helper.to_array(inits[n.input[1]]))) < 1e-8:
                return True
    return False


def known_failure(spec, out_dir: Path, log: str):
    """The known gap a failed `ares run` is, judged from the exported model, or None."""
    errors = [l for l in log.splitlines() if l.startswith("ares: error:")]
    dead_sig = ("(range proof failed)", "is too large")
    if errors and all(any(s in l for s in dead_sig) for l in errors) and \
            has_dead_scale(out_dir / "model.onnx"):
        return "dead_quantizer"  # see test_regressions.py: dead_relu_bias
    return None


def export_and_run(spec, out_dir: Path):
    """Builds, trains, exports both dialects into out_dir, runs `ares run` on each. Returns
    {dialect: (returncode, stdout+stderr)}; raises if building or exporting fails."""
    import ares
    from ares import tool
    model = make_model(spec)
    x = example_input(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "spec.json").write_text(json.dumps(spec, indent=1) + "\n")
    res = {}
    for dialect, fname in (("qcdq", "model.onnx"), ("qonnx", "model.qonnx.onnx")):
        ares.export(model, x, out_dir / fname, dialect)
        r = tool.run_tool(["run", str(out_dir / fname), "--input", str(out_dir / "input.npy")],
                          check=False)
        res[dialect] = (r.returncode, r.stdout + r.stderr)
    return res


# ----------------------------------------------------------------------------------------------
# long-run driver


def spec_for_index(seed: int, i: int) -> dict:
    return draw_spec(RandomChooser(zlib.crc32(f"{seed}:{i}".encode())))


def main(argv=None):
    p = argparse.ArgumentParser(description="build, export and `ares run` random ares.nn models")
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--save", type=Path, required=True, help="failing models go here")
    a = p.parse_args(argv)
    import tempfile
    passed, failed = 0, []
    t0 = time.time()
    skipped = {}
    i, ran = a.start - 1, 0
    while ran < a.count:
        i += 1
        spec = spec_for_index(a.seed, i)
        gap = known_gap(spec)
        if gap:
            skipped[gap] = skipped.get(gap, 0) + 1
            continue
        ran += 1
        with tempfile.TemporaryDirectory() as d:
            try:
                res = export_and_run(spec, Path(d))
                bad = {k: v for k, v in res.items() if v[0] != 0}
                known = {known_failure(spec, Path(d), v[1]) for v in bad.values()}
                if bad and len(known) == 1 and None not in known:
                    k = known.pop()
                    skipped[k] = skipped.get(k, 0) + 1
                    print(f"[{i}] known gap {k}", flush=True)
                    continue
                err = "; ".join(f"{k}: exit {v[0]}: " + " | ".join(
                    l for l in v[1].splitlines() if l.startswith("ares:"))
                                for k, v in bad.items())
            except Exception as e:
                bad = {"build/export": None}
                err = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
            if bad:
                dst = a.save / f"seed{a.seed}_{i}"
                if dst.exists():
                    shutil.rmtree(dst)
                shutil.copytree(d, dst)
                (dst / "error.txt").write_text(err + "\n")
                failed.append(i)
                print(f"[{i}] FAIL {err}", flush=True)
            else:
                passed += 1
        if ran % 25 == 0:
            print(f"{ran} models, {passed} passed, {len(failed)} failed, "
                  f"{time.time() - t0:.0f}s", flush=True)
    print(f"random models (seed {a.seed}, indices {a.start}..{i}): {ran} run, failing indices "
          f"{failed}; skipped as known gaps: {skipped}")
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
