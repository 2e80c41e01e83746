"""The seed lab's PyTorch experiment and its NumPy twin, one after the other, in one table.

    python -m benchmarks.seed_experiment                 # 50 epochs each (about a minute on 2 idle cores)
    python -m benchmarks.seed_experiment --epochs 2 --train-subset-size 5000    # a quick look
    python -m benchmarks.seed_experiment --dataloader-epochs 2   # also time the seed's pipeline

Both runs use the same seeded 48,000 / 12,000 split of the 60,000 MNIST training images,
the seed's normalisation, batches of 128 and Adam 1e-3 (see `mlp.seed_experiment`). The table gives
the test accuracy over all 10,000 test images and the median seconds of a training epoch
(statistics passes excluded). With `--dataloader-epochs N` the seed's own input pipeline
(a per-image ToTensor/Normalize transform, SubsetRandomSampler, DataLoader with
pin_memory on CUDA) is timed for N epochs on the same device, for comparison with the
device-resident loop of `mlp.pytorch.train`.

Run the figures with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, as `make bench` does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def seed_dataloader_epoch_times(device: str = "auto", num_epochs: int = 2, seed: int = 0):
    """Seconds per training epoch of the seed notebook's own pipeline on `device`.

    A map-style data set that turns each image into a normalised tensor on access (what
    torchvision's MNIST with ToTensor and Normalize does), a SubsetRandomSampler over the
    48,000 training indices, a DataLoader of batch 128 (pin_memory on CUDA) and a
    per-batch copy to the device. Returns one time per epoch.
    """
    import torch
    from torch.utils.data import DataLoader, Dataset, SubsetRandomSampler

    from mlp import datasets, pytorch
    from mlp import seed_experiment as shared

    dev = pytorch.resolve_device(device)
    inputs = np.concatenate([datasets.load("mnist", s)[0] for s in ("train", "valid")])
    labels = np.concatenate([datasets.load("mnist", s)[1] for s in ("train", "valid")])
    pixels = np.rint(inputs * 256).astype(np.uint8).reshape(-1, 28, 28)
    train_idx, _ = shared.seed_split(seed=seed)

    class Images(Dataset):
        def __len__(self) -> int:
            return pixels.shape[0]

        def __getitem__(self, i: int):
            image = torch.from_numpy(pixels[i]).float().div_(255).unsqueeze_(0)  # ToTensor
            image = image.sub_(shared.MNIST_MEAN).div_(shared.MNIST_STD)  # Normalize
            return image, int(labels[i])

    loader = DataLoader(
        Images(),
        batch_size=128,
        sampler=SubsetRandomSampler(train_idx.tolist()),
        pin_memory=dev.type == "cuda",
    )
    torch.manual_seed(seed)
    model = pytorch.seed_model().to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(num_epochs):
        start = time.perf_counter()
        for x, t in loader:
            x = x.view(x.shape[0], -1).to(dev, non_blocking=True)
            t = t.to(dev, non_blocking=True)
            loss = loss_fn(model(x), t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - start)
    return times


def table(rows: list[dict]) -> str:
    """A Markdown table of the runs."""
    lines = [
        "| run | device | epochs | test accuracy | best acc(valid) | s/epoch (median) | total s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        accuracy = "" if r.get("test_accuracy") is None else f"{r['test_accuracy']:.4f}"
        best = "" if r.get("best_valid") is None else f"{r['best_valid']:.4f}"
        total = "" if r.get("run_time") is None else f"{r['run_time']:.1f}"
        lines.append(
            f"| {r['run']} | {r['device']} | {r['epochs']} | {accuracy} | {best} "
            f"| {r['seconds_per_epoch']:.3f} | {total} |"
        )
    return "\n".join(lines)


def _row(name: str, result, epochs: int) -> dict:
    return {
        "run": name,
        "device": result.device,
        "epochs": epochs,
        "test_accuracy": result.test_accuracy,
        "best_valid": float(result.stats[1:, result.keys["acc(valid)"]].max())
        if len(result.stats) > 1
        else None,
        "seconds_per_epoch": result.seconds_per_epoch,
        "run_time": result.run_time,
        "epoch_times": result.epoch_times,
        "acc_valid": result.stats[:, result.keys["acc(valid)"]].tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--device", default="auto", help="for the torch run: auto, cpu, cuda")
    parser.add_argument(
        "--train-subset-size",
        "--max-train-examples",  # its old name
        type=int,
        default=None,
        help="train on a random subset of this many of the 48,000 training examples",
    )
    parser.add_argument("--skip-numpy", action="store_true", help="run the torch side only")
    parser.add_argument("--skip-torch", action="store_true", help="run the NumPy twin only")
    parser.add_argument(
        "--dataloader-epochs", type=int, default=0, help="also time the seed's pipeline"
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file for the results")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")

    from mlp import twin

    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(var):
            print(f"warning: {var} is set; NumPy may run slower kernels", file=sys.stderr)
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    options = {"num_epochs": args.epochs, "train_subset_size": args.train_subset_size}
    if not args.skip_torch:
        from mlp import pytorch

        result = pytorch.run_seed_experiment(device=args.device, **options)
        rows.append(_row("torch (mlp.pytorch.train)", result, args.epochs))
        print(result.summary(), flush=True)
    if not args.skip_numpy:
        result = twin.run_numpy_twin(**options)
        rows.append(_row("numpy twin (Optimiser)", result, args.epochs))
        print(result.summary(), flush=True)
    if args.dataloader_epochs > 0:
        times = seed_dataloader_epoch_times(args.device, args.dataloader_epochs)
        from mlp import pytorch

        rows.append(
            {
                "run": "torch, the seed's DataLoader pipeline",
                "device": str(pytorch.resolve_device(args.device)),
                "epochs": args.dataloader_epochs,
                "seconds_per_epoch": statistics.median(times),
                "epoch_times": times,
            }
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    text = table(rows)
    print()
    print(text)
    if len(rows) >= 2 and rows[0].get("test_accuracy") and rows[1].get("test_accuracy"):
        gap = 100 * (rows[1]["test_accuracy"] - rows[0]["test_accuracy"])
        print(f"\nnumpy twin minus torch: {gap:+.2f} percentage points of test accuracy")
    output = args.output
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps({"rows": rows, "table": text}, indent=1))
        print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
