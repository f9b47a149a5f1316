# SPDX-License-Identifier: MIT
# What the PyTorch sides of the benches (pytorch_bench.py: LeNet; pytorch_cnn.py: ResNet-20 / VGG) share: the timing
# loop of bench/timing.ts, the BLAS report, and the check-then-time cases (a wrong result is reported, never timed).
import math
import os
import re
import statistics
import sys
import time

import torch


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


def infer_case(base, fn, ref_logits, tol, opt, against):
    """Inference: fn() must give ref_logits within tol (`against` names the reference in the note), then it is timed."""
    b = base["batch"]
    diff = (fn().double() - ref_logits[:b].double()).abs().max().item()
    if not diff < tol:
        return {**base, "imagesPerSec": None, "maxDiff": diff, "status": "wrong result",
                "note": f"logits differ from {against} by {diff:.1e}"}
    t = measure(fn, opt)
    return {**base, "imagesPerSec": 1000 * b / t["msPerCall"], **t, "maxDiff": diff, "status": "ok"}


def train_case(base, step, ref_loss, tol, opt, against):
    """Training: the first step's loss must be ref_loss within tol, then steps are timed and the loss must fall."""
    first = step()
    diff = abs(first - ref_loss)
    if not diff < tol:
        return {**base, "imagesPerSec": None, "maxDiff": diff, "status": "wrong result",
                "note": f"first loss {first} differs from {against} {ref_loss} by {diff:.1e}"}
    t = measure(step, opt)
    last = step()
    if not last < first:
        return {**base, "imagesPerSec": None, "status": "wrong result", "note": f"loss did not fall ({first} -> {last})"}
    return {**base, "imagesPerSec": 1000 * base["batch"] / t["msPerCall"], **t, "maxDiff": diff, "status": "ok"}


def progress(label, r):
    """One line on stderr per case, as the TypeScript benches print theirs."""
    speed = f"{r['imagesPerSec']:,.0f} images/s" if r["imagesPerSec"] else f"{r['status']}: {r.get('note')}"
    check = f"check {r['maxDiff']:.1e}, " if "maxDiff" in r else ""
    print(f"  {label} b{r['batch']}: {check}{speed}", file=sys.stderr, flush=True)
