"""Data on the device: an mlp data provider held there whole (`ResidentData`), or any
other iterable of batches moved per batch (`StreamedData`).

A provider's data set moves to the device once; each epoch is shuffled there with
`torch.randperm` and served as slices of one gathered tensor, so there is no
per-example Python work and no host-to-device copy per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from mlp.data_providers import DataProvider, OneOfKDataProvider

__all__ = ["DeviceData", "ResidentData", "StreamedData", "shuffle_seed"]


class ResidentData:
    """An mlp data provider's whole data set held on the device.

    Follows the provider's current `batch_size`, `max_num_batches`, `shuffle_order` and
    `drop_last` at every epoch, as the provider itself would.
    """

    def __init__(
        self,
        provider: DataProvider,
        device: torch.device,
        dtype: torch.dtype,
        class_indices: bool,
        generator: torch.Generator,
    ) -> None:
        self.provider = provider
        self.generator = generator
        self.inputs = torch.tensor(np.asarray(provider.inputs), dtype=dtype, device=device)
        if class_indices and isinstance(provider, OneOfKDataProvider):
            targets = torch.tensor(np.asarray(provider.labels), dtype=torch.int64, device=device)
        else:
            targets = torch.tensor(np.asarray(provider.targets), device=device)
            if targets.is_floating_point():
                targets = targets.to(dtype)
        self.targets = targets
        self._buffers: tuple[torch.Tensor, torch.Tensor] | None = None

    def __len__(self) -> int:
        return self.provider.num_batches

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of training batches: slices of one gathered, shuffled copy."""
        p = self.provider
        size, stop = p.batch_size, p.num_examples_per_epoch
        if p.shuffle_order:
            order = torch.randperm(
                p.num_examples, generator=self.generator, device=self.inputs.device
            )[:stop]
            if self._buffers is None or self._buffers[0].shape[0] != stop:
                self._buffers = (
                    self.inputs.new_empty((stop, *self.inputs.shape[1:])),
                    self.targets.new_empty((stop, *self.targets.shape[1:])),
                )
            inputs = torch.index_select(self.inputs, 0, order, out=self._buffers[0])
            targets = torch.index_select(self.targets, 0, order, out=self._buffers[1])
        else:
            inputs, targets = self.inputs[:stop], self.targets[:stop]
        for start in range(0, stop, size):
            yield inputs[start : start + size], targets[start : start + size]

    def evaluation_batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Every example an epoch covers, in order, in large batches (as the provider's)."""
        p = self.provider
        stop = p.num_examples_per_epoch if p.max_num_batches != -1 else p.num_examples
        for start in range(0, stop, batch_size):
            end = min(start + batch_size, stop)
            yield self.inputs[start:end], self.targets[start:end]


class StreamedData:
    """Any other iterable of (inputs, targets) batches, a DataLoader say, moved per batch."""

    def __init__(self, batches: Iterable[Any], device: torch.device, dtype: torch.dtype) -> None:
        self.batches = batches
        self.device = device
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def _move(self, value: Any) -> torch.Tensor:
        tensor = torch.as_tensor(value).to(self.device, non_blocking=True)
        return tensor.to(self.dtype) if tensor.is_floating_point() else tensor

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for batch in self.batches:
            inputs, targets = batch[0], batch[1]
            yield self._move(inputs), self._move(targets)

    def evaluation_batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The batches as they come (`batch_size` is the iterable's own)."""
        return iter(self)


def shuffle_seed(provider: DataProvider) -> int:
    """A seed for the device's shuffles, drawn from the provider's own rng (so a seeded
    provider gives a repeatable run)."""
    rng = provider.rng
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**62))
    return int(rng.randint(0, 2**31 - 1))


DeviceData = ResidentData | StreamedData
"""A data set as the trainer serves it, on the device."""
