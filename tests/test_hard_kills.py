"""kill -9 at a random moment of each long command, then the same command again: the job finishes,
nothing published is damaged, no temporary file is left. One kill per command here;
`benchmarks/hard_kills.py --kills 50` is the full sweep (figures in benchmarks/RESULTS.md)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "hard_kills.py"


@pytest.mark.slow
def test_one_hard_kill_per_command_damages_nothing_and_the_next_run_finishes():
    result = subprocess.run([sys.executable, str(SCRIPT), "--kills", "1", "--seed", "1"], capture_output=True,
                            text=True, timeout=900)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.count(" ok") == 5 and "every check held" in result.stdout
