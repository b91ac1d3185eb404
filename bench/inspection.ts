/**
 * Inspection off vs on (DESIGN §5: off unless asked for, so it costs nothing by default).
 * Runs bench/load/inspection-worker.ts in its own process and reports, in ns per event:
 * - the connection machine without an inspection observer vs with one that does nothing;
 * - a synack Server's send path (two actor events per send), default vs with a no-op inspect on
 *   its Supervisor, and whether the default Server's connection actors carry an inspection
 *   observer at all.
 * Ratio is off / on: "no measurable cost" means off is no slower than on, beyond noise (3 %),
 * and a default Server attaches no observer.
 */
import { fmt, startChild, type BenchOptions, type BenchRow } from './types.js';

type Result = {
  type: 'result';
  machineOff: number;
  machineOn: number;
  spreadOff: number;
  plain: number;
  serverOff: number;
  serverOn: number;
  /** Median of each round's off / on, measured side by side. */
  serverRatio: number;
  spreadServerOff: number;
  defaultInspected: boolean;
};

const NOISE = 0.03;

export async function benchInspection({ quick }: BenchOptions): Promise<BenchRow[]> {
  const worker = startChild('load/inspection-worker.ts');
  try {
    await worker.next('ready');
    const r = await worker.request<Result>('run', { events: quick ? 5_000 : 10_000, rounds: quick ? 2 : 7 }, 'result', 120_000);
    const machineRatio = r.machineOff / r.machineOn;
    const serverRatio = r.serverRatio;
    const pct = (ratio: number) => `${ratio >= 1 ? '+' : '−'}${fmt(Math.abs(ratio - 1) * 100)} %`;
    return [
      {
        figure: 'inspection off vs on: connection machine event',
        synack: r.machineOff,
        baseline: r.machineOn,
        unit: 'ns/event',
        ratio: machineRatio,
        target: '≤ 1× (off/on)',
        pass: machineRatio <= 1 + NOISE,
        note:
          `on vs off: ${pct(r.machineOn / r.machineOff)}; SOCKET.DATA and USER.SEND alternately, no-op link; ` +
          `the same bookkeeping as a plain function: ${fmt(r.plain)} ns (actor overhead ${fmt(r.machineOff / r.plain)}×); spread of off rounds ${fmt(r.spreadOff * 100)} %`,
      },
      {
        figure: 'inspection off vs on: synack Server per send',
        synack: r.serverOff,
        baseline: r.serverOn,
        unit: 'ns/send',
        ratio: serverRatio,
        target: '≤ 1× (off/on), no observer by default',
        pass: serverRatio <= 1 + NOISE && !r.defaultInspected,
        note: r.defaultInspected
          ? `a default Server's connection actors carry an inspection observer (Supervisor.inspect is always set), so "off" already pays for inspection (on vs default: ${pct(r.serverOn / r.serverOff)})`
          : `default Server attaches no observer to its connections; on vs default: ${pct(r.serverOn / r.serverOff)}`,
      },
    ];
  } finally {
    await worker.stop();
  }
}
