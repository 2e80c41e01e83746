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
from mlp.datasets.idx import splits_from_idx_folder
from mlp.datasets.specs import DatasetSpec, Splits

__all__ = ["DEBIAN_FASHION_MNIST_DIR", "DEBIAN_FASHION_MNIST_PACKAGE", "from_debian_package"]

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


def _why_no_apt_install() -> str | None:
    """None when apt-get can install packages here, else the reason it cannot."""
    if os.environ.get("MLP_NO_APT", "") not in ("", "0"):
        return "MLP_NO_APT is set"
    if shutil.which("apt-get") is None:
        return "there is no apt-get here (not Debian or Ubuntu)"
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None or geteuid() != 0:
        return "installing needs root"
    return None


def _can_apt_install() -> bool:
    return _why_no_apt_install() is None


def from_debian_package(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the idx files of Debian's package, installed with apt-get when missing.

    The files are read from `DEBIAN_FASHION_MNIST_DIR`; ``workdir`` and ``progress`` are
    unused (the files are local). apt-get runs only as root, with apt-get present and
    ``$MLP_NO_APT`` unset.

    Returns:
        ``{split: (inputs, targets)}`` as `splits_from_idx` gives them: arrays of shapes
        (num_examples, 784) and (num_examples,).

    Raises:
        DataError: when the files are missing and cannot be installed, or are corrupt.
    """
    folder = DEBIAN_FASHION_MNIST_DIR
    missing = [i.filename for i in spec.idx_files.values() if not (folder / i.filename).exists()]
    if missing:
        if not _can_apt_install():
            reason = _why_no_apt_install() or "it cannot run here"
            raise DataError(
                f"{folder} lacks {', '.join(missing)} and apt-get will not be run ({reason}); "
                f"`sudo apt-get install {DEBIAN_FASHION_MNIST_PACKAGE}` provides them"
            )
        _apt_install(DEBIAN_FASHION_MNIST_PACKAGE)
        still = [f for f in missing if not (folder / f).exists()]
        if still:  # installed, yet its files are gone: reinstalling brings them back
            raise DataError(
                f"{DEBIAN_FASHION_MNIST_PACKAGE} is installed but {folder} lacks "
                f"{', '.join(still)}: `sudo apt-get install --reinstall "
                f"{DEBIAN_FASHION_MNIST_PACKAGE}` restores them"
            )
    logger.info("reading %s from %s", spec.name, folder)
    return splits_from_idx_folder(spec, folder)
