"""Source: Fashion-MNIST from Debian's package ``dataset-fashion-mnist``.

The package's idx files are read from where it installs them; when they are missing and
this process runs as root with apt-get available, the package is installed first.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from mlp.datasets.exceptions import DataError
from mlp.datasets.idx import _from_idx_folder
from mlp.datasets.specs import DatasetSpec, Splits

__all__ = ["DEBIAN_FASHION_MNIST_DIR", "DEBIAN_FASHION_MNIST_PACKAGE"]

logger = logging.getLogger(__name__)

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"


def _apt_install(package: str) -> None:
    """Install a Debian package non-interactively, updating the lists if it is not found."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    logger.warning("installing Debian's %s with apt-get (set MLP_NO_APT=1 to stop this)", package)
    for attempt in range(2):
        result = subprocess.run(
            install,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=600,
            check=False,
        )
        if result.returncode == 0:
            return
        if attempt == 0:
            logger.info("apt-get install failed; running apt-get update and trying again")
            subprocess.run(
                ["apt-get", "update", "-q"],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=600,
                check=False,
            )
    tail = result.stderr.decode(errors="replace").strip().splitlines()[-3:]
    raise DataError(f"`apt-get install {package}` failed: {' | '.join(tail)}")


def _can_apt_install() -> bool:
    if os.environ.get("MLP_NO_APT", "") not in ("", "0"):
        return False
    geteuid = getattr(os, "geteuid", None)
    return shutil.which("apt-get") is not None and geteuid is not None and geteuid() == 0


def _from_debian_package(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the idx files of Debian's package, installed with apt-get when missing."""
    folder = DEBIAN_FASHION_MNIST_DIR
    if not all((folder / idx.filename).exists() for idx in spec.idx_files.values()):
        if not _can_apt_install():
            raise DataError(
                f"{folder} is missing and apt-get cannot be run here (it needs root); "
                f"`sudo apt-get install {DEBIAN_FASHION_MNIST_PACKAGE}` provides it"
            )
        _apt_install(DEBIAN_FASHION_MNIST_PACKAGE)
    logger.info("reading %s from %s", spec.name, folder)
    return _from_idx_folder(spec, folder)
