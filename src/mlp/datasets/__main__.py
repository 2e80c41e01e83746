"""``python -m mlp.datasets``: run the data command line."""

import sys

from mlp.datasets.cli import main

if __name__ == "__main__":
    sys.exit(main())
