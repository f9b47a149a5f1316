// SPDX-License-Identifier: MIT
// PNG chunk types as big-endian 32-bit numbers (readUInt32BE of the type bytes), so the chunk walks of png.ts and
// png-fast.ts compare numbers instead of making a string per chunk.
export const IHDR = 0x49484452;
export const IDAT = 0x49444154;
export const IEND = 0x49454e44;
export const TRNS = 0x74524e53;
