// SPDX-License-Identifier: MIT
// The options the downloadable datasets (CIFAR10, MNIST, FashionMNIST) share and their resolution: the option, then
// an environment variable, then the default. Each dataset checks its own `md5` option; no I/O here.
import * as os from 'node:os';
import * as path from 'node:path';
import { checkBool, checkFunction, checkInt, checkOptions, checkString } from '../check';
import { parseHttpUrl } from './download';

/** Every downloadable dataset's option names (`md5` is checked by the dataset). */
export const DATASET_OPTION_NAMES: readonly string[] = Object.freeze([
  'root',
  'train',
  'download',
  'normalize',
  'cacheDir',
  'url',
  'md5',
  'timeoutMs',
  'onProgress',
]);

/** The shared options' types; each dataset's options interface declares and documents them in its own terms. */
export type DatasetOptionsBase = Partial<
  Record<'root' | 'cacheDir' | 'url', string> & Record<'train' | 'download' | 'normalize', boolean>
> & { timeoutMs?: number; onProgress?: (...args: never[]) => void };

export interface ResolvedDatasetOptions<P> {
  /** Absolute; defaults to the cache folder. */
  root: string;
  train: boolean;
  download: boolean;
  normalize: boolean;
  /** Absolute: the option, else $SIMDNET_CACHE_DIR, else ~/.cache/simdnet. */
  cacheDir: string;
  url: string;
  /** What set `url`, for error messages: the option, the environment variable or the default. */
  urlSource: string;
  timeoutMs: number | undefined;
  onProgress: P | undefined;
}

/**
 * Checks `options` (unknown names, types; a `url` option must be http(s) at once, while an environment variable's URL
 * is checked only when a download needs it: pass `urlSource` to parseHttpUrl then) and applies the defaults. `what`
 * names the dataset in messages ("CIFAR10"). Returns the checked options object too, for the dataset's own fields.
 */
export function resolveDatasetOptions<O extends DatasetOptionsBase>(
  what: string,
  options: O | undefined,
  url: { default: string; env: string },
): { options: O; resolved: ResolvedDatasetOptions<NonNullable<O['onProgress']>> } {
  const o = checkOptions(what, options, DATASET_OPTION_NAMES);
  const str = (name: string, v: unknown): string | undefined =>
    v === undefined || v === null ? undefined : checkString(`${what}: ${name}`, v, true);
  const bool = (name: string, v: unknown, def: boolean): boolean => checkBool(`${what}: ${name}`, v ?? def);
  const env = (name: string): string | undefined => process.env[name] || undefined;
  const cacheDir =
    str('cacheDir', o.cacheDir) ?? env('SIMDNET_CACHE_DIR') ?? path.join(os.homedir(), '.cache', 'simdnet');
  const optionUrl = str('url', o.url);
  if (optionUrl !== undefined) parseHttpUrl(`${what}: url`, optionUrl);
  const envUrl = env(url.env);
  if (o.onProgress !== undefined) checkFunction(`${what}: onProgress`, o.onProgress);
  return {
    options: o,
    resolved: {
      root: path.resolve(str('root', o.root) ?? cacheDir),
      train: bool('train', o.train, true),
      download: bool('download', o.download, false),
      normalize: bool('normalize', o.normalize, true),
      cacheDir: path.resolve(cacheDir),
      url: optionUrl ?? envUrl ?? url.default,
      urlSource: optionUrl !== undefined ? `${what}: url` : envUrl !== undefined ? url.env : `${what}: default url`,
      timeoutMs: o.timeoutMs === undefined ? undefined : checkInt(`${what}: timeoutMs`, o.timeoutMs, 1),
      onProgress: o.onProgress as NonNullable<O['onProgress']> | undefined,
    },
  };
}
