/**
 * Echo round trip of 1 KiB, p50 and p99: a synack Server echoing through `events$` and
 * `send()` against a `net` echo server; the client (plain `net`, one round trip at a time) is the
 * same process for both. Rounds alternate servers; the median of each round's percentile is
 * reported.
 */
import { explainMisses } from './diagnose.js';
import { lowerIsBetter, median, startChild, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

type Result = { type: 'result'; p50: number; p99: number; mean: number; count: number };

export async function benchEcho({ quick }: BenchOptions): Promise<BenchRow[]> {
  const size = 1024;
  const count = quick ? 1_000 : 10_000;
  const warmup = quick ? 200 : 1_000;
  const rounds = quick ? 1 : 3;
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
    const results: Record<'raw' | 'synack', Result[]> = { raw: [], synack: [] };
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? (['raw', 'synack'] as const) : (['synack', 'raw'] as const)) {
        results[mode].push(await client.request<Result>('run', { port: ports[mode], size, count, warmup, maxMs: 30_000 }, 'result', 40_000));
      }
    }
    const pick = (mode: 'raw' | 'synack', key: 'p50' | 'p99') => median(results[mode].map((r) => r[key]));
    const n = results.synack.reduce((s, r) => s + r.count, 0);
    const note = `${rounds}× ${count.toLocaleString('en-US')} round trips of ${size} B, one at a time; median of rounds`;
    return explainMisses([
      lowerIsBetter('echo round trip p50, 1 KiB', pick('synack', 'p50'), pick('raw', 'p50'), 'µs', 1.5, note),
      lowerIsBetter('echo round trip p99, 1 KiB', pick('synack', 'p99'), pick('raw', 'p99'), 'µs', 2, `${n.toLocaleString('en-US')} synack samples`),
    ]);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
