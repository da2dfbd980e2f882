#!/usr/bin/python3
"""The fine-tuning recipe of `make demo` in PyTorch, for comparison with
`edgetune finetune --recipe fine_tune`: prints PyTorch's held-out accuracy.

fastai's fine_tune(epochs, base_lr), rebuilt by hand on plain PyTorch:
  * the pretrained backbone (models/fmnist5_mbv2.onnx's weights) with a new
    5-class linear head (nn.Linear's default init: Kaiming-uniform a=sqrt(5),
    bias zero, as et_model_new_head);
  * freeze: only the head trains, the backbone runs in eval mode (BatchNorm
    running statistics used and kept: edgetune's frozen groups are folded);
    1 epoch of one-cycle at base_lr, pct_start 0.99;
  * unfreeze: every layer trains, BatchNorm in train mode; base_lr / 2;
    discriminative rates spread geometrically from base_lr/2/100 (first
    parameter group) to base_lr/2 (last), with one group per conv/linear
    layer and the batchnorm after it, as edgetune's default groups;
    one-cycle with pct_start 0.3, div 5, for --epochs epochs;
  * one-cycle as fastai: cosine warm-up from lr/div to lr, cosine annealing to
    lr/1e5, momentum (Adam's beta1) 0.95 -> 0.85 -> 0.95;
  * Adam, betas (0.9, 0.99), eps 1e-5, decoupled weight decay 0.01 (fastai's
    true_wd) not applied to batchnorm and bias parameters (bn_wd=False);
  * the bundled data (models/data/fmnist_holdout/{train,valid} PGM folders), no augmentation,
    shuffled every epoch (last partial batch dropped), no dropout (the ONNX export drops it, so the .etm
    has none), normalised with the model's mean/std.

    /usr/bin/python3 tools/pretrain/finetune_reference.py [--epochs 5] [--lr 1e-2] [--batch 32] [--seed 0]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_common as fc  # noqa: E402


def load_pretrained(path):
    """FmnistNet with the pretrained weights, read back from the ONNX file
    (the bundled artefact, so that this script needs nothing unbundled)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    props = {p.key: p.value for p in m.metadata_props}
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    for n in m.graph.node:  # the exporter aliases shared initializers through Identity nodes
        if n.op_type == "Identity" and n.input[0] in inits:
            inits[n.output[0]] = inits[n.input[0]]
    model = fc.FmnistNet(classes=len(fc.PRETRAIN_CLASSES), dropout=0.0)
    # The exporter shares equal initializers between nodes, so match the
    # graph's Conv / BatchNormalization / Gemm nodes to the modules in order.
    kinds = {"Conv": nn.Conv2d, "BatchNormalization": nn.BatchNorm2d, "Gemm": nn.Linear}
    nodes = [n for n in m.graph.node if n.op_type in kinds]
    mods = [mod for mod in model.modules() if isinstance(mod, tuple(kinds.values()))]
    if len(nodes) != len(mods):
        raise SystemExit(f"{path}: {len(nodes)} conv/bn/gemm nodes, the network has {len(mods)} layers")
    with torch.no_grad():
        for n, mod in zip(nodes, mods):
            if not isinstance(mod, kinds[n.op_type]):
                raise SystemExit(f"{path}: node {n.name} is {n.op_type}, expected {type(mod).__name__}")
            names = ["weight", "bias", "running_mean", "running_var"] if n.op_type == "BatchNormalization" \
                else ["weight", "bias"]
            for attr, inp in zip(names, n.input[1:]):
                getattr(mod, attr).copy_(torch.from_numpy(inits[inp].copy()))
    return model, float(props["mean"]), float(props["std"])


def layer_groups(model):
    """One group per conv/linear and the batchnorm right after it, in order."""
    groups, cur = [], None
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            cur = list(mod.parameters())
            groups.append(cur)
        elif isinstance(mod, nn.BatchNorm2d):
            cur.extend(mod.parameters())
    return groups


class Adam:
    """fastai's Adam with true weight decay: p *= 1 - lr*wd, then the Adam step
    with bias corrections computed from the current beta1 (the one-cycle momentum)."""

    def __init__(self, groups, wd=0.01, beta2=0.99, eps=1e-5):
        self.groups = groups  # list of (params, lr ratio)
        self.wd, self.beta2, self.eps = wd, beta2, eps
        self.state = {}
        self.step_n = 0

    def step(self, lr, beta1):
        self.step_n += 1
        t = self.step_n
        bc1, bc2 = 1 - beta1 ** t, 1 - self.beta2 ** t
        with torch.no_grad():
            for params, ratio in self.groups:
                glr = lr * ratio
                for p in params:
                    if p.grad is None:
                        continue
                    if p.ndim > 1 and self.wd:
                        p.mul_(1 - glr * self.wd)
                    m, v = self.state.setdefault(p, (torch.zeros_like(p), torch.zeros_like(p)))
                    m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                    v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1 - self.beta2)
                    p.addcdiv_(m, (v / bc2).sqrt() + self.eps, value=-glr / bc1)


def evaluate(model, x, y, bs=500):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out = model(x[i:i + bs])
            loss += F.cross_entropy(out, y[i:i + bs], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    return loss / len(x), correct / len(x)


def fit_one_cycle(model, opt_groups, frozen, x, y, xv, yv, epochs, lr_max, pct_start, div, batch, gen, tag):
    opt = Adam(opt_groups)
    n = len(x)
    steps = n // batch  # the last partial batch is dropped, as fastai and edgetune do
    total, step = epochs * steps, 0
    for ep in range(epochs):
        model.train()
        for mod in frozen:
            mod.eval()
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for b in range(steps):
            idx = perm[b * batch:(b + 1) * batch]
            lr, mom = fc.one_cycle(step, total, lr_max, pct_start=pct_start, div=div)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            model.zero_grad(set_to_none=True)
            loss.backward()
            opt.step(lr, mom)
            tot += loss.item()
            step += 1
        vl, va = evaluate(model, xv, yv)
        print(f"{tag} epoch {ep + 1}/{epochs}: train loss {tot / steps:.4f}, valid loss {vl:.4f}, "
              f"accuracy {100 * va:.2f}%", flush=True)
    return va


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-2, help="base_lr of fine_tune (as make demo)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--freeze-epochs", type=int, default=1)
    ap.add_argument("--model", default=os.path.join(fc.MODELS, "fmnist5_mbv2.onnx"))
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # OpenMP threads spin badly on a loaded machine
    torch.use_deterministic_algorithms(True)

    model, mean, std = load_pretrained(args.model)
    mean, std = np.float32(mean), np.float32(std)
    head = nn.Linear(fc.LAST, len(fc.HOLDOUT_FOLDERS))  # Kaiming-uniform (a = sqrt 5)
    nn.init.zeros_(head.bias)
    model.classifier[1] = head
    xs = {}
    for part in ("train", "valid"):
        xu8, y, classes = fc.read_image_folder(os.path.join(fc.HOLDOUT_DIR, part))
        assert classes == fc.HOLDOUT_FOLDERS, classes
        xs[part] = (fc.to_tensor(xu8, mean, std), torch.from_numpy(y))
    (x, y), (xv, yv) = xs["train"], xs["valid"]
    gen = torch.Generator().manual_seed(args.seed)
    groups = layer_groups(model)
    print(f"fine-tuning on {len(x)} images, validating on {len(xv)} ({', '.join(fc.HOLDOUT_FOLDERS)}); "
          f"{len(groups)} layer groups, batch {args.batch}")

    # freeze: head only, backbone in eval mode
    for p in model.parameters():
        p.requires_grad_(False)
    for p in head.parameters():
        p.requires_grad_(True)
    frozen_acc = fit_one_cycle(model, [(list(head.parameters()), 1.0)], [model.features], x, y, xv, yv,
                               args.freeze_epochs, args.lr, 0.99, 25.0, args.batch, gen, "frozen")
    # unfreeze: everything, discriminative rates over the layer groups
    for p in model.parameters():
        p.requires_grad_(True)
    lr = args.lr / 2
    G = len(groups)
    ratios = [(1 / 100) ** ((G - 1 - k) / (G - 1)) for k in range(G)]
    final_acc = fit_one_cycle(model, list(zip(groups, ratios)), [], x, y, xv, yv, args.epochs, lr, 0.3, 5.0,
                              args.batch, gen, "unfrozen")
    print(f"PyTorch fine_tune reference: frozen-backbone head {100 * frozen_acc:.2f}%, "
          f"fine-tuned {100 * final_acc:.2f}% on the {len(xv)} held-out validation images")


if __name__ == "__main__":
    main()
