/**
 * Answers seed 001 heartbeats: `node --import tsx bench/load/heartbeat-server.ts raw|synack`.
 * raw: a `net` server decoding each socket's stream with its own QtFrameDecoder and writing
 * SERVER_HEARTBEAT_REPLY once per CLIENT_HEARTBEAT (joined into one write per chunk, as synack
 * does). synack: `createServer({ framing: 'qt', relay: true })`, which answers heartbeats itself;
 * nothing subscribes to its events. Answers `count` with the clients held; CPU via serveChild.
 */
import net from 'node:net';
import { createServer } from '../../dist/index.js';
import { DEFAULT_BACKLOG } from '../../dist/transport/listen-bridge.js';
import { isHeartbeat, QtFrameDecoder, SERVER_HEARTBEAT_REPLY } from '../../dist/transport/qt-frame.js';
import { serveChild } from '../types.js';

const mode = process.argv[2];
let count = (): number => 0;
const send = serveChild({ count: () => send({ type: 'count', clients: count() }) });

if (mode === 'raw') {
  const sockets = new Set<net.Socket>();
  count = () => sockets.size;
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    const decoder = new QtFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      let beats = 0;
      try {
        for (const frame of decoder.push(chunk)) if (isHeartbeat(frame)) beats++;
      } catch {
        socket.destroy();
        return;
      }
      if (beats > 0) socket.write(beats === 1 ? SERVER_HEARTBEAT_REPLY : Buffer.concat(new Array<Buffer>(beats).fill(SERVER_HEARTBEAT_REPLY)));
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: DEFAULT_BACKLOG }, () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
} else if (mode === 'synack') {
  const server = createServer({ port: 0, host: '127.0.0.1', framing: 'qt', relay: true });
  count = () => server.clients.size;
  const { port } = await server.listen();
  send({ type: 'listening', port });
} else {
  throw new Error(`mode must be raw or synack, not ${mode}`);
}
