#!/usr/bin/python3
"""Pretrain the bundled backbone: a small MobileNetV2-style network on five of
the ten Fashion-MNIST classes (0-4: T-shirt/top, Trouser, Pullover, Dress,
Coat), export it as ONNX (BatchNormalization kept) with its metadata, convert
it with `edgetune convert --keep-bn`, check edgetune's outputs against
PyTorch's, and write the held-out subset of the other five classes that
`make demo` fine-tunes on.

    /usr/bin/python3 tools/pretrain/pretrain_fmnist.py [--epochs 8] [--seed 0]

Deterministic: seeded, single process, fixed thread count. Needs the Debian
packages dataset-fashion-mnist, python3-torch, python3-onnx; and build/edgetune
(make) for the conversion step. Writes:
    models/fmnist5_mbv2.onnx     eval model, opset 13, BN unfolded
    models/fmnist5_mbv2.etm      edgetune model (convert --keep-bn)
    models/data/fmnist_holdout/  PGM image folders of classes 5-9 + samples
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_common as fc  # noqa: E402

TRAIN_PER_CLASS, VALID_PER_CLASS, SAMPLES_PER_CLASS = 300, 100, 2


def augment(x, gen):
    """Seeded padded random crop (pad 2) and horizontal flip, per batch item."""
    n = x.shape[0]
    xp = F.pad(x, (2, 2, 2, 2), mode="constant", value=float(x.min()))
    dy = torch.randint(0, 5, (n,), generator=gen)
    dx = torch.randint(0, 5, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        img = xp[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28]
        out[i] = img.flip(-1) if flip[i] else img
    return out


def evaluate(model, x, y, bs=500):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out = model(x[i:i + bs])
            loss += F.cross_entropy(out, y[i:i + bs], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    return loss / len(x), correct / len(x)


def pretrain(args, mean, std):
    xtr, ytr = fc.load_fmnist("train")
    xte, yte = fc.load_fmnist("t10k")
    keep_tr = np.isin(ytr, fc.PRETRAIN_CLASSES)
    if args.per_class:  # a seeded subset: CPU PyTorch is slow on depthwise convolutions
        rng = np.random.RandomState(args.seed + 2)
        keep_tr = np.zeros(len(ytr), dtype=bool)
        for c in fc.PRETRAIN_CLASSES:
            keep_tr[rng.choice(np.flatnonzero(ytr == c), args.per_class, replace=False)] = True
    keep_te = np.isin(yte, fc.PRETRAIN_CLASSES)
    x_train, y_train = fc.to_tensor(xtr[keep_tr], mean, std), torch.from_numpy(ytr[keep_tr].astype(np.int64))
    x_test, y_test = fc.to_tensor(xte[keep_te], mean, std), torch.from_numpy(yte[keep_te].astype(np.int64))
    print(f"pretraining on {len(x_train)} images of classes {fc.PRETRAIN_CLASSES}, testing on {len(x_test)}")

    model = fc.FmnistNet(classes=len(fc.PRETRAIN_CLASSES))
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params} parameters, {fc.count_macs(model)} MACs per 28x28 image")
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.99), eps=1e-5)
    gen = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = (len(x_train) + args.batch - 1) // args.batch
    total = args.epochs * steps_per_epoch
    step = 0
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(x_train), generator=gen)
        run_loss = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            lr, mom = fc.one_cycle(step, total, args.lr)
            for g in opt.param_groups:
                g["lr"], g["betas"] = lr, (mom, 0.99)
            xb = augment(x_train[idx], gen)
            loss = F.cross_entropy(model(xb), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            run_loss += loss.item()
            step += 1
        tl, ta = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {run_loss / steps_per_epoch:.4f}, "
              f"test loss {tl:.4f}, test accuracy {100 * ta:.2f}% ({time.time() - t0:.0f} s)", flush=True)
    return model, ta


def write_holdout(args, mean, std):
    """300 train images per held-out class from Fashion-MNIST's training file and
    100 valid images per class from its test file, seeded, as PGM image folders
    (train/<class>/NNNN.pgm, valid/<class>/NNNN.pgm); plus samples/: two valid
    images per class as PGM and all of them, normalised, in samples.npy
    (N,1,28,28, the layout `edgetune run` takes for this ONNX-born model)."""
    import shutil
    if os.path.isdir(fc.HOLDOUT_DIR):
        shutil.rmtree(fc.HOLDOUT_DIR)  # rerunnable: no stale files survive
    rng = np.random.RandomState(args.seed + 1)
    samples, names = [], []
    for part, split, per in (("train", "train", TRAIN_PER_CLASS), ("valid", "t10k", VALID_PER_CLASS)):
        x, y = fc.load_fmnist(split)
        for folder, cls in zip(fc.HOLDOUT_FOLDERS, fc.HOLDOUT_CLASSES):
            d = os.path.join(fc.HOLDOUT_DIR, part, folder)
            os.makedirs(d)
            pick = np.sort(rng.choice(np.flatnonzero(y == cls), per, replace=False))
            for j, i in enumerate(pick):
                fc.write_pgm(os.path.join(d, f"{j:04d}.pgm"), x[i])
            if part == "valid":
                for j in range(SAMPLES_PER_CLASS):
                    samples.append(x[pick[j]])
                    names.append(f"{folder}_{j}")
        print(f"wrote {fc.HOLDOUT_DIR}/{part}: {per} images per class")
    sd = os.path.join(fc.HOLDOUT_DIR, "samples")
    os.makedirs(sd)
    for img, n in zip(samples, names):
        fc.write_pgm(os.path.join(sd, n + ".pgm"), img)
    np.save(os.path.join(sd, "samples.npy"), fc.to_tensor(np.stack(samples), np.float32(mean), np.float32(std)).numpy())
    with open(os.path.join(sd, "samples.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    print(f"wrote {sd}: {len(samples)} images (.pgm, samples.npy normalised, samples.txt in row order)")


def export_onnx(model, path, mean, std, acc, args):
    import onnx
    model.eval()
    x = torch.zeros(1, 1, 28, 28)
    # PRESERVE with an eval model keeps BatchNormalization nodes (EVAL would
    # fold them into the convolutions), so that convert --keep-bn can train them.
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    m = onnx.load(path)
    labels = "\n".join(fc.ALL_CLASSES[c] for c in fc.PRETRAIN_CLASSES)
    props = {"mean": f"{mean:.6f}", "std": f"{std:.6f}", "labels": labels, "input_size": "1x28x28",
             "source": f"edgetune tools/pretrain/pretrain_fmnist.py: Fashion-MNIST classes "
                       f"{fc.PRETRAIN_CLASSES}, {args.per_class or 6000} images per class, seed {args.seed}, {args.epochs} epochs, "
                       f"test accuracy {100 * acc:.2f}%"}
    for k, v in props.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    m.producer_name = "edgetune-pretrain"
    onnx.checker.check_model(m)
    onnx.save(m, path)
    n_bn = sum(1 for n in m.graph.node if n.op_type == "BatchNormalization")
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {n_bn} BatchNormalization nodes)")


def convert_and_check(model, onnx_path, etm_path, mean, std):
    exe = os.path.join(fc.REPO, "build", "edgetune")
    if not os.path.exists(exe):
        print("build/edgetune missing: run `make` and rerun (the .etm was not written)")
        return False
    subprocess.run([exe, "convert", onnx_path, etm_path, "--keep-bn"], check=True)
    xte, _ = fc.load_fmnist("t10k")
    x = fc.to_tensor(xte[:64], mean, std)
    tmp = os.path.join(fc.REPO, "build", "pretrain")
    os.makedirs(tmp, exist_ok=True)
    np.save(os.path.join(tmp, "check_x.npy"), x.numpy())
    subprocess.run([exe, "run", etm_path, "--input", os.path.join(tmp, "check_x.npy"),
                    "--output", os.path.join(tmp, "check_y.npy")], check=True, stdout=subprocess.DEVNULL)
    got = np.load(os.path.join(tmp, "check_y.npy")).reshape(64, -1)
    model.eval()
    with torch.no_grad():
        ref = model(x).numpy()
    diff = float(np.abs(got - ref).max())
    same = int((got.argmax(1) == ref.argmax(1)).sum())
    print(f"edgetune run vs PyTorch on 64 test images: max |diff| {diff:.2e}, same top-1 {same}/64")
    return diff < 1e-3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--per-class", type=int, default=2000,
                    help="training images per class (0: all 6000)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-only", action="store_true", help="only write the held-out subset")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = fc.load_fmnist("train")
    px = xtr[np.isin(ytr, fc.PRETRAIN_CLASSES)].astype(np.float64) / 255.0
    mean, std = float(px.mean()), float(px.std())
    print(f"pixel mean {mean:.6f}, std {std:.6f} (all training images of the pretraining classes)")
    write_holdout(args, mean, std)
    if args.data_only:
        return
    model, acc = pretrain(args, np.float32(mean), np.float32(std))
    os.makedirs(os.path.join(fc.REPO, "build", "pretrain"), exist_ok=True)
    torch.save(model.state_dict(), os.path.join(fc.REPO, "build", "pretrain", "fmnist5_mbv2.pt"))
    onnx_path = os.path.join(fc.MODELS, "fmnist5_mbv2.onnx")
    export_onnx(model, onnx_path, mean, std, acc, args)
    ok = convert_and_check(model, onnx_path, os.path.join(fc.MODELS, "fmnist5_mbv2.etm"), mean, std)
    print(f"pretrain accuracy on the 5 classes (Fashion-MNIST test set): {100 * acc:.2f}%")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
