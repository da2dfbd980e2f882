#!/usr/bin/python3
"""Generate the ONNX import/export test fixtures in tests/fixtures/onnx/.

Each fixture NAME has NAME.onnx, NAME_x.npy (NCHW input) and NAME_y.npy (the
reference output computed by PyTorch or NumPy, NCHW or [N, F]). Models use
random weights with a fixed seed; reduced-width torchvision models keep the
committed files small (full-size checks: tools/check_onnx_full.sh).
Needs python3-torch, python3-torchvision and python3-onnx. Rerun:
    /usr/bin/python3 tools/gen_onnx_fixtures.py
"""
import os
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import onnx
from onnx import helper, TensorProto, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx")


def randomize_bn(model, gen):
    # fresh BN layers are identities; give them real statistics so folding is tested
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def save_torch(name, model, shape, opset=13, dynamic=False, gen_seed=0, keep_bn=False):
    gen = torch.Generator().manual_seed(gen_seed)
    with torch.no_grad():
        randomize_bn(model, gen)
    model.eval()
    x = torch.randn(*shape, generator=gen)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    axes = {"input": {0: "N", 2: "H", 3: "W"}} if dynamic else None
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
                      dynamic_axes=axes, do_constant_folding=False,
                      # PRESERVE keeps BatchNormalization nodes that eval-mode export folds away
                      training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL)
    onnx.checker.check_model(onnx.load(path))
    np.save(os.path.join(OUT, name + "_x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + "_y.npy"), y.numpy().astype(np.float32))


def save_onnx(name, nodes, inits, x, y, in_shape, out_shape, opset=13, props=None, in_dims=None):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_dims or in_shape)],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="gen_onnx_fixtures")
    m.ir_version = 7
    if props:
        for k, v in props.items():
            e = m.metadata_props.add()
            e.key, e.value = k, v
    path = os.path.join(OUT, name + ".onnx")
    onnx.save(m, path)
    if x is not None:
        np.save(os.path.join(OUT, name + "_x.npy"), x.astype(np.float32))
        np.save(os.path.join(OUT, name + "_y.npy"), y.astype(np.float32))


class SmallResNet(nn.Module):
    """resnet18's structure (stem, BasicBlocks with downsampling, pool, fc) at a few channels."""
    def __init__(self):
        super().__init__()
        from torchvision.models.resnet import BasicBlock
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        def down(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 1, 2, bias=False), nn.BatchNorm2d(o))
        self.layers = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16), BasicBlock(16, 32, 2, down(16, 32)),
                                    BasicBlock(32, 32), BasicBlock(32, 64, 2, down(32, 64)), BasicBlock(64, 64))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Lambda(nn.Module):
    def __init__(self, fn, *mods):
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleList(mods)

    def forward(self, x):
        return self.fn(x, *self.mods)


def torch_fixtures():
    torch.manual_seed(0)
    save_torch("mobilenet_v2", torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10), (1, 3, 64, 64))
    save_torch("mobilenet_v3_small", torchvision.models.mobilenet_v3_small(width_mult=0.5, reduced_tail=True, num_classes=10),
               (1, 3, 64, 64), opset=14)
    save_torch("resnet_small", SmallResNet(), (1, 3, 64, 64))
    # opsets: Clip as attributes (9), as inputs (11+), HardSwish (14+)
    acts = Lambda(lambda x, c: F.relu6(F.hardswish(F.hardsigmoid(torch.tanh(torch.sigmoid(F.leaky_relu(c(x), 0.1)) * 3) * 4))),
                  nn.Conv2d(3, 8, 3, padding=1))
    for op in (9, 11, 13, 17):
        save_torch("acts_opset%d" % op, acts, (1, 3, 8, 8), opset=op)
    save_torch("conv_group_dil", nn.Conv2d(8, 16, 3, stride=2, padding=(1, 2), dilation=2, groups=2), (1, 8, 13, 11))
    save_torch("conv_dw_bn_relu", nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU()),
               (1, 8, 9, 9), keep_bn=True)
    save_torch("silu", Lambda(lambda x, c: F.silu(c(x)), nn.Conv2d(3, 8, 1)), (1, 3, 5, 5))
    se = Lambda(lambda x, c, d: x * torch.sigmoid(d(F.relu(c(F.adaptive_avg_pool2d(x, 1))))),
                nn.Conv2d(8, 4, 1), nn.Conv2d(4, 8, 1))
    save_torch("se_mul", se, (1, 8, 6, 6))
    save_torch("residual_add", Lambda(lambda x, c: F.relu(x + c(x)), nn.Conv2d(4, 4, 3, padding=1)), (1, 4, 6, 6))
    cc = nn.Conv2d(3, 6, 1)
    cc.register_buffer("k", torch.rand(1, 6, 1, 1) + 0.5)
    cc.register_buffer("k3", torch.rand(6, 1, 1) + 0.5)
    save_torch("const_ops", Lambda(lambda x, c: (((c(x) * c.k + c.k3) - 0.5) / c.k) - 2.0 * (1.0 - c(x)) + c.k3 / 4, cc), (1, 3, 4, 4))
    save_torch("pools", Lambda(lambda x: torch.cat([F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
                                                     F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                                                     F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True)], 1)),
               (1, 3, 10, 10))
    save_torch("global_pools", Lambda(lambda x, l: l(x.mean((2, 3))) + l(F.adaptive_avg_pool2d(x, 1).flatten(1)) + l(x.mean((2, 3), keepdim=True).squeeze(3).squeeze(2)),
                                      nn.Linear(5, 3)), (1, 5, 4, 6))
    fl = Lambda(lambda x, c, l: F.softmax(l(torch.flatten(F.relu(c(x)), 1)), 1), nn.Conv2d(3, 4, 3), nn.Linear(4 * 5 * 6, 7))
    save_torch("flatten_gemm", fl, (1, 3, 7, 8))
    vw = Lambda(lambda x, c, l: l(F.relu(c(x)).view(x.size(0), -1)), nn.Conv2d(3, 4, 3), nn.Linear(4 * 5 * 6, 7))
    save_torch("shape_flatten", vw, (1, 3, 7, 8))
    save_torch("shape_flatten_dyn", vw, (1, 3, 7, 8), dynamic=True)
    save_torch("reshape_paddle_style", Lambda(lambda x, c, l: l(torch.reshape(c(x), (-1, x.shape[1] * 0 + 4 * 5 * 6))), nn.Conv2d(3, 4, 3), nn.Linear(120, 5)), (1, 3, 7, 8))
    ml = Lambda(lambda x, c: torch.matmul(F.adaptive_avg_pool2d(c(x), 1).flatten(1), c.w) + c.b, nn.Conv2d(3, 12, 1))
    ml.mods[0].register_buffer("w", torch.randn(12, 5))
    ml.mods[0].register_buffer("b", torch.randn(5))
    save_torch("matmul_add", ml, (1, 3, 4, 4))
    save_torch("concat", Lambda(lambda x, a, b: torch.cat([a(x), F.relu(b(x)), x], 1), nn.Conv2d(3, 4, 1), nn.Conv2d(3, 2, 3, padding=1)), (1, 3, 5, 5))
    save_torch("pad_conv", Lambda(lambda x, c: c(F.pad(x, (1, 2, 2, 0))), nn.Conv2d(3, 4, 3)), (1, 3, 6, 6))
    save_torch("pad_conv_opset9", Lambda(lambda x, c: c(F.pad(x, (1, 1, 1, 1))), nn.Conv2d(3, 4, 3, stride=2)), (1, 3, 6, 6), opset=9)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def onnx_fixtures():
    rng = np.random.default_rng(5)
    # auto_pad: the reference pads explicitly and runs torch's conv
    for mode in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        x = f32(rng.standard_normal((1, 3, 7, 6)))
        w = f32(rng.standard_normal((4, 3, 3, 2)))
        s = (2, 2)
        pads = []
        for i, k in ((7, 3), (6, 2)):
            out = -(-i // 2) if mode != "VALID" else (i - k) // 2 + 1
            tot = max((out - 1) * 2 + k - i, 0) if mode != "VALID" else 0
            lo = tot // 2 if mode == "SAME_UPPER" else tot - tot // 2
            pads.append((lo, tot - lo))
        xp = F.pad(torch.from_numpy(x), (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
        y = F.conv2d(xp, torch.from_numpy(w), stride=s).numpy()
        node = helper.make_node("Conv", ["input", "W"], ["output"], auto_pad=mode, strides=[2, 2], kernel_shape=[3, 2])
        save_onnx("autopad_" + mode.lower(), [node], {"W": w}, x, y, [1, 3, 7, 6], list(y.shape))
    # Gemm with transB=0, alpha, beta and a [1, M] bias; Dropout and Identity in between
    x = f32(rng.standard_normal((1, 6, 1, 1)))
    b = f32(rng.standard_normal((6, 4)))
    c = f32(rng.standard_normal((1, 4)))
    y = 0.5 * x.reshape(1, 6) @ b + 2.0 * c
    nodes = [helper.make_node("Flatten", ["input"], ["f"], axis=1), helper.make_node("Dropout", ["f"], ["d"]),
             helper.make_node("Identity", ["d"], ["i"]),
             helper.make_node("Gemm", ["i", "B", "C"], ["output"], alpha=0.5, beta=2.0, transB=0)]
    save_onnx("gemm_alpha_beta", nodes, {"B": b, "C": c}, x, f32(y), [1, 6, 1, 1], [1, 4],
              props={"mean": "0.5,0.25,0.125,0,0,0", "std": "1,2,3,4,5,6", "labels": "cat\ndog\nbird\nfish"})
    # errors: one model with several problems for --check, and single-problem models
    x = f32(np.zeros((1, 3, 4, 4)))
    nodes = [helper.make_node("Elu", ["input"], ["a"]),
             helper.make_node("Conv", ["input", "W"], ["b"], auto_pad="SAME_WEIRD"),
             helper.make_node("Pad", ["input", "P"], ["c"], mode="reflect"),
             helper.make_node("Add", ["a", "b"], ["output"])]
    save_onnx("bad_many", nodes, {"W": f32(np.ones((2, 3, 1, 1))), "P": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)},
              None, None, [1, 3, 4, 4], [1, 2, 4, 4])
    save_onnx("bad_dynamic", [helper.make_node("Relu", ["input"], ["output"])], {}, None, None, [1, 3, 4, 4], [1, 3, 4, 4],
              in_dims=["N", 3, "H", "W"])
    t = helper.make_tensor("W", TensorProto.FLOAT16, [2, 3, 1, 1], np.ones(6, np.float16).view(np.uint16).tolist())
    g = helper.make_graph([helper.make_node("Conv", ["input", "W"], ["output"])], "fp16",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2, 4, 4])], [t])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, os.path.join(OUT, "bad_fp16.onnx"))
    ext = TensorProto()
    ext.name, ext.data_type = "W", TensorProto.FLOAT
    ext.dims.extend([2, 3, 1, 1])
    ext.data_location = TensorProto.EXTERNAL
    e = ext.external_data.add()
    e.key, e.value = "location", "weights.bin"
    g = helper.make_graph([helper.make_node("Conv", ["input", "W"], ["output"])], "ext",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2, 4, 4])], [ext])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(OUT, "bad_external.onnx"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch_fixtures()
    onnx_fixtures()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("wrote %d files, %.2f MB" % (len(os.listdir(OUT)), total / 1e6), file=sys.stderr)
