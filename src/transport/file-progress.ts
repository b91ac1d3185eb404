/** Default pause between two progress reports of one transfer: at most 10 a second. */
export const PROGRESS_INTERVAL_MS = 100;

/** How much a new sample moves the smoothed rate (exponential moving average). */
const SMOOTHING = 0.3;

/** A transfer's rate bookkeeping: the last sample and the smoothed rate. */
export interface RateSample {
  bytes: number;
  at: number;
  /** Bytes per second, smoothed; 0 until two samples exist. */
  rate: number;
}

/**
 * The smoothed rate after a new progress sample (`bytes` so far at time `at`, in ms). Samples
 * that go back in time or come at the same instant leave the rate as it was.
 *
 * @example
 * ```ts
 * nextRate({ bytes: 0, at: 0, rate: 0 }, 1_000_000, 100); // { bytes: 1e6, at: 100, rate: 1e7 }
 * ```
 */
export function nextRate(previous: RateSample, bytes: number, at: number): RateSample {
  const dt = at - previous.at;
  if (dt <= 0 || bytes < previous.bytes) return { bytes, at: Math.max(at, previous.at), rate: previous.rate };
  const instant = ((bytes - previous.bytes) * 1000) / dt;
  const rate = previous.rate === 0 ? instant : previous.rate + SMOOTHING * (instant - previous.rate);
  return { bytes, at, rate };
}

/**
 * Milliseconds left at `rate` bytes/s, or `null` while the rate is unknown.
 *
 * @example
 * ```ts
 * etaMs(1000, 250, 500); // 1500
 * ```
 */
export function etaMs(total: number | null, bytes: number, rate: number): number | null {
  if (total === null) return null;
  if (bytes >= total) return 0;
  return rate > 0 ? Math.round(((total - bytes) * 1000) / rate) : null;
}

/**
 * Reports a byte count at most once per interval, and only when it changed: the streaming code
 * bumps a counter per chunk and the machine hears a few times a second, never once per chunk.
 *
 * @example
 * ```ts
 * let bytes = 0;
 * const ticker = new ProgressTicker(100, () => bytes, (n, at) => actor.send({ type: 'FILE.PROGRESS', bytes: n, at }));
 * ticker.start();
 * stream.on('data', (chunk) => (bytes += chunk.length));
 * stream.on('end', () => ticker.stop());
 * ```
 */
export class ProgressTicker {
  readonly #intervalMs: number;
  readonly #read: () => number;
  readonly #report: (bytes: number, at: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #last = -1;

  constructor(intervalMs: number, read: () => number, report: (bytes: number, at: number) => void) {
    this.#intervalMs = Math.max(1, intervalMs);
    this.#read = read;
    this.#report = report;
  }

  /** Starts ticking; the count at start counts as already reported. */
  start(): void {
    this.#last = this.#read();
    this.#timer ??= setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops ticking without a last report. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const bytes = this.#read();
    if (bytes === this.#last) return;
    this.#last = bytes;
    this.#report(bytes, Date.now());
  }
}
