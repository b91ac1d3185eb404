/**
 * Throughput sink: `node --import tsx bench/load/throughput-server.ts raw|synack`.
 * Counts the bytes of each connection; after `expect {bytes}`, reports `done {bytes, ms, cpuMs}`
 * (first byte to the expected last byte, and the CPU this process used meanwhile).
 */
import net from 'node:net';
import { createServer } from '../../dist/index.js';
import { cpuSince, serveChild } from '../types.js';

const mode = process.argv[2];
let expected = Infinity;
let received = 0;
let firstAt = 0;
let cpu = cpuSince();

function onBytes(n: number): void {
  if (received === 0) {
    firstAt = performance.now();
    cpu = cpuSince();
  }
  received += n;
  if (received >= expected) {
    const ms = performance.now() - firstAt;
    send({ type: 'done', bytes: received, ms, cpuMs: cpu().totalMs });
    expected = Infinity;
  }
}

const send = serveChild({
  expect: (m) => {
    expected = m.bytes as number;
    received = 0;
    send({ type: 'expect' });
  },
});

if (mode === 'raw') {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('data', (chunk: Buffer) => onBytes(chunk.length));
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  server.listen({ host: '127.0.0.1', port: 0 }, () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
} else if (mode === 'synack') {
  const server = createServer({ port: 0 });
  server.events$.subscribe((e) => {
    if (e.event === 'data') onBytes(e.chunk.length);
  });
  const { port } = await server.listen();
  send({ type: 'listening', port });
} else {
  throw new Error(`mode must be raw or synack, not ${mode}`);
}
