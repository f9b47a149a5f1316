#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# PyTorch side of simdnet's bench: LeNet training and inference images/s on the shared weights and inputs, as one JSON object.
#
# bench/run.ts runs this with Debian's python3-torch, OPENBLAS_NUM_THREADS=1 and the inputs it wrote;
# by hand:  /usr/bin/python3 bench/pytorch_bench.py --data build/bench/data.safetensors --threads 2
# Each case checks its result against the float64 reference logits in the data file before it is timed.
import argparse
import json
import math
import os
import re
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # torch's own threads do the parallel work
sys.dont_write_bytecode = True

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "fixtures"))
from gen_fixtures import LeNet, decode_safetensors  # noqa: E402

TOL = 1e-4


def measure(fn, opt):
    """The same loop as bench/timing.ts: warm-up, then the median of repetitions (ms per call)."""
    warm, start = [], time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - t0) * 1e3)
        if (time.perf_counter() - start) * 1e3 >= opt["warmMs"]:
            break
    per_call = statistics.median(warm)
    calls = 1
    if per_call * 2 > opt["budgetMs"]:
        while len(warm) < opt["slowReps"]:
            t0 = time.perf_counter()
            fn()
            warm.append((time.perf_counter() - t0) * 1e3)
        samples = warm
    else:
        calls = max(1, math.ceil(opt["sampleMs"] / per_call))
        reps = max(1, min(opt["reps"], int(opt["budgetMs"] // (calls * per_call))))
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            samples.append((time.perf_counter() - t0) * 1e3 / calls)
    ms = statistics.median(samples)
    return {"msPerCall": ms, "reps": len(samples), "callsPerRep": calls,
            "spreadPct": 100 * (max(samples) - min(samples)) / ms}


def blas_info():
    """Which BLAS library the process really loaded (Debian's torch links the libblas.so.3 alternative)."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower():
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    config = torch.__config__.show()
    match = re.search(r"BLAS_INFO=([^,\s]+)", config)
    kind = "OpenBLAS" if any("openblas" in p for p in libs) else ("reference BLAS" if libs else "none loaded")
    return {"kind": kind, "libraries": sorted(libs), "blasInfo": match.group(1) if match else "?"}


def ref_loss(ref_logits, targets, n):
    logits, t = ref_logits[:n].double(), targets[:n].long()
    return F.cross_entropy(logits, t).item()


def model_with(weights):
    model = LeNet()
    model.load_state_dict(weights, strict=True)
    return model


def infer_case(weights, data, b, opt):
    base = {"case": "infer", "batch": b, "system": "pytorch"}
    model = model_with(weights).eval()
    x = data["images"][:b].contiguous()

    def fn():
        with torch.inference_mode():
            return model(x)

    diff = (fn().double() - data["ref_logits"][:b].double()).abs().max().item()
    if not diff < TOL:
        return {**base, "imagesPerSec": None, "maxDiff": diff, "status": "wrong result",
                "note": f"logits differ from the float64 reference by {diff:.1e}"}
    t = measure(fn, opt)
    return {**base, "imagesPerSec": 1000 * b / t["msPerCall"], **t, "maxDiff": diff, "status": "ok"}


def train_case(weights, data, b, opt):
    base = {"case": "train", "batch": b, "system": "pytorch"}
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

    first = step()
    diff = abs(first - ref_loss(data["ref_logits"], data["targets"], b))
    if not diff < TOL:
        return {**base, "imagesPerSec": None, "maxDiff": diff, "status": "wrong result", "note": f"first loss differs by {diff:.1e}"}
    t = measure(step, opt)
    last = step()
    if not last < first:
        return {**base, "imagesPerSec": None, "status": "wrong result", "note": f"loss did not fall ({first} -> {last})"}
    return {**base, "imagesPerSec": 1000 * b / t["msPerCall"], **t, "maxDiff": diff, "status": "ok"}


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
    jobs = [(train_case, int(b)) for b in args.train.split(",") if b] + [(infer_case, int(b)) for b in args.infer.split(",") if b]
    for case, b in jobs:
        r = case(weights, data, b, opt)
        speed = f"{r['imagesPerSec']:,.0f} images/s" if r["imagesPerSec"] else f"{r['status']}: {r.get('note')}"
        check = f"check {r['maxDiff']:.1e}, " if "maxDiff" in r else ""
        print(f"  pytorch {r['case']} b{b}: {check}{speed}", file=sys.stderr, flush=True)
        results.append(r)
    print(json.dumps({"torch": torch.__version__, "pythonVersion": sys.version.split()[0], "threads": torch.get_num_threads(),
                      "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"), "blas": blas_info(),
                      "mkldnn": torch.backends.mkldnn.is_available(), "results": results}))


if __name__ == "__main__":
    main()
