"""The benchmarked workloads, each buildable in mlp and in PyTorch with the same shapes.

W1 softmax regression, SGD, batch 100
W2 784-100-100-10 sigmoid, SGD lr 0.1, batch 100
W3 784-100-100-10 ReLU, Adam 1e-3, batch 128
W4 784-1024-1024-10 ReLU, Adam 1e-3, batch 256
W5 the lab's CNN: conv:16x5,pool:2,conv:32x5,pool:2,fc:128, ReLU, Adam 1e-3, batch 100
   (`mlp.arch`; images 1x28x28, true convolutions in mlp, `Conv2d` in PyTorch)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

INPUT_DIM, NUM_CLASSES = 784, 10


@dataclass(frozen=True)
class Workload:
    name: str
    hidden: tuple[int, ...]
    activation: str  # 'sigmoid' or 'relu'
    rule: str  # 'sgd' or 'adam'
    learning_rate: float
    batch_size: int
    arch: str | None = None  # a CNN (`mlp.arch` spec) instead of `hidden`
    max_rounds: int | None = None  # fewer measured rounds for a slow workload

    @property
    def dims(self) -> list[int]:
        """The affine layers' widths; for a CNN, from its flattened features on."""
        if self.arch is None:
            return [INPUT_DIM, *self.hidden, NUM_CLASSES]
        items, shapes = _arch(self.arch)
        first_fc = next((i for i, item in enumerate(items) if item.kind == "fc"), len(items))
        flat = int(np.prod(shapes[first_fc]))
        return [flat, *(item.size for item in items[first_fc:]), NUM_CLASSES]

    @property
    def num_params(self) -> int:
        dims = self.dims
        dense = sum(i * o + o for i, o in itertools.pairwise(dims))
        return dense + sum(m + c for _, m, c, _ in conv_layers(self))

    def with_(self, **changes) -> Workload:
        return replace(self, **changes)

    def describe(self) -> str:
        if self.arch is not None:
            return f"CNN {self.arch} {self.activation}, {self.rule} {self.learning_rate}, batch {self.batch_size}"
        arch = "-".join(map(str, self.dims))
        return f"{arch} {self.activation if self.hidden else 'softmax'}, {self.rule} {self.learning_rate}, batch {self.batch_size}"


WORKLOADS = {
    "W1": Workload("W1", (), "none", "sgd", 0.1, 100),
    "W2": Workload("W2", (100, 100), "sigmoid", "sgd", 0.1, 100),
    "W3": Workload("W3", (100, 100), "relu", "adam", 1e-3, 128),
    "W4": Workload("W4", (1024, 1024), "relu", "adam", 1e-3, 256),
    "W5": Workload(
        "W5",
        (128,),
        "relu",
        "adam",
        1e-3,
        100,
        arch="conv:16x5,pool:2,conv:32x5,pool:2,fc:128",
        max_rounds=3,  # an mlp epoch takes about 25 s on one core
    ),
}


def _arch(spec: str) -> tuple[tuple, list[tuple[int, ...]]]:
    """The items of an arch spec and the shape before each and after the last."""
    from mlp import arch

    items = arch.parse_arch(spec)
    return items, [arch.IMAGE_SHAPE, *arch.arch_shapes(items)]


def conv_layers(w: Workload) -> list[tuple[int, int, int, int]]:
    """Per convolution of a CNN workload: (input channels, kernel weights, output channels,
    output pixels per channel); empty for an MLP."""
    if w.arch is None:
        return []
    items, shapes = _arch(w.arch)
    return [
        (before[0], item.size * before[0] * item.kernel**2, item.size, after[1] * after[2])
        for item, before, after in zip(items, shapes, shapes[1:], strict=False)
        if item.kind == "conv"
    ]


# --- cost models ------------------------------------------------------------------------


def flops_per_epoch(w: Workload, num_examples: int) -> float:
    """Floating-point operations of one epoch's matrix products, the minimum any framework
    must do: forward, weight gradients, and input gradients for every layer but the first
    (nothing needs the gradient with respect to the data)."""
    dims = w.dims
    batches = num_examples // w.batch_size
    macs = 0
    convs = conv_layers(w)  # a convolution's products: kernel weights x output pixels
    for layer, (_, weights, _, pixels) in enumerate(convs):
        macs += 2 * weights * pixels if layer == 0 else 3 * weights * pixels
    for layer, (i, o) in enumerate(itertools.pairwise(dims)):
        macs += 2 * i * o if layer == 0 and not convs else 3 * i * o
    return 2.0 * macs * w.batch_size * batches


def bytes_per_epoch(w: Workload, num_examples: int) -> float:
    """Bytes that must cross the memory bus in one epoch, a lower bound assuming
    activations stay in cache: each batch of inputs is read once; each step reads the
    weights twice (forward, backward), writes the gradients and the learning rule reads
    and writes parameters, gradients and state (SGD: read p, g, write p; Adam: read p, g,
    m, v, write p, m, v)."""
    batches = num_examples // w.batch_size
    param_bytes = 4 * w.num_params
    rule_passes = 3 if w.rule == "sgd" else 7
    per_step = 4 * w.batch_size * INPUT_DIM + param_bytes * (2 + 1 + rule_passes)
    return float(per_step * batches)


# --- mlp ----------------------------------------------------------------------------------


def build_mlp(w: Workload, inputs: np.ndarray, labels: np.ndarray, seed: int = 0):
    """An Optimiser for `w` on the given data; `.do_training_epoch()` runs one epoch."""
    from mlp.data_providers import OneOfKDataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.initialisers import ConstantInit, GlorotUniformInit, UniformInit
    from mlp.layers import AffineLayer, ReluLayer, SigmoidLayer
    from mlp.learning_rules import AdamLearningRule, GradientDescentLearningRule
    from mlp.models import MultipleLayerModel
    from mlp.optimisers import Optimiser, accuracy

    rng = np.random.RandomState(seed)
    activation = {"sigmoid": SigmoidLayer, "relu": ReluLayer}.get(w.activation)
    layers = _mlp_conv_layers(w, rng)
    dims = w.dims
    for k, (i, o) in enumerate(itertools.pairwise(dims)):
        init = (
            UniformInit(-0.1, 0.1, rng=rng)
            if w.activation == "sigmoid"
            else GlorotUniformInit(rng=rng)
        )
        layers.append(AffineLayer(i, o, init, ConstantInit(0.0)))
        if k < len(dims) - 2:
            layers.append(activation())
    rule = (
        GradientDescentLearningRule(w.learning_rate)
        if w.rule == "sgd"
        else AdamLearningRule(w.learning_rate)
    )
    train = OneOfKDataProvider(inputs, labels, w.batch_size, rng=rng, num_classes=NUM_CLASSES)
    return Optimiser(
        MultipleLayerModel(layers),
        CrossEntropySoftmaxError(),
        rule,
        train,
        data_monitors={"acc": accuracy},
    )


def _mlp_conv_layers(w: Workload, rng: np.random.RandomState) -> list:
    """A CNN workload's layers up to its flattened features (none for an MLP): ReLU
    after each convolution, He-uniform kernels and zero biases."""
    from mlp.convolution import ConvolutionalLayer, MaxPooling2DLayer
    from mlp.initialisers import ConstantInit
    from mlp.layers import ReluLayer, ReshapeLayer

    if w.arch is None:
        return []
    items, shapes = _arch(w.arch)
    layers: list = [ReshapeLayer(shapes[0])]
    for item, before in zip(items, shapes, strict=False):
        if item.kind == "conv":
            bound = np.sqrt(6.0 / (before[0] * item.kernel**2))

            def kernels(shape, bound=bound):
                return rng.uniform(-bound, bound, shape)

            conv = ConvolutionalLayer(
                before[0], item.size, before[1], before[2], item.kernel, item.kernel,
                kernels, ConstantInit(0.0),
            )  # fmt: skip
            layers += [conv, ReluLayer()]
        elif item.kind == "pool":
            layers.append(MaxPooling2DLayer(item.size))
    return [*layers, ReshapeLayer()]


# --- PyTorch ------------------------------------------------------------------------------


def _torch_conv_layers(w: Workload) -> list:
    """The PyTorch twin of `_mlp_conv_layers` (torch's default initialisation)."""
    import torch

    if w.arch is None:
        return []
    items, shapes = _arch(w.arch)
    layers: list = [torch.nn.Unflatten(1, shapes[0])]
    for item, before in zip(items, shapes, strict=False):
        if item.kind == "conv":
            layers += [torch.nn.Conv2d(before[0], item.size, item.kernel), torch.nn.ReLU()]
        elif item.kind == "pool":
            layers.append(torch.nn.MaxPool2d(item.size))
    return [*layers, torch.nn.Flatten()]


def _torch_model(w: Workload):
    import torch

    layers: list = _torch_conv_layers(w)
    dims = w.dims
    for k, (i, o) in enumerate(itertools.pairwise(dims)):
        layers.append(torch.nn.Linear(i, o))
        if k < len(dims) - 2:
            layers.append(torch.nn.Sigmoid() if w.activation == "sigmoid" else torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    if w.rule == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=w.learning_rate)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=w.learning_rate)
    return model, optimizer


def build_torch_tensor_loop(
    w: Workload, inputs: np.ndarray, labels: np.ndarray, seed: int = 0
) -> Callable[[], None]:
    """One epoch of the plain PyTorch loop with the data set held as tensors."""
    import torch

    torch.manual_seed(seed)
    model, optimizer = _torch_model(w)
    loss_fn = torch.nn.CrossEntropyLoss()
    # A copy: the cached data set is read-only, which torch.from_numpy warns about.
    x_all, t_all = torch.from_numpy(inputs.copy()), torch.from_numpy(labels.astype(np.int64))
    n, b = x_all.shape[0], w.batch_size

    def epoch() -> None:
        model.train()
        order = torch.randperm(n)
        for start in range(0, n - b + 1, b):
            idx = order[start : start + b]
            loss = loss_fn(model(x_all[idx]), t_all[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch


def build_torch_dataloader(
    w: Workload, inputs: np.ndarray, labels: np.ndarray, seed: int = 0
) -> Callable[[], None]:
    """One epoch of the seed notebook's pipeline: a map-style dataset that turns each image
    into a normalised tensor on access, a random sampler and a DataLoader (torchvision's
    MNIST with ToTensor/Normalize does the same work per example)."""
    import torch
    from torch.utils.data import DataLoader, Dataset, SubsetRandomSampler

    torch.manual_seed(seed)
    model, optimizer = _torch_model(w)
    loss_fn = torch.nn.CrossEntropyLoss()
    pixels = np.round(inputs * 256).astype(np.uint8).reshape(-1, 28, 28)

    class Images(Dataset):
        def __len__(self) -> int:
            return pixels.shape[0]

        def __getitem__(self, i: int):
            image = torch.from_numpy(pixels[i]).float().div_(255).unsqueeze_(0)  # ToTensor
            image = image.sub_(0.1307).div_(0.3081)  # Normalize
            return image, int(labels[i])

    loader = DataLoader(
        Images(),
        batch_size=w.batch_size,
        sampler=SubsetRandomSampler(range(len(pixels))),
        drop_last=True,
    )

    def epoch() -> None:
        model.train()
        for x, t in loader:
            loss = loss_fn(model(x.flatten(1)), t)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch


# --- the matrix products alone --------------------------------------------------------------


def build_products_alone(w: Workload, num_examples: int, seed: int = 0) -> Callable[[], None]:
    """One epoch of just the matrix products mlp's training step does for `w`, with the
    same shapes, the same thread policy (`mlp._fast.threads`) and preallocated outputs:
    the floor under mlp's epoch time, and what the rest of the step is compared with."""
    from mlp._fast import threads

    rng = np.random.default_rng(seed)
    b, dims = w.batch_size, w.dims
    weights = [
        rng.uniform(-0.1, 0.1, (o, i)).astype(np.float32) for i, o in itertools.pairwise(dims)
    ]
    acts = [rng.random((b, d), dtype=np.float32) for d in dims]
    grads = [np.empty_like(a) for a in acts]
    weight_grads = [np.empty_like(W) for W in weights]

    def step() -> None:
        for k, W in enumerate(weights):
            threads.matmul(acts[k], W.T, out=acts[k + 1])
        for k in range(len(weights) - 1, -1, -1):
            threads.matmul(acts[k + 1].T, acts[k], out=weight_grads[k])
            if k:
                threads.matmul(acts[k + 1], weights[k], out=grads[k])

    def epoch() -> None:
        with threads.one_blas_thread():
            for _ in range(num_examples // b):
                step()

    return epoch
