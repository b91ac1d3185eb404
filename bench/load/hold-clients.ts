/**
 * Opens and holds many plain `net` clients: `node --import tsx bench/load/hold-clients.ts`.
 * `open {port, count, sources, inFlight}` opens `count` more connections (at most `inFlight`
 * connecting at once), spreading them over the source addresses 127.0.0.1…127.0.0.<sources>, and
 * answers `opened {open, failed}`; `count` answers `{open, closed, failed}`; `closeAll` closes every
 * socket and answers `closedAll` once they are gone; stopping closes all.
 */
import net from 'node:net';
import { serveChild } from '../types.js';

const sockets: net.Socket[] = [];
let open = 0;
let closed = 0;
let failed = 0;
let next = 0;

function connectOne(port: number, sources: number): Promise<void> {
  return new Promise((resolve) => {
    const localAddress = `127.0.0.${1 + (next++ % sources)}`;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true });
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      open++;
      sockets.push(socket);
      resolve();
    });
    socket.on('error', () => {
      if (!connected) {
        failed++;
        resolve();
      }
    });
    socket.on('close', () => {
      if (connected) {
        open--;
        closed++;
      }
    });
    socket.on('data', () => {});
  });
}

async function openMany(port: number, count: number, sources: number, inFlight: number): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await connectOne(port, sources);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
}

const send = serveChild(
  {
    open: async (m) => {
      await openMany(m.port as number, m.count as number, (m.sources as number) ?? 4, (m.inFlight as number) ?? 100);
      send({ type: 'opened', open, failed });
    },
    count: () => send({ type: 'count', open, closed, failed }),
    closeAll: async () => {
      for (const s of sockets.splice(0)) s.destroy();
      const deadline = performance.now() + 10_000;
      while (open > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      send({ type: 'closedAll', open });
    },
  },
  () => {
    for (const s of sockets) s.destroy();
  },
);
send({ type: 'ready' });
