"""Continue a run of the app in PyTorch, on one process or many (DistributedDataParallel).

    torchrun --standalone --nproc_per_node=2 -m cifar_tab.train \\
        --from HANDOVER --run RUN_DIR --data public/data/cifar10 [--epochs 20]

HANDOVER is what the app's "Continue elsewhere" downloads, zipped or unpacked (python/README.md).
RUN_DIR receives checkpoint.pt after every epoch (rank 0) and, at the end, export/ and
export.zip: the hand-over for the app to import, its curves extended and a segment added.
Run the same command again after an interruption: it resumes from checkpoint.pt.

The global batch is the app's: step s of epoch e trains on rows s·B … (s+1)·B − 1 of
epochOrder(e, seed), augmented by augmentParams(s, seed); process r of N takes the
r-th of N equal slices of those rows (a DistributedSampler that keeps the app's order),
BatchNorm reduces its statistics over all N slices, and DDP averages the gradients,
so N processes take the same steps as one process with the whole batch.
"""
import argparse
import copy
import hashlib
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .augment import augment_batch, augment_params
from .data import epoch_order, js_round, mix_seed, read_data, split_training_set, test_indices, to_model_input
from .handover import pack, read_handover, unpack, write_handover

# ---- The app's training constants (src/train/loop.ts, src/model/config.ts) -------------------
READ_EVERY = 10          # steps between metric reports (loop.ts READ_EVERY)
EVAL_BATCH = 200         # images per evaluation batch (loop.ts EVAL_BATCH_SIZE)
CE_EPSILON = 1e-7        # probabilities clipped to [1e-7, 1] before the log, like Keras
# The optimizer, schedule, augmentation, loss and evaluation come from run.json's "recipe", which the
# app resolves from the settings (resolveRecipe, src/run/recipe.ts): no preset's recipe is kept here.
# ---- Ours ------------------------------------------------------------------------------------
DROPOUT_STREAM = 6       # a random stream of our own for dropout masks, seeded by (seed, step, rank)
CHECKPOINT = "checkpoint.pt"
HANDOVER = "handover"    # where a zipped hand-over is unpacked
EXPORT = "export"
# -----------------------------------------------------------------------------------------------


def warmup_decay_rate(step, total_steps, peak, warmup_fraction, start_factor, end_factor):
    """warmupDecayRate (src/train/schedule.ts): linear warm-up to the peak, then linear decay."""
    last = total_steps - 1
    if last == 0:
        return peak
    s = min(step, last)
    warmup_end = js_round(warmup_fraction * last)
    if s <= warmup_end:
        return peak if warmup_end == 0 else peak * (start_factor + (1 - start_factor) * (s / warmup_end))
    return peak * (1 + (end_factor - 1) * ((s - warmup_end) / (last - warmup_end)))


def cross_entropy(probs, labels, smoothing=0.0):
    """crossEntropy (loop.ts): mean cross-entropy of softmax outputs clipped to [1e-7, 1]."""
    if smoothing == 0:
        picked = probs.gather(1, labels[:, None])[:, 0]
        return -torch.log(picked.clamp(CE_EPSILON, 1)).mean()
    k = probs.shape[1]
    target = torch.full_like(probs, smoothing / k)
    target.scatter_(1, labels[:, None], 1 - smoothing + smoothing / k)
    return -(target * torch.log(probs.clamp(CE_EPSILON, 1))).sum(1).mean()


def early_stopping(val_losses, patience):
    """earlyStopping (src/train/earlyStopping.ts): (best epoch, latest is best, stop)."""
    best_epoch, best = None, math.inf
    for k, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch = loss, k + 1
    last = len(val_losses)
    return best_epoch, best_epoch == last, patience > 0 and last - (best_epoch or 0) >= patience


def trainable_weights(model):
    """[(Layers weight name, parameter)] in the order of TensorFlow.js's model.trainableWeights."""
    named = []
    for name, kind, _ in model.plan:
        layer = model.layers[name] if name in model.layers else None
        if kind in ("Conv2D", "Dense"):
            named += [(f"{name}/kernel", layer.weight), (f"{name}/bias", layer.bias)]
        elif kind == "BatchNormalization":
            named += [(f"{name}/gamma", layer.weight), (f"{name}/beta", layer.bias)]
    return [(n, p) for n, p in named if p is not None and p.requires_grad]


def make_optimizer(run, named):
    """The run's optimizer, with the tab's state (moments, iteration count) when run.json carries it."""
    params = [p for _, p in named]
    spec = run.get("optimizer")
    recipe = run["recipe"]
    kind, schedule = recipe["optimizer"], recipe["schedule"]
    rate = schedule["rate"] if schedule["kind"] == "constant" else schedule["peak"]
    if kind["kind"] == "momentum":
        return torch.optim.SGD(params, lr=rate, momentum=kind["momentum"], nesterov=kind["nesterov"])
    # ε: the tab's backend epsilon (1e-7, or 1e-4 on WebGL without float32 textures)
    epsilon = spec["epsilon"] if spec and spec.get("epsilon") else 1e-7
    return torch.optim.Adam(params, lr=rate, betas=(kind["beta1"], kind["beta2"]), eps=epsilon)


def load_optimizer_slots(optimizer, model, named, run, slots):
    """Puts the tab's optimizer slots (tfjs layout) into the torch optimizer's state."""
    from .model import to_torch_layout
    by_key = {(w, s): a for w, s, a in slots}
    iterations = run["optimizer"]["iterations"]
    for name, p in named:
        if isinstance(optimizer, torch.optim.Adam):
            optimizer.state[p] = {"step": torch.tensor(float(iterations)),
                                  "exp_avg": to_torch_layout(model, name, by_key[(name, "m")]).to(p.device),
                                  "exp_avg_sq": to_torch_layout(model, name, by_key[(name, "v")]).to(p.device)}
        else:
            optimizer.state[p] = {"momentum_buffer": to_torch_layout(model, name, by_key[(name, "momentum")]).to(p.device)}


def optimizer_slots(optimizer, named):
    """[(weight, slot, tensor)] in TensorFlow.js's getWeights() order: every m, then every v (or every momentum)."""
    if isinstance(optimizer, torch.optim.Adam):
        return ([(n, "m", optimizer.state[p]["exp_avg"]) for n, p in named]
                + [(n, "v", optimizer.state[p]["exp_avg_sq"]) for n, p in named])
    return [(n, "momentum", optimizer.state[p]["momentum_buffer"]) for n, p in named]


@torch.no_grad()
def evaluate(model, split, indices, run, device, rank=0, world=1):
    """evaluate (loop.ts) in inference mode over this process's share of `indices`, summed over all:
    (mean clipped cross-entropy, accuracy, count)."""
    tta = run["recipe"]["flipTestTime"]
    mine = indices[rank::world]
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, count
    model.eval()
    for start in range(0, len(mine), EVAL_BATCH):
        rows = mine[start:start + EVAL_BATCH]
        x = to_model_input(torch.from_numpy(split.pixels[rows]).to(device), run["color"], run["mean"], run["std"])
        y = torch.from_numpy(split.labels[rows].astype(np.int64)).to(device)
        probs = model(x)
        if tta:
            probs = (probs + model(torch.flip(x, dims=[3]))) / 2
        picked = probs.gather(1, y[:, None])[:, 0].to(torch.float64)
        totals += torch.stack([-torch.log(picked.clamp(CE_EPSILON, 1)).sum(),
                               (probs.argmax(1) == y).sum().to(torch.float64),
                               torch.tensor(float(len(rows)), dtype=torch.float64, device=device)])
    if world > 1:
        dist.all_reduce(totals)
    loss, correct, count = totals.tolist()
    return loss / count, correct / count, int(count)


def weights_digest(model):
    """SHA-256 of every parameter and buffer, in state_dict order: equal on every rank iff the weights are."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def add_segment(run, own_from, epoch, step_before, step_after, identity):
    """Records that `epoch` ran here: extends this run directory's last segment, or starts one."""
    segments = run["segments"]
    last = segments[-1] if len(segments) > own_from else None
    if last and all(last[k] == v for k, v in identity.items()) and last["toEpoch"] == epoch - 1:
        last.update(toEpoch=epoch, toStep=step_after, endedAt=int(time.time() * 1000))
    else:
        segments.append({"fromEpoch": epoch, "toEpoch": epoch, "fromStep": step_before, "toStep": step_after,
                         **identity, "endedAt": int(time.time() * 1000)})


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m cifar_tab.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="handover", required=True, help="hand-over exported by the app (.zip or folder)")
    p.add_argument("--run", required=True, help="working folder: checkpoint.pt, export/")
    p.add_argument("--data", required=True, help="the app's shard folder, a data set zip exported by the page, or cifar-10-binary.tar.gz")
    p.add_argument("--epochs", type=int, help="total epochs of the run (default: its settings')")
    p.add_argument("--train-limit", type=int, help="settings.trainLimit (0 = all; changes the sample, see README)")
    p.add_argument("--patience", type=int, help="settings.patience (0 = never stop early)")
    p.add_argument("--batch-size", type=int, help="settings.batchSize: the global batch, split over the processes")
    p.add_argument("--stop-after", type=int, help="end this process after so many epochs (resume later)")
    p.add_argument("--device", default="auto", help="cpu, cuda, or auto (cuda when available)")
    p.add_argument("--threads", type=int, help="torch threads per process")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    distributed = "WORLD_SIZE" in os.environ
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if distributed:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    say = print if rank == 0 else (lambda *a, **k: None)

    unpacked = os.path.join(args.run, HANDOVER)
    if rank == 0:
        unpack(args.handover, unpacked)
    if distributed:
        dist.barrier()  # the others read what rank 0 unpacked
    run, model, model_json, slots = read_handover(args.handover if os.path.isdir(args.handover) else unpacked)
    model.to(device)
    named = trainable_weights(model)
    optimizer = make_optimizer(run, named)
    if slots is not None:
        load_optimizer_slots(optimizer, model, named, run, slots)
    own_from, best_state = len(run["segments"]), None
    checkpoint_path = os.path.join(args.run, CHECKPOINT)
    if os.path.exists(checkpoint_path):
        saved = torch.load(checkpoint_path, map_location=device)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        run, own_from, best_state = saved["run"], saved["own_from"], saved["best"]
        say(f"resumed from {checkpoint_path}: epoch {run['epochsDone']}, step {run['step']}")
    settings = run["settings"]
    overrides = (("epochs", args.epochs), ("trainLimit", args.train_limit), ("patience", args.patience),
                 ("batchSize", args.batch_size))
    for key, value in overrides:
        if value is not None:
            settings[key] = value
            if key == "batchSize":
                run["recipe"]["batchSize"] = value  # as resolveRecipe takes it from the settings
    if args.patience is not None:
        run["stopped"] = False

    batch, seed, color = settings["batchSize"], settings["seed"], run["color"]
    if batch % world:
        raise SystemExit(f"the batch of {batch} images does not split into {world} equal parts")
    local = batch // world
    train_set, test_set, data_manifest = read_data(args.data)
    if list(data_manifest["classes"]) != list(run["classes"]):
        raise SystemExit(f"the run's model knows the classes {', '.join(run['classes'])}; the data in {args.data} has "
                         f"{', '.join(data_manifest['classes'])}: pass the data set the run was trained on")
    train_idx, val_idx = split_training_set(train_set.labels, settings["validationShare"], settings["trainLimit"], seed)
    test_idx = test_indices(test_set.labels, settings["testLimit"], seed)
    per_epoch = len(train_idx) // batch
    if per_epoch == 0:
        raise SystemExit(f"the batch of {batch} images is larger than the {len(train_idx)} training images")
    total_steps = settings["epochs"] * per_epoch
    recipe = run["recipe"]
    schedule, max_shift, smoothing = recipe["schedule"], recipe["maxShift"], recipe["labelSmoothing"]
    decayed = [p for n, p in named if n.endswith("/kernel")] if recipe["weightDecay"] > 0 else []
    has_dropout = any(kind == "Dropout" for _, kind, _ in model.plan)
    if run["stopped"]:
        raise SystemExit("early stopping had ended this run; pass --patience 0 (or more) to train on")
    if run["epochsDone"] >= settings["epochs"]:
        raise SystemExit(f"all {settings['epochs']} epochs are done; pass --epochs to train on")

    net = DistributedDataParallel(model, device_ids=[device] if use_cuda else None,
                                  broadcast_buffers=False) if distributed else model
    identity = {"engine": "torch", "backend": dist.get_backend() if distributed else "none", "worldSize": world,
                "device": device.type, "detail": f"PyTorch {torch.__version__}"}
    stem = f"cifar10-{run['preset']}-{color}-{time.strftime('%Y-%m-%d', time.gmtime())}"
    say(f"{run['preset']} · {color}: epochs {run['epochsDone'] + 1}-{settings['epochs']}, {len(train_idx)} images, "
        f"batch {batch} = {world} × {local}, {per_epoch} steps per epoch, on {device.type}")

    step, done_here, stop = run["step"], 0, False
    val_losses = [e["valLoss"] for e in run["curves"]["epochs"] if e["valLoss"] is not None]
    for epoch in range(run["epochsDone"] + 1, settings["epochs"] + 1):
        if args.stop_after is not None and done_here >= args.stop_after:
            break
        net.train()
        started = last_report = time.perf_counter()
        step_before, order = step, epoch_order(train_idx, epoch, seed)
        sums, pending, waiting = [0.0, 0.0, 0], torch.zeros(2, dtype=torch.float64, device=device), 0
        for b in range(per_epoch):
            rows = order[b * batch:(b + 1) * batch][rank * local:(rank + 1) * local]
            x = to_model_input(torch.from_numpy(train_set.pixels[rows]).to(device), color, run["mean"], run["std"])
            y = torch.from_numpy(train_set.labels[rows].astype(np.int64)).to(device)
            if settings["augment"]:
                flip, dx, dy = (p[rank * local:(rank + 1) * local] for p in augment_params(step, seed, batch, max_shift))
                x = augment_batch(x, flip, dx, dy, max_shift)
            if schedule["kind"] == "warmup-decay":
                for group in optimizer.param_groups:
                    group["lr"] = warmup_decay_rate(step, total_steps, schedule["peak"], schedule["warmupFraction"],
                                                    schedule["startFactor"], schedule["endFactor"])
            if has_dropout:
                torch.manual_seed(mix_seed(seed, DROPOUT_STREAM, step, rank))
            probs = net(x)
            plain = cross_entropy(probs, y)
            objective = cross_entropy(probs, y, smoothing) if smoothing > 0 else plain
            if decayed:
                objective = objective + recipe["weightDecay"] / 2 * sum((w * w).sum() for w in decayed)
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            optimizer.step()
            step += 1
            # summed on the device and read every READ_EVERY steps, never synchronously per step
            pending += torch.stack([plain.detach().double(), (probs.argmax(1) == y).double().mean()])
            waiting += 1
            if waiting == READ_EVERY or b == per_epoch - 1:
                if world > 1:
                    dist.all_reduce(pending)
                (loss, accuracy), count = (pending / world).tolist(), waiting
                if not math.isfinite(loss):
                    raise SystemExit(f"the loss became {loss} around step {step}; try a lower learning rate")
                now = time.perf_counter()
                run["curves"]["steps"].append({"step": step, "epoch": epoch, "batchInEpoch": b + 1,
                                               "batchesPerEpoch": per_epoch, "loss": loss / count,
                                               "accuracy": accuracy / count,
                                               "imagesPerSecond": count * batch / (now - last_report)})
                sums = [sums[0] + loss, sums[1] + accuracy, sums[2] + count]
                pending.zero_()
                waiting, last_report = 0, now
        train_seconds = time.perf_counter() - started

        val_loss = val_accuracy = None
        best = False
        if len(val_idx):
            val_loss, val_accuracy, _ = evaluate(model, train_set, val_idx, run, device, rank, world)
            val_losses.append(val_loss)
            best_epoch, best, stop = early_stopping(val_losses, settings["patience"])
            if best and settings["patience"] > 0:
                best_state = copy.deepcopy(model.state_dict())
        record = {"epoch": epoch, "trainLoss": sums[0] / sums[2], "trainAccuracy": sums[1] / sums[2],
                  "valLoss": val_loss, "valAccuracy": val_accuracy, "seconds": time.perf_counter() - started,
                  "imagesPerSecond": per_epoch * batch / train_seconds, "best": best}
        run["curves"]["epochs"].append(record)
        run.update(epochsDone=epoch, step=step, stopped=stop)
        add_segment(run, own_from, epoch, step_before, step, identity)
        done_here += 1
        val_text = "" if val_loss is None else f", val loss {val_loss:.4f}, val acc {val_accuracy:.4f}"
        say(f"epoch {epoch}: loss {record['trainLoss']:.4f}, acc {record['trainAccuracy']:.4f}{val_text}, "
            f"{record['imagesPerSecond']:.0f} images/s, {record['seconds']:.1f} s")
        if rank == 0:
            os.makedirs(args.run, exist_ok=True)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "run": run,
                        "own_from": own_from, "best": best_state}, checkpoint_path + ".tmp")
            os.replace(checkpoint_path + ".tmp", checkpoint_path)
        if stop:
            say(f"early stopping: no lower validation loss for {settings['patience']} epochs")
            break

    best_epoch = early_stopping(val_losses, settings["patience"])[0] if val_losses else None
    if best_state is not None and best_epoch is not None and best_epoch != run["epochsDone"]:
        model.load_state_dict(best_state)
        say(f"restored the weights of epoch {best_epoch}, the lowest validation loss")
    test_loss, test_accuracy, test_count = evaluate(model, test_set, test_idx, run, device, rank, world)
    say(f"test: loss {test_loss:.4f}, accuracy {test_accuracy:.4f} on {test_count} images")
    if rank == 0:
        if run.get("optimizer"):
            run["optimizer"]["iterations"] = step
        elif isinstance(optimizer, torch.optim.Adam):
            betas = optimizer.defaults["betas"]
            run["optimizer"] = {"kind": "adam", "iterations": step, "beta1": betas[0], "beta2": betas[1],
                                "epsilon": optimizer.defaults["eps"], "momentum": None, "nesterov": False}
        else:
            run["optimizer"] = {"kind": "momentum", "iterations": step, "beta1": None, "beta2": None,
                                "epsilon": None, "momentum": optimizer.defaults["momentum"],
                                "nesterov": optimizer.defaults["nesterov"]}
        has_state = all(p in optimizer.state for _, p in named)
        slots_out = optimizer_slots(optimizer, named) if has_state else None
        write_handover(os.path.join(args.run, EXPORT), run, model, model_json, slots_out, stem, test_accuracy)
        pack(os.path.join(args.run, EXPORT), os.path.join(args.run, EXPORT + ".zip"))
        say(f"wrote {os.path.join(args.run, EXPORT)}/ and {EXPORT}.zip: import either into the app")
    with open(os.path.join(args.run, f"weights-rank{rank}.sha256"), "w") as f:
        f.write(weights_digest(model) + "\n")
    if distributed:
        # Everything is on disk. Leave without tearing gloo down: on Debian's torch 1.13 a rank
        # once spun at 100 % CPU for minutes in its exit after writing all of the above (the other
        # rank had gone), and a final barrier once left rank 1 waiting forever after rank 0 had
        # gone. os._exit skips both; torchrun sees exit code 0 from each rank.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
