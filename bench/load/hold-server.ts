/**
 * Holds many clients: `node --expose-gc --import tsx bench/load/hold-server.ts raw|synack|synack-bare BATCH`.
 * raw: a `net` server keeping each socket (reading, in a Set). synack: a synack qt Server, each
 * client a connection actor with a heartbeat actor, in its client table. synack-bare: a raw
 * synack Server, each client a connection actor alone. Sends `milestone {accepted, cpuMs, at}` every
 * BATCH accepts (CPU of this process so far), answers `count` with the clients held, and `heap`
 * (heapUsed after GC) via serveChild.
 */
import net from 'node:net';
import { createServer } from '../../dist/index.js';
import { DEFAULT_BACKLOG } from '../../dist/transport/listen-bridge.js';
import { serveChild } from '../types.js';

const mode = process.argv[2];
const batch = Number(process.argv[3] ?? 1000);
let accepted = 0;
let held = 0;
let lost = 0;

function onAccepted(): void {
  accepted++;
  held++;
  if (accepted % batch === 0) {
    const u = process.cpuUsage();
    send({ type: 'milestone', accepted, cpuMs: (u.user + u.system) / 1000, at: performance.now() });
  }
}

const send = serveChild({ count: () => send({ type: 'count', held, accepted, lost }) });

if (mode === 'raw') {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    let bytesIn = 0;
    socket.on('data', (chunk: Buffer) => {
      bytesIn += chunk.length;
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      held--;
      lost++;
      void bytesIn;
    });
    onAccepted();
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: DEFAULT_BACKLOG }, () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
} else if (mode === 'synack' || mode === 'synack-bare') {
  // synack: as a chat server holds its clients (qt framing, pings answered, idle eviction), each
  // connection with a heartbeat actor of its own (long interval: none fires while measuring).
  const server = createServer({
    port: 0,
    host: '127.0.0.1',
    ...(mode === 'synack' ? { framing: 'qt', idleTimeoutMs: 600_000, connection: { heartbeat: { intervalMs: 600_000, maxMissed: 3 } } } : {}),
  });
  server.events$.subscribe((e) => {
    if (e.event === 'connected') onAccepted();
    else if (e.event === 'disconnected') {
      held--;
      lost++;
    }
  });
  const { port } = await server.listen();
  send({ type: 'listening', port });
} else {
  throw new Error(`mode must be raw, synack or synack-bare, not ${mode}`);
}
