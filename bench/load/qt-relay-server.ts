/**
 * Qt-frame relay: `node --import tsx bench/load/qt-relay-server.ts raw|synack`.
 * raw: plain `net` sockets in a Set, each chunk decoded per connection (RelayFramer) and the
 * batch of relayed frames written once to every other client. synack: the library's own relay,
 * `createServer({ framing: 'qt', relay: true })`, with an `events$` subscriber as a user has
 * (so message events are built too). Answers `count` with the clients it holds.
 */
import net from 'node:net';
import { createServer } from '../../dist/index.js';
import { serveChild } from '../types.js';
import { RelayFramer } from './qt-relay-core.js';

const mode = process.argv[2];
let clients = 0;
const send = serveChild({ count: () => send({ type: 'count', clients }) });

if (mode === 'raw') {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    clients = sockets.size;
    const framer = new RelayFramer();
    socket.on('data', (chunk: Buffer) => {
      let out: Buffer | null;
      try {
        out = framer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      if (out) for (const other of sockets) if (other !== socket) other.write(out);
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      clients = sockets.size;
    });
  });
  server.listen({ host: '127.0.0.1', port: 0 }, () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
} else if (mode === 'synack') {
  const server = createServer({ port: 0, framing: 'qt', relay: true });
  server.events$.subscribe((e) => {
    if (e.event === 'connected' || e.event === 'disconnected') clients = server.clients.size;
  });
  const { port } = await server.listen();
  send({ type: 'listening', port });
} else {
  throw new Error(`mode must be raw or synack, not ${mode}`);
}
