#!/usr/bin/env python3
"""Generate PyTorch fixtures for the reference kernels in src/ops/.

Writes tests/fixtures/ops/<case>_<tensor>.npy (float32, little-endian, C order,
activations NHWC, conv weights OHWI) and tests/fixtures/ops/index.txt, one line
per case: `<case> <op> key=value ...`, which tests/test_ops.c parses. Shapes are
not in the index: the test reads them from the .npy headers.

Run from anywhere:  /usr/bin/python3 tools/gen_fixtures.py
Tests never run this; the fixtures are committed. Rerunning it reproduces them
byte for byte (each case seeds its own generator from its name, so adding a
case does not change the others).

PyTorch computes in float64 from float32 inputs and the result is rounded to
float32 once: the fixtures are then the exact answer, not one particular
float32 summation order.
"""

import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "ops")

index_lines = []


def gen(name):
    g = torch.Generator()
    g.manual_seed(zlib.crc32(name.encode()))
    return g


def randn(g, *shape, scale=1.0):
    # float32 first, so the float64 computation sees exactly what C sees.
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale).double()


def f32(v):
    """A Python float that is exactly representable as float32."""
    return float(np.float32(v))


def save(case, tensor_name, t):
    a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
    np.save(os.path.join(OUT, f"{case}_{tensor_name}.npy"), np.ascontiguousarray(a))


def nhwc(t):
    return t.permute(0, 2, 3, 1)


def fmt(v):
    if isinstance(v, str):
        return v
    return repr(v) if isinstance(v, float) else str(int(v))


def index(case, op, **attrs):
    parts = [case, op] + [f"{k}={fmt(v)}" for k, v in attrs.items()]
    index_lines.append(" ".join(parts))


# ------------------------------------------------------------ activations

ACTS = {
    "none": lambda x, a, b: x,
    "relu": lambda x, a, b: F.relu(x),
    "clip": lambda x, a, b: torch.clamp(x, a, b),
    "leaky_relu": lambda x, a, b: F.leaky_relu(x, a),
    "sigmoid": lambda x, a, b: torch.sigmoid(x),
    "tanh": lambda x, a, b: torch.tanh(x),
    "silu": lambda x, a, b: F.silu(x),
    "hardswish": lambda x, a, b: F.hardswish(x),
    "hardsigmoid": lambda x, a, b: torch.clamp(a * x + b, 0.0, 1.0),
}
ACT_DEFAULT = {"clip": (0.0, 6.0), "hardsigmoid": (f32(1.0 / 6.0), 0.5)}


def act_attrs(act, a=None, b=None):
    da, db = ACT_DEFAULT.get(act, (0.0, 0.0))
    a = f32(da if a is None else a)
    b = f32(db if b is None else b)
    return {"act": act, "a": a, "b": b}, (lambda x: ACTS[act](x, a, b))


SPECIAL = [0.0, -0.0, 1e30, -1e30, 1e10, -1e10, 100.0, -100.0, 89.0, -89.0,
           88.0, -88.0, 20.0, -20.0, 17.0, -17.0, 9.0, -9.0, 6.0, -6.0, 3.0, -3.0,
           2.9999, -3.0001, 0.5, -0.5, 1e-30, -1e-30, 1e-3, -1e-3]


def act_case(name, act, a=None, b=None):
    g = gen(name)
    x = torch.cat([torch.tensor(SPECIAL, dtype=torch.float32).double(),
                   randn(g, 200, scale=5.0)])
    attrs, fn = act_attrs(act, a, b)
    if act == "hardsigmoid" and a is None:
        # PyTorch's own hardsigmoid, (x + 3) / 6 clipped, must agree with the
        # alpha/beta form the kernels use.
        y = F.hardsigmoid(x)
    elif act == "clip" and a is None:
        y = F.relu6(x)
    else:
        y = fn(x)
    save(name, "x", x)
    save(name, "y", y)
    index(name, "act", **attrs)


# ------------------------------------------------------------ conv2d

def conv_case(name, n, ih, iw, ic, oc, kh, kw, stride=(1, 1), pad=(0, 0, 0, 0),
              dil=(1, 1), groups=1, bias=True, act="none", a=None, b=None):
    """pad = (top, left, bottom, right)."""
    g = gen(name)
    pt, pl, pb, pr = pad
    x = randn(g, n, ic, ih, iw)
    fan_in = (ic // groups) * kh * kw
    w = randn(g, oc, ic // groups, kh, kw, scale=fan_in ** -0.5)
    bb = randn(g, oc) if bias else None
    attrs, fn = act_attrs(act, a, b)
    if pt == pb and pl == pr:
        y = F.conv2d(x, w, bb, stride=stride, padding=(pt, pl), dilation=dil, groups=groups)
    else:
        xp = F.pad(x, (pl, pr, pt, pb))
        y = F.conv2d(xp, w, bb, stride=stride, padding=0, dilation=dil, groups=groups)
    y = fn(y)
    save(name, "x", nhwc(x))
    save(name, "w", w.permute(0, 2, 3, 1))  # OIHW -> OHWI
    if bias:
        save(name, "b", bb)
    save(name, "y", nhwc(y))
    index(name, "conv2d", kh=kh, kw=kw, sh=stride[0], sw=stride[1], dh=dil[0], dw=dil[1],
          pt=pt, pl=pl, pb=pb, pr=pr, groups=groups, bias=int(bias), **attrs)


# ------------------------------------------------------------ pools

def pool_case(name, op, n, ih, iw, c, k, stride, pad=(0, 0), ceil=False, cip=True,
              asym=None, shift=0.0):
    """pad = (ph, pw) as PyTorch takes it; asym = (t, l, b, r) pads the input
    explicitly (-inf for max, 0 for avg with count_include_pad) instead."""
    g = gen(name)
    x = randn(g, n, c, ih, iw) + shift
    if asym is not None:
        pt, pl, pb, pr = asym
        fill = float("-inf") if op == "maxpool" else 0.0
        xp = F.pad(x, (pl, pr, pt, pb), value=fill)
        pad_arg = (0, 0)
    else:
        pt, pl = pad
        pb, pr = pad
        xp = x
        pad_arg = pad
    if op == "maxpool":
        y = F.max_pool2d(xp, k, stride, pad_arg, ceil_mode=ceil)
    else:
        y = F.avg_pool2d(xp, k, stride, pad_arg, ceil_mode=ceil, count_include_pad=cip)
    save(name, "x", nhwc(x))
    save(name, "y", nhwc(y))
    index(name, op, kh=k[0], kw=k[1], sh=stride[0], sw=stride[1],
          pt=pt, pl=pl, pb=pb, pr=pr, ceil=int(ceil), cip=int(cip))


def gap_case(name, n, h, w, c):
    g = gen(name)
    x = randn(g, n, c, h, w)
    y = x.mean(dim=(2, 3), keepdim=True)
    save(name, "x", nhwc(x))
    save(name, "y", nhwc(y))
    index(name, "global_avgpool")


# ------------------------------------------------------------ the rest

def linear_case(name, n, fin, fout, bias=True, act="none", a=None, b=None):
    g = gen(name)
    x = randn(g, n, fin)
    w = randn(g, fout, fin, scale=fin ** -0.5)
    bb = randn(g, fout) if bias else None
    attrs, fn = act_attrs(act, a, b)
    y = fn(F.linear(x, w, bb))
    save(name, "x", x)
    save(name, "w", w)
    if bias:
        save(name, "b", bb)
    save(name, "y", y)
    index(name, "linear", bias=int(bias), **attrs)


def bn_case(name, n, h, w, c, eps):
    g = gen(name)
    eps = f32(eps)
    x = randn(g, n, c, h, w, scale=3.0)
    gamma = randn(g, c)
    beta = randn(g, c)
    mean = randn(g, c)
    var = torch.rand(c, generator=g, dtype=torch.float32).double() * 2.0 + 0.05
    y = F.batch_norm(x, mean, var, gamma, beta, training=False, eps=eps)
    save(name, "x", nhwc(x))
    for t, v in (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
        save(name, t, v)
    save(name, "y", nhwc(y))
    index(name, "batchnorm", eps=eps)


def softmax_case(name, shape, scale=1.0, big=None):
    g = gen(name)
    x = randn(g, *shape, scale=scale)
    if big is not None:
        flat = x.view(-1)
        for i, v in enumerate(big):
            flat[i] = v
    y = torch.softmax(x, dim=-1)
    save(name, "x", x)
    save(name, "y", y)
    index(name, "softmax")


def binary_case(name, op, xs, ys, act="none", a=None, b=None):
    """xs, ys: NHWC shapes; computed in NCHW and permuted back."""
    g = gen(name)
    x = randn(g, xs[0], xs[3], xs[1], xs[2])
    y = randn(g, ys[0], ys[3], ys[1], ys[2])
    attrs, fn = act_attrs(act, a, b)
    z = fn(x + y if op == "add" else x * y)
    save(name, "x", nhwc(x))
    save(name, "y", nhwc(y))
    save(name, "z", nhwc(z))
    index(name, op, **attrs)


def concat_case(name, n, h, w, cs):
    g = gen(name)
    xs = [randn(g, n, c, h, w) for c in cs]
    y = torch.cat(xs, dim=1)
    for i, x in enumerate(xs):
        save(name, f"x{i}", nhwc(x))
    save(name, "y", nhwc(y))
    index(name, "concat", inputs=len(cs))


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy") or f == "index.txt":
            os.remove(os.path.join(OUT, f))

    # Activations, with large-magnitude inputs in every case.
    act_case("act_none", "none")
    act_case("act_relu", "relu")
    act_case("act_relu6", "clip")
    act_case("act_clip", "clip", -0.5, 2.25)
    act_case("act_leaky", "leaky_relu", 0.1)
    act_case("act_leaky2", "leaky_relu", 0.01)
    act_case("act_sigmoid", "sigmoid")
    act_case("act_tanh", "tanh")
    act_case("act_silu", "silu")
    act_case("act_hardswish", "hardswish")
    act_case("act_hardsigmoid", "hardsigmoid")
    act_case("act_hardsigmoid_onnx", "hardsigmoid", 0.2, 0.5)

    # Convolutions: pad = (top, left, bottom, right).
    conv_case("conv_basic", 2, 7, 6, 3, 4, 3, 3, pad=(1, 1, 1, 1))
    conv_case("conv_nobias", 1, 5, 5, 4, 5, 3, 3, bias=False)
    conv_case("conv_1x1img", 1, 1, 1, 5, 3, 3, 3, pad=(1, 1, 1, 1))
    conv_case("conv_1x1img_nopad", 2, 1, 1, 7, 4, 1, 1)
    conv_case("conv_c1", 1, 8, 8, 1, 1, 3, 3, pad=(1, 1, 1, 1), bias=False)
    conv_case("conv_stride_gt_k", 1, 10, 11, 4, 6, 2, 2, stride=(3, 3))
    conv_case("conv_stride_gt_k_pad", 1, 9, 8, 3, 2, 1, 2, stride=(4, 3), pad=(1, 2, 1, 2))
    conv_case("conv_bigpad", 1, 5, 5, 2, 3, 3, 3, pad=(4, 4, 4, 4))
    conv_case("conv_bigpad_asym", 1, 3, 4, 2, 3, 2, 2, pad=(5, 0, 3, 4))
    conv_case("conv_asym", 2, 7, 6, 3, 5, 3, 2, stride=(2, 1), pad=(2, 0, 1, 3))
    conv_case("conv_asym_neg", 1, 6, 6, 2, 2, 3, 3, stride=(2, 2), pad=(0, 1, 2, 0), act="relu")
    conv_case("conv_rect_1x5", 1, 6, 9, 4, 3, 1, 5, pad=(0, 2, 0, 2))
    conv_case("conv_rect_5x1", 1, 9, 6, 4, 3, 5, 1, pad=(2, 0, 2, 0))
    conv_case("conv_dil2", 1, 9, 9, 3, 4, 3, 3, pad=(2, 2, 2, 2), dil=(2, 2))
    conv_case("conv_dil3", 1, 11, 10, 2, 3, 3, 3, stride=(2, 2), pad=(1, 1, 1, 1), dil=(3, 3))
    conv_case("conv_dil32", 1, 10, 9, 3, 2, 3, 2, stride=(1, 2), pad=(3, 1, 2, 0), dil=(3, 2))
    conv_case("conv_g2", 1, 6, 5, 6, 4, 3, 3, pad=(1, 1, 1, 1), groups=2)
    conv_case("conv_g3", 2, 7, 7, 9, 6, 3, 3, stride=(2, 2), pad=(1, 1, 1, 1), groups=3)
    conv_case("conv_g3_mult", 1, 5, 6, 6, 12, 2, 3, pad=(0, 1, 1, 1), groups=3)
    conv_case("conv_dw3s1", 1, 6, 7, 67, 67, 3, 3, pad=(1, 1, 1, 1), groups=67, act="clip")
    conv_case("conv_dw3s2", 2, 9, 8, 16, 16, 3, 3, stride=(2, 2), pad=(1, 1, 1, 1), groups=16)
    conv_case("conv_dw3s2_asym", 1, 8, 8, 5, 5, 3, 3, stride=(2, 2), pad=(0, 0, 1, 1), groups=5)
    conv_case("conv_dw5s1", 1, 7, 6, 8, 8, 5, 5, pad=(2, 2, 2, 2), groups=8, act="silu")
    conv_case("conv_dw5s2", 1, 9, 9, 67, 67, 5, 5, stride=(2, 2), pad=(2, 2, 2, 2), groups=67,
              act="hardswish")
    conv_case("conv_dw_mult2", 1, 5, 5, 4, 8, 3, 3, pad=(1, 1, 1, 1), groups=4)
    conv_case("conv_dw_1x1img", 1, 1, 1, 3, 3, 3, 3, pad=(1, 1, 1, 1), groups=3)
    conv_case("conv_pw", 1, 5, 4, 67, 24, 1, 1, act="relu")
    conv_case("conv_pw_s2", 2, 7, 6, 8, 67, 1, 1, stride=(2, 2))
    conv_case("conv_pw_c1", 1, 3, 3, 1, 5, 1, 1)
    conv_case("conv_leaky", 1, 6, 6, 3, 4, 3, 3, pad=(1, 1, 1, 1), act="leaky_relu", a=0.2)
    conv_case("conv_sigmoid", 1, 5, 5, 3, 4, 3, 3, act="sigmoid")
    conv_case("conv_tanh", 1, 5, 5, 3, 4, 3, 3, act="tanh")
    conv_case("conv_hardsigmoid", 1, 5, 5, 3, 4, 3, 3, act="hardsigmoid")
    conv_case("conv_big_ic", 1, 4, 4, 67, 3, 3, 3, pad=(1, 1, 1, 1))
    conv_case("conv_k_eq_in", 2, 4, 5, 3, 6, 4, 5)
    conv_case("conv_k7s2", 1, 12, 11, 3, 4, 7, 7, stride=(2, 2), pad=(3, 3, 3, 3))

    # Max pools: PyTorch needs pad <= k/2. shift < 0 makes every input
    # negative, so a padding zero that wrongly took part would win.
    pool_case("max_k3s2p1", "maxpool", 2, 9, 9, 5, (3, 3), (2, 2), (1, 1), shift=-5.0)
    pool_case("max_k2s2", "maxpool", 1, 8, 6, 67, (2, 2), (2, 2))
    pool_case("max_ceil", "maxpool", 1, 8, 8, 3, (3, 3), (2, 2), ceil=True)
    pool_case("max_ceil_pad_drop", "maxpool", 1, 5, 5, 2, (2, 2), (2, 2), (1, 1), ceil=True,
              shift=-5.0)
    pool_case("max_ceil_pad", "maxpool", 1, 6, 7, 3, (3, 3), (2, 2), (1, 1), ceil=True,
              shift=-5.0)
    pool_case("max_1x1img", "maxpool", 1, 1, 1, 4, (3, 3), (1, 1), (1, 1), shift=-5.0)
    pool_case("max_1x1k", "maxpool", 1, 1, 1, 1, (1, 1), (1, 1))
    pool_case("max_c1", "maxpool", 2, 7, 7, 1, (3, 3), (1, 1), (1, 1), shift=-5.0)
    pool_case("max_s_gt_k", "maxpool", 1, 10, 11, 3, (2, 2), (3, 3))
    pool_case("max_s_gt_k_ceil", "maxpool", 1, 10, 11, 3, (2, 2), (3, 3), ceil=True)
    pool_case("max_rect", "maxpool", 1, 7, 6, 4, (3, 2), (2, 1), (1, 0), shift=-5.0)
    pool_case("max_asym", "maxpool", 1, 6, 7, 3, (3, 3), (2, 2), asym=(0, 1, 2, 0), shift=-5.0)

    # Average pools, with and without count_include_pad and ceil_mode.
    for cip in (True, False):
        s = "cip" if cip else "nocip"
        pool_case(f"avg_k3s2p1_{s}", "avgpool", 2, 9, 9, 5, (3, 3), (2, 2), (1, 1), cip=cip)
        pool_case(f"avg_ceil_{s}", "avgpool", 1, 7, 7, 3, (2, 2), (2, 2), ceil=True, cip=cip)
        pool_case(f"avg_ceil_pad_{s}", "avgpool", 1, 6, 6, 4, (3, 3), (2, 2), (1, 1),
                  ceil=True, cip=cip)
        pool_case(f"avg_ceil_pad_drop_{s}", "avgpool", 1, 5, 5, 2, (2, 2), (2, 2), (1, 1),
                  ceil=True, cip=cip)
        pool_case(f"avg_rect_{s}", "avgpool", 1, 7, 8, 67, (3, 2), (1, 2), (1, 1), cip=cip)
        pool_case(f"avg_1x1img_{s}", "avgpool", 1, 1, 1, 3, (3, 3), (2, 2), (1, 1),
                  ceil=True, cip=cip)
    pool_case("avg_k2s2", "avgpool", 1, 8, 6, 67, (2, 2), (2, 2))
    pool_case("avg_c1", "avgpool", 2, 5, 5, 1, (3, 3), (1, 1), (1, 1), cip=False)
    pool_case("avg_s_gt_k", "avgpool", 1, 10, 11, 3, (2, 2), (3, 3), ceil=True, cip=False)
    pool_case("avg_asym", "avgpool", 1, 6, 7, 3, (3, 3), (2, 2), asym=(0, 1, 2, 0), cip=True)

    gap_case("gap_basic", 2, 5, 7, 67)
    gap_case("gap_1x1", 1, 1, 1, 1)
    gap_case("gap_c3", 3, 4, 4, 3)

    linear_case("lin_bias", 3, 67, 10)
    linear_case("lin_nobias", 2, 5, 7, bias=False)
    linear_case("lin_1", 1, 1, 1)
    linear_case("lin_relu", 4, 16, 8, act="relu")
    linear_case("lin_sigmoid_nobias", 2, 9, 3, bias=False, act="sigmoid")

    bn_case("bn_basic", 2, 4, 5, 67, 1e-5)
    bn_case("bn_c1", 1, 3, 3, 1, 1e-3)
    bn_case("bn_1x1", 3, 1, 1, 8, 0.1)

    softmax_case("sm_basic", (4, 10))
    softmax_case("sm_large", (3, 5), big=[1000.0, -1000.0, 999.0, 0.0, 1.0,
                                          -1000.0, -1000.0, -1000.0, -999.5, -1000.0,
                                          1000.0, 1000.0, 1000.0, 1000.0, 1000.0])
    softmax_case("sm_wide", (2, 67), scale=30.0)
    softmax_case("sm_c1", (5, 1), scale=100.0)
    softmax_case("sm_nhwc", (2, 3, 4, 7))

    binary_case("add_same", "add", (2, 5, 7, 3), (2, 5, 7, 3))
    binary_case("add_bc_c", "add", (2, 5, 7, 3), (2, 1, 1, 3), act="relu")
    binary_case("add_bc_rev", "add", (2, 1, 1, 3), (2, 5, 7, 3))
    binary_case("add_bc_both", "add", (2, 1, 7, 1), (1, 5, 1, 3))
    binary_case("add_scalar", "add", (2, 3, 3, 4), (1, 1, 1, 1), act="clip")
    binary_case("add_c67", "add", (1, 3, 2, 67), (1, 3, 2, 67), act="relu")
    binary_case("mul_bc_n", "mul", (1, 5, 7, 3), (2, 1, 1, 1))
    binary_case("mul_se", "mul", (2, 4, 4, 67), (2, 1, 1, 67))
    binary_case("mul_same", "mul", (1, 3, 4, 5), (1, 3, 4, 5))
    binary_case("mul_bc_hw", "mul", (2, 1, 4, 3), (2, 6, 1, 3), act="sigmoid")

    concat_case("cat3", 2, 3, 4, (1, 67, 5))
    concat_case("cat2_1x1", 1, 1, 1, (3, 2))
    concat_case("cat1", 2, 2, 3, (4,))
    concat_case("cat4_c1", 1, 2, 2, (1, 1, 1, 1))

    with open(os.path.join(OUT, "index.txt"), "w") as f:
        f.write("# Generated by tools/gen_fixtures.py; do not edit. "
                "<case> <op> key=value ...\n")
        for line in index_lines:
            f.write(line + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(index_lines)} cases, {total} bytes in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
