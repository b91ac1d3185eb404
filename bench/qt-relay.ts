/**
 * Qt-frame relay, seed 001 style: one client sends type-1 frames of 64 B and 1 KiB (on the
 * wire), the server forwards them to every other client (1 and 10 receivers). synack's relay
 * (`createServer({ framing: 'qt', relay: true })`) vs a raw `net` relay that decodes with a
 * per-connection QtFrameDecoder and writes one batch per chunk to each receiver
 * (bench/load/qt-relay-core.ts). The sender stays at most a window ahead
 * of the slowest receiver (the same for both), so no queue grows without bound. Figure: messages
 * delivered per second (sent × receivers / time), median of rounds alternating raw and synack.
 *
 * Three trials, each on fresh server processes running the four cases in order; a row shows the
 * trial with the median ratio and lists every trial's ({@link medianTrial}: a server process
 * settles into a GC regime, how large V8 grows the young generation and which allocation sites it
 * pretenures, and keeps it). The row also gives each server's full GCs per second in that trial:
 * a process whose young generation has grown to its maximum can run several a second with a
 * nearly empty old generation (raw as well as synack), and that, more than either relay's code,
 * is what moves a trial's ratio by ±20 %.
 */
import { explainMisses } from './diagnose.js';
import { fmt, higherIsBetter, median, medianTrial, startChild, trialRatios, waitForClients, type BenchOptions, type BenchRow, type ChildHandle, type GcCounts } from './types.js';

const MODES = ['raw', 'synack'] as const;
type Mode = (typeof MODES)[number];
/** One case in one trial: each round's rate, and each server's full GCs per second of its rounds. */
type CaseResult = { rate: Record<Mode, number[]>; fullGcPerS: Record<Mode, number> };

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
  const trials = quick ? 1 : 3;
  const rounds = quick ? 1 : 5;
  const warmups = quick ? 0 : 4;
  const results: CaseResult[][] = [];
  for (let trial = 0; trial < trials; trial++) results.push(await runTrial(quick, rounds, warmups));
  const rows = CASES.map((c, i) => {
    const middle = medianTrial(results.map((trial) => ({ synack: median(trial[i]!.rate.synack), raw: median(trial[i]!.rate.raw) })));
    const gc = results[middle.index]![i]!.fullGcPerS;
    const size = c.frameBytes === 1024 ? '1 KiB' : `${c.frameBytes} B`;
    const count = countFor(c.frameBytes, quick).toLocaleString('en-US');
    const spread = trials > 1 ? `; the trial with the median ratio of ${trialRatios(middle.ratios)}` : '';
    return higherIsBetter(
      `qt relay ${size} → ${c.receivers} receiver${c.receivers === 1 ? '' : 's'}`,
      middle.synack,
      middle.raw,
      'k msg/s',
      c.target,
      `createServer({ framing: 'qt', relay: true }) with an events$ subscriber; ${trials} trial${trials === 1 ? '' : 's'} on fresh processes, each ${rounds}× ${count} msgs after ${warmups} warm-up rounds, median${spread}; full GCs per second in it: synack ${fmt(gc.synack)}, raw ${fmt(gc.raw)}`,
    );
  });
  return explainMisses(rows);
}

/** One trial: fresh raw and synack servers and loads, every case in order. */
async function runTrial(quick: boolean, rounds: number, warmups: number): Promise<CaseResult[]> {
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
    const perCase: CaseResult[] = [];
    const gcCounts = () => Promise.all(MODES.map((mode) => servers[mode].request<GcCounts & { type: 'gc' }>('gc', {}, 'gc')));
    for (const c of CASES) {
      const count = countFor(c.frameBytes, quick);
      for (const mode of MODES) {
        await clients[mode].request('connect', { port: ports[mode], receivers: c.receivers }, 'connected');
        await waitForClients(servers[mode], c.receivers + 1, 5_000);
      }
      const go = (mode: Mode) =>
        clients[mode].request<{ type: 'done'; ms: number }>('go', { frameBytes: c.frameBytes, count, windowBytes, maxMs: 30_000 }, 'done', 35_000);
      // Warm up: rates climb for several rounds on both sides (JIT, heap sizing, TCP autotuning).
      for (let i = 0; i < warmups; i++) for (const mode of MODES) await go(mode);
      const rate: Record<Mode, number[]> = { raw: [], synack: [] };
      const busyMs: Record<Mode, number> = { raw: 0, synack: 0 };
      const before = await gcCounts();
      for (let round = 0; round < rounds; round++) {
        for (const mode of round % 2 === 0 ? MODES : ([...MODES].reverse() as Mode[])) {
          const { ms } = await go(mode);
          rate[mode].push((count * c.receivers) / ms); // messages per ms = k msg/s
          busyMs[mode] += ms;
        }
      }
      const after = await gcCounts();
      const fullGcPerS = { raw: 0, synack: 0 };
      MODES.forEach((mode, m) => (fullGcPerS[mode] = ((after[m]!.full - before[m]!.full) * 1000) / busyMs[mode]));
      for (const mode of MODES) {
        await clients[mode].request('close', {}, 'closed');
        await waitForClients(servers[mode], 0, 5_000);
      }
      perCase.push({ rate, fullGcPerS });
    }
    return perCase;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}
