#!/usr/bin/env python3
"""Fixtures for tests/test_data.c (run from the repository root with
Debian's python3-torch, python3-pil and python3-numpy):

    /usr/bin/python3 tools/gen_data_fixtures.py

Writes tests/fixtures/data/:
  resize_src.npy            uint8 [7][9][3] source image
  resize_<H>x<W>.npy        float32 [H][W][3]: F.interpolate(bilinear,
                            align_corners=False, antialias=False) of the
                            source (as float values 0..255, no scaling)
  rgb.png, grey.png, rgba.png, rgb.jpg, grey.jpg   tiny images
  <name>.expect.npy         uint8 HWC pixels as PIL decodes them (RGBA:
                            alpha dropped, PIL's convert("RGB"))
The tests never need Python; rerun this only to regenerate."""
import os
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

OUT = os.path.join("tests", "fixtures", "data")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(7)

src = rng.randint(0, 256, size=(7, 9, 3)).astype(np.uint8)
np.save(os.path.join(OUT, "resize_src.npy"), src)
t = torch.from_numpy(src.astype(np.float32)).permute(2, 0, 1)[None]
for h, w in [(4, 4), (13, 5), (7, 9), (16, 20), (3, 11)]:
    y = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False, antialias=False)
    np.save(os.path.join(OUT, "resize_%dx%d.npy" % (h, w)), y[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32))

rgb = rng.randint(0, 256, size=(5, 6, 3)).astype(np.uint8)
grey = rng.randint(0, 256, size=(4, 3)).astype(np.uint8)
rgba = rng.randint(0, 256, size=(3, 4, 4)).astype(np.uint8)
Image.fromarray(rgb, "RGB").save(os.path.join(OUT, "rgb.png"))
Image.fromarray(grey, "L").save(os.path.join(OUT, "grey.png"))
Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "rgba.png"))
np.save(os.path.join(OUT, "rgb.png.expect.npy"), rgb)
np.save(os.path.join(OUT, "grey.png.expect.npy"), grey[:, :, None])
# Alpha is dropped, as PIL's convert("RGB") does.
np.save(os.path.join(OUT, "rgba.png.expect.npy"), np.asarray(Image.open(os.path.join(OUT, "rgba.png")).convert("RGB")))

smooth = np.zeros((8, 16, 3), np.uint8)
smooth[:, :, 0] = np.arange(16)[None, :] * 16
smooth[:, :, 1] = np.arange(8)[:, None] * 32
smooth[:, :, 2] = 128
Image.fromarray(smooth, "RGB").save(os.path.join(OUT, "rgb.jpg"), quality=95)
Image.fromarray(smooth[:, :, 0], "L").save(os.path.join(OUT, "grey.jpg"), quality=95)
np.save(os.path.join(OUT, "rgb.jpg.expect.npy"), np.asarray(Image.open(os.path.join(OUT, "rgb.jpg")).convert("RGB")))
np.save(os.path.join(OUT, "grey.jpg.expect.npy"), np.asarray(Image.open(os.path.join(OUT, "grey.jpg")))[:, :, None])
print("wrote", OUT)
