#!/usr/bin/python3
# PyTorch side of `edgetune bench --train`: torchvision MobileNetV2-1.0 training
# images/s and peak RSS, --threads N (default 1), same three configurations and optimizer.
# Each (allocator, configuration) runs in its own process so ru_maxrss is its own.
"""Usage: /usr/bin/python3 tools/bench/train_pytorch.py [--size 160] [--batch 16]
          [--repeats 10] [--threads 1] [--config head|last3|all] [--json]

Configurations (as edgetune's):
  head   frozen backbone (eval mode, no_grad), only classifier trains
  last3  features.15-18 + classifier train with train-mode BN, the rest frozen
  all    the whole network trains
Allocators tried: glibc malloc as is, glibc with mmap/trim thresholds raised
(no munmap churn between steps), and jemalloc / tcmalloc / mimalloc when a
shared library is found (LD_PRELOAD). Prints images/s (batch / median step)
and peak RSS per run, then the best allocator per configuration.
"""
import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

ME = os.path.abspath(__file__)


def run_one(cfg, size, batch, repeats, threads):
    import torch
    import torchvision
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = torchvision.models.mobilenet_v2(num_classes=10, width_mult=1.0)
    # frozen prefix: features[:cut] (no grad, eval-mode BN); trained: the rest
    cut = {"head": len(m.features), "last3": 15, "all": 0}[cfg]
    frozen = m.features[:cut]
    trained_feats = m.features[cut:]
    for p in frozen.parameters():
        p.requires_grad_(False)
    frozen.eval()
    trained_feats.train()
    m.classifier.train()
    params = [p for p in m.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, 3, size, size) - 0.5
    y = torch.arange(batch) % 10

    def step():
        if cut > 0:
            with torch.no_grad():
                h = frozen(x)
        else:
            h = x
        h = trained_feats(h)
        h = torch.nn.functional.adaptive_avg_pool2d(h, 1).flatten(1)
        out = m.classifier(h)
        loss = loss_fn(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(2):
        step()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        loss = step()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    med = ts[len(ts) // 2] if len(ts) % 2 else 0.5 * (ts[len(ts) // 2 - 1] + ts[len(ts) // 2])
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"config": cfg, "batch": batch, "size": size, "median_step_ms": med * 1e3,
            "images_per_s": batch / med, "peak_rss_mib": rss_kib / 1024.0, "loss": loss,
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def allocators():
    out = [("glibc", {}),
           ("glibc-nomunmap", {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 31),
                               "MALLOC_TOP_PAD_": str(1 << 28)})]
    for name, pat in (("jemalloc", "libjemalloc.so*"), ("tcmalloc", "libtcmalloc*.so*"), ("mimalloc", "libmimalloc.so*")):
        for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib", "/usr/local/lib", "/usr/lib64"):
            hits = sorted(glob.glob(os.path.join(d, pat)))
            if hits:
                out.append((name, {"LD_PRELOAD": hits[0]}))
                break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--config", choices=["head", "last3", "all"])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.config, a.size, a.batch, a.repeats, a.threads)))
        return 0
    configs = [a.config] if a.config else ["head", "last3", "all"]
    best = {}
    for cfg in configs:
        for name, env in allocators():
            e = dict(os.environ)
            e.update(env)
            e["OMP_NUM_THREADS"] = str(a.threads)
            r = subprocess.run([sys.executable, ME, "--child", "--config", cfg, "--size", str(a.size),
                                "--batch", str(a.batch), "--repeats", str(a.repeats), "--threads", str(a.threads)],
                               env=e, capture_output=True, text=True)
            if r.returncode != 0:
                print("%s/%s failed: %s" % (cfg, name, r.stderr.strip().splitlines()[-1:]), file=sys.stderr)
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            res["allocator"] = name
            if a.json:
                print(json.dumps(res))
            else:
                print("%-6s %-15s %d thread(s) batch %d %dx%d: median step %.1f ms, %.2f images/s, peak RSS %.1f MiB (loss %.3f)"
                      % (cfg, name, a.threads, a.batch, a.size, a.size, res["median_step_ms"], res["images_per_s"],
                         res["peak_rss_mib"], res["loss"]))
            sys.stdout.flush()
            if cfg not in best or res["images_per_s"] > best[cfg]["images_per_s"]:
                best[cfg] = res
    if not a.json:
        for cfg in configs:
            if cfg in best:
                b = best[cfg]
                print("best %-6s: %s, %.2f images/s, peak RSS %.1f MiB" % (cfg, b["allocator"], b["images_per_s"],
                                                                          b["peak_rss_mib"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
