"""benchmarks/gpu.py measures the paper's points on a GPU; on a machine without one its CPU fallback runs here."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu.py"


def test_the_gpu_benchmark_runs_on_the_cpu_and_reports_every_figure():
    result = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--smoke"], capture_output=True,
                            text=True, timeout=600, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "preset auto -> fast" in out
    assert "after 0.5 s" in out and "after 1 s" in out and "dB" in out
    fps = [float(line.split("network")[1].split("fps")[0]) for line in out.splitlines() if "network" in line and "fps" in line]
    assert fps and all(f > 0 for f in fps), out
    assert "whole render of a clip" in out
