// SPDX-License-Identifier: MIT
// Writes a small CIFAR-10-format folder (cifar-10-batches-bin/ with data_batch_1..5.bin and
// test_batch.bin) of learnable synthetic images, for CI's CLI smoke run. Usage: node make-cifar10-sample.js DIR
'use strict';
const fs = require('fs');
const path = require('path');

const RECORD = 1 + 3 * 32 * 32;
const out = path.join(process.argv[2] || 'cifar-sample', 'cifar-10-batches-bin');
fs.mkdirSync(out, { recursive: true });
let state = 12345;
const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 16) % 40;

function write(name, count) {
  const buf = Buffer.alloc(count * RECORD);
  for (let r = 0; r < count; r++) {
    const label = r % 10;
    buf[r * RECORD] = label;
    // Brightness grows with the class, so one epoch already learns something.
    for (let k = 1; k < RECORD; k++) buf[r * RECORD + k] = label * 22 + rand();
  }
  fs.writeFileSync(path.join(out, name), buf);
}

for (let i = 1; i <= 5; i++) write(`data_batch_${i}.bin`, 200);
write('test_batch.bin', 200);
fs.writeFileSync(
  path.join(out, 'batches.meta.txt'),
  'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n',
);
console.log(out);
