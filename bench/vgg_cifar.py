# SPDX-License-Identifier: MIT
# A copy of the shared reference definition (bench/vgg_cifar.json is its simdnet twin); bench/pytorch_cnn.py imports it.
"""PyTorch twin of vgg_cifar.json: a VGG-style CIFAR-10 net used as a speed yardstick past LeNet.

Three stages of two 3x3 convolutions (padding 1) with BatchNorm and ReLU, 32, 64 and 128 channels, each
stage ending in a 2x2 max pool, then flatten and a linear layer to 10 classes: 38.7M multiply-adds per
32x32 image. State-dict names are Sequential indices, as in the JSON model file without names.
"""
import torch.nn as nn


def vgg_cifar(num_classes=10):
    layers, cin = [], 3
    for cout in (32, 64, 128):
        for _ in range(2):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
            cin = cout
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, num_classes))


if __name__ == '__main__':
    print(sum(p.numel() for p in vgg_cifar().parameters()), 'parameters')
