#!/usr/bin/env python3
"""Generate PyTorch fixtures for training: losses, optimizers, clipping
(tests/fixtures/train/unit/, read by tests/test_loss_optim.c) and whole-network
trajectory parity runs (tests/fixtures/train/parity_<config>/, for the
trainer's test). See tests/fixtures/train/README.txt for the file layout.

Run from anywhere:  /usr/bin/python3 tools/gen_train_fixtures.py
Tests never run this; the fixtures are committed. Rerunning reproduces them
(every case seeds its own generator from its name). Every hyper-parameter is
a float32 value (e.g. beta2 = float32(0.999)) so that PyTorch and the C code,
which takes float hyper-parameters, run the very same recurrence.
"""

import os
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "train")
UNIT = os.path.join(OUT, "unit")

index_lines = []


def gen(name):
    g = torch.Generator()
    g.manual_seed(zlib.crc32(name.encode()))
    return g


def f32(v):
    """A Python float exactly representable as float32."""
    return float(np.float32(v))


def save(path, t):
    a = t.detach().to(torch.float32).contiguous().numpy() if torch.is_tensor(t) else np.asarray(t)
    np.save(path, np.ascontiguousarray(a.astype("<f4")))


def fmt(v):
    if isinstance(v, bool):
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def index(case, kind, **attrs):
    index_lines.append(" ".join([case, kind] + [f"{k}={fmt(v)}" for k, v in attrs.items()]))


# ------------------------------------------------------------ losses
# Inputs are float32; the reference is computed in float64 from them, so it
# is the exact answer to which the C code (double sums) must come close.

def loss_case(case, kind, logits, target, grad_fn, **attrs):
    z = logits.double().clone().requires_grad_(True)
    loss = grad_fn(z)
    loss.backward()
    save(os.path.join(UNIT, f"{case}_x.npy"), logits)
    save(os.path.join(UNIT, f"{case}_t.npy"), target)
    save(os.path.join(UNIT, f"{case}_grad.npy"), z.grad)
    save(os.path.join(UNIT, f"{case}_loss.npy"), loss.detach().reshape(1))
    index(case, kind, **attrs)


def ce_case(case, n, c, scale=3.0, extreme=False, smoothing=0.0, weighted=False):
    g = gen(case)
    logits = torch.randn(n, c, generator=g) * scale
    if extreme:
        # Rows dominated by +-1000 logits: naive exp() overflows.
        logits[0, 1] = 1000.0
        logits[1, :] = -1000.0
        logits[1, 2] = 1000.0
        logits[2, :] = torch.tensor([1000.0, -1000.0, 999.5, -3.0, 0.0][:c])
    target = torch.randint(0, c, (n,), generator=g)
    if extreme:
        target[0] = 0  # the wrong class gets +1000: loss ~ 1000
        target[1] = 2
    weight = (torch.rand(c, generator=g) * 2.0 + 0.1) if weighted else None
    smoothing = f32(smoothing)
    if weighted:
        save(os.path.join(UNIT, f"{case}_w.npy"), weight)

    def fn(z):
        return F.cross_entropy(z, target, weight=None if weight is None else weight.double(),
                               label_smoothing=smoothing)

    loss_case(case, "ce", logits, target.float(), fn, smoothing=smoothing, weighted=int(weighted))


def bce_case(case, n, c, extreme=False):
    g = gen(case)
    logits = torch.randn(n, c, generator=g) * 3.0
    target = torch.rand(n, c, generator=g)
    target[0, :] = (target[0, :] > 0.5).float()  # hard 0/1 labels too
    if extreme:
        logits[0, :4] = torch.tensor([1000.0, -1000.0, 100.0, -100.0])
        target[0, :4] = torch.tensor([0.0, 1.0, 1.0, 0.0])
        logits[1, :3] = torch.tensor([88.0, -88.0, 30.0])

    def fn(z):
        return F.binary_cross_entropy_with_logits(z, target.double())

    loss_case(case, "bce", logits, target, fn)


def reg_case(case, kind, n):
    g = gen(case)
    pred = torch.randn(n, generator=g) * 2.0
    target = torch.randn(n, generator=g)
    target[3] = pred[3]  # a zero residual: L1's gradient is 0 there, as sign(0)
    fn = (lambda z: F.mse_loss(z, target.double())) if kind == "mse" else \
        (lambda z: F.l1_loss(z, target.double()))
    loss_case(case, kind, pred, target, fn)


# ------------------------------------------------------------ optimizers
# torch.optim on float32 parameters, as a user runs it: a parameter of 37
# values and 20 given gradients; the weights after every step are saved.

N_PARAM, N_STEPS = 37, 20


def optim_case(case, kind, **hp):
    g = gen(case)
    w0 = torch.randn(N_PARAM, generator=g)
    grads = torch.randn(N_STEPS, N_PARAM, generator=g)
    # Varying magnitudes exercise the running averages.
    grads *= torch.logspace(-2, 1, N_STEPS).unsqueeze(1)[torch.randperm(N_STEPS, generator=g)]
    hp = {k: (f32(v) if isinstance(v, float) else v) for k, v in hp.items()}
    p = torch.nn.Parameter(w0.clone())
    if kind == "sgd":
        opt = torch.optim.SGD([p], lr=hp["lr"], momentum=hp["momentum"], dampening=hp["dampening"],
                              weight_decay=hp["wd"], nesterov=bool(hp["nesterov"]))
    elif kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        opt = cls([p], lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                  weight_decay=hp["wd"])
    else:
        opt = torch.optim.RMSprop([p], lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"],
                                  weight_decay=hp["wd"], momentum=hp["momentum"],
                                  centered=bool(hp["centered"]))
    traj = []
    for s in range(N_STEPS):
        p.grad = grads[s].clone()
        opt.step()
        traj.append(p.detach().clone())
    save(os.path.join(UNIT, f"{case}_w0.npy"), w0)
    save(os.path.join(UNIT, f"{case}_g.npy"), grads)
    save(os.path.join(UNIT, f"{case}_traj.npy"), torch.stack(traj))
    index(case, kind, **hp)


def clip_case(case, max_norm, limit, scale):
    g = gen(case)
    sizes = [37, 5, 11]
    gs = [torch.randn(s, generator=g) * scale for s in sizes]
    ps = [torch.nn.Parameter(torch.zeros(s)) for s in sizes]
    for p, gr in zip(ps, gs):
        p.grad = gr.clone()
    norm = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    flat_in = torch.cat(gs)
    flat_norm = torch.cat([p.grad for p in ps])
    for p, gr in zip(ps, gs):
        p.grad = gr.clone()
    torch.nn.utils.clip_grad_value_(ps, limit)
    flat_value = torch.cat([p.grad for p in ps])
    save(os.path.join(UNIT, f"{case}_g.npy"), flat_in)
    save(os.path.join(UNIT, f"{case}_norm.npy"), norm.reshape(1))
    save(os.path.join(UNIT, f"{case}_bynorm.npy"), flat_norm)
    save(os.path.join(UNIT, f"{case}_byvalue.npy"), flat_value)
    index(case, "clip", sizes="37,5,11", max_norm=f32(max_norm), limit=f32(limit))


# ------------------------------------------------------------ parity runs

class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-5, momentum=0.1)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8, bias=True)
        self.conv3 = nn.Conv2d(8, 16, 1, bias=True)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu6(self.conv2(x))
        x = F.silu(self.conv3(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


PARITY = {
    "sgd_momentum": ("sgd", dict(lr=0.1, momentum=0.9, wd=1e-4)),
    "sgd_nesterov": ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, wd=1e-4)),
    "adam": ("adam", dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, wd=1e-4)),
    "adamw": ("adamw", dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, wd=1e-2)),
    "rmsprop": ("rmsprop", dict(lr=1e-3, alpha=0.99, eps=1e-8, momentum=0.9, centered=True, wd=1e-4)),
}
PARITY_SEED, PARITY_STEPS, MAX_NORM = 1234, 20, 1.0


def ohwi(w):
    return w.permute(0, 2, 3, 1)


def tiny_tensors(m):
    """The network's state in our layouts, in a fixed order."""
    return {
        "conv1_w": ohwi(m.conv1.weight), "bn1_gamma": m.bn1.weight, "bn1_beta": m.bn1.bias,
        "bn1_running_mean": m.bn1.running_mean, "bn1_running_var": m.bn1.running_var,
        "conv2_w": ohwi(m.conv2.weight), "conv2_b": m.conv2.bias,
        "conv3_w": ohwi(m.conv3.weight), "conv3_b": m.conv3.bias,
        "fc_w": m.fc.weight, "fc_b": m.fc.bias,
    }


def parity_run(config):
    kind, hp = PARITY[config]
    d = os.path.join(OUT, f"parity_{config}")
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(PARITY_SEED)
    m = Tiny().train()
    for name, t in tiny_tensors(m).items():
        save(os.path.join(d, f"init_{name}.npy"), t)
    decay = [m.conv1.weight, m.conv2.weight, m.conv3.weight, m.fc.weight]
    no_decay = [m.bn1.weight, m.bn1.bias, m.conv2.bias, m.conv3.bias, m.fc.bias]
    groups = [{"params": decay, "weight_decay": f32(hp["wd"])}, {"params": no_decay, "weight_decay": 0.0}]
    lr = f32(hp["lr"])
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=lr, momentum=f32(hp["momentum"]),
                              nesterov=hp.get("nesterov", False))
    elif kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        opt = cls(groups, lr=lr, betas=tuple(f32(b) for b in hp["betas"]), eps=f32(hp["eps"]))
    else:
        opt = torch.optim.RMSprop(groups, lr=lr, alpha=f32(hp["alpha"]), eps=f32(hp["eps"]),
                                  momentum=f32(hp["momentum"]), centered=hp["centered"])
    g = gen("parity batches")  # the same batches for every config
    losses = []
    for s in range(PARITY_STEPS):
        x = torch.randn(4, 3, 8, 8, generator=g)
        y = torch.randint(0, 5, (4,), generator=g)
        save(os.path.join(d, f"x_{s}.npy"), x.permute(0, 2, 3, 1))
        save(os.path.join(d, f"y_{s}.npy"), y.float())
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), MAX_NORM)
        opt.step()
        losses.append(loss.item())
    save(os.path.join(d, "losses.npy"), np.array(losses, dtype=np.float32))
    for name, t in tiny_tensors(m).items():
        save(os.path.join(d, f"final_{name}.npy"), t)


def main():
    os.makedirs(UNIT, exist_ok=True)
    torch.set_num_threads(1)

    ce_case("ce_plain", 6, 5)
    ce_case("ce_extreme", 5, 5, extreme=True)
    ce_case("ce_smooth", 6, 5, smoothing=0.1)
    ce_case("ce_weight", 8, 4, weighted=True)
    ce_case("ce_smooth_weight_extreme", 6, 5, extreme=True, smoothing=0.1, weighted=True)
    ce_case("ce_one_class", 3, 1)
    bce_case("bce_plain", 4, 6)
    bce_case("bce_extreme", 3, 5, extreme=True)
    reg_case("mse", "mse", 17)
    reg_case("l1", "l1", 17)

    optim_case("sgd_plain", "sgd", lr=0.1, momentum=0.0, dampening=0.0, wd=0.0, nesterov=0)
    optim_case("sgd_plain_wd", "sgd", lr=0.1, momentum=0.0, dampening=0.0, wd=1e-2, nesterov=0)
    optim_case("sgd_momentum", "sgd", lr=0.1, momentum=0.9, dampening=0.0, wd=0.0, nesterov=0)
    optim_case("sgd_dampening", "sgd", lr=0.1, momentum=0.9, dampening=0.1, wd=0.0, nesterov=0)
    optim_case("sgd_nesterov", "sgd", lr=0.05, momentum=0.9, dampening=0.0, wd=0.0, nesterov=1)
    optim_case("sgd_momentum_wd", "sgd", lr=0.1, momentum=0.9, dampening=0.1, wd=1e-2, nesterov=0)
    optim_case("sgd_nesterov_wd", "sgd", lr=0.05, momentum=0.9, dampening=0.0, wd=1e-2, nesterov=1)
    optim_case("adam", "adam", lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, wd=0.0)
    optim_case("adam_wd", "adam", lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, wd=1e-2)
    optim_case("adam_betas", "adam", lr=3e-3, beta1=0.5, beta2=0.9, eps=1e-6, wd=0.0)
    optim_case("adamw", "adamw", lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, wd=1e-2)
    optim_case("adamw_big_wd", "adamw", lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, wd=0.5)
    optim_case("rmsprop", "rmsprop", lr=1e-2, alpha=0.99, eps=1e-8, wd=0.0, momentum=0.0, centered=0)
    optim_case("rmsprop_momentum", "rmsprop", lr=1e-2, alpha=0.99, eps=1e-8, wd=0.0, momentum=0.9, centered=0)
    optim_case("rmsprop_centered", "rmsprop", lr=1e-2, alpha=0.99, eps=1e-8, wd=0.0, momentum=0.0, centered=1)
    optim_case("rmsprop_wd", "rmsprop", lr=1e-2, alpha=0.9, eps=1e-8, wd=1e-2, momentum=0.0, centered=0)
    optim_case("rmsprop_all", "rmsprop", lr=1e-2, alpha=0.99, eps=1e-8, wd=1e-2, momentum=0.9, centered=1)

    clip_case("clip_big", 1.0, 0.5, 1.0)      # norm ~ 7: scaled
    clip_case("clip_small", 10.0, 2.0, 0.3)   # norm ~ 2: left alone

    with open(os.path.join(UNIT, "index.txt"), "w") as f:
        f.write("\n".join(index_lines) + "\n")

    for config in PARITY:
        parity_run(config)


if __name__ == "__main__":
    main()
