import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/app/client.js';
import type { SynackEvent } from '../../src/app/events.js';
import { createServer, type ServerOptions } from '../../src/app/server.js';
import {
  encodeQtFrame,
  frameText,
  mediaFrame,
  QtFrameType,
  textFrame,
  type QtFrame,
} from '../../src/transport/qt-frame.js';
import { Cleanup, connectRaw, firstValue, readBytes, Waiters } from '../helpers.js';

const vector = (name: string) => readFileSync(new URL(`../vectors/${name}`, import.meta.url));
const textVector = vector('text_frame.bin');
const relayedVector = vector('relayed_text_frame.bin');
const seedPing = vector('client_heartbeat.bin');
const seedPong = vector('server_heartbeat_reply.bin');

type Message = Extract<SynackEvent, { event: 'message' }>;

/** Cuts a byte stream of whole qt frames into the bytes of each frame, by their size fields. */
function splitFrames(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let pos = 0; pos < stream.length; ) {
    const end = pos + 4 + stream.readInt32BE(pos);
    frames.push(stream.subarray(pos, end));
    pos = end;
  }
  return frames;
}

const sorted = (buffers: Buffer[]) => buffers.map((b) => b.toString('hex')).sort();

describe('qt relay server (seed 001)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function startRelay(options: Pick<ServerOptions, 'connection'> = {}) {
    const server = createServer({ port: 0, framing: 'qt', relay: true, ...options });
    const messages: Message[] = [];
    const ids = new Map<string, string>();
    server.events$.subscribe((e) => {
      if (e.event === 'message') messages.push(e);
      if (e.event === 'connected') ids.set(e.peer, e.id);
    });
    cleanup.add(server, (s) => s.close({ graceMs: 200 }));
    const { port } = await server.listen();
    /** A raw client, with its id on the server once the server has it. */
    const join = async () => {
      const socket = cleanup.socket(await connectRaw(port, { noDelay: true }));
      const peer = `127.0.0.1:${socket.localPort}`;
      if (!ids.has(peer)) await firstValue(server.events$, (e) => e.event === 'connected' && e.peer === peer, 2_000, 'connected');
      return { socket, id: ids.get(peer)! };
    };
    const nextMessage = (predicate: (m: Message) => boolean = () => true) =>
      firstValue(server.events$, (e) => e.event === 'message' && predicate(e), 2_000, 'message') as Promise<Message>;
    return { server, port, messages, join, nextMessage };
  }

  it('keeps relaying whole frames when a ping is split across chunks and its last chunk holds nothing else', async () => {
    const { join } = await startRelay();
    const [a, b] = [await join(), await join()];
    const first = encodeQtFrame(textFrame('before the ping'));
    const atB = readBytes(b.socket, first.length);
    a.socket.write(Buffer.concat([first, seedPing.subarray(0, 10)]));
    expect(await atB).toEqual(first); // the server has read that chunk
    const pong = readBytes(a.socket, seedPong.length);
    a.socket.write(seedPing.subarray(10));
    expect(await pong).toEqual(seedPong); // and this one, the rest of the ping alone
    const after = encodeQtFrame(textFrame('after the ping'));
    const again = readBytes(b.socket, after.length);
    a.socket.write(after);
    expect(await again).toEqual(after);
  });

  it('relays a text frame to every other client byte for byte as the seed server does, and never back to the sender', async () => {
    const { join, messages } = await startRelay();
    const [a, b, c] = [await join(), await join(), await join()];
    const atB = readBytes(b.socket, relayedVector.length);
    const atC = readBytes(c.socket, relayedVector.length);
    a.socket.write(textVector);
    expect(await atB).toEqual(relayedVector);
    expect(await atC).toEqual(relayedVector);
    // Had A's frame come back to A, it would be queued before B's answer: A's stream starts with B's.
    const answer = encodeQtFrame(textFrame('hi A, from B'));
    const atA = readBytes(a.socket, answer.length);
    b.socket.write(answer);
    expect(await atA).toEqual(answer);
    expect(messages.map((m) => [m.id, m.frame.type, m.frame.description, frameText(m.frame)])).toEqual([
      [a.id, 1, 'this is text', 'hello 你好'],
      [b.id, 1, 'this is text', 'hi A, from B'],
    ]);
  });

  it('answers a heartbeat to its sender only, and relays it to nobody', async () => {
    const { join, messages } = await startRelay();
    const [a, b] = [await join(), await join()];
    const pong = readBytes(a.socket, seedPong.length);
    a.socket.write(seedPing);
    expect(await pong).toEqual(seedPong);
    // B's stream starts with the text A sent after the heartbeat: the heartbeat never reached B.
    const atB = readBytes(b.socket, textVector.length);
    a.socket.write(textVector);
    expect(await atB).toEqual(relayedVector);
    expect(messages.map((m) => m.frame.type)).toEqual([QtFrameType.TEXT]);
  });

  it('never mixes frames that arrive interleaved byte by byte from many clients', async () => {
    const { join, messages, server } = await startRelay();
    const senders = [await join(), await join(), await join(), await join()];
    const listener = await join();
    const frames = senders.map((_, i) =>
      i === 3
        ? encodeQtFrame(mediaFrame(QtFrameType.IMAGE, randomBytes(300)))
        : encodeQtFrame(textFrame(`client ${i} says ${'ab'.repeat(i * 7)} 你好 🙂`)),
    );
    const total = frames.reduce((n, f) => n + f.length, 0);
    const atListener = readBytes(listener.socket, total);
    const atSenders = senders.map((s, i) => readBytes(s.socket, total - frames[i]!.length));
    const longest = Math.max(...frames.map((f) => f.length));
    const half = Math.floor(Math.min(...frames.map((f) => f.length)) / 2);
    for (let pos = 0; pos < longest; pos++) {
      for (const [i, sender] of senders.entries()) {
        const frame = frames[i]!;
        if (pos >= frame.length) continue;
        await new Promise<void>((resolve) => sender.socket.write(frame.subarray(pos, pos + 1), () => resolve()));
      }
      if (pos === half) {
        // The server now holds half a frame from every sender at once (the seed's bug case).
        const allIn = () => senders.every((s) => server.clients.get(s.id)!.getSnapshot().context.stats.bytesIn === half + 1);
        if (!allIn()) await firstValue(server.clients.events$, allIn, 2_000, `${half + 1} bytes in from every sender`);
        expect(messages).toEqual([]);
      }
    }
    expect(sorted(splitFrames(await atListener))).toEqual(sorted(frames));
    for (const [i, received] of atSenders.entries()) {
      expect(sorted(splitFrames(await received))).toEqual(sorted(frames.filter((_, j) => j !== i)));
    }
    const byId = new Map(messages.map((m) => [m.id, m.frame]));
    for (const [i, sender] of senders.entries()) {
      expect(encodeQtFrame(byId.get(sender.id)!)).toEqual(frames[i]);
    }
    expect(messages).toHaveLength(4);
    expect(server.list().map((c) => c.state)).toEqual(['ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED']);
  });

  it('drops a receiver that stops reading at its buffer limit, keeps serving the others, and counts what it relayed', async () => {
    const { join, server } = await startRelay({ connection: { maxBufferedBytes: 256 * 1024 } });
    const [a, b, c] = [await join(), await join(), await join()];
    c.socket.pause();
    const frame = encodeQtFrame(mediaFrame(QtFrameType.IMAGE, randomBytes(1024)));
    const count = 16 * 1024;
    const stream = Buffer.concat(new Array<Buffer>(count).fill(frame));
    const dropped = firstValue(server.events$, (e) => e.event === 'disconnected' && e.id === c.id, 5_000, 'the stalled receiver dropped');
    const atB = readBytes(b.socket, stream.length, 5_000);
    // Sent 100 frames at a time, each step once b has read the last: b keeps up (its queue never
    // nears the limit, however the event loop orders the reads), while c's queue only grows.
    const step = frame.length * 100; // whole frames: the relay forwards a frame once it is complete
    let atBSoFar = 0;
    const waiters = new Waiters();
    b.socket.on('data', (chunk: Buffer) => {
      atBSoFar += chunk.length;
      waiters.wake();
    });
    for (let sent = 0; sent < stream.length; sent += step) {
      a.socket.write(stream.subarray(sent, sent + step));
      const want = Math.min(stream.length, sent + step);
      await waiters.until(() => (atBSoFar >= want ? true : undefined), 5_000, () => `b to read ${want} bytes (it has ${atBSoFar})`);
    }
    expect(await dropped).toMatchObject({ reason: 'error', code: 'E_SLOW_CONSUMER' });
    expect((await atB).equals(stream)).toBe(true);
    const rows = new Map(server.list().map((row) => [row.id, row]));
    expect(rows.get(b.id)).toMatchObject({ state: 'ESTABLISHED', bytesOut: stream.length, messagesOut: count });
    expect(rows.get(a.id)).toMatchObject({ state: 'ESTABLISHED', bytesIn: stream.length, messagesIn: count, bytesOut: 0 });
    expect(rows.has(c.id)).toBe(false);
  });

  it('relays images and video frames byte for byte', async () => {
    const { join, nextMessage } = await startRelay();
    const [a, b] = [await join(), await join()];
    const image = encodeQtFrame(mediaFrame(QtFrameType.IMAGE, randomBytes(512 * 1024)));
    const video = encodeQtFrame(mediaFrame(QtFrameType.VIDEO, randomBytes(64 * 1024)));
    const atB = readBytes(b.socket, image.length + video.length, 5_000);
    const seen = nextMessage((m) => m.frame.type === QtFrameType.VIDEO);
    a.socket.write(Buffer.concat([image, video]));
    expect((await atB).equals(Buffer.concat([image, video]))).toBe(true);
    const videoMessage = await seen;
    expect(videoMessage.frame.description).toBe('this is video image');
    expect(videoMessage.frame.data).toEqual(video.subarray(video.length - 64 * 1024));
  });

  it('carries emoji, other non-BMP text and lone surrogates unchanged, in text and description', async () => {
    const { join } = await startRelay();
    const [a, b] = [await join(), await join()];
    const text = 'héllo 👋🏽 𝄞 你好 🇫🇷 \u{10FFFF}';
    // A description longer than 64 bytes takes the decoder's bulk path; lone surrogates survive too.
    const frame: QtFrame = { type: QtFrameType.TEXT, description: `📎 note \ud800 attached ${'·'.repeat(40)} \udfff end`, data: textFrame(text).data };
    const bytes = encodeQtFrame(frame);
    const atB = readBytes(b.socket, bytes.length);
    a.socket.write(bytes);
    expect(await atB).toEqual(bytes);
  });

  it('delivers relayed text to synack clients as message events, emoji intact', async () => {
    const { port } = await startRelay();
    const clients = [0, 1].map(() => {
      const client = createClient({ host: '127.0.0.1', port, framing: 'qt' });
      cleanup.add(client, (c) => c.close());
      return client;
    });
    await Promise.all(clients.map((c) => c.connect()));
    const text = 'relay 🚀 ok — 𝓤𝓷𝓲𝓬𝓸𝓭𝓮';
    const received = clients[1]!.next('message');
    clients[0]!.send(encodeQtFrame(textFrame(text)));
    const message = await received;
    expect(message.frame).toMatchObject({ type: QtFrameType.TEXT, description: 'this is text' });
    expect(frameText(message.frame)).toBe(text);
  });
});
