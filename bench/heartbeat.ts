/**
 * Seed 001 heartbeats on many connections: 2,000 then 10,000 (quick: 200 then 500) clients in a
 * separate process, over 8 source addresses, send CLIENT_HEARTBEAT at a steady 5,000 a second in
 * all, going round the connections (each pings every connections ÷ rate seconds, near the seed's
 * 3 s at 10,000), so the server sees sparse single-heartbeat chunks, as in real use. Servers,
 * alone in their processes: a synack `createServer({ framing: 'qt', relay: true })`, which
 * answers heartbeats itself, and a raw `net` server decoding with the same QtFrameDecoder and
 * writing the same SERVER_HEARTBEAT_REPLY. Both get the same arrival pattern, neither is
 * saturated. Figure: the server's CPU (process.cpuUsage, user + system) over a round divided by
 * the heartbeats it answered, median of rounds alternating raw and synack. Every reply must
 * arrive and match the seed's bytes, or the row fails.
 */
import { explainMisses } from './diagnose.js';
import { childCpuMs, fmt, lowerIsBetter, median, startChild, waitForClients, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

const MODES = ['raw', 'synack'] as const;
type Mode = (typeof MODES)[number];
type Done = { type: 'done'; replies: number; expected: number; bad: number; ms: number };

/**
 * Connections, heartbeats a second (the same for both sizes, so that only the number of
 * connections changes) and round length. At 5,000/s, 10,000 connections each ping every 2 s
 * and 2,000 every 0.4 s (the seed client pings every 3 s).
 */
const PLAN = {
  full: { sizes: [2_000, 10_000], rate: 5_000, roundMs: 2_000, warmMs: 500, rounds: 3 },
  quick: { sizes: [200, 500], rate: 2_000, roundMs: 500, warmMs: 250, rounds: 1 },
};

/** How long after its last ping a round waits for the last replies. */
const ROUND_GRACE_MS = 5_000;

const pct = (share: number): string => `${Math.round(share * 100)} %`;

export async function benchHeartbeat({ quick }: BenchOptions): Promise<BenchRow[]> {
  const { sizes, rate, roundMs, warmMs, rounds } = quick ? PLAN.quick : PLAN.full;
  const children: ChildHandle[] = [];
  try {
    const servers = {} as Record<Mode, ChildHandle>;
    const loads = {} as Record<Mode, ChildHandle>;
    const ports = {} as Record<Mode, number>;
    for (const mode of MODES) {
      // Pinned: servers on core 0, load generators on core 1. One load process per server
      // keeps each under the file limit (10,000 sockets apiece).
      servers[mode] = startChild('load/heartbeat-server.ts', [mode], { cpu: 0 });
      loads[mode] = startChild('load/heartbeat-clients.ts', [], { cpu: 1 });
      children.push(servers[mode], loads[mode]);
    }
    for (const mode of MODES) {
      ports[mode] = (await servers[mode].next<{ type: 'listening'; port: number }>('listening')).port;
      await loads[mode].next('ready');
    }
    const rows: BenchRow[] = [];
    let connected = 0;
    for (const connections of sizes) {
      for (const mode of MODES) {
        const reply = await loads[mode].request<{ type: 'opened'; open: number; failed: number }>(
          'open',
          { port: ports[mode], count: connections - connected, sources: 8, inFlight: 100 },
          'opened',
          60_000,
        );
        if (reply.failed > 0 || reply.open !== connections) throw new Error(`${mode}: ${reply.open} of ${connections} connections open, ${reply.failed} failed`);
        await waitForClients(servers[mode], connections, 10_000);
      }
      connected = connections;
      const go = (mode: Mode, ms: number) => loads[mode].request<Done>('go', { rate, ms, maxMs: ms + ROUND_GRACE_MS }, 'done', ms + ROUND_GRACE_MS + 5_000);
      const perBeat: Record<Mode, number[]> = { raw: [], synack: [] };
      const missing: Record<Mode, number> = { raw: 0, synack: 0 };
      const bad: Record<Mode, number> = { raw: 0, synack: 0 };
      const check = (mode: Mode, done: Done) => {
        missing[mode] += done.expected - done.replies;
        bad[mode] += done.bad;
      };
      for (const mode of MODES) check(mode, await go(mode, warmMs));
      const busy: Record<Mode, number[]> = { raw: [], synack: [] };
      for (let round = 0; round < rounds; round++) {
        for (const mode of round % 2 === 0 ? MODES : ([...MODES].reverse() as Mode[])) {
          const before = await childCpuMs(servers[mode]);
          const done = await go(mode, roundMs);
          const after = await childCpuMs(servers[mode]);
          check(mode, done);
          busy[mode].push((after - before) / done.ms);
          if (done.replies > 0) perBeat[mode].push(((after - before) * 1000) / done.replies);
        }
      }
      const beats = Math.round((rate * roundMs) / 1000);
      const failures = MODES.flatMap((m) => [
        ...(missing[m] > 0 ? [`${m}: ${missing[m].toLocaleString('en-US')} replies missing`] : []),
        ...(bad[m] > 0 ? [`${m}: ${bad[m].toLocaleString('en-US')} bad or unexpected frames`] : []),
      ]);
      const note =
        `${rounds}× ${beats.toLocaleString('en-US')} heartbeats at ${rate.toLocaleString('en-US')}/s (each connection every ` +
        `${fmt(connections / rate)} s), median; server busy: synack ${pct(median(busy.synack))}, raw ${pct(median(busy.raw))} of a core` +
        (failures.length > 0 ? `; FAILED: ${failures.join(', ')}` : '; every reply arrived');
      const row = lowerIsBetter(`heartbeats, ${connections.toLocaleString('en-US')} connections: server CPU per heartbeat`, median(perBeat.synack), median(perBeat.raw), 'µs', 2.5, note);
      rows.push(failures.length > 0 ? { ...row, pass: false } : row);
    }
    return explainMisses(rows);
  } finally {
    // The load generators first (their exit closes every client at once), then the servers.
    for (const child of children.reverse()) await child.stop(3_000);
  }
}
