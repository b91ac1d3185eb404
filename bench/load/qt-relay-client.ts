/**
 * Relay load (the same for both servers): `node --import tsx bench/load/qt-relay-client.ts`.
 * `connect {port, receivers}` opens the receivers, then the sender (plain `net`) and answers
 * `connected`; `go {frameBytes, count, windowBytes}` sends `count` type-1 frames of `frameBytes`
 * on the wire, in 64 KiB writes, never more than `windowBytes` ahead of the slowest receiver,
 * and answers `done {ms}` once every receiver has every byte; `close` closes them all.
 */
import net from 'node:net';
import { once } from 'node:events';
import { encodeQtFrame, encodeQString, QtFrameType } from '../../dist/transport/qt-frame.js';
import { serveChild } from '../types.js';

/** A type-1 text frame of exactly `bytes` on the wire (size field included), as the seed sends. */
function frameOfSize(bytes: number): Buffer {
  const overhead = 16 + 'this is text'.length * 2 + 4; // fields + description + the QString's length
  const chars = (bytes - overhead) / 2;
  if (!Number.isInteger(chars) || chars < 0) throw new Error(`no text frame is exactly ${bytes} bytes`);
  const frame = encodeQtFrame({ type: QtFrameType.TEXT, description: 'this is text', data: encodeQString('x'.repeat(chars)) });
  if (frame.length !== bytes) throw new Error(`frame is ${frame.length} bytes, wanted ${bytes}`);
  return frame;
}

let sender: net.Socket | null = null;
let receivers: { socket: net.Socket; bytes: number }[] = [];
let onProgress: (() => void) | null = null;

async function connect(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const r = { socket, bytes: 0 };
    socket.on('data', (chunk: Buffer) => {
      r.bytes += chunk.length;
      onProgress?.();
    });
    socket.on('error', () => {});
    await once(socket, 'connect');
    receivers.push(r);
  }
  sender = net.connect({ host: '127.0.0.1', port, noDelay: true });
  sender.on('error', () => {});
  sender.on('data', () => {});
  await once(sender, 'connect');
}

async function go(frameBytes: number, count: number, windowBytes: number, maxMs: number): Promise<number> {
  const frame = frameOfSize(frameBytes);
  const perBlock = Math.max(1, Math.floor(65536 / frameBytes));
  const block = Buffer.concat(new Array<Buffer>(perBlock).fill(frame));
  const total = count * frameBytes;
  for (const r of receivers) r.bytes = 0;
  const slowest = () => receivers.reduce((min, r) => Math.min(min, r.bytes), Infinity);
  let sent = 0;
  const t0 = performance.now();
  const deadline = t0 + maxMs;
  const waitProgress = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 50);
      onProgress = () => {
        clearTimeout(timer);
        onProgress = null;
        resolve();
      };
    });
  while (sent < total) {
    if (performance.now() > deadline) throw new Error(`relay run over ${maxMs} ms: sent ${sent} of ${total} bytes, slowest receiver has ${slowest()}`);
    if (sent - slowest() > windowBytes) {
      await waitProgress();
      continue;
    }
    const n = Math.min(perBlock, (total - sent) / frameBytes);
    const piece = n === perBlock ? block : block.subarray(0, n * frameBytes);
    sent += piece.length;
    if (!sender!.write(piece)) await once(sender!, 'drain');
  }
  while (slowest() < total) {
    if (performance.now() > deadline) throw new Error(`relay run over ${maxMs} ms: slowest receiver has ${slowest()} of ${total} bytes`);
    await waitProgress();
  }
  return performance.now() - t0;
}

async function close(): Promise<void> {
  const all = [...receivers.map((r) => r.socket), ...(sender ? [sender] : [])];
  for (const s of all) s.destroy();
  receivers = [];
  sender = null;
}

const send = serveChild({
  connect: async (m) => {
    await connect(m.port as number, m.receivers as number);
    send({ type: 'connected' });
  },
  go: async (m) => {
    const ms = await go(m.frameBytes as number, m.count as number, m.windowBytes as number, (m.maxMs as number) ?? 30_000);
    send({ type: 'done', ms });
  },
  close: async () => {
    await close();
    send({ type: 'closed' });
  },
}, close);
send({ type: 'ready' });
