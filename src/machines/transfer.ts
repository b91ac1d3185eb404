import type { StateValue } from 'xstate';
import type { SynackErrorInfo } from '../errors.js';
import { etaMs, nextRate, PROGRESS_INTERVAL_MS } from '../transport/file-progress.js';
import type { Endpoint } from '../transport/socket-bridge.js';

/** What the file-send and file-receive machines both know; the app and the inspector read it. */
export interface TransferContext {
  id: string;
  local: Endpoint | null;
  peer: Endpoint | null;
  /** File bytes so far (an offset into the file: a continued transfer starts above 0). */
  bytes: number;
  /** The file's size, once known. */
  total: number | null;
  /** Bytes per second, smoothed. */
  rate: number;
  etaMs: number | null;
  /** SHA-256 of the file (hex), computed while it streamed; set once done. */
  sha256: string | null;
  lastError: SynackErrorInfo | null;
  /** Where this link started in the file (0 unless it continued a partial). */
  resumedFrom: number;
  /** Bytes of the file hashed again to continue (0 when no hashing was needed). */
  rehashedBytes: number;
  progressIntervalMs: number;
  /** Last progress sample, for the rate. */
  sampleAt: number;
  sampleBytes: number;
  startedAt: number;
  finishedAt: number | null;
}

/**
 * The shared part of a transfer's first context: nothing moved yet, started now.
 *
 * @example
 * ```ts
 * context: ({ input }) => ({ ...initialTransfer(input.id ?? 'file-send', input.progressIntervalMs), host: input.host });
 * ```
 */
export function initialTransfer(id: string, progressIntervalMs: number | undefined): TransferContext {
  return {
    id,
    local: null,
    peer: null,
    bytes: 0,
    total: null,
    rate: 0,
    etaMs: null,
    sha256: null,
    lastError: null,
    resumedFrom: 0,
    rehashedBytes: 0,
    progressIntervalMs: progressIntervalMs ?? PROGRESS_INTERVAL_MS,
    sampleAt: 0,
    sampleBytes: 0,
    startedAt: Date.now(),
    finishedAt: null,
  };
}

/**
 * The context update when streaming (re)starts at `offset`, time `at`: the rate starts over.
 *
 * @example
 * ```ts
 * assign(({ event }) => ({ ...streamingFrom(event.offset, event.at), rehashedBytes: event.rehashedBytes }));
 * ```
 */
export function streamingFrom(offset: number, at: number): Pick<TransferContext, 'bytes' | 'resumedFrom' | 'sampleAt' | 'sampleBytes' | 'rate' | 'etaMs'> {
  return { bytes: offset, resumedFrom: offset, sampleAt: at, sampleBytes: offset, rate: 0, etaMs: null };
}

/**
 * The context update for a progress sample (`bytes` so far at time `at`): smoothed rate and ETA.
 *
 * @example
 * ```ts
 * assign(({ context, event }) => progressAfter(context, event.bytes, event.at));
 * ```
 */
export function progressAfter(
  context: Pick<TransferContext, 'sampleBytes' | 'sampleAt' | 'rate' | 'total'>,
  bytes: number,
  at: number,
): Pick<TransferContext, 'bytes' | 'rate' | 'sampleAt' | 'sampleBytes' | 'etaMs'> {
  const sample = nextRate({ bytes: context.sampleBytes, at: context.sampleAt, rate: context.rate }, bytes, at);
  return { bytes, rate: sample.rate, sampleAt: sample.at, sampleBytes: sample.bytes, etaMs: etaMs(context.total, bytes, sample.rate) };
}

/** The context update of a transfer that ended without completing: finished now, no ETA. */
export function finishedNow(): Pick<TransferContext, 'finishedAt' | 'etaMs'> {
  return { finishedAt: Date.now(), etaMs: null };
}

/** The state name of a file machine's snapshot value, the `LINK` nesting left out. */
export function transferStateName(value: StateValue): string {
  return typeof value === 'string' ? value : (value.LINK as string);
}

/** SHA-256 of nothing, for the machines' sample events. */
export const SAMPLE_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
