/**
 * Echo server: `node --import tsx bench/load/echo-server.ts raw|synack`.
 * raw: a `net` server writing back each chunk. synack: a synack Server echoing through its
 * `events$` (`data`) and `send(id, chunk)`.
 */
import net from 'node:net';
import { createServer } from '../../dist/index.js';
import { serveChild } from '../types.js';

const mode = process.argv[2];
const send = serveChild();

if (mode === 'raw') {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  server.listen({ host: '127.0.0.1', port: 0 }, () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
} else if (mode === 'synack') {
  const server = createServer({ port: 0 });
  server.events$.subscribe((e) => {
    if (e.event === 'data') server.send(e.id, e.chunk);
  });
  const { port } = await server.listen();
  send({ type: 'listening', port });
} else {
  throw new Error(`mode must be raw or synack, not ${mode}`);
}
