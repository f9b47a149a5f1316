# SPDX-License-Identifier: MIT
# PyTorch twin of `simdnet train --recipe resnet20 --epochs E` for side-by-side accuracy runs (docs/models.md): the
# same model definition (test/fixtures/graph/resnet_cifar.py), He initialisation, SGD 0.1 / momentum 0.9 / weight
# decay 5e-4, cosine annealing stepped per epoch, batch 128, random crops padded by 4 with zeros after normalising
# (as simdnet's randomCrop), flips, cutout 16 (zeros after normalising, as simdnet's cutout) and label smoothing 0.1,
# on CIFAR-10 in the official binary layout. Prints one line per epoch.
#   usage: python3 bench/pytorch_resnet20_recipe.py EPOCHS CIFAR_ROOT THREADS
import os, sys, time, numpy as np, torch, torch.nn as nn
sys.dont_write_bytecode = True  # importing resnet_cifar must not leave a __pycache__ in the repo
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'graph'))
from resnet_cifar import ResNetCifar
E = int(sys.argv[1]); root = sys.argv[2]; torch.set_num_threads(int(sys.argv[3])); torch.manual_seed(0); rng = np.random.default_rng(0)
def load(files):
    raw = np.concatenate([np.fromfile(f'{root}/cifar-10-batches-bin/{f}', np.uint8).reshape(-1, 3073) for f in files])
    x = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255
    mean = np.array([0.4914, 0.4822, 0.4465], np.float32)[:, None, None]; std = np.array([0.247, 0.2435, 0.2616], np.float32)[:, None, None]
    return torch.from_numpy((x - mean) / std), torch.from_numpy(raw[:, 0].astype(np.int64))
xtr, ytr = load([f'data_batch_{i}.bin' for i in range(1, 6)]); xte, yte = load(['test_batch.bin'])
m = ResNetCifar(n=3, option='A')
for name, p in m.named_parameters():
    if name.endswith('weight') and p.dim() >= 2: nn.init.kaiming_normal_(p)
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=E); lf = nn.CrossEntropyLoss(label_smoothing=0.1)
for e in range(E):
    m.train(); perm = torch.from_numpy(rng.permutation(len(xtr))); t0 = time.time(); correct = 0; tot = 0; lsum = 0
    for b in range(0, len(xtr), 128):
        idx = perm[b:b+128]; x = xtr[idx].clone(); y = ytr[idx]
        pad = torch.nn.functional.pad(x, (4, 4, 4, 4)); n = len(idx)
        tops = rng.integers(0, 9, n); lefts = rng.integers(0, 9, n); flips = rng.random(n) < 0.5
        cys = rng.integers(0, 32, n); cxs = rng.integers(0, 32, n)
        for i in range(n):
            c = pad[i, :, tops[i]:tops[i]+32, lefts[i]:lefts[i]+32]
            x[i] = c.flip(-1) if flips[i] else c
            x[i, :, max(0, cys[i]-8):cys[i]+8, max(0, cxs[i]-8):cxs[i]+8] = 0
        opt.zero_grad(); out = m(x); loss = lf(out, y); loss.backward(); opt.step()
        lsum += loss.item() * n; tot += n; correct += (out.argmax(1) == y).sum().item()
    sched.step(); m.eval()
    with torch.no_grad(): acc = sum((m(xte[i:i+500]).argmax(1) == yte[i:i+500]).sum().item() for i in range(0, 10000, 500)) / 100
    print(f'epoch {e+1}/{E} train loss {lsum/tot:.4f} acc {100*correct/tot:.2f}% test acc {acc:.2f}% {time.time()-t0:.0f}s', flush=True)
