/**
 * One end of a file transfer for bench/file-transfer.ts:
 * `node --import tsx bench/load/file-transfer-peer.ts receiver|sender raw|synack [OUT_DIR]`.
 *
 * - receiver raw: a `net` server piping each connection into `fs.createWriteStream` (the plain
 *   Node way); synack: `createFileReceiver`. Reports `done {ms, bytes, baseRss, peakRss}`
 *   from the accepted connection to the file closed (synack: saved under its final name).
 * - sender raw: `fs.createReadStream(file, 64 KiB).pipe(socket)` (64 KiB writes honouring
 *   drain); synack: `sendFile`. Reports `sent {ms, baseRss, peakRss}`.
 *
 * RSS is sampled every 20 ms while a transfer runs.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createFileReceiver, sendFile } from '../../dist/app/file-transfer.js';
import { serveChild } from '../types.js';

const [role, mode] = process.argv.slice(2);
if ((role !== 'receiver' && role !== 'sender') || (mode !== 'raw' && mode !== 'synack')) {
  throw new Error('usage: file-transfer-peer.ts receiver|sender raw|synack');
}

function rssSampler() {
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
  return () => {
    clearInterval(timer);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { baseRss, peakRss };
  };
}

const outDir = process.argv[4] ?? '.';

const send = serveChild({
  send: async (m) => {
    const stop = rssSampler();
    const started = performance.now();
    if (mode === 'synack') {
      await sendFile({ host: '127.0.0.1', port: m.port as number, path: m.file as string }).done;
    } else {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: m.port as number }, () => {
          createReadStream(m.file as string, { highWaterMark: 64 * 1024 }).pipe(socket);
        });
        socket.on('error', reject);
        socket.on('close', () => resolve());
        socket.resume();
      });
    }
    send({ type: 'sent', ms: performance.now() - started, ...stop() });
  },
});

if (role === 'receiver') {
  if (mode === 'raw') {
    const server = net.createServer((socket) => {
      const stop = rssSampler();
      const started = performance.now();
      const out = createWriteStream(path.join(outDir, 'raw.bin'));
      socket.pipe(out);
      out.on('close', () => send({ type: 'done', ms: performance.now() - started, bytes: out.bytesWritten, ...stop() }));
    });
    server.listen({ host: '127.0.0.1', port: 0 }, () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
  } else {
    const receiver = createFileReceiver({ port: 0, outDir, force: true });
    let stop: (() => { baseRss: number; peakRss: number }) | null = null;
    let started = 0;
    receiver.events$.subscribe((event) => {
      if (event.event === 'connected') {
        stop = rssSampler();
        started = performance.now();
      } else if (event.event === 'file') {
        send({ type: 'done', ms: performance.now() - started, bytes: event.bytes, sha256: event.sha256, ...stop!() });
      } else if (event.event === 'error') {
        send({ type: 'error', message: `${event.code} ${event.message}` });
      }
    });
    const { port } = await receiver.listen();
    send({ type: 'listening', port });
  }
}
