// SPDX-License-Identifier: MIT
// The serving bench (not part of npm test): in-process concurrent predictAsync vs onnxruntime-node, and HTTP with
// autocannon against `simdnet serve` and the same server code on onnxruntime-node. Prints one JSON line per result.
//
//   npx tsc -p bench/tsconfig.json && node build/bench/bench/serve.js [--only inproc,http] [--sweep]
//     [--requests 4000] [--in-flight 32] [--rounds 5] [--http-requests 20000] [--http-rounds 3]
//     [--decode-threads N] [--compare-dist DIR] [--http-workers N] [--http-floor]
//
// --sweep also measures predictAsync over a grid of maxBatchSize x maxWaitMicros at 32 and 4 requests in flight (how
// the defaults were chosen; docs/serving.md).
import './setup';
import { LeNet, native } from '../lib';
import { DEFAULT_DECODE_THREADS } from '../lib/serve/decode-pool';
import { loadBenchData } from './data';
import * as os from 'os';
import { httpCases, type HttpResult } from './serve-http';
import { medianOfRounds, ortCall, simdnetCall, singleImages, type LoadResult } from './serve-inproc';
import { simdnetLeNet } from './simdnet';

interface Args {
  only: Set<string>;
  sweep: boolean;
  requests: number;
  inFlight: number;
  rounds: number;
  httpRequests: number;
  httpRounds: number;
  decodeThreads: number;
  /** Another build's dist/ (e.g. the main branch's): its `simdnet serve` joins the HTTP cases. */
  compareDist?: string;
  /** Server processes of the multi-process HTTP cases (1: none). */
  httpWorkers: number;
  /** Adds node:http with a fixed answer (serve-floor-server.ts) to the HTTP cases. */
  httpFloor: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    only: new Set(['inproc', 'http']),
    sweep: false,
    requests: 4000,
    inFlight: 32,
    rounds: 5,
    httpRequests: 20000,
    httpRounds: 3,
    decodeThreads: DEFAULT_DECODE_THREADS,
    httpWorkers: Math.min(2, os.availableParallelism()),
    httpFloor: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (min = 1): number => {
      const n = Number(argv[++i]);
      if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}`);
      return n;
    };
    if (flag === '--only') args.only = new Set(argv[++i].split(','));
    else if (flag === '--sweep') args.sweep = true;
    else if (flag === '--requests') args.requests = value();
    else if (flag === '--in-flight') args.inFlight = value();
    else if (flag === '--rounds') args.rounds = value();
    else if (flag === '--http-requests') args.httpRequests = value();
    else if (flag === '--http-rounds') args.httpRounds = value();
    else if (flag === '--decode-threads') args.decodeThreads = value(0);
    else if (flag === '--compare-dist') args.compareDist = argv[++i];
    else if (flag === '--http-workers') args.httpWorkers = value();
    else if (flag === '--http-floor') args.httpFloor = true;
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

const print = (record: object): void => console.log(JSON.stringify(record));
const round = (r: LoadResult): object => ({
  ...r,
  requestsPerSec: Math.round(r.requestsPerSec),
  p50Ms: +r.p50Ms.toFixed(3),
  p99Ms: +r.p99Ms.toFixed(3),
});

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const data = loadBenchData();
  const threads = Math.min(2, require('os').cpus().length as number); // eslint-disable-line @typescript-eslint/no-require-imports
  print({
    machine: { isa: native.kernelInfo().isa, ortThreads: threads, node: process.version },
    args: { ...args, only: [...args.only] },
  });
  const images = singleImages(data, 1000);
  const model: LeNet = simdnetLeNet(data.weights);
  if (args.only.has('inproc')) {
    const { requests, inFlight, rounds } = args;
    const sys: [string, () => Promise<(x: Float32Array) => Promise<ArrayLike<number>>>][] = [
      ['simdnet predictAsync (batched, defaults)', () => simdnetCall(model, images, 32, 0)],
      ['simdnet predictAsync (maxBatchSize 1)', () => simdnetCall(model, images, 1, 0)],
      ['onnxruntime-node session.run', () => ortCall(data, images, threads)],
    ];
    for (const [system, make] of sys) {
      try {
        print({
          case: 'inproc',
          inFlight,
          ...round(await medianOfRounds(system, await make(), images, requests, inFlight, rounds)),
        });
      } catch (err) {
        print({ case: 'inproc', system, error: String(err) });
      }
    }
    if (args.sweep) {
      for (const inFlightSweep of [32, 4]) {
        for (const maxBatch of [8, 16, 32, 64]) {
          for (const maxWait of [0, 50, 200, 1000]) {
            const call = await simdnetCall(model, images.slice(0, 64), maxBatch, maxWait);
            const r = await medianOfRounds(
              `simdnet maxBatchSize ${maxBatch} maxWaitMicros ${maxWait}`,
              call,
              images,
              requests,
              inFlightSweep,
              3,
            );
            print({ case: 'sweep', inFlight: inFlightSweep, maxBatch, maxWait, ...round(r) });
          }
        }
      }
    }
  }
  if (args.only.has('http')) {
    const show = (r: HttpResult): void =>
      print({
        case: 'http',
        connections: 64,
        ...r,
        requestsPerSec: Math.round(r.requestsPerSec),
        serverCpuMicrosPerRequest: Math.round(r.serverCpuMicrosPerRequest),
        eventLoopCpuMicrosPerRequest: Math.round(r.eventLoopCpuMicrosPerRequest),
        clientCpuMicrosPerRequest: Math.round(r.clientCpuMicrosPerRequest),
        loadAverage: +os.loadavg()[0].toFixed(1),
      });
    const { httpRequests, decodeThreads, httpRounds, compareDist, httpWorkers, httpFloor } = args;
    const medians = await httpCases(
      data,
      httpRequests,
      threads,
      decodeThreads,
      httpRounds,
      show,
      compareDist,
      httpWorkers,
      httpFloor,
    );
    medians.forEach(show);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
