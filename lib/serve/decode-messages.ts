// SPDX-License-Identifier: MIT
// The messages between DecodePool (decode-pool.ts) and its threads (decode-worker.ts), in a module of their own so that
// importing them runs neither side.
import type { Preprocess } from '../data/image';

/** What every task of one pool decodes to (sent once, as workerData). */
export interface DecodeSettings {
  prep: Preprocess;
  maxPixels: number;
}

/** The media types a batch holds, by their code in DecodeBatch.types. */
export const IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;

/**
 * Several image bodies in one message: image i is bytes [ends[i - 1], ends[i]) of `bytes` (the worker's own copy,
 * transferred), of type IMAGE_TYPES[types[i]], answered as task ids[i].
 */
export interface DecodeBatch {
  ids: number[];
  types: Uint8Array;
  ends: Uint32Array;
  bytes: Uint8Array;
}

/**
 * The answer to a DecodeBatch: image i's model input is `inputs` [i * size, (i + 1) * size) with size = C*H*W, unless
 * errors holds an entry for i (its HTTP status and message; its part of `inputs` is then unused).
 */
export interface DecodeAnswer {
  ids: number[];
  inputs: Float32Array;
  errors: { index: number; status: number; message: string }[];
}
