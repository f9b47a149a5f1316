// SPDX-License-Identifier: MIT
// onnx-proto's generated types, which the layer registry's ONNX contexts expose in simdnet's .d.ts, name protobufjs's
// 64-bit integer class `Long` as a global that only the retired @types/long declared: a client type-checking simdnet's
// declarations (skipLibCheck: false) got "Cannot find name 'Long'". This declares it (simdnet reads int64 fields as
// numbers and never needs its methods); it merges with any other global declaration of Long.
declare global {
  /** protobufjs's 64-bit integer (the `long` package), as onnx-proto's types name it. */
  interface Long {
    low: number;
    high: number;
    unsigned: boolean;
  }
}
export {};
