"""Shared pieces of the Fashion-MNIST pretraining and fine-tuning reference
scripts: the data split, IDX reading/writing, the small MobileNetV2-style
network and fastai's one-cycle schedule. Run with /usr/bin/python3 (PyTorch
from Debian); nothing here is needed at run time by edgetune."""
import gzip
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"  # Debian: dataset-fashion-mnist
ALL_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PRETRAIN_CLASSES = [0, 1, 2, 3, 4]          # clothing: the backbone learns these
# The held-out classes, in the order of their folder names (sorted), so that an
# image-folder loader and the IDX labels give every class the same id.
HOLDOUT_FOLDERS = ["ankle_boot", "bag", "sandal", "shirt", "sneaker"]
HOLDOUT_CLASSES = [9, 8, 5, 6, 7]           # Fashion-MNIST ids of HOLDOUT_FOLDERS

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODELS = os.path.join(REPO, "models")
HOLDOUT_DIR = os.path.join(MODELS, "data", "fmnist_holdout")


def read_idx(path):
    """uint8 array from an IDX file (optionally .gz): images N,H,W or labels N."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fmnist(split):
    """split 'train' or 't10k' -> (images uint8 N,28,28, labels uint8 N)."""
    x = read_idx(os.path.join(FMNIST_DIR, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FMNIST_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return x, y


def read_pgm(path):
    """A binary (P5) 8-bit PGM as a uint8 H,W array."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' comments allowed
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P5" or int(fields[3]) != 255:
        raise ValueError(f"{path}: not an 8-bit binary PGM")
    w, h = int(fields[1]), int(fields[2])
    return np.frombuffer(data, dtype=np.uint8, count=w * h, offset=pos + 1).reshape(h, w)


def write_pgm(path, img):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (img.shape[1], img.shape[0]) + np.ascontiguousarray(img, np.uint8).tobytes())


def read_image_folder(root):
    """root/<class>/<image>.pgm -> (uint8 N,H,W, int64 labels, class names); classes
    in sorted folder-name order, files in sorted name order (as edgetune)."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    xs, ys = [], []
    for k, c in enumerate(classes):
        for name in sorted(os.listdir(os.path.join(root, c))):
            xs.append(read_pgm(os.path.join(root, c, name)))
            ys.append(k)
    return np.stack(xs), np.array(ys, dtype=np.int64), classes


def to_tensor(x_u8, mean, std):
    """uint8 N,H,W -> float32 N,1,H,W normalised as edgetune does: (x/255 - mean) / std."""
    x = torch.from_numpy(x_u8.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    return (x - mean) / std


# ------------------------------------------------------------------ network

def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1 project
    (linear), residual when the shapes agree."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.conv = nn.Sequential(conv_bn(cin, hidden, 1), conv_bn(hidden, hidden, 3, stride, hidden),
                                  conv_bn(hidden, cout, 1, act=False))

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.use_res else y


# (expansion, out channels, stride) per inverted-residual block
BLOCKS = [(4, 24, 2), (4, 24, 1), (4, 40, 2), (4, 40, 1), (4, 48, 1)]
STEM, LAST = 16, 160


class FmnistNet(nn.Module):
    def __init__(self, classes=5, dropout=0.2):
        super().__init__()
        feats = [conv_bn(1, STEM, 3)]
        c = STEM
        for t, oc, s in BLOCKS:
            feats.append(InvertedResidual(c, oc, s, t))
            c = oc
        feats.append(conv_bn(c, LAST, 1))
        self.features = nn.Sequential(*feats)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(LAST, classes))
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out")
            elif isinstance(mod, nn.BatchNorm2d):
                nn.init.ones_(mod.weight)
                nn.init.zeros_(mod.bias)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def count_macs(model, h=28, w=28):
    macs = 0

    def hook(mod, inp, out):
        nonlocal macs
        if isinstance(mod, nn.Conv2d):
            macs += out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.Linear):
            macs += mod.in_features * mod.out_features
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, h, w))
    model.train(was)
    for hd in hs:
        hd.remove()
    return macs


# ------------------------------------------------------------------ fastai's one-cycle

def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combined_cos(pct, a, b, c, pos):
    """fastai combined_cos(pct, a, b, c): cosine a->b over [0, pct), b->c over [pct, 1]."""
    if pos >= 1.0:
        return sched_cos(b, c, 1.0)
    if pos < pct:
        return sched_cos(a, b, pos / pct)
    return sched_cos(b, c, (pos - pct) / (1 - pct))


def one_cycle(step, total, lr_max, pct_start=0.25, div=25.0, div_final=1e5, moms=(0.95, 0.85, 0.95)):
    """(lr, momentum) for step (0-based) of total, as fastai's fit_one_cycle:
    position = step / total, evaluated before each batch."""
    pos = step / total
    lr = combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final, pos)
    mom = combined_cos(pct_start, moms[0], moms[1], moms[2], pos)
    return lr, mom
