"""mlp.arch: reading a CNN spec and the shapes it gives (the CLI's use is in test_cli)."""

from __future__ import annotations

import pytest

from mlp.arch import IMAGE_SHAPE, ArchLayer, arch_shapes, parse_arch


def test_parse_and_shapes_of_the_example_spec() -> None:
    layers = parse_arch(" Conv:32x5, pool:2,conv:64x5 ,pool:2,fc:256")
    assert layers == (
        ArchLayer("conv", 32, 5),
        ArchLayer("pool", 2),
        ArchLayer("conv", 64, 5),
        ArchLayer("pool", 2),
        ArchLayer("fc", 256),
    )
    assert ",".join(map(str, layers)) == "conv:32x5,pool:2,conv:64x5,pool:2,fc:256"
    assert arch_shapes(layers) == [(32, 24, 24), (32, 12, 12), (64, 8, 8), (64, 4, 4), (256,)]
    assert IMAGE_SHAPE == (1, 28, 28)


def test_a_kernel_as_large_as_the_image_leaves_one_pixel() -> None:
    assert arch_shapes(parse_arch("conv:2x28")) == [(2, 1, 1)]
    with pytest.raises(ValueError, match="arch item 2, conv:2x2, gets images of 1x1"):
        arch_shapes(parse_arch("conv:2x28,conv:2x2"))


@pytest.mark.parametrize(
    ("spec", "error"),
    [(None, TypeError), ("", ValueError), ("conv:2x", ValueError), ("pool:-1", ValueError)],
)
def test_bad_specs(spec, error) -> None:
    with pytest.raises(error, match="arch"):
        parse_arch(spec)
