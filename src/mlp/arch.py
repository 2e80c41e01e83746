"""The architecture spec of a small convolutional network: `mlp train --arch SPEC`, or
`arch = "SPEC"` in a config file, e.g.::

    conv:32x5,pool:2,conv:64x5,pool:2,fc:256

The inputs (flat rows of 784 pixels) are first reshaped to images of shape (1, 28, 28);
then, left to right:

    conv:CxK   a ConvolutionalLayer of C output channels and K x K kernels (no padding,
               so each side shrinks by K - 1), followed by the run's activation
    pool:P     a MaxPooling2DLayer of P x P windows (each side must be a multiple of P)
    fc:N       an AffineLayer of N units followed by the activation; the images are
               flattened before the first fc (no conv or pool may follow one)

and last an AffineLayer to the classes. `parse_arch` reads a spec, `arch_shapes` gives
the shape after each item and refuses an item whose inputs it cannot take, naming it.
Both raise ValueError; `mlp.config` turns that into its ConfigError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["IMAGE_SHAPE", "ArchLayer", "arch_shapes", "parse_arch"]

IMAGE_SHAPE = (1, 28, 28)
"""(channels, height, width) of the images the flat inputs are reshaped to."""

_ITEM = re.compile(r"^(?:conv:(\d+)x(\d+)|pool:(\d+)|fc:(\d+))$")
_EXAMPLE = "conv:32x5,pool:2,conv:64x5,pool:2,fc:256"


@dataclass(frozen=True)
class ArchLayer:
    """One item of a spec.

    Attributes:
        kind: 'conv', 'pool' or 'fc'.
        size: output channels (conv), window side (pool) or units (fc).
        kernel: kernel side (conv; 0 otherwise).
    """

    kind: str
    size: int
    kernel: int = 0

    def __str__(self) -> str:
        if self.kind == "conv":
            return f"conv:{self.size}x{self.kernel}"
        return f"{self.kind}:{self.size}"


def parse_arch(spec: str) -> tuple[ArchLayer, ...]:
    """The items of a spec such as 'conv:32x5,pool:2,fc:256' (any case, spaces allowed).

    Raises:
        TypeError: when spec is not a string.
        ValueError: naming the item that is not conv:CxK, pool:P or fc:N with positive
            integers, or a conv or pool after an fc.
    """
    if not isinstance(spec, str):
        raise TypeError(f"arch must be a string such as {_EXAMPLE!r}, got {spec!r}")
    items = [item.strip() for item in spec.strip().lower().split(",")]
    layers: list[ArchLayer] = []
    for i, item in enumerate(items, start=1):
        match = _ITEM.match(item.replace(" ", ""))
        if match is None:
            raise ValueError(
                f"arch item {i}, {item!r}, is not conv:CxK, pool:P or fc:N (e.g. {_EXAMPLE})"
            )
        conv_size, kernel, pool, units = match.groups()
        if conv_size is not None:
            layer = ArchLayer("conv", int(conv_size), int(kernel))
        elif pool is not None:
            layer = ArchLayer("pool", int(pool))
        else:
            layer = ArchLayer("fc", int(units))
        if layer.size < 1 or (layer.kind == "conv" and layer.kernel < 1):
            raise ValueError(f"arch item {i}, {item!r}, needs sizes of at least 1")
        if layer.kind != "fc" and any(earlier.kind == "fc" for earlier in layers):
            raise ValueError(
                f"arch item {i}, {item!r}, follows an fc layer, whose outputs are flat: "
                "put conv and pool items before the first fc"
            )
        layers.append(layer)
    return tuple(layers)


def arch_shapes(
    layers: tuple[ArchLayer, ...], image_shape: tuple[int, int, int] = IMAGE_SHAPE
) -> list[tuple[int, ...]]:
    """The shape of one example after each item: (channels, height, width) after conv
    and pool items, (units,) after fc ones.

    Raises:
        ValueError: naming the first item that cannot take its inputs (a kernel larger
            than the images, a pool that does not divide their sides).
    """
    shape: tuple[int, ...] = tuple(image_shape)
    shapes: list[tuple[int, ...]] = []
    for i, layer in enumerate(layers, start=1):
        where = f"arch item {i}, {layer},"
        if layer.kind == "conv":
            _, height, width = shape
            if layer.kernel > min(height, width):
                raise ValueError(
                    f"{where} gets images of {height}x{width}, smaller than its "
                    f"{layer.kernel}x{layer.kernel} kernels (outputs would be under 1 pixel)"
                )
            shape = (layer.size, height - layer.kernel + 1, width - layer.kernel + 1)
        elif layer.kind == "pool":
            channels, height, width = shape
            if height % layer.size or width % layer.size:
                raise ValueError(
                    f"{where} gets images of {height}x{width}, whose sides are not "
                    f"multiples of {layer.size}"
                )
            shape = (channels, height // layer.size, width // layer.size)
        else:
            shape = (layer.size,)
        shapes.append(shape)
    return shapes
