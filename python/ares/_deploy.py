"""ares.deploy (module ares._deploy): export, check, compile for a target, and (where it can run) validate.

    result = ares.deploy(model, x, target="host", out_dir="build/mynet")
    print(result.table())

Every step is the C tool `build/ares` (found via $ARES_BIN or the repository); its errors
arrive here as `AresError` with the tool's message.
"""

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Union

import numpy as np

from . import tool
from ._export import ExportResult, export
from .tool import AresError, Layer, ValidationError

# targets whose generated code `ares run` can build and execute on this machine
RUNNABLE_TARGETS = ("host",)
MODEL_FILES = {"qcdq": "model.onnx", "qonnx": "model.qonnx.onnx"}


@dataclass
class DeployResult:
    target: str
    out_dir: Path
    model_path: Path  # the exported ONNX file that was compiled
    project_dir: Path  # the generated C project (out_dir/<target>)
    export: ExportResult
    check_report: Optional[tool.CheckReport] = None  # `ares check`, when the tool has it
    validated: bool = False  # True when the project was built, run and compared
    layers: List[Layer] = field(default_factory=list)  # `ares run`'s per-layer table
    totals: dict = field(default_factory=dict)  # total_macs, arena_bytes, arena_lower_bound
    output: Optional[np.ndarray] = None  # the compiled network's output (ARES' reference)
    compile_log: str = ""
    run_log: str = ""

    @property
    def all_match(self) -> bool:
        """Every layer of the generated code equals the reference interpreter bit for bit
        (False when nothing was validated)."""
        return self.validated and bool(self.layers) and all(l.match for l in self.layers)

    @property
    def mismatches(self) -> List[Layer]:
        return [l for l in self.layers if not l.match]

    def table(self) -> str:
        """The per-layer table as `ares run` printed it."""
        head = self.totals.get("header")
        return "\n".join(([head] if head else []) + [l.line for l in self.layers])

    def __str__(self):
        if not self.validated:
            return f"{self.model_path} compiled for {self.target} into {self.project_dir}"
        n = len(self.layers)
        verdict = (f"all {n} layers bit-exact" if self.all_match else
                   f"{len(self.mismatches)} of {n} layers differ")
        return f"{self.model_path} on {self.target}: {verdict}"


def _prepare_project_dir(p: Path):
    """`ares compile` wants an empty or missing directory. Clear one a previous deploy made
    (it holds network.c); refuse to touch anything else."""
    if not p.exists():
        return
    if p.is_dir() and not any(p.iterdir()):
        return
    if p.is_dir() and (p / "network.c").exists():
        shutil.rmtree(p)
        return
    raise AresError(f"{p} exists and is not a project ARES generated; choose another out_dir")


def check_model(model_path: Union[str, Path], target: str = "host"):
    """Runs `ares check MODEL --target TARGET` when this build of the tool has it and returns
    its parsed report (tool.CheckReport; None when the tool has no `check` yet — compile
    errors then say the same). Raises AresError naming every unsupported node with the
    tool's reason and advice when the model will not compile."""
    if not tool.has_check():
        return None
    r = tool.run_tool(["check", str(model_path), "--target", target], check=False)
    if r.returncode not in (0, 1):
        raise tool.tool_error(r, r.args)
    report = tool.parse_check_report(r.stdout, r.returncode)
    if r.returncode != 0:
        raise tool.check_error(report, r, r.args)
    return report


def compile_model(model_path: Union[str, Path], out_dir: Union[str, Path], target: str = "host",
                  input_path=None) -> str:
    """`ares compile MODEL --target TARGET -o OUT_DIR [--input X.npy]`; returns the tool's
    log. `input_path` is the input a chip program (gap9, siracusa) runs on, when the tool
    takes one. Raises UnsupportedTargetError for a target without an emitter, AresError
    otherwise."""
    args = ["compile", str(model_path), "--target", target, "-o", str(out_dir)]
    if input_path is not None and target not in RUNNABLE_TARGETS and tool.compile_takes_input():
        args += ["--input", str(input_path)]
    r = tool.run_tool(args)
    return r.stdout + r.stderr


def validate(model_path: Union[str, Path], project_dir: Union[str, Path], input_path,
             output_path=None, target: str = "host"):
    """`ares run MODEL --project DIR`: builds the generated project, runs it on input_path,
    compares every layer with the reference interpreter. Returns (completed process,
    layers, totals); raises AresError when the tool fails (not for mismatches: exit 1)."""
    args = ["run", str(model_path), "--target", target, "--project", str(project_dir),
            "--input", str(input_path)]
    if output_path is not None:
        args += ["--output", str(output_path)]
    r = tool.run_tool(args, check=False)
    layers, totals = tool.parse_layer_table(r.stdout)
    if r.returncode not in (0, 1) or (r.returncode == 1 and not layers):
        raise tool.tool_error(r, r.args)
    return r, layers, totals


def deploy(model, example_input, target: str = "gap9", out_dir: Union[str, Path] = "ares_out",
           *, dialect: str = "qcdq", check_export: bool = True,
           raise_on_mismatch: bool = True) -> DeployResult:
    """Export `model` for `example_input`, check it, compile it for `target`, and on a
    target that can run here (host) build, run and validate it layer by layer.

    Writes into out_dir: model.onnx (or model.qonnx.onnx), input.npy, brevitas_output.npy,
    ort_output.npy (QCDQ), <target>/ (the generated C project) and, after validation,
    ares_output.npy (the compiled network's output).

    Raises ExportError (export failed / disagrees with ONNX Runtime), AresError with the
    tool's message naming node, op and reason (unsupported model), UnsupportedTargetError
    (this build of the tool has no emitter for the target), ValidationError (some layer is
    not bit-exact; its .result has the table) unless raise_on_mismatch=False. For a target
    that cannot run here (gap9, siracusa, rv32) the result has the project and
    validated=False: validate the same model on host.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / MODEL_FILES.get(dialect, "model.onnx")
    exp = export(model, example_input, model_path, dialect, check=check_export)
    report = check_model(model_path, target)
    project = out_dir / target
    _prepare_project_dir(project)
    log = compile_model(model_path, project, target, exp.input_path)
    res = DeployResult(target, out_dir, model_path, project, exp, report, compile_log=log)
    if target not in RUNNABLE_TARGETS:
        return res
    out_npy = out_dir / "ares_output.npy"
    r, layers, totals = validate(model_path, project, exp.input_path, out_npy, target)
    if r.returncode == 0 and not layers:
        raise AresError("`ares run` passed but printed no per-layer table this version of "
                        "ares.deploy can read:\n" + r.stdout, command=r.args, stdout=r.stdout,
                        stderr=r.stderr, returncode=r.returncode)
    res.validated = True
    res.layers, res.totals, res.run_log = layers, totals, r.stdout + r.stderr
    if out_npy.exists():
        res.output = np.load(out_npy)
    if r.returncode != 0 or not res.all_match:
        msg = tool.error_message(r.stderr) if r.returncode != 0 else "validation failed"
        first = [l for l in r.stderr.splitlines() if "mismatching layer" in l]
        if first:
            msg = first[0].removeprefix("ares: ")
        if raise_on_mismatch:
            raise ValidationError(msg, result=res, command=r.args, returncode=r.returncode,
                                  stdout=r.stdout, stderr=r.stderr)
    return res
