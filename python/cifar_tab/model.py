"""The app's networks in PyTorch (src/model/model.ts), and their weights to and
from the TensorFlow.js Layers format the app exports (src/model/modelFiles.ts).

Layout mapping, TensorFlow.js → PyTorch:
  conv kernel  [kh, kw, in, out] (HWIO)  → weight [out, in, kh, kw] (OIHW)
  dense kernel [in, out]                 → weight [out, in]
  Flatten      flattens NHWC, so the network turns its NCHW activations back to NHWC before it
  BatchNorm    gamma/beta/moving_mean/moving_variance → weight/bias/running_mean/running_var,
               epsilon and momentum from model.json (Keras's momentum is the weight of the OLD value)
"""
import json
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.nn.functional as differentiable  # all_reduce with a backward pass
import torch.nn as nn
import torch.nn.functional as F

# ---- The architectures, as src/model/model.ts builds them ------------------------------
TINY_FILTERS = (8, 16)          # one conv per block
SEED_FILTERS = (32, 64, 128)    # two convs per block
SEED_DROPOUT = (0.2, 0.3, 0.4)  # after each block's pooling
BN_MOMENTUM = 0.9               # Keras convention: running ← 0.9·running + 0.1·batch
BN_EPSILON = 1e-3               # tfjs-layers' default, which the app keeps
WHITEN_KERNEL = 2               # fast: frozen 2×2 patch-whitening convolution
FAST_WIDTHS = (64, 256, 256)
QUICK_WIDTHS = (32, 64, 128)   # quick: fast's layers, narrower
WHITENED = {"fast": FAST_WIDTHS, "quick": QUICK_WIDTHS}
FAST_BN_MOMENTUM = 0.6
FAST_LOGIT_SCALE = 0.125        # fast, quick: logits × 0.125 before the softmax
# -------------------------------------------------------------------------------------------


def layer_plan(preset, color):
    """[(layer name, Keras class name, options)] in order: the model.json topology the app writes."""
    channels = 1 if color == "gray" else 3
    plan = []

    def conv_bn_elu(name, c_in, c_out):
        plan.extend([(f"conv{name}", "Conv2D", dict(c_in=c_in, c_out=c_out, k=3, same=True, bias=True)),
                     (f"bn{name}", "BatchNormalization", dict(c=c_out, momentum=BN_MOMENTUM, scale=True)),
                     (f"elu{name}", "ELU", {})])

    if preset == "tiny":
        c = channels
        for block, filters in enumerate(TINY_FILTERS, 1):
            conv_bn_elu(f"{block}", c, filters)
            plan.append((f"pool{block}", "MaxPooling2D", {}))
            c = filters
        plan += [("flatten", "Flatten", {}), ("dense", "Dense", dict(c_in=8 * 8 * c, bias=True)),
                 # the Dense layer's own softmax activation
                 ("softmax", "Softmax", {})]
    elif preset == "seed":
        c = channels
        for block, (filters, rate) in enumerate(zip(SEED_FILTERS, SEED_DROPOUT), 1):
            conv_bn_elu(f"{block}a", c, filters)
            conv_bn_elu(f"{block}b", filters, filters)
            plan += [(f"pool{block}", "MaxPooling2D", {}), (f"drop{block}", "Dropout", dict(rate=rate))]
            c = filters
        plan += [("flatten", "Flatten", {}), ("dense", "Dense", dict(c_in=4 * 4 * c, bias=True)),
                 ("softmax", "Softmax", {})]
    elif preset in WHITENED:
        whitened = 2 * WHITEN_KERNEL * WHITEN_KERNEL * channels
        plan += [("whiten", "Conv2D", dict(c_in=channels, c_out=whitened, k=WHITEN_KERNEL, same=False,
                                           bias=False, frozen=True)),
                 ("whiten_relu", "ReLU", {})]
        c = whitened
        for block, filters in enumerate(WHITENED[preset], 1):
            plan += [(f"conv{block}a", "Conv2D", dict(c_in=c, c_out=filters, k=3, same=True, bias=False)),
                     (f"pool{block}", "MaxPooling2D", {}),
                     # BatchNorm without scale: the app keeps gamma, frozen at 1
                     (f"bn{block}a", "BatchNormalization", dict(c=filters, momentum=FAST_BN_MOMENTUM, scale=False)),
                     (f"relu{block}a", "ReLU", {}),
                     (f"conv{block}b", "Conv2D", dict(c_in=filters, c_out=filters, k=3, same=True, bias=False)),
                     (f"bn{block}b", "BatchNormalization", dict(c=filters, momentum=FAST_BN_MOMENTUM, scale=False)),
                     (f"relu{block}b", "ReLU", {})]
            c = filters
        plan += [("global_pool", "GlobalMaxPooling2D", {}), ("dense", "Dense", dict(c_in=c, bias=False)),
                 ("logit_scale", "Rescaling", dict(scale=FAST_LOGIT_SCALE)), ("softmax", "Softmax", {})]
    else:
        raise ValueError(f"unknown preset {preset!r}")
    return plan


class BatchNorm(nn.Module):
    """BatchNorm as the app trains it (src/kernels/batchnorm/closed-form.ts), over the GLOBAL batch.

    Batch statistics: mean μ and the biased variance max(mean(x²) − μ², 0), over the
    whole batch of every process (sums all-reduced, differentiably), so that N processes
    compute what one process with the whole batch would. Running averages take the same
    biased variance (torch.nn.BatchNorm2d would take the unbiased one):
    running ← running − (running − batch)·(1 − momentum).
    """

    def __init__(self, channels, momentum, epsilon=BN_EPSILON, scale=True):
        super().__init__()
        self.momentum, self.epsilon = momentum, epsilon
        self.weight = nn.Parameter(torch.ones(channels), requires_grad=scale)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        shape = (1, -1, 1, 1)
        if not self.training:
            inv = torch.rsqrt(self.running_var + self.epsilon)
            return (x - self.running_mean.view(shape)) * (inv * self.weight).view(shape) + self.bias.view(shape)
        sums = torch.stack([x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3))])
        count = x.numel() // x.shape[1]
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            sums = differentiable.all_reduce(sums)
            count *= dist.get_world_size()
        mean = sums[0] / count
        var = torch.relu(sums[1] / count - mean * mean)
        with torch.no_grad():
            decay = 1 - self.momentum
            self.running_mean.sub_((self.running_mean - mean) * decay)
            self.running_var.sub_((self.running_var - var) * decay)
        inv = torch.rsqrt(var + self.epsilon)
        return (x - mean.view(shape)) * (inv * self.weight).view(shape) + self.bias.view(shape)


class Network(nn.Module):
    """A preset's network. Takes standardised NCHW float32 images, returns class probabilities [B, classes].

    classes: CIFAR-10's 10, or as many as a data set of the user's own (2-100, src/model/config.ts).
    """

    def __init__(self, preset, color, classes=10):
        super().__init__()
        self.preset, self.color, self.classes = preset, color, classes
        self.plan = layer_plan(preset, color)
        self.layers = nn.ModuleDict()
        for name, kind, o in self.plan:
            if kind == "Conv2D":
                conv = nn.Conv2d(o["c_in"], o["c_out"], o["k"], padding=(o["k"] // 2 if o["same"] else 0), bias=o["bias"])
                if o.get("frozen"):
                    conv.weight.requires_grad_(False)
                self.layers[name] = conv
            elif kind == "BatchNormalization":
                self.layers[name] = BatchNorm(o["c"], o["momentum"], scale=o["scale"])
            elif kind == "Dense":
                self.layers[name] = nn.Linear(o["c_in"], classes, bias=o["bias"])
            elif kind == "Dropout":
                self.layers[name] = nn.Dropout(o["rate"])

    def forward(self, x):
        for name, kind, o in self.plan:
            if name in self.layers:
                x = self.layers[name](x)
            elif kind == "ELU":
                x = F.elu(x)
            elif kind == "ReLU":
                x = F.relu(x)
            elif kind == "MaxPooling2D":
                x = F.max_pool2d(x, 2)
            elif kind == "Flatten":
                x = x.permute(0, 2, 3, 1).flatten(1)  # NHWC order, as tfjs flattens
            elif kind == "GlobalMaxPooling2D":
                x = x.amax(dim=(2, 3))
            elif kind == "Rescaling":
                x = x * o["scale"]
            elif kind == "Softmax":
                x = torch.softmax(x, dim=1)
        return x


# ---- TensorFlow.js Layers files ------------------------------------------------------------

def _tfjs_to_torch(model):
    """Layers weight name → (tensor in the model, function turning the tfjs array into its layout)."""
    mapping = {}
    for name, kind, _ in model.plan:
        if kind == "Conv2D":
            mapping[f"{name}/kernel"] = (model.layers[name].weight, lambda a: a.transpose(3, 2, 0, 1))
            if model.layers[name].bias is not None:
                mapping[f"{name}/bias"] = (model.layers[name].bias, None)
        elif kind == "Dense":
            mapping[f"{name}/kernel"] = (model.layers[name].weight, lambda a: a.T)
            if model.layers[name].bias is not None:
                mapping[f"{name}/bias"] = (model.layers[name].bias, None)
        elif kind == "BatchNormalization":
            bn = model.layers[name]
            mapping.update({f"{name}/gamma": (bn.weight, None), f"{name}/beta": (bn.bias, None),
                            f"{name}/moving_mean": (bn.running_mean, None),
                            f"{name}/moving_variance": (bn.running_var, None)})
    return mapping


def to_torch_layout(model, weight_name, array):
    """A tfjs-layout array (e.g. an optimizer slot) in the layout of the model's tensor of that name."""
    target, convert = _tfjs_to_torch(model)[weight_name]
    return torch.from_numpy(np.array(convert(array) if convert else array, dtype=np.float32)).reshape(target.shape)


def to_tfjs_layout(weight_name, tensor):
    """The inverse of to_torch_layout: a float32 numpy array in TensorFlow.js's layout."""
    a = tensor.detach().cpu().to(torch.float32).numpy()
    if weight_name.endswith("/kernel"):
        a = a.transpose(2, 3, 1, 0) if a.ndim == 4 else a.T
    return np.ascontiguousarray(a)


def _check_topology(model, topology):
    """The model.json must be the network this preset builds, with the BatchNorm settings we assume."""
    config = topology.get("model_config", topology)
    layers = config["config"]["layers"]
    expected = [(n, k) for n, k, _ in model.plan if k != "Softmax" or model.preset in WHITENED]
    found = [(layer["config"]["name"], layer["class_name"]) for layer in layers]
    if found != [(n, "Activation" if k == "Softmax" else k) for n, k in expected]:
        raise ValueError(f"model.json is not the {model.preset} network: layers {found}")
    by_name = {layer["config"]["name"]: layer["config"] for layer in layers}
    for name, kind, o in model.plan:
        if kind == "BatchNormalization":
            cfg = by_name[name]
            if cfg["momentum"] != o["momentum"] or cfg["epsilon"] != BN_EPSILON:
                raise ValueError(f"{name}: momentum {cfg['momentum']}, epsilon {cfg['epsilon']} are not the app's")
        if kind == "Dense" and model.preset not in WHITENED and by_name[name].get("activation") != "softmax":
            raise ValueError("the dense layer must end in softmax")
        if kind == "Rescaling" and (by_name[name]["scale"], by_name[name].get("offset", 0)) != (o["scale"], 0):
            raise ValueError(f"{name}: logits scaled by {by_name[name]['scale']}, not {o['scale']}")
        if kind == "Softmax" and model.preset in WHITENED and by_name[name].get("activation") != "softmax":
            raise ValueError(f"{name} is not a softmax")
    first = layers[0]["config"]
    shape = first.get("batch_input_shape") or first.get("batch_shape")
    if shape[3] != (1 if model.color == "gray" else 3):
        raise ValueError(f"model.json takes {shape[3]} channels, not {model.color}")


def read_layers_model(json_path):
    """(model.json as a dict, {weight name: float32 numpy array in tfjs layout}) of a Layers export."""
    with open(json_path) as f:
        model_json = json.load(f)
    weights = {}
    folder = os.path.dirname(json_path)
    for group in model_json["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            if spec.get("quantization") or spec["dtype"] != "float32":
                raise ValueError(f"{spec['name']}: only float32, unquantized weights are supported")
            count = int(np.prod(spec["shape"], dtype=np.int64))
            weights[spec["name"]] = np.frombuffer(data, "<f4", count, offset).reshape(spec["shape"])
            offset += 4 * count
        if offset != len(data):
            raise ValueError(f"{group['paths']} hold {len(data)} bytes, the manifest {offset}")
    return model_json, weights


def load_layers_model(json_path, preset, color, classes=10):
    """A Network holding the weights of a Layers export of the app (checked name by name and shape by shape)."""
    model_json, weights = read_layers_model(json_path)
    model = Network(preset, color, classes)
    _check_topology(model, model_json["modelTopology"])
    mapping = _tfjs_to_torch(model)
    if set(mapping) != set(weights):
        raise ValueError(f"weights differ: missing {set(mapping) - set(weights)}, extra {set(weights) - set(mapping)}")
    with torch.no_grad():
        for name, (target, _) in mapping.items():
            target.copy_(to_torch_layout(model, name, weights[name]))
    return model, model_json


def write_layers_model(model, template_json, folder, stem, metadata_update):
    """Writes <stem>.json + <stem>.weights.bin as the app's toModelFiles would: the template's topology,
    its weight names in its order, our values; metadata (userDefinedMetadata.cifar10InATab) updated."""
    os.makedirs(folder, exist_ok=True)
    state = {name: tensor for name, (tensor, _) in _tfjs_to_torch(model).items()}
    specs = [spec for group in template_json["weightsManifest"] for spec in group["weights"]]
    weights_name = f"{stem}.weights.bin"
    with open(os.path.join(folder, weights_name), "wb") as f:
        for spec in specs:
            array = to_tfjs_layout(spec["name"], state[spec["name"]])
            if list(array.shape) != list(spec["shape"]):
                raise ValueError(f"{spec['name']}: shape {array.shape} is not {spec['shape']}")
            f.write(array.astype("<f4").tobytes())
    out = dict(template_json)
    out["weightsManifest"] = [{"paths": [f"./{weights_name}"], "weights": specs}]
    meta = dict(out.get("userDefinedMetadata", {}))
    meta["cifar10InATab"] = {**meta.get("cifar10InATab", {}), **metadata_update}
    out["userDefinedMetadata"] = meta
    with open(os.path.join(folder, f"{stem}.json"), "w") as f:
        json.dump(out, f)
    return f"{stem}.json"
