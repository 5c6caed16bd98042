"""cifar_tab.model.BatchNorm split over two processes (gloo) computes what it computes on the whole
batch in one process: outputs, gradients and running statistics. And on the whole batch it is
torch's own batch norm in training mode, except for the running variance, which takes the biased
batch variance as the app does (src/kernels/batchnorm/closed-form.ts)."""
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from cifar_tab.model import BatchNorm

BATCH, CHANNELS, SIZE = 8, 3, 5     # 4 images per rank
MOMENTUM, EPSILON = 0.9, 1e-3       # tiny/seed's BatchNorm (Keras convention: weight of the old value)
# Float32 summed in different orders: differences of a few ulps of the largest value in a tensor.
# The weight and bias gradients are sums over 200 values a channel, of order 10, so the bar is
# relative to each tensor's largest magnitude (at least 1): 1e-6 is ~8 ulps of float32.
TOLERANCE = 1e-6


def inputs():
    """The whole batch, the layer's starting state, and the weights of a loss Σ y·g, from a fixed seed."""
    generator = torch.Generator().manual_seed(5)

    def draw(*shape, scale=1.0, shift=0.0):
        return torch.randn(*shape, generator=generator) * scale + shift

    # a mean away from 0 and a spread away from 1 per channel, so that centring and scaling both matter
    x = draw(BATCH, CHANNELS, SIZE, SIZE, scale=2.0) + draw(1, CHANNELS, 1, 1, shift=0.5)
    state = {"weight": draw(CHANNELS, scale=0.3, shift=1.0), "bias": draw(CHANNELS, scale=0.3),
             "running_mean": draw(CHANNELS, scale=0.1), "running_var": draw(CHANNELS, scale=0.1, shift=1.0).abs()}
    return x, state, draw(BATCH, CHANNELS, SIZE, SIZE)


def scaled_difference(ours, expected):
    """max |ours − expected| / max(1, max |expected|)"""
    return ((ours - expected).abs().max() / expected.abs().max().clamp_min(1.0)).item()


def run_batchnorm(x, state, g):
    """One training-mode forward and backward of BatchNorm on x, loss Σ y·g. Returns the output,
    the gradients (input, weight, bias) and the running statistics after the step."""
    bn = BatchNorm(CHANNELS, MOMENTUM, EPSILON)
    bn.load_state_dict(state)
    bn.train()
    x = x.clone().requires_grad_(True)
    y = bn(x)
    (y * g).sum().backward()
    return {"y": y.detach(), "x_grad": x.grad, "weight_grad": bn.weight.grad, "bias_grad": bn.bias.grad,
            "running_mean": bn.running_mean, "running_var": bn.running_var}


def rank_main(rank, world, store, out):
    """A rank of the gloo group: BatchNorm on its half of the batch."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    x, state, g = inputs()
    mine = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    result = run_batchnorm(x[mine], state, g[mine])
    # Each rank's loss is its own half of Σ y·g: the whole loss's parameter gradients are their sum.
    # (DDP averages instead, over per-rank mean losses: the same thing scaled by 1/world.)
    for key in ("weight_grad", "bias_grad"):
        dist.all_reduce(result[key])
    torch.save(result, os.path.join(out, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_two_halves_compute_what_the_whole_batch_does(tmp_path):
    world = 2
    mp.spawn(rank_main, args=(world, str(tmp_path / "store"), str(tmp_path)), nprocs=world, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(world)]
    whole = run_batchnorm(*inputs())
    split = {"y": torch.cat([r["y"] for r in ranks]), "x_grad": torch.cat([r["x_grad"] for r in ranks])}
    for key in ("weight_grad", "bias_grad", "running_mean", "running_var"):
        assert torch.equal(ranks[0][key], ranks[1][key]), key  # every rank holds the same values
        split[key] = ranks[0][key]
    for key, expected in whole.items():
        difference = scaled_difference(split[key], expected)
        assert difference <= TOLERANCE, (key, difference)


def test_the_whole_batch_reference_is_torchs_batch_norm_with_a_biased_running_variance():
    x, state, g = inputs()
    ours = run_batchnorm(x, state, g)
    running_mean, running_var = state["running_mean"].clone(), state["running_var"].clone()
    weight, bias = state["weight"].clone().requires_grad_(True), state["bias"].clone().requires_grad_(True)
    x = x.clone().requires_grad_(True)
    # torch's momentum is the weight of the NEW value, Keras's (ours) that of the old one
    y = F.batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=1 - MOMENTUM, eps=EPSILON)
    (y * g).sum().backward()
    theirs = {"y": y.detach(), "x_grad": x.grad, "weight_grad": weight.grad, "bias_grad": bias.grad,
              "running_mean": running_mean}
    for key, expected in theirs.items():
        difference = scaled_difference(ours[key], expected)
        assert difference <= TOLERANCE, (key, difference)
    # torch's running variance takes the unbiased batch variance (× n / (n − 1)); the app's the biased one
    n = BATCH * SIZE * SIZE
    biased = x.detach().var(dim=(0, 2, 3), unbiased=False)
    assert (running_var - (MOMENTUM * state["running_var"] + (1 - MOMENTUM) * biased * n / (n - 1))).abs().max() <= TOLERANCE
    assert (ours["running_var"] - (MOMENTUM * state["running_var"] + (1 - MOMENTUM) * biased)).abs().max() <= TOLERANCE
