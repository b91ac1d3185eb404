/**
 * The registry bench's swarm: `startChild('load/registry-swarm.ts', [port, n])`. Opens n sockets
 * (at most 256 connecting at a time; the server's accept queue can still overflow when it
 * accepts slower than they complete), each sending GREETING + REGISTER on connect, counts the
 * entries of every PEERLIST it gets (on the bytes, by their `;`: P2pFrameDecoder would turn
 * every 20 KB list into a string, load that would weigh on the time measured), and sends one `stable` message ({@link SwarmResult}) when
 * all n sockets hold a list of n. It closes everything on `stop`.
 */
import net from 'node:net';
import { encodeP2pFrame } from '../../dist/transport/p2p-frame.js';
import { serveChild } from '../types.js';

/** What the swarm reports once every peer holds the full list. */
export type SwarmResult = {
  /** From the first connect to the moment the last peer got a list of all n. */
  ms: number;
  /** Bytes the n peers received in that time. */
  bytes: number;
  /** PEERLIST frames they received. */
  lists: number;
};

const [port, n] = process.argv.slice(2).map(Number) as [number, number];
const SPACE = 0x20;
const SEMICOLON = 0x3b;
const sockets: net.Socket[] = [];
const send = serveChild({}, () => sockets.forEach((s) => s.destroy()));
const started = performance.now();
let stable = 0;
let bytes = 0;
let lists = 0;
let next = 0;
let connecting = 0;
let done = false;

function open(): void {
  while (connecting < 256 && next < n) {
    const i = next++;
    connecting++;
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('connect', () => {
      connecting--;
      const name = `p${i}`;
      const where = `127.0.0.1:${20_000 + i}`;
      socket.write(Buffer.concat([encodeP2pFrame('GREETING', `${name}:${where}`), encodeP2pFrame('REGISTER', `${name}@${where}`)]));
      open();
    });
    let buffer: Buffer = Buffer.alloc(0);
    let full = false;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        const a = buffer.indexOf(SPACE);
        if (a < 0) break;
        const b = buffer.indexOf(SPACE, a + 1);
        if (b < 0) break;
        const length = Number(buffer.subarray(a + 1, b).toString());
        if (buffer.length < b + 1 + length) break;
        if (buffer.subarray(0, a).toString() === 'PEERLIST') {
          lists++;
          let entries = length > 0 ? 1 : 0;
          for (let at = buffer.indexOf(SEMICOLON, b + 1); at >= 0 && at < b + 1 + length; at = buffer.indexOf(SEMICOLON, at + 1)) entries++;
          if (entries === n && !full) {
            full = true;
            stable++;
          }
        }
        buffer = buffer.subarray(b + 1 + length);
      }
      if (stable === n && !done) {
        done = true;
        const result: SwarmResult = { ms: performance.now() - started, bytes, lists };
        send({ type: 'stable', ...result });
      }
    });
  }
}
open();
