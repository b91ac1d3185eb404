/**
 * Raw-framing byte throughput, client → server: a synack Client writing to a synack Server
 * against a `net` client writing to a `net` server, same chunk size, same backpressure rule.
 * Server and client each run in their own process; the server times first byte → last byte.
 * Server and client are pinned to different cores. After one unmeasured warm-up round each,
 * rounds alternate raw and synack; the median of each is reported (loopback throughput on a shared 2-vCPU VM varies a lot run to run).
 */
import { explainMisses } from './diagnose.js';
import { fmt, higherIsBetter, median, startChild, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

const MiB = 1024 * 1024;

export async function benchThroughput({ quick }: BenchOptions): Promise<BenchRow[]> {
  const bytes = quick ? 32 * MiB : 192 * MiB;
  const rounds = quick ? 1 : 7;
  const chunkBytes = 64 * 1024;
  const modes = ['raw', 'synack'] as const;
  const children: ChildHandle[] = [];
  try {
    const pairs = Object.fromEntries(
      modes.map((mode) => {
        const server = startChild('load/throughput-server.ts', [mode], { cpu: 0 });
        const client = startChild('load/throughput-client.ts', [mode], { cpu: 1 });
        children.push(server, client);
        return [mode, { server, client }];
      }),
    ) as Record<(typeof modes)[number], { server: ChildHandle; client: ChildHandle }>;
    const ports: Record<string, number> = {};
    for (const mode of modes) {
      ports[mode] = (await pairs[mode].server.next<{ type: 'listening'; port: number }>('listening')).port;
      await pairs[mode].client.next('ready');
    }
    const go = async (mode: (typeof modes)[number]) => {
      const { server, client } = pairs[mode];
      await server.request('expect', { bytes });
      const done = server.next<{ type: 'done'; bytes: number; ms: number; cpuMs: number }>('done', 60_000);
      const sent = client.request('run', { port: ports[mode], bytes, chunkBytes }, 'sent', 60_000);
      const result = await done;
      await sent;
      return result;
    };
    if (!quick) for (const mode of modes) await go(mode); // warm up: JIT and socket buffers, unmeasured
    const rate: Record<string, number[]> = { raw: [], synack: [] };
    const cpuPerGiB: Record<string, number[]> = { raw: [], synack: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? modes : ([...modes].reverse() as unknown as typeof modes);
      for (const mode of order) {
        const result = await go(mode);
        rate[mode]!.push(result.bytes / MiB / (result.ms / 1000));
        cpuPerGiB[mode]!.push((result.cpuMs / result.bytes) * 1024 * MiB);
      }
    }
    const synack = median(rate.synack!);
    const raw = median(rate.raw!);
    const note =
      `${rounds}× ${bytes / MiB} MiB in 64 KiB writes after a warm-up round, median; server CPU per GiB: ` +
      `synack ${fmt(median(cpuPerGiB.synack!))} ms, raw ${fmt(median(cpuPerGiB.raw!))} ms`;
    return explainMisses([higherIsBetter('raw-framing throughput, client → server', synack, raw, 'MiB/s', 0.9, note)]);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
