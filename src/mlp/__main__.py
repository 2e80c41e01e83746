"""`python -m mlp ...` is the `mlp` command, for where the venv's scripts are not on PATH
(Windows, Colab)."""

import sys

from mlp.cli import main

sys.exit(main())
