/**
 * Echo round trip of 1 KiB, p50 and p99: a synack Server echoing through `events$` and
 * `send()` against a `net` echo server; the client (plain `net`, one round trip at a time) is the
 * same process for both. Rounds alternate servers; the median of each round's percentile is a
 * trial's figure. Three trials on fresh processes; a row shows the one with the median ratio
 * ({@link medianTrial}).
 */
import { explainMisses } from './diagnose.js';
import { lowerIsBetter, median, medianTrial, startChild, trialRatios, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

type Result = { type: 'result'; p50: number; p99: number; mean: number; count: number };

export async function benchEcho({ quick }: BenchOptions): Promise<BenchRow[]> {
  const count = quick ? 1_000 : 10_000;
  const rounds = quick ? 1 : 3;
  const trials = quick ? 1 : 3;
  const results: Record<Mode, Result[]>[] = [];
  for (let trial = 0; trial < trials; trial++) results.push(await runTrial(count, quick ? 200 : 1_000, rounds));
  const pick = (key: 'p50' | 'p99') => medianTrial(results.map((r) => ({ synack: median(r.synack.map((x) => x[key])), raw: median(r.raw.map((x) => x[key])) })));
  const p50 = pick('p50');
  const p99 = pick('p99');
  const spread = (ratios: number[]) => (trials > 1 ? `; the trial with the median ratio of ${trialRatios(ratios)}` : '');
  const n = results[p99.index]!.synack.reduce((s, r) => s + r.count, 0);
  const note = `${trials} trial${trials === 1 ? '' : 's'} on fresh servers, each ${rounds}× ${count.toLocaleString('en-US')} round trips of ${SIZE} B, one at a time; median of rounds`;
  return explainMisses([
    lowerIsBetter('echo round trip p50, 1 KiB', p50.synack, p50.raw, 'µs', 1.5, note + spread(p50.ratios)),
    lowerIsBetter('echo round trip p99, 1 KiB', p99.synack, p99.raw, 'µs', 2, `${n.toLocaleString('en-US')} synack samples in that trial${spread(p99.ratios)}`),
  ]);
}

const SIZE = 1024;
type Mode = 'raw' | 'synack';

/** One trial: fresh servers and client, rounds alternating servers. */
async function runTrial(count: number, warmup: number, rounds: number): Promise<Record<Mode, Result[]>> {
  const children: ChildHandle[] = [];
  try {
    // Pinned: server on core 0, client on core 1, for both servers (where the scheduler puts a
    // ping-pong pair changes the latency by 2–3× on this VM, so placement must not vary).
    const servers = { raw: startChild('load/echo-server.ts', ['raw'], { cpu: 0 }), synack: startChild('load/echo-server.ts', ['synack'], { cpu: 0 }) };
    const client = startChild('load/echo-client.ts', [], { cpu: 1 });
    children.push(servers.raw, servers.synack, client);
    const ports = {
      raw: (await servers.raw.next<{ type: 'listening'; port: number }>('listening')).port,
      synack: (await servers.synack.next<{ type: 'listening'; port: number }>('listening')).port,
    };
    await client.next('ready');
    const results: Record<Mode, Result[]> = { raw: [], synack: [] };
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? (['raw', 'synack'] as const) : (['synack', 'raw'] as const)) {
        results[mode].push(await client.request<Result>('run', { port: ports[mode], size: SIZE, count, warmup, maxMs: 30_000 }, 'result', 40_000));
      }
    }
    return results;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
