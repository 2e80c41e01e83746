"""`python -m mlp` runs the command line, for where the `mlp` script is not on PATH."""

import subprocess
import sys


def test_python_dash_m_mlp_is_the_mlp_command():
    result = subprocess.run(
        [sys.executable, "-m", "mlp", "train", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mlp train")
    assert "--hidden" in result.stdout
