/**
 * Many concurrent clients against one server: 10,000 (quick: 500) plain `net` clients from a
 * second process over 4 source addresses (127.0.0.1–4), opened in batches of 1,000 (quick: 100).
 * The server runs alone in its own process (with --expose-gc) so that its heap and CPU are its
 * own. Figures, for a synack qt Server (every client a connection actor with a heartbeat actor;
 * the heap figure also for a raw synack Server, connection actors alone) and for a raw `net` server
 * holding the same sockets:
 * - all held: clients still connected, seen from both ends, after a hold period;
 * - heap per connection: heapUsed after GC with everyone connected, minus before, over N;
 * - accept cost: the server's CPU (process.cpuUsage) over the last batch of accepts divided by
 *   that over the first batch; must stay ≤ 1.5× (the 10,000th accept costs what the 10th did).
 *   One batch is opened and closed first, unmeasured, so that JIT warm-up does not make the
 *   first batch look expensive (which would flatter the ratio).
 */
import { absoluteRow, childCpuMs, fmt, sleep, startChild, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

type Milestone = { type: 'milestone'; accepted: number; cpuMs: number; at: number };
type Measure = { series: number[]; held: number; clientOpen: number; failed: number; heapPerConn: number; firstCpu: number; lastCpu: number; perAcceptUs: number; openMs: number };

async function measure(mode: 'raw' | 'synack' | 'synack-bare', total: number, batch: number, holdMs: number): Promise<Measure> {
  const children: ChildHandle[] = [];
  try {
    const server = startChild('load/hold-server.ts', [mode, String(batch)], { execArgv: ['--expose-gc'] });
    const load = startChild('load/hold-clients.ts');
    children.push(server, load);
    const { port } = await server.next<{ type: 'listening'; port: number }>('listening');
    await load.next('ready');
    // Warm-up: one batch opened and closed, unmeasured.
    await load.request('open', { port, count: batch, sources: 4, inFlight: 100 }, 'opened', 60_000);
    await server.next<Milestone>('milestone', 30_000);
    await load.request('closeAll', {}, 'closedAll', 15_000);
    const settle = performance.now() + 10_000;
    while ((await server.request<{ type: 'count'; held: number }>('count')).held > 0 && performance.now() < settle) await sleep(10);
    const before = await server.request<{ type: 'heap'; heapUsed: number }>('heap');
    const startCpuMs = await childCpuMs(server);
    const milestones: Milestone[] = [];
    const t0 = performance.now();
    for (let opened = 0; opened < total; opened += batch) {
      const n = Math.min(batch, total - opened);
      const reply = await load.request<{ type: 'opened'; open: number; failed: number }>('open', { port, count: n, sources: 4, inFlight: 100 }, 'opened', 60_000);
      if (reply.failed > 0) throw new Error(`${reply.failed} of ${opened + n} connections failed (open: ${reply.open})`);
      milestones.push(await server.next<Milestone>('milestone', 30_000));
    }
    const openMs = performance.now() - t0;
    await sleep(holdMs);
    const serverCount = await server.request<{ type: 'count'; held: number }>('count');
    const clientCount = await load.request<{ type: 'count'; open: number; failed: number }>('count');
    const after = await server.request<{ type: 'heap'; heapUsed: number }>('heap');
    const cpuAt = (i: number) => (i < 0 ? startCpuMs : milestones[i]!.cpuMs);
    const last = milestones.length - 1;
    return {
      series: milestones.map((m, i) => m.cpuMs - cpuAt(i - 1)),
      held: Math.min(serverCount.held, clientCount.open),
      clientOpen: clientCount.open,
      failed: clientCount.failed,
      heapPerConn: (after.heapUsed - before.heapUsed) / total,
      firstCpu: cpuAt(0) - cpuAt(-1),
      lastCpu: cpuAt(last) - cpuAt(last - 1),
      perAcceptUs: ((cpuAt(last) - cpuAt(-1)) / total) * 1000,
      openMs,
    };
  } finally {
    // The clients first (their process exit closes every socket at once), then the server.
    for (const child of children.reverse()) await child.stop(3_000);
  }
}

export async function benchConcurrency({ quick }: BenchOptions): Promise<BenchRow[]> {
  const total = quick ? 500 : 10_000;
  const batch = quick ? 100 : 1_000;
  const holdMs = quick ? 300 : 1_000;
  const raw = await measure('raw', total, batch, holdMs);
  const synack = await measure('synack', total, batch, holdMs);
  const bare = await measure('synack-bare', total, batch, holdMs);
  const label = `${total.toLocaleString('en-US')} concurrent clients`;
  const first = `${batch.toLocaleString('en-US')}`;
  const actorNote = 'each client a connection actor with a heartbeat actor (qt server answering pings, idle eviction)';
  return [
    absoluteRow(`${label}: all held`, synack.held, raw.held, 'clients', `= ${total.toLocaleString('en-US')}`, synack.held === total && synack.failed === 0,
      `${actorNote}; held ${holdMs} ms; opened in ${fmt(synack.openMs)} ms (raw ${fmt(raw.openMs)} ms)`),
    absoluteRow(`${label}: heap per connection`, synack.heapPerConn / 1024, raw.heapPerConn / 1024, 'KiB', '≤ 16 KiB', synack.heapPerConn / 1024 <= 16,
      `heapUsed after GC, all connected minus before, / N; server alone in its process; ` +
        `without heartbeat actors (raw framing): ${fmt(bare.heapPerConn / 1024)} KiB; ` +
        'per connection: the connection, socket-link and heartbeat actors (each with a mailbox, snapshot and closures) and the actor system an accepted connection roots'),
    absoluteRow(
      `${label}: accept CPU, last ${first} / first ${first}`,
      synack.lastCpu / synack.firstCpu,
      raw.lastCpu / raw.firstCpu,
      '×',
      '≤ 1.5× (synack last/first)',
      synack.lastCpu / synack.firstCpu <= 1.5,
      `after a warm-up batch; server CPU per batch, ms: synack ${synack.series.map(fmt).join(' ')}; raw ${raw.series.map(fmt).join(' ')}; ` +
        `per accept ${fmt(synack.perAcceptUs)} µs vs raw ${fmt(raw.perAcceptUs)} µs`,
    ),
  ];
}
