/**
 * Seed 001 clients that ping: `node --import tsx bench/load/heartbeat-clients.ts`.
 * - `open {port, count, sources, inFlight}` opens `count` more connections (at most `inFlight`
 *   connecting at once) from 127.0.0.11…127.0.0.<10 + sources>, answers `opened {open, failed}`.
 * - `go {rate, ms, maxMs}`: sends CLIENT_HEARTBEAT `rate` times a second for `ms`, going round
 *   the connections in order (so each pings every connections ÷ rate seconds, like the seed's
 *   client every 3 s); answers `done {replies, expected, bad, ms}` when every reply is in
 *   or after `maxMs`. A reply is a complete frame decoding as SERVER_HEARTBEAT_REPLY; anything
 *   else (another frame, a reply nobody waited for, a stream that does not decode) counts as bad.
 * Stopping (or the harness going away) destroys every socket.
 */
import net from 'node:net';
import { CLIENT_HEARTBEAT, decodeQtFrame, QtFrameDecoder, SERVER_HEARTBEAT_REPLY } from '../../dist/transport/qt-frame.js';
import { openClients, serveChild, type LoadCounts } from '../types.js';

const REPLY = decodeQtFrame(SERVER_HEARTBEAT_REPLY);

interface Pinger {
  socket: net.Socket;
  decoder: QtFrameDecoder;
  /** Pings sent whose reply is not in yet. */
  waiting: number;
}

const pingers: Pinger[] = [];
const counts: LoadCounts = { open: 0, closed: 0, failed: 0 };
let replies = 0;
let bad = 0;
let onReply: (() => void) | null = null;

function received(p: Pinger, chunk: Buffer): void {
  let frames;
  try {
    frames = p.decoder.push(chunk);
  } catch {
    bad++;
    p.socket.destroy();
    return;
  }
  for (const frame of frames) {
    const ok = frame.type === REPLY.type && frame.description === REPLY.description && frame.data !== null && frame.data.equals(REPLY.data!);
    if (!ok || p.waiting === 0) {
      bad++;
      continue;
    }
    p.waiting--;
    replies++;
    onReply?.();
  }
}

/**
 * One round: `rate` pings a second for `ms`, going round the connections in order (every 2 ms,
 * the pings due by then), then waits for the last replies; resolves with the counts once every
 * reply is in or `maxMs` after the start.
 */
function round(rate: number, ms: number, maxMs: number): Promise<{ replies: number; expected: number; bad: number; ms: number }> {
  replies = 0;
  bad = 0;
  const live = pingers.filter((p) => !p.socket.destroyed);
  const expected = live.length === 0 ? 0 : Math.round((rate * ms) / 1000);
  let sent = 0;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(ticker);
      clearTimeout(timer);
      onReply = null;
      resolve({ replies, expected, bad, ms: performance.now() - t0 });
    };
    const tick = () => {
      const due = Math.min(expected, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const p = live[sent % live.length]!;
        p.waiting++;
        p.socket.write(CLIENT_HEARTBEAT);
      }
      if (sent === expected) clearInterval(ticker);
    };
    const ticker = setInterval(tick, 2);
    const timer = setTimeout(finish, maxMs);
    onReply = () => {
      if (replies >= expected) finish();
    };
    if (expected === 0) return finish();
    tick();
  });
}

const send = serveChild(
  {
    open: async (m) => {
      const options = { first: 11, sources: (m.sources as number) ?? 4, inFlight: (m.inFlight as number) ?? 100 };
      await openClients(m.port as number, m.count as number, options, counts, (socket) => {
        const p: Pinger = { socket, decoder: new QtFrameDecoder(), waiting: 0 };
        pingers.push(p);
        socket.on('data', (chunk: Buffer) => received(p, chunk));
      });
      send({ type: 'opened', open: counts.open, failed: counts.failed });
    },
    go: async (m) => send({ type: 'done', ...(await round(m.rate as number, m.ms as number, m.maxMs as number)) }),
  },
  () => {
    for (const p of pingers) p.socket.destroy();
  },
);
send({ type: 'ready' });
