/**
 * Causes of missed targets that a profile found, checked again on every run so that the table
 * says whether they still hold (and stops saying so once they are fixed).
 *
 * The main one (`node --cpu-prof`, every synack data path): XState's `assign` builds the next
 * context with `Object.assign({}, context, patch)`. V8 keeps an object built that way in fast
 * mode only up to 19 properties; from 20 on it becomes a dictionary-mode object, which is several
 * times slower to build and to read and leaves more garbage. The connection context had more
 * than that, so every assign on the data path paid for it: in the throughput server's profile
 * `resolveAssign` was the largest self-time entry (~45 % of the data path), followed by the
 * garbage collector. (The context now has 15 keys, and received chunks no longer go through the
 * machine at all.)
 */
import { assign, createActor, setup } from 'xstate';
import { connectionMachine } from '../dist/machines/connection.js';
import type { BenchRow } from './types.js';

/** Objects built by Object.assign({}, …) with more properties than this are dictionary-mode in V8. */
export const FAST_PROPERTY_LIMIT = 19;

/** Top-level keys of a fresh connection context. */
export function connectionContextKeys(): number {
  const actor = createActor(connectionMachine, { input: { host: '127.0.0.1', port: 1 } });
  return Object.keys(actor.getSnapshot().context).length;
}

/** ns per event of a one-state machine doing one `assign` per event on a context of `keys` keys. */
export function assignCostNs(keys: number, events = 10_000): number {
  const context: Record<string, number> = {};
  for (let i = 0; i < keys; i++) context[`k${i}`] = 0;
  const machine = setup({}).createMachine({
    context,
    on: { E: { actions: assign(({ context: c }) => ({ k0: c.k0! + 1, k1: 1 })) } },
  });
  const actor = createActor(machine).start();
  for (let i = 0; i < 2_000; i++) actor.send({ type: 'E' });
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < events; i++) actor.send({ type: 'E' });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / events);
  }
  actor.stop();
  return best;
}

export interface ContextFinding {
  keys: number;
  /** The connection context is past V8's fast-property limit. */
  slow: boolean;
  /** assign cost at the context's size and at the limit, ns per event. */
  atSize: number;
  atLimit: number;
  /** One sentence for a row note. */
  short: string;
  /** A paragraph for docs/BENCHMARKS.md. */
  long: string;
}

let cached: ContextFinding | undefined;

/** Measures (once per process) whether the connection context is in V8's slow lane. */
export function contextFinding(): ContextFinding {
  if (cached) return cached;
  const keys = connectionContextKeys();
  const atSize = assignCostNs(keys);
  const atLimit = assignCostNs(FAST_PROPERTY_LIMIT);
  const slow = keys > FAST_PROPERTY_LIMIT;
  const short = slow
    ? `profile: XState assign on the ${keys}-key connection context (V8 dictionary mode past ${FAST_PROPERTY_LIMIT} keys) dominates the synack path`
    : `connection context has ${keys} keys (fast mode)`;
  const long = slow
    ? `The connection context has ${keys} top-level keys. XState's \`assign\` copies it with ` +
      `\`Object.assign({}, context, patch)\`, and V8 turns an object built that way with more than ` +
      `${FAST_PROPERTY_LIMIT} properties into a dictionary-mode object: on this machine one assign per event ` +
      `costs ${Math.round(atSize)} ns at ${keys} keys against ${Math.round(atLimit)} ns at ${FAST_PROPERTY_LIMIT} keys ` +
      `(${(atSize / atLimit).toFixed(1)}×, measured in this run). Every SOCKET.DATA and USER.SEND of a connection ` +
      `does one; in the CPU profiles of the throughput, echo and relay servers \`resolveAssign\` is the largest ` +
      `self-time entry, with the garbage collector next. Keeping the context under ${FAST_PROPERTY_LIMIT + 1} keys ` +
      `(e.g. the fixed settings under one \`config\` key and the counters under one \`stats\` key) removes it: ` +
      `an experiment with 17 keys halved the connection's cost per event and the Server's cost per chunk.`
    : `The connection context has ${keys} top-level keys, within V8's fast-property limit ` +
      `(assign: ${Math.round(atSize)} ns per event).`;
  cached = { keys, slow, atSize, atLimit, short, long };
  return cached;
}

/** Adds the context finding to the note of every row that missed its target, while it holds. */
export function explainMisses(rows: BenchRow[]): BenchRow[] {
  let finding: ContextFinding;
  try {
    finding = contextFinding();
  } catch {
    return rows;
  }
  if (!finding.slow) return rows;
  return rows.map((row) => (row.pass ? row : { ...row, note: row.note ? `${row.note}; ${finding.short}` : finding.short }));
}
