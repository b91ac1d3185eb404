/**
 * Raw-framing byte throughput, client → server: a synack Client writing to a synack Server
 * against a `net` client writing to a `net` server, same chunk size, same backpressure rule.
 * Server and client each run in their own process; the server times first byte → last byte.
 * Server and client are pinned to different cores. After one unmeasured warm-up round each,
 * rounds alternate raw and synack; the median of each is a trial's figure. Three trials on fresh
 * processes; the row shows the one with the median ratio ({@link medianTrial}).
 */
import { explainMisses } from './diagnose.js';
import { fmt, higherIsBetter, median, medianTrial, startChild, trialRatios, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

const MiB = 1024 * 1024;

export async function benchThroughput({ quick }: BenchOptions): Promise<BenchRow[]> {
  const bytes = quick ? 32 * MiB : 192 * MiB;
  const rounds = quick ? 1 : 7;
  const trials = quick ? 1 : 3;
  const results: Trial[] = [];
  for (let trial = 0; trial < trials; trial++) results.push(await runTrial(quick, bytes, rounds));
  const middle = medianTrial(results.map((t) => ({ synack: t.synack.rate, raw: t.raw.rate })));
  const cpu = results[middle.index]!;
  const note =
    `${trials} trial${trials === 1 ? '' : 's'} on fresh processes, each ${rounds}× ${bytes / MiB} MiB in 64 KiB writes after a warm-up round, median` +
    `${trials > 1 ? `; the trial with the median ratio of ${trialRatios(middle.ratios)}` : ''}; its server CPU per GiB: ` +
    `synack ${fmt(cpu.synack.cpuPerGiB)} ms, raw ${fmt(cpu.raw.cpuPerGiB)} ms`;
  return explainMisses([higherIsBetter('raw-framing throughput, client → server', middle.synack, middle.raw, 'MiB/s', 0.9, note)]);
}

type Mode = 'raw' | 'synack';
type Trial = Record<Mode, { rate: number; cpuPerGiB: number }>;

/** One trial: fresh server and client processes for both, a warm-up round each, then alternating rounds; medians. */
async function runTrial(quick: boolean, bytes: number, rounds: number): Promise<Trial> {
  const chunkBytes = 64 * 1024;
  const modes: Mode[] = ['raw', 'synack'];
  const children: ChildHandle[] = [];
  try {
    const pairs = Object.fromEntries(
      modes.map((mode) => {
        const server = startChild('load/throughput-server.ts', [mode], { cpu: 0 });
        const client = startChild('load/throughput-client.ts', [mode], { cpu: 1 });
        children.push(server, client);
        return [mode, { server, client }];
      }),
    ) as Record<Mode, { server: ChildHandle; client: ChildHandle }>;
    const ports: Record<string, number> = {};
    for (const mode of modes) {
      ports[mode] = (await pairs[mode].server.next<{ type: 'listening'; port: number }>('listening')).port;
      await pairs[mode].client.next('ready');
    }
    const go = async (mode: Mode) => {
      const { server, client } = pairs[mode];
      await server.request('expect', { bytes });
      const done = server.next<{ type: 'done'; bytes: number; ms: number; cpuMs: number }>('done', 60_000);
      const sent = client.request('run', { port: ports[mode], bytes, chunkBytes }, 'sent', 60_000);
      const result = await done;
      await sent;
      return result;
    };
    if (!quick) for (const mode of modes) await go(mode); // warm up: JIT and socket buffers, unmeasured
    const rate: Record<Mode, number[]> = { raw: [], synack: [] };
    const cpuPerGiB: Record<Mode, number[]> = { raw: [], synack: [] };
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
        const result = await go(mode);
        rate[mode].push(result.bytes / MiB / (result.ms / 1000));
        cpuPerGiB[mode].push((result.cpuMs / result.bytes) * 1024 * MiB);
      }
    }
    return {
      raw: { rate: median(rate.raw), cpuPerGiB: median(cpuPerGiB.raw) },
      synack: { rate: median(rate.synack), cpuPerGiB: median(cpuPerGiB.synack) },
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
