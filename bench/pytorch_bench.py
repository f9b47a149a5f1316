#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# PyTorch side of simdnet's bench: LeNet training and inference images/s on the shared weights and inputs, as one JSON object.
#
# bench/run.ts runs this with Debian's python3-torch, OPENBLAS_NUM_THREADS=1 and the inputs it wrote;
# by hand:  /usr/bin/python3 bench/pytorch_bench.py --data build/bench/data.safetensors --threads 2
# Each case checks its result against the float64 reference logits in the data file before it is timed.
import argparse
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # torch's own threads do the parallel work
sys.dont_write_bytecode = True

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "fixtures"))
sys.path.insert(0, HERE)
from gen_fixtures import LeNet, decode_safetensors  # noqa: E402
from pytorch_common import blas_info, infer_case, progress, train_case  # noqa: E402

TOL = 1e-4


def ref_loss(ref_logits, targets, n):
    logits, t = ref_logits[:n].double(), targets[:n].long()
    return F.cross_entropy(logits, t).item()


def model_with(weights):
    model = LeNet()
    model.load_state_dict(weights, strict=True)
    return model


def lenet_infer(weights, data, b, opt):
    model = model_with(weights).eval()
    x = data["images"][:b].contiguous()

    def fn():
        with torch.inference_mode():
            return model(x)

    return infer_case({"case": "infer", "batch": b, "system": "pytorch"}, fn, data["ref_logits"], TOL, opt,
                      "the float64 reference")


def lenet_train(weights, data, b, opt):
    model = model_with(weights).train()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = data["images"][:b].contiguous()
    targets = data["targets"][:b].long()

    def step():
        adam.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), targets)
        loss.backward()
        adam.step()
        return loss.item()

    return train_case({"case": "train", "batch": b, "system": "pytorch"}, step,
                      ref_loss(data["ref_logits"], data["targets"], b), TOL, opt, "the float64 reference's")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="safetensors with images, targets, ref_logits (written by bench/run.ts)")
    ap.add_argument("--weights", default=os.path.join(HERE, "lenet.safetensors"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", default="32,64,256", help="training batch sizes, comma-separated ('' for none)")
    ap.add_argument("--infer", default="1,64,1000", help="inference batch sizes")
    ap.add_argument("--timing", default='{"reps":5,"budgetMs":1500,"warmMs":200,"sampleMs":20,"slowReps":1}')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    opt = json.loads(args.timing)
    weights, _ = decode_safetensors(args.weights)
    data, _ = decode_safetensors(args.data)
    results = []
    jobs = [(lenet_train, int(b)) for b in args.train.split(",") if b] + [(lenet_infer, int(b)) for b in args.infer.split(",") if b]
    for case, b in jobs:
        r = case(weights, data, b, opt)
        progress(f"pytorch {r['case']}", r)
        results.append(r)
    print(json.dumps({"torch": torch.__version__, "pythonVersion": sys.version.split()[0], "threads": torch.get_num_threads(),
                      "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"), "blas": blas_info(),
                      "mkldnn": torch.backends.mkldnn.is_available(), "results": results}))


if __name__ == "__main__":
    main()
