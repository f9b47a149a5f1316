#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# PyTorch side of simdnet's CNN bench: ResNet-20 or the VGG-style net, training (SGD) and inference images/s in the
# default (NCHW) and channels_last layouts, on simdnet's weights and inputs, as one JSON object.
#
# bench/cnn.ts runs this with the torch of $SIMDNET_TORCH_PYTHON (or $PYTHON) and the files it wrote; by hand:
#   $SIMDNET_TORCH_PYTHON bench/pytorch_cnn.py --model resnet20 --weights build/bench/resnet20.safetensors \
#       --data build/bench/resnet20-data.safetensors
# Each case checks its result against simdnet's logits and first losses in the data file before it is timed.
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "fixtures", "graph"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pytorch_bench import decode_safetensors  # noqa: E402
from pytorch_common import blas_info, infer_case, progress, train_case  # noqa: E402
from resnet_cifar import resnet20  # noqa: E402
from vgg_cifar import vgg_cifar  # noqa: E402

LAYOUTS = {"pytorch": torch.contiguous_format, "pytorch-cl": torch.channels_last}


def model_with(name, weights, layout):
    model = resnet20("A") if name == "resnet20" else vgg_cifar()
    model.load_state_dict(weights, strict=True)
    return model.to(memory_format=LAYOUTS[layout])


def cnn_infer(args, weights, data, b, layout, opt):
    model = model_with(args.model, weights, layout).eval()
    x = data["images"][:b].contiguous(memory_format=LAYOUTS[layout])

    def fn():
        with torch.inference_mode():
            return model(x)

    base = {"model": args.model, "case": "infer", "batch": b, "system": layout}
    return infer_case(base, fn, data["ref_logits"], args.tol, opt, "simdnet's")


def cnn_train(args, weights, data, b, ref_loss, layout, opt):
    model = model_with(args.model, weights, layout).train()
    sgd = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    x = data["images"][:b].contiguous(memory_format=LAYOUTS[layout])
    targets = data["targets"][:b].long()

    def step():
        sgd.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), targets)
        loss.backward()
        sgd.step()
        return loss.item()

    base = {"model": args.model, "case": "train", "batch": b, "system": layout}
    return train_case(base, step, ref_loss, args.tol, opt, "simdnet's")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=["resnet20", "vgg"], required=True)
    ap.add_argument("--weights", required=True, help="simdnet's state dict (safetensors)")
    ap.add_argument("--data", required=True, help="images, targets, ref_logits, ref_loss (written by bench/cnn.ts)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", default="64,128", help="training batch sizes, in the order of ref_loss ('' for none)")
    ap.add_argument("--infer", default="1,64", help="inference batch sizes")
    ap.add_argument("--layouts", default="pytorch,pytorch-cl")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--timing", default='{"reps":5,"budgetMs":1500,"warmMs":200,"sampleMs":20,"slowReps":1}')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    opt = json.loads(args.timing)
    weights, _ = decode_safetensors(args.weights)
    data, _ = decode_safetensors(args.data)
    train = [int(b) for b in args.train.split(",") if b]
    infer = [int(b) for b in args.infer.split(",") if b]
    results = []
    for layout in [s for s in args.layouts.split(",") if s]:
        jobs = [lambda b=b, i=i: cnn_train(args, weights, data, b, data["ref_loss"][i].item(), layout, opt)
                for i, b in enumerate(train)]
        jobs += [lambda b=b: cnn_infer(args, weights, data, b, layout, opt) for b in infer]
        for job in jobs:
            r = job()
            progress(f"{r['system']} {args.model} {r['case']}", r)
            results.append(r)
    print(json.dumps({"torch": torch.__version__, "pythonVersion": sys.version.split()[0], "threads": torch.get_num_threads(),
                      "blas": blas_info(), "mkldnn": torch.backends.mkldnn.is_available(), "results": results}))


if __name__ == "__main__":
    main()
