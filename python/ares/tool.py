"""Calling the C tool `build/ares` from Python.

Everything the Python side compiles, checks or validates goes through this module: it finds
the binary, runs it as a subprocess, turns a non-zero exit status into an `AresError` that
carries the tool's own message (node, op, reason, advice), and parses the per-layer table
`ares run` prints.
"""

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

__all__ = [
    "AresError", "UnsupportedTargetError", "ValidationError", "Diagnostic", "Layer",
    "ares_binary", "run_tool", "parse_diagnostics", "parse_layer_table", "has_check"
]


# ----------------------------------------------------------------------------------------------
# errors


@dataclass(frozen=True)
class Diagnostic:
    """One message of the C tool: `ares: LEVEL: node 'NODE' (OP): REASON (ADVICE)`.

    `node` and `op` are None for messages about the whole model or the command line; `advice`
    is the trailing parenthesised part of the reason when the tool gave one (e.g. "put a
    quantizer, e.g. QuantIdentity, before this layer")."""
    level: str  # "error", "warning", or another word the tool used
    message: str  # everything after "LEVEL: "
    node: Optional[str] = None
    op: Optional[str] = None
    reason: Optional[str] = None
    advice: Optional[str] = None

    def __str__(self):
        return f"{self.level}: {self.message}"


class AresError(Exception):
    """The C tool refused or failed. `str(e)` is the tool's error message, verbatim
    (without the "ares: error: " prefix when there is exactly one); `e.diagnostics` has every
    message it printed, parsed, and `e.node`, `e.op`, `e.reason`, `e.advice` those of the
    first error. `e.command`, `e.returncode`, `e.stdout`, `e.stderr` are the raw run."""

    def __init__(self, message: str, *, command: Sequence[str] = (), returncode: int = None,
                 stdout: str = "", stderr: str = "", diagnostics: Sequence[Diagnostic] = ()):
        super().__init__(message)
        self.message = message
        self.command = list(command)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.diagnostics = list(diagnostics)
        first = next((d for d in self.diagnostics if d.level == "error"), None)
        self.node = first.node if first else None
        self.op = first.op if first else None
        self.reason = first.reason if first else None
        self.advice = first.advice if first else None

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    @property
    def warnings(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "warning"]


class UnsupportedTargetError(AresError):
    """The target exists in ARES' target list but has no code emitter yet (today: gap9,
    siracusa, rv32). The message is the tool's ("target 'gap9' has no emitter yet ...")."""


class ValidationError(AresError):
    """`ares run` found layers whose generated code differs from the reference interpreter.
    `e.result` is the DeployResult with the per-layer table."""

    def __init__(self, message: str, result=None, **kw):
        super().__init__(message, **kw)
        self.result = result


# ----------------------------------------------------------------------------------------------
# running the binary


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def ares_binary() -> Path:
    """The `ares` executable: $ARES_BIN if set, else <repo>/build/ares."""
    env = os.environ.get("ARES_BIN")
    p = Path(env) if env else repo_root() / "build" / "ares"
    if not p.is_file() or not os.access(p, os.X_OK):
        where = f"ARES_BIN={env}" if env else str(p)
        raise AresError(f"the ARES compiler was not found at {where}: build it with `make` in "
                        f"{repo_root()} (or point ARES_BIN at it)")
    return p


_DIAG = re.compile(r"^ares: (?P<level>[a-z]+): (?P<msg>.*)$")
_NODE = re.compile(r"^node '(?P<node>.*?)' \((?P<op>[^()]*)\): (?P<reason>.*)$")


def _split_advice(reason: str):
    """'unsupported: X (advice)' -> ('unsupported: X', 'advice') when the reason ends in a
    balanced parenthesised part."""
    if not reason.endswith(")"):
        return reason, None
    depth = 0
    for i in range(len(reason) - 1, -1, -1):
        c = reason[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                head = reason[:i].rstrip()
                return (head, reason[i + 1:-1]) if head else (reason, None)
    return reason, None


def parse_diagnostics(text: str) -> List[Diagnostic]:
    """Every `ares: LEVEL: ...` line of the tool's output, parsed."""
    out = []
    for line in text.splitlines():
        m = _DIAG.match(line.strip())
        if not m:
            continue
        level, msg = m.group("level"), m.group("msg")
        n = _NODE.match(msg)
        if n:
            reason, advice = _split_advice(n.group("reason"))
            out.append(Diagnostic(level, msg, n.group("node"), n.group("op"), reason, advice))
        else:
            reason, advice = _split_advice(msg)
            out.append(Diagnostic(level, msg, None, None, reason, advice))
    return out


def error_message(stderr: str, stdout: str = "") -> str:
    """The tool's error text: its `ares: error:` lines (prefix dropped when there is one),
    else its last non-empty stderr lines."""
    errs = [d.message for d in parse_diagnostics(stderr) if d.level == "error"]
    if len(errs) == 1:
        return errs[0]
    if errs:
        return "\n".join("error: " + e for e in errs)
    lines = [l for l in stderr.splitlines() if l.strip()] or \
        [l for l in stdout.splitlines() if l.strip()]
    return "\n".join(lines[-10:]) if lines else "ares failed without a message"


def run_tool(args: Sequence[str], *, check: bool = True, timeout: Optional[float] = None,
             error_class=AresError) -> subprocess.CompletedProcess:
    """Runs `ares ARGS...`; with check=True a non-zero exit raises `error_class` carrying the
    tool's message. Returns the CompletedProcess (text stdout/stderr)."""
    cmd = [str(ares_binary())] + [str(a) for a in args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AresError(f"`{' '.join(cmd)}` did not finish in {timeout} s", command=cmd) from e
    if check and r.returncode != 0:
        raise tool_error(r, cmd, error_class)
    return r


def tool_error(r: subprocess.CompletedProcess, cmd: Sequence[str], error_class=AresError):
    msg = error_message(r.stderr, r.stdout)
    cls = error_class
    if "has no emitter yet" in msg and not issubclass(cls, UnsupportedTargetError):
        cls = UnsupportedTargetError
    return cls(msg, command=cmd, returncode=r.returncode, stdout=r.stdout, stderr=r.stderr,
               diagnostics=parse_diagnostics(r.stderr) + parse_diagnostics(r.stdout))


_has_check_cache = {}


def has_check() -> bool:
    """True when this build of the tool has `ares check` (its --help exits 0)."""
    b = str(ares_binary())
    if b not in _has_check_cache:
        r = subprocess.run([b, "check", "--help"], capture_output=True, text=True)
        _has_check_cache[b] = r.returncode == 0
    return _has_check_cache[b]


def compile_takes_input() -> bool:
    """True when `ares compile` accepts --input (the input a chip program runs on)."""
    b = str(ares_binary())
    key = ("compile-input", b)
    if key not in _has_check_cache:
        r = subprocess.run([b, "help", "compile"], capture_output=True, text=True)
        _has_check_cache[key] = r.returncode == 0 and "--input" in r.stdout
    return _has_check_cache[key]


# ----------------------------------------------------------------------------------------------
# the per-layer table of `ares run`


@dataclass(frozen=True)
class Layer:
    """One row of `ares run`'s table. `name` is the ONNX node name as the tool prints it
    (possibly cut short); `match` is True when the generated code's output equals the
    reference interpreter's byte for byte, `verdict` the tool's word ("ok", "MISMATCH 3/64",
    ...); `extra` the columns between MACs and the verdict (tiling, memory), as printed;
    `line` the row itself."""
    index: int
    name: str
    op: str
    shape: tuple
    macs: int
    match: bool
    verdict: str
    extra: str = ""
    line: str = ""


_ROW = re.compile(r"^(?P<i>\d+)\s+(?P<name>.*?)\s+(?P<op>[a-z][a-z0-9_]*)"
                  r"(?:\s+(?P<shape>\d+(?:x\d+)*))?\s+(?P<macs>\d+)(?:\s+(?P<extra>.*?))?"
                  r"\s+(?P<verdict>ok|MISMATCH \d+/\d+|SIZE \d+ != \d+|MISSING \(.*\))$")
_TOTAL_MACS = re.compile(r"total MACs (\d+)|total: (\d+) MACs")
_ARENA = re.compile(r"arena (\d+) bytes \(lower bound (\d+)\)")


def parse_layer_table(stdout: str):
    """(layers, totals) from `ares run`'s stdout. totals has total_macs, arena_bytes and
    arena_lower_bound when the tool printed them, header (the table's header line) and
    line (its totals line)."""
    layers, totals = [], {}
    header_seen = False
    for line in stdout.splitlines():
        if line.startswith("layer ") and line.rstrip().endswith("match"):
            header_seen = True
            totals["header"] = line.rstrip()
            continue
        m = _ROW.match(line.rstrip())
        if header_seen and m:
            shape = tuple(int(d) for d in (m.group("shape") or "").split("x") if d)
            v = m.group("verdict")
            layers.append(Layer(int(m.group("i")), m.group("name"), m.group("op"), shape,
                                int(m.group("macs")), v == "ok", v, m.group("extra") or "",
                                line.rstrip()))
            continue
        if line.startswith("total"):
            totals["line"] = line.rstrip()
            t = _TOTAL_MACS.search(line)
            if t:
                totals["total_macs"] = int(t.group(1) or t.group(2))
            t = _ARENA.search(line)
            if t:
                totals.update(arena_bytes=int(t.group(1)), arena_lower_bound=int(t.group(2)))
    return layers, totals


# ----------------------------------------------------------------------------------------------
# the report of `ares check`


@dataclass(frozen=True)
class CheckNode:
    """One node of `ares check`'s report. status: "ok", "warning", "unsupported", "blocked"
    (fails only because of an unsupported node before it) or "unchecked"."""
    name: str
    op: str
    status: str
    detail: str
    advice: Optional[str] = None


@dataclass
class CheckReport:
    nodes: List[CheckNode]
    summary: str  # the tool's summary line
    compiles: bool
    text: str  # the whole report as the tool printed it

    @property
    def unsupported(self) -> List[CheckNode]:
        return [n for n in self.nodes if n.status == "unsupported"]

    @property
    def warnings(self) -> List[CheckNode]:
        return [n for n in self.nodes if n.status == "warning"]

    def __str__(self):
        return self.text


_CHECK_ROW = re.compile(r"^(?P<name>\S.*?)\s+(?P<op>\S+)\s+"
                        r"(?P<status>ok|warning|WARNING|UNSUPPORTED|unsupported|blocked|unchecked)"
                        r"(?:\s+(?P<detail>.*))?$")
_CHECK_ADVICE = re.compile(r"^\s+advice:\s*(?P<advice>.*)$")


def parse_check_report(text: str, returncode: int) -> CheckReport:
    nodes, summary = [], ""
    for line in text.splitlines():
        if line.startswith("summary:"):
            summary = line
            continue
        a = _CHECK_ADVICE.match(line)
        if a and nodes:
            n = nodes[-1]
            nodes[-1] = CheckNode(n.name, n.op, n.status, n.detail, a.group("advice"))
            continue
        m = _CHECK_ROW.match(line.rstrip())
        if m:
            nodes.append(CheckNode(m.group("name"), m.group("op"), m.group("status").lower(),
                                   m.group("detail") or ""))
    return CheckReport(nodes, summary, returncode == 0, text)


def check_error(report: CheckReport, r: subprocess.CompletedProcess, cmd) -> AresError:
    """AresError for a model `ares check` refuses: one line per unsupported node,
    "node 'NAME' (OP): DETAIL" with the tool's detail, then its advice, then its summary."""
    lines, diags = [], []
    for n in report.unsupported:
        lines.append(f"node '{n.name}' ({n.op}): {n.detail}")
        reason, paren = _split_advice(n.detail)
        if n.advice:
            lines.append(f"  advice: {n.advice}")
        diags.append(Diagnostic("error", lines[-2] if n.advice else lines[-1], n.name, n.op,
                                reason, n.advice or paren))
    for n in report.warnings:
        diags.append(Diagnostic("warning", f"node '{n.name}' ({n.op}): {n.detail}", n.name, n.op,
                                n.detail, n.advice))
    tail = [l for l in report.text.splitlines()
            if l.startswith("summary:") or l.startswith("the pipeline stopped")]
    if not lines:  # a report this parser does not know: pass the tool's words on
        lines = [error_message(r.stderr, r.stdout)]
    return AresError("\n".join(lines + tail), command=cmd, returncode=r.returncode,
                     stdout=r.stdout, stderr=r.stderr,
                     diagnostics=diags + parse_diagnostics(r.stderr))
