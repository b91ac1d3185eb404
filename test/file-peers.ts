/**
 * Peers and fixtures for the file-transfer tests: Node peers that behave exactly like the seed
 * 002 Qt sender and receiver (their own header code, not synack's), a proxy that cuts the first
 * connection after some bytes, and folders that cannot be written or are full. Every wait is bounded.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { eventOnce, type Cleanup } from './helpers.js';

/** sha256 of a buffer or file, hex. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(typeof data === 'string' ? readFileSync(data) : data).digest('hex');
}

/** Deterministic bytes (a simple LCG), so that two calls with the same seed give the same file. */
export function patternBytes(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    if (i + 4 <= size) out.writeUInt32LE(x, i);
    else for (let j = 0; i + j < size; j++) out[i + j] = (x >>> (8 * j)) & 0xff;
  }
  return out;
}

/**
 * The header the seed 002 client builds with QDataStream: `quint64(0), quint64(0), QString
 * name`, then it seeks back and writes the total and the name size. Written here from the seed's
 * code, independently of synack's encoder.
 */
export function seedHeader(filePath: string, fileSize: number): Buffer {
  const name = filePath.slice(filePath.lastIndexOf('/') + 1);
  const qstring = Buffer.alloc(4 + name.length * 2);
  qstring.writeUInt32BE(name.length * 2, 0);
  for (let i = 0; i < name.length; i++) qstring.writeUInt16BE(name.charCodeAt(i), 4 + 2 * i);
  const block = Buffer.concat([Buffer.alloc(16), qstring]);
  block.writeBigUInt64BE(BigInt(fileSize + block.length), 0);
  block.writeBigUInt64BE(BigInt(block.length - 16), 8);
  return block;
}

/** What a Qt-like sender did. */
export interface QtSendResult {
  /** Every byte it wrote, in order. */
  wire: Buffer;
  /** Bytes it got back (only counted with `observeReplies`; the seed never reads). */
  replies: number;
}

/**
 * Sends a file the way the seed 002 client does: on `connected` it writes the header, then on
 * each `bytesWritten` (Node's write callback) the next 64 KiB, and when everything has been
 * written it closes the socket. It never reads its socket (paused from the start), so a peer
 * that wrote to it would make that close a reset. With `observeReplies` it reads and counts
 * instead, to prove a receiver sent nothing.
 */
export function qtLikeSend(options: { port: number; file: string; host?: string; observeReplies?: boolean; timeoutMs?: number }): Promise<QtSendResult> {
  const data = readFileSync(options.file);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host ?? '127.0.0.1', port: options.port });
    const written: Buffer[] = [];
    let replies = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`qtLikeSend: not finished within ${options.timeoutMs ?? 5_000} ms`));
    }, options.timeoutMs ?? 5_000);
    if (options.observeReplies) socket.on('data', (chunk: Buffer) => (replies += chunk.length));
    else socket.pause();
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('connect', () => {
      const header = seedHeader(options.file, data.length);
      const total = header.length + data.length;
      let bytesWritten = 0;
      let bytesToWrite = total;
      let offset = 0;
      const write = (block: Buffer) => {
        written.push(block);
        bytesToWrite -= block.length;
        socket.write(block, () => updateClientProgress(block.length));
      };
      const updateClientProgress = (numBytes: number) => {
        bytesWritten += numBytes;
        if (bytesToWrite > 0) {
          const block = data.subarray(offset, offset + Math.min(64 * 1024, bytesToWrite));
          offset += block.length;
          write(block);
        }
        if (bytesWritten === total) {
          socket.destroy();
          clearTimeout(timer);
          resolve({ wire: Buffer.concat(written), replies });
        }
      };
      write(header);
    });
  });
}

/** What a Qt-like receiver got. */
export interface QtReceiveResult {
  name: string;
  path: string;
  bytesReceive: number;
  totalBytes: number;
  /** Bytes it wrote to the socket: always 0, as the seed never writes. */
  wrote: number;
}

/**
 * Receives one file the way the seed 002 server does: it listens, takes the first connection and
 * stops listening, parses `totalBytes` and `nameSize` once 16 bytes are there, then the QString,
 * opens `inbox/name` (the seed opens the name relative to its working directory), writes whatever
 * arrives after, and closes the socket and the file when exactly `totalBytes` were counted. It
 * never writes to the socket. `inbox` is a new folder in `parent`; `cleanup` closes the receiver.
 */
export async function qtLikeReceiver(
  cleanup: Cleanup,
  parent: string,
): Promise<{ inbox: string; port: number; result: Promise<QtReceiveResult>; close: () => void }> {
  const dir = path.join(parent, 'inbox');
  mkdirSync(dir);
  const server = net.createServer();
  let socket: net.Socket | undefined;
  let settle!: { resolve: (r: QtReceiveResult) => void; reject: (e: Error) => void };
  const result = new Promise<QtReceiveResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => {});
  server.on('connection', (accepted) => {
    socket = accepted;
    server.close();
    let totalBytes = 0;
    let bytesReceive = 0;
    let fileNameSize = 0;
    let buffer = Buffer.alloc(0);
    let name = '';
    let fd: number | undefined;
    accepted.on('error', () => {});
    accepted.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      updateServerProgress();
    });
    const updateServerProgress = () => {
      if (bytesReceive <= 16) {
        if (buffer.length >= 16 && fileNameSize === 0) {
          totalBytes = Number(buffer.readBigInt64BE(0));
          fileNameSize = Number(buffer.readBigInt64BE(8));
          buffer = buffer.subarray(16);
          bytesReceive += 16;
        }
        if (buffer.length >= fileNameSize && fileNameSize !== 0) {
          const length = buffer.readUInt32BE(0);
          name = Buffer.from(buffer.subarray(4, 4 + length)).swap16().toString('utf16le');
          buffer = buffer.subarray(4 + length);
          bytesReceive += fileNameSize;
          fd = openSync(path.resolve(dir, name), 'w');
        } else {
          return;
        }
      }
      if (bytesReceive < totalBytes) {
        bytesReceive += buffer.length;
        writeSync(fd!, buffer);
        buffer = Buffer.alloc(0);
      }
      if (bytesReceive === totalBytes) {
        accepted.destroy();
        closeSync(fd!);
        settle.resolve({ name, path: path.resolve(dir, name), bytesReceive, totalBytes, wrote: accepted.bytesWritten });
      }
    };
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await eventOnce(server, 'listening');
  const receiver = {
    inbox: dir,
    port: (server.address() as net.AddressInfo).port,
    result,
    close: () => {
      server.close();
      socket?.destroy();
      settle.reject(new Error('qtLikeReceiver closed'));
    },
  };
  return cleanup.add(receiver, (r) => r.close());
}

/**
 * A TCP proxy in front of `targetPort` that passes half-closes on, counts the bytes it forwards
 * towards the target on each connection, and cuts its first connection (both sides) once `cutAfter` bytes went
 * through it. Later connections pass untouched.
 */
export async function cuttingProxy(
  targetPort: number,
  cutAfter: number,
): Promise<{ port: number; perConnection: number[]; cut: Promise<number>; close: () => Promise<void> }> {
  let connections = 0;
  const perConnection: number[] = [];
  let markCut!: (bytes: number) => void;
  const cut = new Promise<number>((resolve) => (markCut = resolve));
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (down) => {
    const index = connections++;
    const first = index === 0;
    perConnection.push(0);
    const up = net.connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        down.destroy();
        up.destroy();
      });
    }
    let passed = 0;
    down.on('data', (chunk: Buffer) => {
      passed += chunk.length;
      perConnection[index]! += chunk.length;
      if (first && passed >= cutAfter) {
        up.write(chunk.subarray(0, chunk.length - (passed - cutAfter)), () => {
          up.destroy();
          down.destroy();
          markCut(cutAfter);
        });
        down.pause();
        return;
      }
      if (!up.write(chunk)) {
        down.pause();
        up.once('drain', () => down.resume());
      }
    });
    up.on('data', (chunk: Buffer) => down.write(chunk));
    down.on('end', () => up.end());
    up.on('end', () => down.end());
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await eventOnce(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    perConnection,
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const isRoot = () => process.getuid?.() === 0;

function mountTmpfs(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // nothing mounted
    }
  }
}

/**
 * A folder nobody may write to: mode 0555 for an ordinary user; as root (who ignores modes) a
 * read-only tmpfs mounted on it. Throws when neither is possible.
 */
export function unwritableDir(parent: string): { dir: string; cleanup: () => void; how: string } {
  const dir = path.join(parent, 'locked');
  mkdirSync(dir);
  if (!isRoot()) {
    chmodSync(dir, 0o555);
    return { dir, how: 'mode 0555', cleanup: () => chmodSync(dir, 0o755) };
  }
  if (mountTmpfs(dir, 'ro,size=64k')) return { dir, how: 'read-only tmpfs', cleanup: () => unmount(dir) };
  throw new Error('unwritableDir: running as root and cannot mount a read-only tmpfs; run the tests as an ordinary user');
}

/**
 * A real small file system (a `sizeKiB` tmpfs) when running as root and mounting works, else
 * null: the caller then injects ENOSPC through the machine's write effect instead.
 */
export function smallDisk(parent: string, sizeKiB: number): { dir: string; cleanup: () => void } | null {
  if (!isRoot()) return null;
  const dir = path.join(parent, 'small-disk');
  mkdirSync(dir);
  return mountTmpfs(dir, `size=${sizeKiB}k`) ? { dir, cleanup: () => unmount(dir) } : null;
}
