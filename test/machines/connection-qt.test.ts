import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { ClientTable, type ClientEvent } from '../../src/machines/client-table.js';
import {
  connectionMachine,
  connectionState,
  type ConnectionEvent,
  type ConnectionInput,
} from '../../src/machines/connection.js';
import {
  CLIENT_HEARTBEAT,
  decodeQtFrame,
  encodeQtFrame,
  frameText,
  QtFrameDecoder,
  SERVER_HEARTBEAT_REPLY,
  textFrame,
} from '../../src/transport/qt-frame.js';
import { Cleanup, connectRaw, eventOnce, fakeLink, firstValue, listenRaw, readBytes, waitFor } from '../helpers.js';

const vector = (name: string) => readFileSync(new URL(`../vectors/${name}`, import.meta.url));
const seedPing = vector('client_heartbeat.bin');
const seedPong = vector('server_heartbeat_reply.bin');

/** A frame header (size field) followed by `rest`. */
const frameBytes = (size: number, rest: Buffer = Buffer.alloc(0)) => {
  const header = Buffer.alloc(4);
  header.writeInt32BE(size, 0);
  return Buffer.concat([header, rest]);
};

describe('qt connection: heartbeats on the wire', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** A raw server whose accepted sockets are adopted by connection actors with `input`. */
  async function adoptingServer(input: Omit<ConnectionInput, 'socket'>) {
    const actors: ReturnType<typeof createActor<typeof connectionMachine>>[] = [];
    const { server, port, sockets } = await listenRaw((socket) => {
      const actor = createActor(connectionMachine, { input: { ...input, socket } });
      actors.push(actor);
      actor.start();
    });
    cleanup.server(server, sockets);
    cleanup.add(actors, (list) => list.forEach((a) => a.stop()));
    return { port, actors };
  }

  function dial(port: number, input: Omit<ConnectionInput, 'host' | 'port'>) {
    const actor = cleanup.actor(createActor(connectionMachine, { input: { host: '127.0.0.1', port, ...input } }));
    const beats: string[] = [];
    actor.on('heartbeat', ({ direction, missed }) => beats.push(`${direction}:${missed}`));
    actor.start();
    actor.send({ type: 'USER.CONNECT' });
    return { actor, beats };
  }

  it("answers a client's heartbeat with exactly the seed server's reply", async () => {
    const { port } = await adoptingServer({ framing: 'qt', answerHeartbeats: true });
    const client = cleanup.socket(await connectRaw(port));
    client.write(seedPing);
    expect(await readBytes(client, seedPong.length)).toEqual(seedPong);
    expect(SERVER_HEARTBEAT_REPLY).toEqual(seedPong);
  });

  it('answers every heartbeat, whether several come in one chunk or one is split across chunks', async () => {
    const { port } = await adoptingServer({ framing: 'qt', answerHeartbeats: true });
    const client = cleanup.socket(await connectRaw(port));
    const replies = readBytes(client, seedPong.length * 3);
    client.write(Buffer.concat([seedPing, seedPing, seedPing.subarray(0, 10)]));
    await eventOnce(client, 'data'); // the first two replies: the third ping is not complete yet
    client.write(seedPing.subarray(10));
    expect(await replies).toEqual(Buffer.concat([seedPong, seedPong, seedPong]));
  });

  it('answers a chunk of nothing but pings in its link: counted, idle time reset, and no event for the machine', async () => {
    const { port, actors } = await adoptingServer({ framing: 'qt', answerHeartbeats: true });
    const client = cleanup.socket(await connectRaw(port));
    client.write(seedPing);
    expect(await readBytes(client, seedPong.length)).toEqual(seedPong);
    const [actor] = actors;
    const heard: string[] = [];
    actor!.system.inspect((e) => e.type === '@xstate.event' && e.actorRef === actor && heard.push(e.event.type));
    actor!.on('heartbeat', () => heard.push('heartbeat emitted'));
    const replies = readBytes(client, seedPong.length * 2);
    client.write(Buffer.concat([seedPing, seedPing]));
    expect(await replies).toEqual(Buffer.concat([seedPong, seedPong]));
    const { stats } = actor!.getSnapshot().context;
    expect(stats).toMatchObject({ bytesIn: seedPing.length * 3, messagesIn: 3 });
    expect(Date.now() - stats.lastReceivedAt!).toBeLessThan(1_000);
    expect(heard).toEqual([]);
    client.write(encodeQtFrame(textFrame('hi')));
    await vi.waitFor(() => expect(heard).toEqual(['SOCKET.DATA']), { timeout: 2_000 });
    client.write(encodeQtFrame(textFrame('again')));
    await vi.waitFor(() => expect(stats.messagesIn).toBe(5), { timeout: 2_000 });
    expect(heard).toEqual(['SOCKET.DATA']);
  });

  it("pings with exactly the seed client's heartbeat frame", async () => {
    const { server, port, sockets } = await listenRaw();
    cleanup.server(server, sockets);
    const accepted = eventOnce(server, 'connection');
    dial(port, { framing: 'qt', heartbeat: { intervalMs: 30, maxMissed: 5 } });
    const [socket] = (await accepted) as [net.Socket];
    expect(await readBytes(socket, seedPing.length * 2)).toEqual(Buffer.concat([seedPing, seedPing]));
    expect(CLIENT_HEARTBEAT).toEqual(seedPing);
  });

  it('stays ESTABLISHED through many deadlines while the peer answers every ping', async () => {
    const { port } = await adoptingServer({ framing: 'qt', answerHeartbeats: true });
    const { actor, beats } = dial(port, { framing: 'qt', heartbeat: { intervalMs: 50, maxMissed: 2 } });
    // 10 round trips take 500 ms, more than three times the 150 ms deadline.
    await waitFor(actor, () => beats.filter((b) => b.startsWith('received')).length >= 10, 3_000, '10 pongs');
    expect(connectionState(actor.getSnapshot())).toBe('ESTABLISHED');
    expect(actor.getSnapshot().context.lastError).toBeNull();
    expect(beats.filter((b) => b.startsWith('sent')).every((b) => b === 'sent:0')).toBe(true);
  });

  it('does not take a live peer for dead when the event loop stalls: the late tick reads the pending pong first', async () => {
    // The peer runs on its own thread and answers each ping 50 ms later, while this thread is blocked.
    const worker = cleanup.add(
      new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const net = require('node:net');
         const server = net.createServer((socket) => {
           let pending = 0;
           socket.on('error', () => {});
           socket.on('data', (chunk) => {
             pending += chunk.length;
             for (; pending >= workerData.ping; pending -= workerData.ping) {
               setTimeout(() => socket.write(Buffer.from(workerData.pong)), 50);
             }
           });
         });
         server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
        { eval: true, workerData: { ping: seedPing.length, pong: new Uint8Array(seedPong) } },
      ),
      (w) => w.terminate(),
    );
    const [port] = (await eventOnce(worker, 'message')) as [number];
    const heartbeatStates: string[] = [];
    const actor = cleanup.actor(
      createActor(connectionMachine, {
        input: { host: '127.0.0.1', port, framing: 'qt', heartbeat: { intervalMs: 200, maxMissed: 1 } },
        inspect: (event) => {
          if (event.type === '@xstate.snapshot' && (event.actorRef as { id?: string }).id === 'heartbeat') {
            heartbeatStates.push(String((event.snapshot as { value?: unknown }).value));
          }
        },
      }),
    );
    let blockedMs = 0;
    actor.on('heartbeat', ({ direction }) => {
      if (direction !== 'sent' || blockedMs > 0) return;
      // Block the loop after the first ping has gone out and before its answer is read: for
      // 600 ms, well past the 400 ms deadline. The answer arrives meanwhile and waits in the socket.
      setImmediate(() => {
        const until = Date.now() + 600;
        while (Date.now() < until) blockedMs = 600;
      });
    });
    const pongs: number[] = [];
    actor.on('heartbeat', ({ direction }) => direction === 'received' && pongs.push(Date.now()));
    actor.start();
    actor.send({ type: 'USER.CONNECT' });
    await waitFor(actor, () => pongs.length >= 2, 3_000, 'two pongs after the stall');
    expect(blockedMs).toBe(600);
    expect(heartbeatStates).toContain('SETTLING');
    expect(heartbeatStates).not.toContain('DEAD');
    expect(connectionState(actor.getSnapshot())).toBe('ESTABLISHED');
  });
});

describe('qt connection: a dead peer (fake link, fake timers)', () => {
  const heartbeat = { intervalMs: 1_000, maxMissed: 2 };
  const deadline = heartbeat.intervalMs * (heartbeat.maxMissed + 1);
  const connected: ConnectionEvent = { type: 'SOCKET.CONNECTED', local: '127.0.0.1:50000', peer: '127.0.0.1:9' };
  const pong: ConnectionEvent = { type: 'SOCKET.DATA', bytes: seedPong.length, heartbeats: 1 };
  let actors: { stop(): void }[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    actors.forEach((a) => a.stop());
    actors = [];
    vi.useRealTimers();
  });

  function start(input: Omit<ConnectionInput, 'host' | 'port'>) {
    const link = fakeLink();
    const errors: unknown[] = [];
    const actor = createActor(connectionMachine.provide({ actors: { socketLink: link.logic } }), {
      input: { host: 'h', port: 9, framing: 'qt', heartbeat, ...input },
    });
    actors.push(actor);
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    actor.send({ type: 'USER.CONNECT' });
    link.emit(connected);
    return {
      actor,
      link,
      errors,
      state: () => connectionState(actor.getSnapshot()),
      context: () => actor.getSnapshot().context,
    };
  }

  it('writes the seed ping every interval and closes with E_DEAD_PEER at interval × (maxMissed + 1)', () => {
    const fake = start({});
    vi.advanceTimersByTime(deadline - 1);
    expect(fake.link.commands).toEqual([`WRITE ${seedPing.toString()}`, `WRITE ${seedPing.toString()}`]);
    expect(fake.state()).toBe('ESTABLISHED');
    vi.advanceTimersByTime(1);
    expect(fake.state()).toBe('CLOSED');
    expect(fake.context().closeReason).toBe('dead');
    expect(fake.context().lastError).toMatchObject({ code: 'E_DEAD_PEER' });
    expect(fake.context().lastError!.message).toMatch(/did not answer 2 heartbeats \(silent for 3000 ms\)/);
    expect(fake.link.stopped).toBe(1);
    expect(fake.errors).toEqual([]);
  });

  it('treats any heartbeat frame from the peer as a pong', () => {
    const fake = start({});
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(heartbeat.intervalMs);
      fake.link.emit(pong);
    }
    expect(fake.state()).toBe('ESTABLISHED');
    expect(fake.link.commands).toHaveLength(10);
  });

  it('reconnects with backoff after a dead peer, and resets the retry counter once the new link is heard', () => {
    const fake = start({ reconnect: true, retry: { attempts: 3, baseMs: 100, factor: 2, jitter: 0 } });
    vi.advanceTimersByTime(deadline);
    expect(fake.state()).toBe('RETRY_WAIT');
    expect(fake.context()).toMatchObject({ retries: 1, retryDelayMs: 100, closeReason: 'dead' });
    expect(fake.context().lastError?.code).toBe('E_DEAD_PEER');
    vi.advanceTimersByTime(99);
    expect(fake.state()).toBe('RETRY_WAIT');
    vi.advanceTimersByTime(1);
    expect(fake.state()).toBe('SYN_SENT');
    expect(fake.link.started).toBe(2);
    fake.link.emit(connected);
    expect(fake.state()).toBe('ESTABLISHED');
    vi.advanceTimersByTime(heartbeat.intervalMs);
    fake.link.emit(pong); // the new link is alive: that is the success that resets the counter
    expect(fake.context().retries).toBe(0);
    vi.advanceTimersByTime(deadline); // silent again: dead a deadline after the last pong
    expect(fake.state()).toBe('RETRY_WAIT');
    expect(fake.context()).toMatchObject({ retries: 1, retryDelayMs: 100 });
    expect(fake.errors).toEqual([]);
  });

  it('after a reconnect, takes only a heartbeat frame for a pong: other data resets the retries but reports no heartbeat', () => {
    const fake = start({ reconnect: true, retry: { attempts: 3, baseMs: 100, factor: 2, jitter: 0 } });
    const beats: string[] = [];
    fake.actor.on('heartbeat', ({ direction }) => beats.push(direction));
    vi.advanceTimersByTime(deadline);
    vi.advanceTimersByTime(100);
    fake.link.emit(connected);
    expect(fake.context().retries).toBe(1);
    const text = encodeQtFrame(textFrame('hello'));
    fake.link.emit({ type: 'SOCKET.DATA', bytes: text.length, heartbeats: 0 });
    expect(fake.context().retries).toBe(0);
    expect(beats.filter((d) => d === 'received')).toEqual([]);
    fake.link.emit(pong);
    expect(beats.filter((d) => d === 'received')).toEqual(['received']);
    expect(fake.errors).toEqual([]);
  });

  it('fails with E_DEAD_PEER when every reconnect meets a peer that never answers', () => {
    const fake = start({ reconnect: true, retry: { attempts: 2, baseMs: 100, factor: 2, jitter: 0 } });
    vi.advanceTimersByTime(deadline);
    expect(fake.context()).toMatchObject({ retries: 1, retryDelayMs: 100 });
    vi.advanceTimersByTime(100);
    fake.link.emit(connected); // TCP connects, but nothing is ever heard on the new link
    vi.advanceTimersByTime(deadline);
    expect(fake.state()).toBe('RETRY_WAIT');
    expect(fake.context()).toMatchObject({ retries: 2, retryDelayMs: 200 });
    vi.advanceTimersByTime(200);
    fake.link.emit(connected);
    vi.advanceTimersByTime(deadline);
    expect(fake.state()).toBe('FAILED');
    expect(fake.context().lastError?.code).toBe('E_DEAD_PEER');
    expect(fake.context().closeReason).toBe('dead');
    expect(fake.link.started).toBe(3);
    expect(fake.link.stopped).toBe(3);
    expect(fake.errors).toEqual([]);
  });

  it('stops pinging once the link is closed', () => {
    const fake = start({});
    vi.advanceTimersByTime(heartbeat.intervalMs);
    fake.actor.send({ type: 'USER.ABORT' });
    const written = fake.link.commands.length;
    vi.advanceTimersByTime(10 * deadline);
    expect(fake.link.commands).toHaveLength(written);
    expect(fake.state()).toBe('CLOSED');
    expect(fake.context().closeReason).toBe('aborted');
  });
});

describe('qt connection over loopback: a dead peer', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** Accepts connections; those for which `answers(n)` is false (n = 1, 2, …) never read or write. */
  async function peer(answers: (n: number) => boolean) {
    let accepted = 0;
    const listening = await listenRaw((socket) => {
      if (!answers(++accepted)) return void socket.pause();
      const decoder = new QtFrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) if (frame.type === 100) socket.write(seedPong);
      });
    });
    cleanup.server(listening.server, listening.sockets);
    return { port: listening.port, accepted: () => accepted };
  }

  it('reconnects to a peer that went silent, and counts it alive again once it answers on the new link', async () => {
    const server = await peer((n) => n > 1);
    const actor = cleanup.actor(
      createActor(connectionMachine, {
        input: {
          host: '127.0.0.1',
          port: server.port,
          framing: 'qt',
          heartbeat: { intervalMs: 50, maxMissed: 2 },
          reconnect: true,
          retry: { attempts: 2, baseMs: 20, jitter: 0 },
        },
      }),
    );
    const states: string[] = [];
    actor.subscribe((s) => states.at(-1) !== connectionState(s) && states.push(connectionState(s)));
    actor.start();
    actor.send({ type: 'USER.CONNECT' });
    const waiting = await waitFor(actor, (s) => connectionState(s) === 'RETRY_WAIT', 2_000, 'RETRY_WAIT');
    expect(waiting.context).toMatchObject({ closeReason: 'dead', retries: 1, retryDelayMs: 20 });
    expect(waiting.context.lastError?.code).toBe('E_DEAD_PEER');
    await waitFor(actor, (s) => connectionState(s) === 'ESTABLISHED' && s.context.retries === 0, 2_000, 'a heard link');
    expect(states).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'RETRY_WAIT', 'SYN_SENT', 'ESTABLISHED']);
    expect(server.accepted()).toBe(2);
  });

  it('fails with E_DEAD_PEER when the peer stays silent on every reconnect', async () => {
    const server = await peer(() => false);
    const actor = cleanup.actor(
      createActor(connectionMachine, {
        input: {
          host: '127.0.0.1',
          port: server.port,
          framing: 'qt',
          heartbeat: { intervalMs: 30, maxMissed: 2 },
          reconnect: true,
          retry: { attempts: 1, baseMs: 20, jitter: 0 },
        },
      }),
    );
    actor.start();
    actor.send({ type: 'USER.CONNECT' });
    const failed = await waitFor(actor, (s) => ['FAILED', 'CLOSED'].includes(connectionState(s)) && s.context.closedAt !== null, 3_000, 'FAILED');
    expect(connectionState(failed)).toBe('FAILED');
    expect(failed.context.lastError?.code).toBe('E_DEAD_PEER');
    expect(server.accepted()).toBe(2);
  });
});

describe('qt server side: idle clients and bad frames', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function serve(options: ConstructorParameters<typeof ClientTable>[0]) {
    const table = new ClientTable(options);
    const events: ClientEvent[] = [];
    table.events$.subscribe((e) => events.push(e));
    const { server, port, sockets } = await listenRaw((socket) => table.adopt(socket));
    cleanup.add(table, (t) => t.closeAll({ abort: true }));
    cleanup.server(server, sockets);
    const connect = async () => {
      const connected = firstValue(table.events$, (e) => e.type === 'connected', 2_000, 'connected');
      const socket = cleanup.socket(await connectRaw(port));
      const { id } = (await connected) as Extract<ClientEvent, { type: 'connected' }>;
      return { socket, id };
    };
    const disconnected = (id: string, timeoutMs = 2_000) =>
      firstValue(table.events$, (e) => e.type === 'disconnected' && e.id === id, timeoutMs, `${id} disconnected`) as Promise<
        Extract<ClientEvent, { type: 'disconnected' }>
      >;
    return { table, events, connect, disconnected };
  }

  /** Sends a heartbeat and waits for the seed reply: proof that a connection is alive and served. */
  async function roundTrip(socket: net.Socket) {
    const reply = readBytes(socket, seedPong.length);
    socket.write(seedPing);
    expect(await reply).toEqual(seedPong);
  }

  it('evicts a client silent for longer than idleTimeout with E_IDLE, and keeps one that talks', async () => {
    const { table, connect, disconnected } = await serve({ connection: { framing: 'qt', answerHeartbeats: true }, idleTimeoutMs: 150 });
    const since = Date.now(); // the silent client cannot have been heard from before this
    const silent = await connect();
    const talker = await connect();
    const evicted = disconnected(silent.id);
    const closed = eventOnce(silent.socket, 'close', 2_000);
    const talking = setInterval(() => talker.socket.write(seedPing), 40);
    cleanup.add(talking, clearInterval);
    const event = await evicted;
    const silentFor = Date.now() - since;
    await closed;
    expect(event).toMatchObject({ reason: 'idle', error: { code: 'E_IDLE' } });
    expect(event.error!.message).toMatch(/silent for \d+ ms/);
    expect(silentFor).toBeGreaterThanOrEqual(150);
    expect(silentFor).toBeLessThan(150 + 350); // one sweep (every idleTimeout / 4) after the timeout, and slack
    clearInterval(talking);
    await roundTrip(talker.socket);
    expect(table.ids()).toEqual([talker.id]);
  });

  const badFrames: { name: string; bytes: Buffer; code: string }[] = [
    // Only the size field is sent: the connection is closed before any body could be buffered.
    { name: 'a frame larger than maxFrameBytes (its size field alone)', bytes: frameBytes(0x7fffffff), code: 'E_FRAME_TOO_LARGE' },
    { name: 'a frame just over maxFrameBytes', bytes: frameBytes(1025), code: 'E_FRAME_TOO_LARGE' },
    { name: 'a negative size', bytes: frameBytes(-1), code: 'E_PROTOCOL' },
    {
      name: 'inner lengths that do not fit the size',
      bytes: frameBytes(20, Buffer.from('00000001' + '00000064' + '00000000' + '00000000' + '00000000', 'hex')),
      code: 'E_PROTOCOL',
    },
    {
      name: 'inner lengths that leave bytes over',
      bytes: frameBytes(20, Buffer.from('00000001' + '00000000' + '00000004' + '00000000' + '00000000', 'hex')),
      code: 'E_PROTOCOL',
    },
  ];

  for (const { name, bytes, code } of badFrames) {
    it(`closes only the connection that sends ${name}, with ${code}`, async () => {
      const { table, connect, disconnected } = await serve({
        connection: { framing: 'qt', answerHeartbeats: true, maxFrameBytes: 1024 },
      });
      const good = await connect();
      const bad = await connect();
      const gone = disconnected(bad.id);
      const closed = eventOnce(bad.socket, 'close', 2_000);
      bad.socket.write(bytes);
      expect(await gone).toMatchObject({ reason: 'protocol-error', error: { code } });
      await closed;
      await roundTrip(good.socket);
      expect(table.ids()).toEqual([good.id]);
    });
  }

  it('still delivers the frames that came before a bad one in the same chunk', async () => {
    const { table, connect, disconnected } = await serve({ connection: { framing: 'qt', answerHeartbeats: true }, relay: true });
    const listener = await connect();
    const sender = await connect();
    const relayed = readBytes(listener.socket, encodeQtFrame(textFrame('last words')).length);
    const gone = disconnected(sender.id);
    sender.socket.write(Buffer.concat([encodeQtFrame(textFrame('last words')), frameBytes(-5)]));
    expect((await gone).error?.code).toBe('E_PROTOCOL');
    expect(frameText(decodeQtFrame(await relayed))).toBe('last words');
    expect(table.ids()).toEqual([listener.id]);
  });
});
