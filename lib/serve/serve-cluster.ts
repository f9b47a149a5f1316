// SPDX-License-Identifier: MIT
// `simdnet serve --workers N`: N server processes behind one port (node:cluster; the primary accepts connections and
// hands them to the workers in turn). Each worker loads the model and runs its own server.ts, batcher and event loop,
// so node's HTTP work and the image decoding use every core while each worker still batches its own requests. The
// primary only forks, relays and stops: /metrics gathers every worker's counters through it (the sum is rendered),
// and on SIGTERM it tells every worker to drain (each finishes the requests it accepted and exits 0).
import cluster, { type Worker } from 'cluster';
import type { MetricsSnapshot } from './metrics';

/** The messages between the primary and the workers (IPC, JSON). */
type Message =
  | { simdnet: 'listening'; host: string; port: number }
  | { simdnet: 'gather'; id: number } // worker -> primary: send me every worker's metrics
  | { simdnet: 'snapshot?'; id: number } // primary -> each worker
  | { simdnet: 'snapshot'; id: number; snapshot: MetricsSnapshot }
  | { simdnet: 'snapshots'; id: number; snapshots: MetricsSnapshot[] }
  | { simdnet: 'stop' };

export interface ClusterAddress {
  host: string;
  port: number;
}

/** A gathering of metrics for one GET /metrics: the workers not heard from yet, and what they sent. */
interface Gathering {
  /** The primary's key of this gathering (the one the workers answer to). */
  key: number;
  from: Worker;
  /** The asking worker's id of its request. */
  id: number;
  waiting: Set<number>;
  snapshots: MetricsSnapshot[];
}

/**
 * The primary's side. start() forks `workers` processes that re-run this process's command line (node:cluster's
 * default: the same script, arguments and node flags) with `env` added, and resolves once every one listens. A worker
 * that exits while serving is replaced; one that exits before it listens makes start() reject (its error is on
 * stderr, which the workers share with the primary).
 */
export class ServeCluster {
  private readonly listening = new Set<number>();
  private readonly gatherings = new Map<number, Gathering>();
  private nextGathering = 0;
  private stopping = false;
  private failedCodes = 0;
  private where: ClusterAddress = { host: '', port: 0 };

  private constructor(
    private readonly env: Record<string, string>,
    private readonly log: (line: string) => void,
  ) {}

  static start(workers: number, env: Record<string, string>, log: (line: string) => void): Promise<ServeCluster> {
    const c = new ServeCluster(env, log);
    return new Promise((resolve, reject) => {
      let started = 0;
      const fail = (err: Error): void => {
        // No worker has been announced: none can hold an accepted request yet.
        c.stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        reject(err);
      };
      for (let i = 0; i < workers; i++) {
        c.fork((a) => {
          c.where = a;
          if (++started === workers) resolve(c);
        }, fail);
      }
    });
  }

  /** Where the workers listen (the same port for all, also with --port 0). */
  address(): ClusterAddress {
    return this.where;
  }

  /** Tells every worker to drain, and resolves once all have exited: 0 if every one exited with 0, else 1. */
  async stop(): Promise<number> {
    this.stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exits = workers.map((w) => new Promise((r) => (w.isDead() ? r(null) : w.once('exit', r))));
    for (const w of workers) if (w.isConnected()) w.send({ simdnet: 'stop' } satisfies Message);
    await Promise.all(exits);
    return this.failedCodes === 0 ? 0 : 1;
  }

  private fork(onListening: (a: ClusterAddress) => void, onEarlyExit: (err: Error) => void): void {
    const worker = cluster.fork(this.env);
    worker.on('message', (m: Message) => this.onMessage(worker, m, onListening));
    worker.on('exit', (code, signal) => {
      const served = this.listening.delete(worker.id);
      for (const g of this.gatherings.values()) {
        g.waiting.delete(worker.id);
        this.finishGathering(g);
      }
      if (this.stopping) {
        if (code !== 0) this.failedCodes++;
        return;
      }
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!served) return onEarlyExit(new Error(`a server worker exited (${how}) before listening`));
      this.log(`a server worker exited (${how}); starting another`);
      this.fork(
        () => {},
        (err) => this.log(String(err.message)),
      );
    });
  }

  private onMessage(worker: Worker, m: Message, onListening: (a: ClusterAddress) => void): void {
    if (m?.simdnet === 'listening') {
      this.listening.add(worker.id);
      onListening({ host: m.host, port: m.port });
    } else if (m?.simdnet === 'gather') {
      const key = this.nextGathering++;
      const g: Gathering = { key, from: worker, id: m.id, waiting: new Set(this.listening), snapshots: [] };
      this.gatherings.set(key, g);
      for (const w of Object.values(cluster.workers ?? {})) {
        if (w && g.waiting.has(w.id)) w.send({ simdnet: 'snapshot?', id: key } satisfies Message);
      }
      this.finishGathering(g);
    } else if (m?.simdnet === 'snapshot') {
      const g = this.gatherings.get(m.id);
      if (g === undefined || !g.waiting.delete(worker.id)) return;
      g.snapshots.push(m.snapshot);
      this.finishGathering(g);
    }
  }

  private finishGathering(g: Gathering): void {
    if (g.waiting.size > 0) return;
    this.gatherings.delete(g.key);
    if (g.from.isConnected()) g.from.send({ simdnet: 'snapshots', id: g.id, snapshots: g.snapshots } satisfies Message);
  }
}

/**
 * A worker's side: tells the primary where it listens, answers its requests for this worker's metrics, gathers
 * every worker's for /metrics, and calls `onStop` when the primary says stop or goes away.
 */
export class ClusterWorkerLink {
  private readonly pending = new Map<number, (s: MetricsSnapshot[]) => void>();
  private nextId = 0;
  private readonly onMessage: (m: Message) => void;

  constructor(snapshot: () => MetricsSnapshot, onStop: () => void) {
    this.onMessage = (m) => {
      if (m?.simdnet === 'snapshot?') this.send({ simdnet: 'snapshot', id: m.id, snapshot: snapshot() });
      else if (m?.simdnet === 'snapshots') {
        this.pending.get(m.id)?.(m.snapshots);
        this.pending.delete(m.id);
      } else if (m?.simdnet === 'stop') onStop();
    };
    process.on('message', this.onMessage);
    process.once('disconnect', onStop);
  }

  listening(address: ClusterAddress): void {
    this.send({ simdnet: 'listening', ...address });
  }

  /** Every worker's metrics (this one's `own` if the primary is gone). */
  gather(own: MetricsSnapshot): Promise<MetricsSnapshot[]> {
    if (!process.connected) return Promise.resolve([own]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ simdnet: 'gather', id });
    });
  }

  /** Lets the process exit (with its own exit code): closes the channel to the primary. */
  close(): void {
    process.off('message', this.onMessage);
    for (const resolve of this.pending.values()) resolve([]);
    this.pending.clear();
    disconnectWorker();
  }

  private send(m: Message): void {
    if (process.connected) process.send?.(m);
  }
}

export const isClusterWorker = (): boolean => cluster.isWorker;

/**
 * Closes a worker's channel to the primary, which otherwise keeps the process alive. Through cluster's own
 * disconnect(): a plain process.disconnect() makes the worker exit at once with code 0, whatever the exit code.
 */
export function disconnectWorker(): void {
  if (cluster.worker?.isConnected()) cluster.worker.disconnect();
}
