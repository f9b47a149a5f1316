// SPDX-License-Identifier: MIT
// Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32) and the global generator.
// The stream differs from PyTorch's mt19937: seeds give reproducible runs here, not PyTorch's exact numbers.
import { checkInt } from './check';

/** A small, fast, seedable generator. Its state can be saved and restored (for resumable training). */
export class Generator {
  private s = new Uint32Array(4);

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Re-seeds from a non-negative integer seed (up to 2^53). */
  manualSeed(seed: number): this {
    checkInt('manualSeed: seed', seed, 0);
    // splitmix32 over both halves of the seed fills the 128-bit state; never all zero.
    let x = (seed >>> 0) ^ (Math.floor(seed / 2 ** 32) * 0x9e3779b9);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    return this;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /**
   * Fills `out` with the next out.length nextUint32() values, in order (the same stream), several
   * times faster: the state stays in local variables.
   */
  fillUint32(out: Uint32Array): void {
    let [s0, s1, s2, s3] = this.s;
    for (let i = 0; i < out.length; i++) {
      const r = Math.imul(s1, 5);
      out[i] = Math.imul((r << 7) | (r >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    this.s[0] = s0;
    this.s[1] = s1;
    this.s[2] = s2;
    this.s[3] = s3;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Normal float with mean `mean` and standard deviation `std` (Box-Muller from two random() draws). */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.random(); // (0, 1]: log(u) stays finite
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }

  /** Uniform integer in [0, n), without modulo bias. */
  randint(n: number): number {
    if (n <= 0 || !Number.isSafeInteger(n) || n > 2 ** 32)
      throw new RangeError(`randint: n must be an integer in 1..2^32, got ${n}`);
    const limit = Math.floor(2 ** 32 / n) * n;
    let r: number;
    do r = this.nextUint32();
    while (r >= limit);
    return r % n;
  }

  /** Fills a permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.randint(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** The generator's state as four uint32 numbers (for checkpoints). */
  getState(): number[] {
    return Array.from(this.s);
  }

  setState(state: readonly number[]): void {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      state.some((v) => !Number.isInteger(v) || v < 0 || v >= 2 ** 32)
    ) {
      throw new RangeError('Generator.setState: state must be 4 unsigned 32-bit integers');
    }
    this.s.set(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator that parameter initialisation (and anything not given its own generator) uses. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator, like torch.manual_seed. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
