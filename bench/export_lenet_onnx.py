#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes bench/lenet.onnx and bench/lenet.safetensors (the same seeded PyTorch LeNet weights) for the benchmarks.
#
# Run with Debian's python3-torch from the repo root:  /usr/bin/python3 bench/export_lenet_onnx.py
# The model is test/fixtures/gen_fixtures.py's LeNet after torch.manual_seed(0), so the weights equal
# that fixture's init.* tensors. The ONNX file has a dynamic batch axis (opset 13).
import os
import sys

import torch

sys.dont_write_bytecode = True  # importing gen_fixtures must not leave __pycache__ in test/fixtures

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "fixtures"))
from gen_fixtures import SEED, LeNet, encode_safetensors  # noqa: E402


def main():
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    model = LeNet().eval()
    x = torch.zeros(1, 3, 32, 32)
    onnx_path = os.path.join(HERE, "lenet.onnx")
    torch.onnx.export(model, x, onnx_path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    meta = {
        "format": "pt",
        "generator": "bench/export_lenet_onnx.py",
        "torch": torch.__version__,
        "seed": str(SEED),
        "simdnet.arch": "LeNet",
        "simdnet.config": '{"inChannels":3,"imageSize":32,"numClasses":10,"padding":0}',
    }
    st_path = os.path.join(HERE, "lenet.safetensors")
    with open(st_path + ".tmp", "wb") as f:
        f.write(encode_safetensors(model.state_dict(), meta))
    os.replace(st_path + ".tmp", st_path)
    for p in (onnx_path, st_path):
        print(f"wrote {os.path.relpath(p, os.path.join(HERE, '..'))}: {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()
