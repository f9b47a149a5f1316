// SPDX-License-Identifier: MIT
// Error classes of the TypeScript layer; the argument checks that throw them are in check.ts.

/** A tensor or option has the wrong shape or size. Subclass of RangeError so `instanceof RangeError` holds. */
export class ShapeError extends RangeError {
  override name = 'ShapeError';
}

/** A file (dataset, weights) is missing, truncated or not in the expected format. The message names the file. */
export class FileFormatError extends Error {
  override name = 'FileFormatError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** Training produced a NaN or infinite loss. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}
