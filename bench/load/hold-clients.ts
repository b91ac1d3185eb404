/**
 * Opens and holds many plain `net` clients: `node --import tsx bench/load/hold-clients.ts`.
 * `open {port, count, sources, inFlight}` opens `count` more connections (at most `inFlight`
 * connecting at once), spreading them over the source addresses 127.0.0.1…127.0.0.<sources>, and
 * answers `opened {open, failed}`; `count` answers `{open, closed, failed}`; `closeAll` closes every
 * socket and answers `closedAll` once they are gone; stopping closes all.
 */
import net from 'node:net';
import { openClients, serveChild, type LoadCounts } from '../types.js';

const sockets: net.Socket[] = [];
const counts: LoadCounts = { open: 0, closed: 0, failed: 0 };

const send = serveChild(
  {
    open: async (m) => {
      const options = { first: 1, sources: (m.sources as number) ?? 4, inFlight: (m.inFlight as number) ?? 100 };
      await openClients(m.port as number, m.count as number, options, counts, (socket) => {
        sockets.push(socket);
        socket.on('data', () => {});
      });
      send({ type: 'opened', open: counts.open, failed: counts.failed });
    },
    count: () => send({ type: 'count', ...counts }),
    closeAll: async () => {
      for (const s of sockets.splice(0)) s.destroy();
      const deadline = performance.now() + 10_000;
      while (counts.open > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      send({ type: 'closedAll', open: counts.open });
    },
  },
  () => {
    for (const s of sockets) s.destroy();
  },
);
send({ type: 'ready' });
