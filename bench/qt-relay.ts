/**
 * Qt-frame relay, seed 001 style: one client sends type-1 frames of 64 B and 1 KiB (on the
 * wire), the server forwards them to every other client (1 and 10 receivers). synack's relay
 * (`createServer({ framing: 'qt', relay: true })`) vs a raw `net` relay that decodes with a
 * per-connection QtFrameDecoder and writes one batch per chunk to each receiver
 * (bench/load/qt-relay-core.ts). The sender stays at most a window ahead
 * of the slowest receiver (the same for both), so no queue grows without bound. Figure: messages
 * delivered per second (sent × receivers / time), median of rounds alternating raw and synack.
 */
import { explainMisses } from './diagnose.js';
import { higherIsBetter, median, startChild, waitForClients, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

const MODES = ['raw', 'synack'] as const;
type Mode = (typeof MODES)[number];

const CASES = [
  { frameBytes: 64, receivers: 1, target: 0.6 },
  { frameBytes: 64, receivers: 10, target: 0.6 },
  { frameBytes: 1024, receivers: 1, target: 0.75 },
  { frameBytes: 1024, receivers: 10, target: 0.75 },
];

/** Messages sent per run: 16 MiB of 64-B frames or 64 MiB of 1-KiB frames (quick: 4 / 8 MiB). */
function countFor(frameBytes: number, quick: boolean): number {
  const sent = (frameBytes < 1024 ? (quick ? 4 : 16) : quick ? 8 : 64) * 1024 * 1024;
  return Math.round(sent / frameBytes);
}

export async function benchQtRelay({ quick }: BenchOptions): Promise<BenchRow[]> {
  const rounds = quick ? 1 : 5;
  const windowBytes = 2 * 1024 * 1024;
  const children: ChildHandle[] = [];
  try {
    const servers = {} as Record<Mode, ChildHandle>;
    const clients = {} as Record<Mode, ChildHandle>;
    const ports = {} as Record<Mode, number>;
    for (const mode of MODES) {
      // Pinned: relay on core 0, the load (sender and receivers) on core 1.
      servers[mode] = startChild('load/qt-relay-server.ts', [mode], { cpu: 0 });
      clients[mode] = startChild('load/qt-relay-client.ts', [], { cpu: 1 });
      children.push(servers[mode], clients[mode]);
    }
    for (const mode of MODES) {
      ports[mode] = (await servers[mode].next<{ type: 'listening'; port: number }>('listening')).port;
      await clients[mode].next('ready');
    }
    const rows: BenchRow[] = [];
    for (const c of CASES) {
      const count = countFor(c.frameBytes, quick);
      for (const mode of MODES) {
        await clients[mode].request('connect', { port: ports[mode], receivers: c.receivers }, 'connected');
        await waitForClients(servers[mode], c.receivers + 1, 5_000);
      }
      const go = (mode: Mode, n: number) =>
        clients[mode].request<{ type: 'done'; ms: number }>('go', { frameBytes: c.frameBytes, count: n, windowBytes, maxMs: 30_000 }, 'done', 35_000);
      // Warm up: rates climb for several rounds on both sides (JIT, heap sizing, TCP autotuning).
      if (!quick) for (let i = 0; i < 4; i++) for (const mode of MODES) await go(mode, count);
      const rate: Record<Mode, number[]> = { raw: [], synack: [] };
      for (let round = 0; round < rounds; round++) {
        for (const mode of round % 2 === 0 ? MODES : ([...MODES].reverse() as Mode[])) {
          const { ms } = await go(mode, count);
          rate[mode].push((count * c.receivers) / ms); // messages per ms = k msg/s
        }
      }
      for (const mode of MODES) {
        await clients[mode].request('close', {}, 'closed');
        await waitForClients(servers[mode], 0, 5_000);
      }
      const size = c.frameBytes === 1024 ? '1 KiB' : `${c.frameBytes} B`;
      rows.push(
        higherIsBetter(
          `qt relay ${size} → ${c.receivers} receiver${c.receivers === 1 ? '' : 's'}`,
          median(rate.synack),
          median(rate.raw),
          'k msg/s',
          c.target,
          `createServer({ framing: 'qt', relay: true }) with an events$ subscriber; ${rounds}× ${count.toLocaleString('en-US')} msgs after 4 warm-up rounds, median`,
        ),
      );
    }
    return explainMisses(rows);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
