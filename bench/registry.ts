/**
 * Registry benchmark (issue 5): N peers join at once, from a separate process (a "swarm" of N
 * sockets that greet and register as soon as they connect), against
 * - synack's registry (registry machine, listener machine, one connection actor per link), and
 * - a raw-Node registry speaking the same protocol with the same coalescing (one decoder per
 *   socket, plain Maps, direct `socket.write`): the cost of the machines, nothing else;
 * - at the smaller size only, a raw-Node registry that broadcasts on every join, as the original
 *   does: what coalescing saves (its bytes grow with the cube of the peers, so not at N).
 *
 * Each full PEERLIST must reach every peer at least once, so the bytes of any registry grow with
 * N² (N peers × a list of N); what coalescing keeps linear is the number of lists per peer and
 * the CPU per join. Figures: time until every peer holds the full list, registry CPU per joining
 * peer, how time per peer grows from the smaller size to N, and full lists received per peer.
 * Full runs take the median of three (single runs on a loaded machine vary by 2× and more).
 */
import net from 'node:net';
import { createRegistry } from '../dist/app/registry.js';
import { DEFAULT_BACKLOG } from '../dist/transport/listen-bridge.js';
import { P2pFrameDecoder, parseGreeting, parsePeerAddress, peerListFrame, registryGreetingFrame, type PeerAddress } from '../dist/transport/p2p-frame.js';
import type { SwarmResult } from './load/registry-swarm.js';
import { absoluteRow, fmt, lowerIsBetter, startChild, type BenchOptions, type BenchRow } from './types.js';

interface Served {
  port: number;
  broadcasts: () => number;
  close: () => Promise<void>;
}

/** Runs the swarm (bench/load/registry-swarm.ts) until its peers hold the full list; `atStable` runs before they disconnect. */
async function swarm<T>(port: number, n: number, timeoutMs: number, atStable: (result: SwarmResult) => T): Promise<T> {
  const child = startChild('load/registry-swarm.ts', [String(port), String(n)]);
  try {
    return atStable(await child.next<SwarmResult & { type: 'stable' }>('stable', timeoutMs));
  } finally {
    await child.stop(5_000);
  }
}

async function serveSynack(): Promise<Served> {
  const registry = createRegistry({ port: 0 });
  const { port } = await registry.start();
  return {
    port,
    broadcasts: () => registry.actor.getSnapshot().context.stats.broadcasts,
    close: () => registry.close({ graceMs: 2_000 }),
  };
}

/**
 * The baseline: the same protocol on plain Node sockets. `coalesced` flushes lists with the
 * registry machine's rule (next flush no sooner than 4× the last one's cost); `naive` answers
 * each REGISTER and broadcasts each join at once, as the original registry does.
 */
async function serveRaw(mode: 'coalesced' | 'naive'): Promise<Served> {
  const members = new Map<string, { peer: PeerAddress; socket: net.Socket; expiresAt: number }>();
  const owed = new Set<net.Socket>();
  let changed = false;
  let timer: NodeJS.Timeout | undefined;
  let lastCostMs = 0;
  let broadcasts = 0;
  const flush = () => {
    timer = undefined;
    const started = performance.now();
    const data = peerListFrame([...members.values()].map((m) => m.peer));
    const targets = changed ? [...members.values()].map((m) => m.socket) : [...owed];
    for (const socket of targets) socket.write(data);
    if (changed) broadcasts++;
    changed = false;
    owed.clear();
    lastCostMs = performance.now() - started;
  };
  const schedule = () => {
    if (mode === 'naive') return flush();
    timer ??= setTimeout(flush, Math.min(2_000, Math.ceil(lastCostMs * 4)));
  };
  const server = net.createServer({ noDelay: true }, (socket) => {
    const decoder = new P2pFrameDecoder({ types: ['GREETING', 'REGISTER', 'PEERLIST'] });
    let greeted = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const [name, m] of members) if (m.socket === socket) members.delete(name), (changed = true);
      owed.delete(socket);
      if (changed) schedule();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          if (!greeted) {
            if (frame.type !== 'GREETING') throw new Error('first frame must be GREETING');
            parseGreeting(frame.payload);
            greeted = true;
            socket.write(registryGreetingFrame());
          } else if (frame.type === 'REGISTER') {
            const peer = parsePeerAddress(frame.payload);
            const known = members.get(peer.name);
            if (known && known.socket !== socket) throw new Error('name taken');
            if (!known) changed = true;
            members.set(peer.name, { peer, socket, expiresAt: Date.now() + 22_000 });
            owed.add(socket);
            schedule();
          }
        }
      } catch {
        socket.destroy();
      }
    });
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: DEFAULT_BACKLOG });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    broadcasts: () => broadcasts,
    close: async () => {
      if (timer) clearTimeout(timer);
      for (const m of members.values()) m.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Run extends SwarmResult {
  n: number;
  cpuUs: number;
  broadcasts: number;
  /** Full lists received per peer: bytes per peer over the size of one full list. */
  listsPerPeer: number;
}

/** Bytes of a PEERLIST of the swarm's n peers, as the swarm names them. */
function fullListBytes(n: number): number {
  const peers = Array.from({ length: n }, (_, i) => ({ name: `p${i}`, host: '127.0.0.1', port: 20_000 + i }));
  return peerListFrame(peers).length;
}

async function measure(serve: () => Promise<Served>, n: number, timeoutMs: number): Promise<Run> {
  const served = await serve();
  try {
    const cpu = process.cpuUsage();
    const greetings = n * registryGreetingFrame().length;
    return await swarm(served.port, n, timeoutMs, (result) => {
      const used = process.cpuUsage(cpu);
      return {
        ...result,
        n,
        cpuUs: used.user + used.system,
        broadcasts: served.broadcasts(),
        listsPerPeer: (result.bytes - greetings) / n / fullListBytes(n),
      };
    });
  } finally {
    await served.close();
  }
}

/** The run with the median time of `reps` (a loaded machine makes single runs noisy). */
async function median(serve: () => Promise<Served>, n: number, timeoutMs: number, reps: number): Promise<Run> {
  const runs: Run[] = [];
  for (let i = 0; i < reps; i++) runs.push(await measure(serve, n, timeoutMs));
  return runs.sort((a, b) => a.ms - b.ms)[Math.floor(reps / 2)]!;
}

/**
 * Runs the registry benchmark: 1,000 peers joining at once (100 with `quick`) and a quarter of
 * that for the growth figure.
 *
 * @example
 * ```ts
 * const rows = await benchRegistry({ quick: true });
 * console.table(rows);
 * ```
 */
export async function benchRegistry(opts: BenchOptions): Promise<BenchRow[]> {
  const n = opts.quick ? 100 : 1_000;
  const small = n / 4;
  const timeoutMs = opts.quick ? 20_000 : 60_000;
  const reps = opts.quick ? 1 : 3;
  const coalesced = () => serveRaw('coalesced');
  // Warm both paths (JIT, first sockets) before measuring.
  await measure(serveSynack, small, timeoutMs);
  await measure(coalesced, small, timeoutMs);
  const synackSmall = await median(serveSynack, small, timeoutMs, reps);
  const rawSmall = await median(coalesced, small, timeoutMs, reps);
  const synackN = await median(serveSynack, n, timeoutMs, reps);
  const rawN = await median(coalesced, n, timeoutMs, reps);
  const naiveSmall = await measure(() => serveRaw('naive'), small, timeoutMs);

  const growth = (big: Run, little: Run) => big.ms / big.n / (little.ms / little.n);
  const synackGrowth = growth(synackN, synackSmall);
  return [
    lowerIsBetter(
      `registry: ${n} peers join at once, time to a stable list`,
      synackN.ms,
      rawN.ms,
      'ms',
      8,
      `until every peer holds all ${n}; baseline: the same protocol and coalescing on plain sockets; broadcasts: synack ${synackN.broadcasts}, raw ${rawN.broadcasts}`,
    ),
    lowerIsBetter(
      `registry: ${n} peers join at once, CPU per joining peer`,
      synackN.cpuUs / n,
      rawN.cpuUs / n,
      'µs',
      6,
      'registry process only (the swarm runs in its own); most of synack\'s share is the connection actor each link gets',
    ),
    absoluteRow(
      `registry: time per peer, ${n} vs ${small} peers`,
      synackGrowth,
      growth(rawN, rawSmall),
      '×',
      '≤ 2 (synack)',
      synackGrowth <= 2,
      `growth of (time to a stable list ÷ peers) from ${small} to ${n} peers; linear work stays near 1, a broadcast per join heads for ${n / small}; ` +
        `registry CPU per peer grows ${fmt(synackN.cpuUs / n / (synackSmall.cpuUs / small))}× (raw ${fmt(rawN.cpuUs / n / (rawSmall.cpuUs / small))}×)`,
    ),
    absoluteRow(
      `registry: ${n} peers join at once, full lists received per peer`,
      synackN.listsPerPeer,
      rawN.listsPerPeer,
      'lists',
      '≤ 4 (synack)',
      synackN.listsPerPeer <= 4,
      `each peer gets a few lists of ${n} (${fullListBytes(n)} bytes each), not one per join: bytes grow as N², which no full-list protocol can beat`,
    ),
    lowerIsBetter(
      `registry: ${small} peers join at once, full lists per peer vs a broadcast per join`,
      synackSmall.listsPerPeer,
      naiveSmall.listsPerPeer,
      'lists',
      0.5,
      `baseline: raw Node broadcasting on every join as the original does (${naiveSmall.broadcasts} broadcasts, ${(naiveSmall.bytes / 1e6).toFixed(1)} MB; its bytes grow as N³, so it is not run at ${n})`,
    ),
  ];
}
