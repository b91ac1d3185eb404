/**
 * Throughput source: `node --import tsx bench/load/throughput-client.ts raw|synack`.
 * On `run {port, bytes, chunkBytes}` connects, writes `bytes` in `chunkBytes` writes honouring
 * backpressure (raw: write() false → 'drain'; synack: send() false → drained()), closes and
 * answers `sent`.
 */
import net from 'node:net';
import { once } from 'node:events';
import { createClient } from '../../dist/index.js';
import { serveChild } from '../types.js';

const mode = process.argv[2];

async function runRaw(port: number, bytes: number, chunk: Buffer): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  let sent = 0;
  while (sent < bytes) {
    const piece = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent);
    sent += piece.length;
    if (!socket.write(piece)) await once(socket, 'drain');
  }
  socket.end();
  await once(socket, 'close');
}

async function runSynack(port: number, bytes: number, chunk: Buffer): Promise<void> {
  const client = createClient({ host: '127.0.0.1', port });
  await client.connect();
  let sent = 0;
  while (sent < bytes) {
    const piece = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent);
    sent += piece.length;
    if (!client.send(piece)) await client.drained();
  }
  await client.end();
  await client.close();
}

const send = serveChild({
  run: async (m) => {
    const chunk = Buffer.alloc(m.chunkBytes as number, 0x61);
    if (mode === 'raw') await runRaw(m.port as number, m.bytes as number, chunk);
    else await runSynack(m.port as number, m.bytes as number, chunk);
    send({ type: 'sent' });
  },
});
send({ type: 'ready' });
