/**
 * Shared pieces of `npm run bench`: the row every benchmark returns, and small helpers for
 * timing, memory and CPU sampling, and child processes (servers and load generators run as
 * `node --import tsx bench/load/….ts`, talking to the harness over IPC).
 *
 * Every wait here is bounded and every child started with {@link startChild} is tracked, so
 * {@link stopAllChildren} (called by bench/run.ts on exit) leaves nothing running.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One line of the benchmark table. */
export type BenchRow = {
  figure: string;
  synack: number;
  baseline: number;
  unit: string;
  /** synack / baseline (for every figure: throughput-like, latency-like and cost-like). */
  ratio: number;
  /** What the row must meet, as printed: `≥ 0.9×`, `≤ 1.5×`, `≤ 16 KiB`… */
  target: string;
  pass: boolean;
  note?: string;
};

/** What every benchmark module is called with. */
export type BenchOptions = { quick: boolean };

/** A benchmark module's entry point. */
export type Bench = (opts: BenchOptions) => Promise<BenchRow[]>;

/** Root of the repository (where `npm run bench` runs). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The bench/ folder. */
export const BENCH_DIR = path.join(ROOT, 'bench');

// ---------------------------------------------------------------------------------------------
// Rows

/**
 * A throughput-like row (more is better): ratio = synack / baseline, passes when ratio ≥ `min`.
 *
 * @example
 * ```ts
 * higherIsBetter('raw throughput', 950, 1000, 'MiB/s', 0.9); // ratio 0.95, target '≥ 0.9×', pass
 * ```
 */
export function higherIsBetter(figure: string, synack: number, baseline: number, unit: string, min: number, note?: string): BenchRow {
  const ratio = safeRatio(synack, baseline);
  return { figure, synack, baseline, unit, ratio, target: `≥ ${min}×`, pass: ratio >= min, ...(note ? { note } : {}) };
}

/**
 * A latency/CPU-like row (less is better): ratio = synack / baseline, passes when ratio ≤ `max`.
 *
 * @example
 * ```ts
 * lowerIsBetter('echo p50', 60, 45, 'µs', 1.5); // ratio 1.33, target '≤ 1.5×', pass
 * ```
 */
export function lowerIsBetter(figure: string, synack: number, baseline: number, unit: string, max: number, note?: string): BenchRow {
  const ratio = safeRatio(synack, baseline);
  return { figure, synack, baseline, unit, ratio, target: `≤ ${max}×`, pass: ratio <= max, ...(note ? { note } : {}) };
}

/** A row whose target is on synack's own value (e.g. `≤ 16 KiB`); ratio is still synack / baseline. */
export function absoluteRow(
  figure: string,
  synack: number,
  baseline: number,
  unit: string,
  target: string,
  pass: boolean,
  note?: string,
): BenchRow {
  return { figure, synack, baseline, unit, ratio: safeRatio(synack, baseline), target, pass, ...(note ? { note } : {}) };
}

/** The row a module that threw leaves in the table. */
export function crashedRow(figure: string, error: unknown): BenchRow {
  const message = error instanceof Error ? error.message : String(error);
  return { figure, synack: NaN, baseline: NaN, unit: '', ratio: NaN, target: '—', pass: false, note: `crashed: ${message.split('\n')[0]}` };
}

function safeRatio(a: number, b: number): number {
  return b === 0 || !Number.isFinite(a) || !Number.isFinite(b) ? NaN : a / b;
}

// ---------------------------------------------------------------------------------------------
// Timing and statistics

/** Milliseconds, high resolution. */
export const now = (): number => performance.now();

/** The `p`-th percentile (0–100) of already sorted values (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of some values (not modified). */
export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/**
 * Of several trials (each a fresh pair of processes), the one whose synack / baseline ratio is the
 * median, with every trial's ratio for the note. A process settles into a GC regime early on and
 * keeps it, so rates move by up to 1.5× between processes on either side: one pair alone would
 * decide a ratio.
 *
 * @example
 * ```ts
 * medianTrial([{ synack: 9, raw: 10 }, { synack: 5, raw: 10 }, { synack: 8, raw: 10 }]);
 * // { index: 2, synack: 8, raw: 10, ratios: [0.9, 0.5, 0.8] }
 * ```
 */
export function medianTrial(trials: readonly { synack: number; raw: number }[]): { index: number; synack: number; raw: number; ratios: number[] } {
  const ratios = trials.map((t) => t.synack / t.raw);
  const index = ratios.map((_, i) => i).sort((a, b) => ratios[a]! - ratios[b]!)[(trials.length - 1) >> 1]!;
  return { index, synack: trials[index]!.synack, raw: trials[index]!.raw, ratios };
}

/** Every trial's ratio, for a row's note: `0.82×, 0.91×, 0.77×`. */
export function trialRatios(ratios: readonly number[]): string {
  return ratios.map((r) => `${r.toFixed(2)}×`).join(', ');
}

/** Rounds for display: 3 significant digits, no exponent for ordinary sizes. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

/** Sleeps (for pacing and settling only, never as synchronisation). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with `what` timed out after `ms` unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Memory and CPU (of the current process; children answer `cpu` / `heap` requests, see serveChild)

/** Collects garbage as thoroughly as a script can (needs `--expose-gc`; no-op otherwise). */
export async function fullGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** heapUsed after a full GC (bytes). Needs `--expose-gc` for a meaningful figure. */
export async function heapAfterGc(): Promise<number> {
  await fullGc();
  return process.memoryUsage().heapUsed;
}

/** CPU time (user + system, ms) this process has used since the call; `process.cpuUsage`. */
export function cpuSince(): () => { userMs: number; systemMs: number; totalMs: number } {
  const start = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(start);
    return { userMs: d.user / 1000, systemMs: d.system / 1000, totalMs: (d.user + d.system) / 1000 };
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes: servers and load generators

/** A message between the harness and a child: always an object with a `type`. */
export type ChildMessage = { type: string; [key: string]: unknown };

/** A running child, started by {@link startChild}. */
export interface ChildHandle {
  readonly proc: ChildProcess;
  readonly name: string;
  /** Sends a message to the child over IPC (ignored once it has gone). */
  send(message: ChildMessage): void;
  /** The next message of that type (buffered ones first); rejects after `timeoutMs` or if the child exits. */
  next<T extends ChildMessage = ChildMessage>(type: string, timeoutMs?: number): Promise<T>;
  /** Sends `{type, ...payload}` and waits for the reply of type `reply` (default: the same type). */
  request<T extends ChildMessage = ChildMessage>(type: string, payload?: Record<string, unknown>, reply?: string, timeoutMs?: number): Promise<T>;
  /** Stops the child: `{type:'stop'}`, then SIGTERM, then SIGKILL; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Everything it wrote to stderr (last 8 KiB), for error messages. */
  stderr(): string;
}

const running = new Set<ChildHandle>();

/**
 * Starts `bench/<script>` as `node --import tsx <script> …args` with an IPC channel. The child
 * should call {@link serveChild}, which answers `cpu`, `heap`, `gc` and `stop` requests and
 * exits when the harness goes away.
 *
 * @example
 * ```ts
 * const server = startChild('load/echo-server.ts', ['raw']);
 * const { port } = await server.next<{ type: 'listening'; port: number }>('listening');
 * …
 * await server.stop();
 * ```
 */
export function startChild(
  script: string,
  args: string[] = [],
  options: { execArgv?: string[]; env?: NodeJS.ProcessEnv; cpu?: number } = {},
): ChildHandle {
  const file = path.isAbsolute(script) ? script : path.join(BENCH_DIR, script);
  const proc = fork(file, args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const name = `${path.basename(file)} ${args.join(' ')}`.trim();
  if (options.cpu !== undefined && proc.pid !== undefined) pinToCpu(proc.pid, options.cpu);
  let stderrText = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (text: string) => {
    stderrText = (stderrText + text).slice(-8192);
  });
  const inbox: ChildMessage[] = [];
  const waiters: { type: string; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }[] = [];
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.on('message', (raw) => {
    const message = raw as ChildMessage;
    if (message.type === 'error') {
      const error = new Error(`${name}: ${String(message.message)}`);
      for (const w of waiters.splice(0)) w.reject(error);
      return;
    }
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
    else inbox.push(message);
  });
  proc.on('exit', (code, signal) => {
    exited = { code, signal };
    running.delete(handle);
    const error = new Error(`${name} exited (code ${code}, signal ${signal})${stderrText ? `: ${stderrText.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
    for (const w of waiters.splice(0)) w.reject(error);
  });
  proc.on('error', () => {});

  const handle: ChildHandle = {
    proc,
    name,
    send(message) {
      if (!exited && proc.connected) proc.send(message);
    },
    next<T extends ChildMessage>(type: string, timeoutMs = 30_000): Promise<T> {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0] as T);
      if (exited) return Promise.reject(new Error(`${name} has exited; no '${type}' message (${stderrText.trim().split('\n').slice(-3).join(' | ')})`));
      return withTimeout(
        new Promise<T>((resolve, reject) => waiters.push({ type, resolve: resolve as (m: ChildMessage) => void, reject })),
        timeoutMs,
        `${name}: waiting for '${type}'`,
      );
    },
    request<T extends ChildMessage>(type: string, payload: Record<string, unknown> = {}, reply = type, timeoutMs = 30_000): Promise<T> {
      const answer = handle.next<T>(reply, timeoutMs);
      handle.send({ type, ...payload });
      return answer;
    },
    async stop(graceMs = 2_000) {
      if (exited) return;
      handle.send({ type: 'stop' });
      const timers: NodeJS.Timeout[] = [];
      timers.push(setTimeout(() => proc.kill('SIGTERM'), graceMs));
      timers.push(setTimeout(() => proc.kill('SIGKILL'), graceMs * 2));
      await exitPromise;
      for (const t of timers) clearTimeout(t);
    },
    stderr: () => stderrText,
  };
  running.add(handle);
  return handle;
}

/**
 * Pins a process (all its threads) to one CPU with `taskset`, so that a server and its load
 * generator run on different cores instead of being moved about by the scheduler. Does nothing
 * when taskset is missing or the CPU does not exist (the figures are then just noisier).
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  if (cpu >= os.availableParallelism()) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Stops every child still running (bench/run.ts calls this before exiting). */
export async function stopAllChildren(graceMs = 1_000): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(graceMs)));
}

/** Kills every child at once, synchronously (for `process.on('exit')`). */
export function killAllChildren(): void {
  for (const child of running) child.proc.kill('SIGKILL');
}

/**
 * The child side of {@link startChild}: routes messages by type to `handlers`, answers
 * `cpu` (process.cpuUsage), `heap` (heapUsed after GC; needs `--expose-gc`), `mem` and `gc`
 * ({@link gcCounts}), exits on
 * `stop` (after `onStop`) and when the harness disconnects. A handler that throws reports an
 * `error` message, which fails the harness's pending wait.
 *
 * @example
 * ```ts
 * const send = serveChild({ go: async (m) => { …; send({ type: 'done', ms }); } });
 * send({ type: 'listening', port });
 * ```
 */
export function serveChild(
  handlers: Record<string, (message: ChildMessage) => unknown> = {},
  onStop?: () => unknown,
): (message: ChildMessage) => void {
  if (!process.send) throw new Error('serveChild: not started with an IPC channel (use startChild)');
  const send = (message: ChildMessage) => {
    if (process.connected) process.send!(message);
  };
  const fail = (error: unknown) => send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const message = raw as ChildMessage;
    void (async () => {
      try {
        if (message.type === 'stop') {
          await withTimeout(Promise.resolve(onStop?.()), 1_500, 'onStop').catch(() => {});
          process.exit(0);
        } else if (message.type === 'cpu') {
          const u = process.cpuUsage();
          send({ type: 'cpu', userMs: u.user / 1000, systemMs: u.system / 1000, totalMs: (u.user + u.system) / 1000 });
        } else if (message.type === 'heap') {
          send({ type: 'heap', heapUsed: await heapAfterGc(), rss: process.memoryUsage().rss });
        } else if (message.type === 'gc') {
          send({ type: 'gc', ...gcCounts() });
        } else if (message.type === 'mem') {
          const m = process.memoryUsage();
          send({ type: 'mem', heapUsed: m.heapUsed, rss: m.rss, external: m.external });
        } else {
          const handler = handlers[message.type];
          if (!handler) throw new Error(`unknown message type '${message.type}'`);
          await handler(message);
        }
      } catch (error) {
        fail(error);
      }
    })();
  });
  return send;
}

/** Garbage collections this process has run. */
export type GcCounts = {
  /** Full (mark-compact) collections. */
  full: number;
};

let gcCounted: GcCounts | undefined;

/**
 * Collections run since the first call, which starts counting (a PerformanceObserver on `gc`
 * entries, delivered a little late: ask again after a short pause for an exact tally).
 */
export function gcCounts(): GcCounts {
  if (!gcCounted) {
    const counted: GcCounts = (gcCounted = { full: 0 });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if ((entry as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) counted.full++;
      }
    }).observe({ entryTypes: ['gc'] });
  }
  return { ...gcCounted };
}

/** Waits until a server child answers `count` with `want` clients; throws after `timeoutMs`. */
export async function waitForClients(server: ChildHandle, want: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { clients } = await server.request<{ type: 'count'; clients: number }>('count');
    if (clients === want) return;
    if (performance.now() > deadline) throw new Error(`${server.name}: ${clients} clients, expected ${want}`);
    await sleep(10);
  }
}

/** The CPU time (ms, user + system) a child has used so far; the child must call serveChild. */
export async function childCpuMs(child: ChildHandle): Promise<number> {
  const reply = await child.request<{ type: 'cpu'; totalMs: number }>('cpu');
  return reply.totalMs;
}

/** Counts of a load generator's connections. */
export interface LoadCounts {
  open: number;
  closed: number;
  failed: number;
}

let nextSource = 0;

/**
 * Opens `count` load connections to 127.0.0.1:`port`, at most `inFlight` connecting at once,
 * from the source addresses 127.0.0.<first>…<first + sources − 1> in turn, keeping `counts`.
 * Each socket that connects is handed to `opened` before it reads anything.
 */
export async function openClients(
  port: number,
  count: number,
  { first, sources, inFlight }: { first: number; sources: number; inFlight: number },
  counts: LoadCounts,
  opened: (socket: net.Socket) => void,
): Promise<void> {
  const connectOne = () =>
    new Promise<void>((resolve) => {
      const localAddress = `127.0.0.${first + (nextSource++ % sources)}`;
      const socket = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true });
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        counts.open++;
        opened(socket);
        resolve();
      });
      socket.on('error', () => {
        if (connected) return;
        counts.failed++;
        resolve();
      });
      socket.on('close', () => {
        if (!connected) return;
        counts.open--;
        counts.closed++;
      });
    });
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await connectOne();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
}
