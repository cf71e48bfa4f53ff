"""The steps both examples take once their model and synthetic data exist: train, export
both dialects, compile for GAP9, validate on the host against the reference interpreter and
compare with PyTorch. Imported by the examples (the script's own folder is on sys.path;
the script puts ARES' python/ there before importing this)."""

import numpy as np
import torch

import ares


def train(model, batch, steps, gen, samples):
    """Adam on the cross-entropy over `steps` batches of 32 from batch(n, gen); Brevitas
    calibrates the activation scales here too. Prints the accuracy on 256 held-out
    `samples` and returns them (inputs, labels)."""
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        x, y = batch(32, gen)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    xt, yt = batch(256, gen)
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"trained {steps} steps: loss {loss.item():.3f}, accuracy {100 * acc:.0f} % "
          f"on 256 {samples}")
    return xt, yt


def deploy(model, x, out, kind, labels):
    """Exports model at input x into out, compiles it for GAP9 and for the host, and
    validates every layer on the host; the top class is named `kind` 'labels[i]'. Returns
    the exit status: 0 when every layer matches."""
    out.mkdir(parents=True, exist_ok=True)

    # -- export both dialects (QCDQ is checked against the model with ONNX Runtime)
    for dialect, name in (("qcdq", "model.onnx"), ("qonnx", "model.qonnx.onnx")):
        r = ares.export(model, x, out / name, dialect)
        extra = (f"; ONNX Runtime vs PyTorch: max |delta| {r.agreement['max_abs']:.3g}"
                 if r.agreement else "")
        print(f"exported {r.path} ({dialect}){extra}")

    # -- GAP9: the target is described, its code emitter may not be written yet
    try:
        ares.deploy(model, x, target="gap9", out_dir=out)
        print(f"gap9: compiled into {out / 'gap9'} (build it with the GAP SDK; it cannot "
              f"run here, so it is validated on host below)")
    except ares.UnsupportedTargetError as e:
        print(f"gap9: not yet: {e}")

    # -- host: compile, build, run, compare every layer with the reference interpreter
    try:
        result = ares.deploy(model, x, target="host", out_dir=out)
    except ares.ValidationError as e:
        print(e.result.table())
        print(f"host: VALIDATION FAILED: {e}")
        return 1
    print(result.table())
    print(result)
    print(f"  {result.totals.get('total_macs', 0)} MACs, activation arena "
          f"{result.totals.get('arena_bytes', 0)} bytes")
    y_torch = np.load(result.export.torch_output_path)
    print(f"ARES vs PyTorch logits: max |delta| {np.abs(result.output - y_torch).max():.3g}, "
          f"top-1 {'agrees' if result.output.argmax() == y_torch.argmax() else 'differs'} "
          f"({kind} '{labels[int(result.output.argmax())]}')")
    return 0 if result.all_match else 1
