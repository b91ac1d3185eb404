import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import type { SynackErrorInfo } from '../../src/errors.js';
import {
  connectionMachine,
  connectionSampleEvents,
  connectionState,
  type ConnectionEvent,
  type ConnectionInput,
  type ConnectionStateName,
} from '../../src/machines/connection.js';
import { SERVER_HEARTBEAT_REPLY } from '../../src/transport/qt-frame.js';
import { exploreModel, formatCoverage } from '../../src/testing/graph.js';
import { Cleanup, eventOnce, fakeLink, freePort, listenRaw, readAll, readBytes, waitFor, Waiters } from '../helpers.js';

const refused: ConnectionEvent = {
  type: 'SOCKET.ERROR',
  error: { code: 'E_CONN_REFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9', errno: 'ECONNREFUSED' },
};
const reset: ConnectionEvent = { type: 'SOCKET.ERROR', error: { code: 'E_CONN_RESET', message: 'read ECONNRESET', errno: 'ECONNRESET' } };
const connected: ConnectionEvent = { type: 'SOCKET.CONNECTED', local: '127.0.0.1:50000', peer: '127.0.0.1:9' };
const closedWithError: ConnectionEvent = { type: 'SOCKET.CLOSED', hadError: true };
const closed: ConnectionEvent = { type: 'SOCKET.CLOSED', hadError: false };
const send = (text: string): ConnectionEvent => ({ type: 'USER.SEND', data: Buffer.from(text) });

/** A connection whose socket is a {@link fakeLink}; `states` lists every state entered, microstep by microstep. */
function startFake(input: ConnectionInput) {
  const link = fakeLink();
  const states: ConnectionStateName[] = [];
  const errors: unknown[] = [];
  let root: unknown;
  const actor = createActor(connectionMachine.provide({ actors: { socketLink: link.logic } }), {
    input,
    inspect: (event) => {
      if (event.type !== '@xstate.microstep' || (root !== undefined && event.actorRef !== root)) return;
      const state = connectionState(event.snapshot as never);
      if (states[states.length - 1] !== state) states.push(state);
    },
  });
  root = actor;
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  return {
    actor,
    link,
    states,
    errors,
    state: () => connectionState(actor.getSnapshot()),
    context: () => actor.getSnapshot().context,
  };
}

type Fake = ReturnType<typeof startFake>;

function establish(fake: Fake): void {
  fake.actor.send({ type: 'USER.CONNECT' });
  fake.link.emit(connected);
  expect(fake.state()).toBe('ESTABLISHED');
}

describe('connection', () => {
  let fakes: Fake[] = [];
  const start = (input: ConnectionInput) => {
    const fake = startFake(input);
    fakes.push(fake);
    return fake;
  };

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    for (const fake of fakes) {
      // No machine may crash: errors are events and context, never exceptions.
      expect(fake.errors).toEqual([]);
      fake.actor.stop();
    }
    fakes = [];
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  describe('dialling', () => {
    it('is CLOSED until asked to connect, then dials the host and port', () => {
      const fake = start({ host: '127.0.0.1', port: 9 });
      expect(fake.state()).toBe('CLOSED');
      expect(fake.link.started).toBe(0);
      fake.actor.send({ type: 'USER.CONNECT' });
      expect(fake.state()).toBe('SYN_SENT');
      expect(fake.link.inputs).toEqual([
        {
          host: '127.0.0.1',
          port: 9,
          socket: undefined,
          maxBufferedBytes: 8 * 1024 * 1024,
          framing: 'raw',
          maxFrameBytes: 64 * 1024 * 1024,
          answerHeartbeats: false,
          awaitsPongs: false,
          stats: fake.context().stats,
        },
      ]);
    });

    it('is ESTABLISHED once the socket connects, with both endpoints recorded', () => {
      const fake = start({ host: '127.0.0.1', port: 9 });
      establish(fake);
      expect(fake.context()).toMatchObject({ local: '127.0.0.1:50000', peer: '127.0.0.1:9', retries: 0, lastError: null, writable: true });
      expect(fake.context().establishedAt).not.toBeNull();
    });

    it('writes what it is asked to send, counting bytes and messages (its link counts what comes in)', () => {
      const fake = start({ host: '127.0.0.1', port: 9 });
      establish(fake);
      fake.actor.send(send('hello'));
      fake.actor.send(send('again'));
      fake.link.emit({ type: 'SOCKET.DATA', bytes: 6, heartbeats: 0 });
      expect(fake.link.commands).toEqual(['WRITE hello', 'WRITE again']);
      expect(fake.context().stats).toMatchObject({ bytesOut: 10, messagesOut: 2, bytesIn: 0, messagesIn: 0 });
    });

    it('fails with E_CONN_REFUSED when the peer refuses and no retries are asked for', () => {
      const fake = start({ host: '127.0.0.1', port: 9 });
      fake.actor.send({ type: 'USER.CONNECT' });
      fake.link.emit(refused);
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('FAILED');
      expect(fake.context().lastError?.code).toBe('E_CONN_REFUSED');
      expect(fake.context().closedAt).not.toBeNull();
      expect(fake.link.stopped).toBe(1);
      vi.advanceTimersByTime(60_000);
      expect(fake.link.started).toBe(1);
    });

    it('retries with backoff when the peer refuses, then fails with E_CONN_REFUSED', () => {
      const retry = { attempts: 3, baseMs: 100, factor: 2, maxMs: 1_000, jitter: 0.2 };
      const fake = start({ host: '127.0.0.1', port: 9, retry });
      fake.actor.send({ type: 'USER.CONNECT' });
      for (let attempt = 1; attempt <= retry.attempts; attempt++) {
        expect(fake.state()).toBe('SYN_SENT');
        fake.link.emit(refused);
        fake.link.emit(closedWithError);
        expect(fake.state()).toBe('RETRY_WAIT');
        const { retries, retryDelayMs } = fake.context();
        const raw = retry.baseMs * retry.factor ** (attempt - 1);
        expect(retries).toBe(attempt);
        expect(retryDelayMs).toBeGreaterThanOrEqual(raw * (1 - retry.jitter));
        expect(retryDelayMs).toBeLessThanOrEqual(raw * (1 + retry.jitter));
        vi.advanceTimersByTime(retryDelayMs - 1);
        expect(fake.state()).toBe('RETRY_WAIT');
        expect(fake.link.started).toBe(attempt);
        vi.advanceTimersByTime(1);
        expect(fake.state()).toBe('SYN_SENT');
        expect(fake.link.started).toBe(attempt + 1);
      }
      fake.link.emit(refused);
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('FAILED');
      expect(fake.context()).toMatchObject({ retries: 3, lastError: { code: 'E_CONN_REFUSED' } });
      expect(fake.link.stopped).toBe(4);
    });

    it('spreads retry delays with jitter, using the random source', () => {
      const retry = { attempts: 2, baseMs: 1_000, factor: 2, maxMs: 10_000, jitter: 0.25 };
      const random = vi.spyOn(Math, 'random').mockReturnValue(0);
      const low = start({ host: 'h', port: 1, retry });
      low.actor.send({ type: 'USER.CONNECT' });
      low.link.emit(closedWithError);
      expect(low.context().retryDelayMs).toBe(750);
      random.mockReturnValue(0.999_999);
      const high = start({ host: 'h', port: 1, retry });
      high.actor.send({ type: 'USER.CONNECT' });
      high.link.emit(closedWithError);
      expect(high.context().retryDelayMs).toBe(1_250);
    });

    it('never waits longer than the cap, whatever the jitter', () => {
      vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
      const retry = { attempts: 8, baseMs: 100, factor: 2, maxMs: 500, jitter: 0.2 };
      const fake = start({ host: 'h', port: 1, retry });
      fake.actor.send({ type: 'USER.CONNECT' });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= retry.attempts; attempt++) {
        fake.link.emit(closedWithError);
        delays.push(fake.context().retryDelayMs);
        vi.advanceTimersByTime(fake.context().retryDelayMs);
      }
      expect(delays).toEqual([120, 240, 480, 500, 500, 500, 500, 500]);
    });

    it('resets the retry counter after a successful connect', () => {
      const retry = { attempts: 3, baseMs: 100, factor: 2, maxMs: 1_000, jitter: 0.2 };
      const fake = start({ host: 'h', port: 1, retry, reconnect: true });
      fake.actor.send({ type: 'USER.CONNECT' });
      for (let i = 0; i < 2; i++) {
        fake.link.emit(refused);
        fake.link.emit(closedWithError);
        vi.advanceTimersByTime(fake.context().retryDelayMs);
      }
      expect(fake.context().retries).toBe(2);
      fake.link.emit(connected);
      expect(fake.state()).toBe('ESTABLISHED');
      expect(fake.context()).toMatchObject({ retries: 0, lastError: null });
      // A later loss starts the backoff over from the first delay.
      fake.link.emit(closed);
      expect(fake.state()).toBe('RETRY_WAIT');
      expect(fake.context().retries).toBe(1);
      expect(fake.context().retryDelayMs).toBeGreaterThanOrEqual(80);
      expect(fake.context().retryDelayMs).toBeLessThanOrEqual(120);
    });

    it('gives up a connect attempt after connectTimeout with E_TIMEOUT', () => {
      const fake = start({ host: '10.255.255.1', port: 9, connectTimeoutMs: 1_000 });
      fake.actor.send({ type: 'USER.CONNECT' });
      vi.advanceTimersByTime(999);
      expect(fake.state()).toBe('SYN_SENT');
      vi.advanceTimersByTime(1);
      expect(fake.state()).toBe('FAILED');
      expect(fake.context()).toMatchObject({ closeReason: 'timeout', lastError: { code: 'E_TIMEOUT' } });
      expect(fake.link.stopped).toBe(1);
    });

    it('retries after a connect timeout while retries are left', () => {
      const fake = start({ host: 'h', port: 1, connectTimeoutMs: 1_000, retry: { attempts: 1, baseMs: 100, jitter: 0 } });
      fake.actor.send({ type: 'USER.CONNECT' });
      vi.advanceTimersByTime(1_000);
      expect(fake.state()).toBe('RETRY_WAIT');
      vi.advanceTimersByTime(100);
      expect(fake.state()).toBe('SYN_SENT');
      expect(fake.link.started).toBe(2);
      vi.advanceTimersByTime(1_000);
      expect(fake.state()).toBe('FAILED');
      expect(fake.context().lastError?.code).toBe('E_TIMEOUT');
    });

    it('stops dialling when closed while the connect is in progress', () => {
      const fake = start({ host: 'h', port: 1, connectTimeoutMs: 1_000 });
      fake.actor.send({ type: 'USER.CONNECT' });
      fake.actor.send({ type: 'USER.CLOSE' });
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context().closeReason).toBe('closed');
      expect(fake.link.stopped).toBe(1);
      vi.advanceTimersByTime(5_000);
      expect(fake.state()).toBe('CLOSED');
    });

    it('dials at once on USER.CONNECT while waiting to retry, and gives up on USER.CLOSE', () => {
      const fake = start({ host: 'h', port: 1, retry: { attempts: 5, baseMs: 10_000, jitter: 0 } });
      fake.actor.send({ type: 'USER.CONNECT' });
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('RETRY_WAIT');
      fake.actor.send({ type: 'USER.CONNECT' });
      expect(fake.state()).toBe('SYN_SENT');
      expect(fake.link.started).toBe(2);
      fake.link.emit(closedWithError);
      fake.actor.send({ type: 'USER.CLOSE' });
      expect(fake.state()).toBe('CLOSED');
      vi.advanceTimersByTime(60_000);
      expect(fake.link.started).toBe(2);
    });

    it('starts over with a fresh retry budget when asked to connect after FAILED', () => {
      const fake = start({ host: 'h', port: 1, retry: { attempts: 1, baseMs: 10, jitter: 0 } });
      fake.actor.send({ type: 'USER.CONNECT' });
      fake.link.emit(closedWithError);
      vi.advanceTimersByTime(10);
      fake.link.emit(refused);
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('FAILED');
      fake.actor.send({ type: 'USER.CONNECT' });
      expect(fake.state()).toBe('SYN_SENT');
      expect(fake.context()).toMatchObject({ retries: 0, lastError: null });
    });
  });

  describe('closing', () => {
    it('closes locally through FIN_WAIT, still reading, until the peer closes too', () => {
      const fake = start({ host: 'h', port: 1 });
      establish(fake);
      fake.actor.send({ type: 'USER.CLOSE' });
      expect(fake.state()).toBe('FIN_WAIT');
      expect(fake.link.commands).toEqual(['END']);
      fake.link.emit({ type: 'SOCKET.DATA', bytes: 10, heartbeats: 0 });
      fake.link.emit({ type: 'SOCKET.END' });
      expect(fake.state()).toBe('FIN_WAIT');
      fake.link.emit(closed);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context()).toMatchObject({ closeReason: 'closed', writable: false });
    });

    it('drops the link when the peer does not answer our FIN within finTimeout', () => {
      const fake = start({ host: 'h', port: 1, finTimeoutMs: 2_000 });
      establish(fake);
      fake.actor.send({ type: 'USER.CLOSE' });
      vi.advanceTimersByTime(1_999);
      expect(fake.state()).toBe('FIN_WAIT');
      vi.advanceTimersByTime(1);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.link.stopped).toBe(1);
      expect(fake.actor.getSnapshot().status).toBe('active');
    });

    it('goes through CLOSE_WAIT and LAST_ACK to CLOSED when the peer closes first (default)', () => {
      const fake = start({ host: 'h', port: 1 });
      establish(fake);
      fake.link.emit({ type: 'SOCKET.END' });
      expect(fake.state()).toBe('LAST_ACK');
      expect(fake.link.commands).toEqual(['END']);
      fake.link.emit(closed);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.states).toEqual(['SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
      expect(fake.context().closeReason).toBe('peer-closed');
    });

    it('stays in CLOSE_WAIT after a peer half-close with halfOpen, still able to send', () => {
      const fake = start({ host: 'h', port: 1, halfOpen: true });
      establish(fake);
      fake.link.emit({ type: 'SOCKET.END' });
      expect(fake.state()).toBe('CLOSE_WAIT');
      vi.advanceTimersByTime(60_000);
      expect(fake.state()).toBe('CLOSE_WAIT');
      fake.actor.send(send('still here'));
      expect(fake.link.commands).toEqual(['WRITE still here']);
      expect(fake.context().stats.bytesOut).toBe(10);
      fake.actor.send({ type: 'USER.CLOSE' });
      expect(fake.state()).toBe('LAST_ACK');
      expect(fake.link.commands).toEqual(['WRITE still here', 'END']);
      fake.link.emit(closed);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context().closeReason).toBe('closed');
    });

    it('drops the link when the peer does not finish closing within finTimeout in LAST_ACK', () => {
      const fake = start({ host: 'h', port: 1, finTimeoutMs: 500 });
      establish(fake);
      fake.link.emit({ type: 'SOCKET.END' });
      vi.advanceTimersByTime(500);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.link.stopped).toBe(1);
      expect(fake.context().closeReason).toBe('peer-closed');
    });

    it('records a reset mid-stream as closeReason reset', () => {
      const fake = start({ host: 'h', port: 1 });
      establish(fake);
      fake.link.emit({ type: 'SOCKET.DATA', bytes: 7, heartbeats: 0 });
      fake.link.emit(reset);
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context()).toMatchObject({ closeReason: 'reset', lastError: { code: 'E_CONN_RESET' } });
    });

    it('aborts at once on USER.ABORT, destroying the link', () => {
      const fake = start({ host: 'h', port: 1 });
      establish(fake);
      fake.actor.send({ type: 'USER.ABORT' });
      expect(fake.state()).toBe('CLOSED');
      expect(fake.link.stopped).toBe(1);
      expect(fake.context().closeReason).toBe('aborted');
      expect(fake.actor.getSnapshot().status).toBe('active');
    });
  });

  describe('reconnecting', () => {
    it('reconnects after losing an established link with reconnect: true', () => {
      const fake = start({ host: 'h', port: 1, reconnect: true, retry: { attempts: 2, baseMs: 100, jitter: 0 } });
      establish(fake);
      fake.link.emit(reset);
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('RETRY_WAIT');
      expect(fake.context()).toMatchObject({ retries: 1, closeReason: 'reset', retryDelayMs: 100 });
      vi.advanceTimersByTime(100);
      expect(fake.state()).toBe('SYN_SENT');
      expect(fake.link.started).toBe(2);
      expect(fake.context().closeReason).toBeNull();
      fake.link.emit(connected);
      expect(fake.state()).toBe('ESTABLISHED');
      expect(fake.context().retries).toBe(0);
    });

    it('reconnects after the peer closes, once LAST_ACK completes', () => {
      const fake = start({ host: 'h', port: 1, reconnect: true, retry: { attempts: 1, baseMs: 100, jitter: 0 } });
      establish(fake);
      fake.link.emit({ type: 'SOCKET.END' });
      fake.link.emit(closed);
      expect(fake.state()).toBe('RETRY_WAIT');
    });

    it('does not reconnect without reconnect: true', () => {
      const fake = start({ host: 'h', port: 1, retry: { attempts: 3 } });
      establish(fake);
      fake.link.emit(closed);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context().closeReason).toBe('peer-closed');
    });

    it('does not reconnect after closing locally, even with reconnect: true', () => {
      const fake = start({ host: 'h', port: 1, reconnect: true, halfOpen: true, retry: { attempts: 3 } });
      establish(fake);
      fake.link.emit({ type: 'SOCKET.END' });
      fake.actor.send({ type: 'USER.CLOSE' });
      fake.link.emit(closed);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context().closeReason).toBe('closed');
    });

    it('fails when reconnecting runs out of attempts', () => {
      const fake = start({ host: 'h', port: 1, reconnect: true, retry: { attempts: 1, baseMs: 100, jitter: 0 } });
      establish(fake);
      fake.link.emit(closed);
      vi.advanceTimersByTime(100);
      fake.link.emit(refused);
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('FAILED');
      expect(fake.context().lastError?.code).toBe('E_CONN_REFUSED');
    });
  });

  describe('backpressure', () => {
    it('marks itself not writable while blocked and writable again on drain', () => {
      const fake = start({ host: 'h', port: 1 });
      establish(fake);
      fake.link.emit({ type: 'SOCKET.BLOCKED' });
      expect(fake.context().writable).toBe(false);
      fake.link.emit({ type: 'SOCKET.DRAIN' });
      expect(fake.context().writable).toBe(true);
    });

    it('is dropped with E_SLOW_CONSUMER when the link overflows', () => {
      const fake = start({ host: 'h', port: 1, maxBufferedBytes: 1024 });
      establish(fake);
      expect(fake.link.inputs[0]?.maxBufferedBytes).toBe(1024);
      fake.actor.send(send('x'.repeat(2048)));
      const error: SynackErrorInfo = { code: 'E_SLOW_CONSUMER', message: 'peer is not reading' };
      fake.link.emit({ type: 'SOCKET.ERROR', error });
      fake.link.emit(closedWithError);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context()).toMatchObject({ closeReason: 'error', lastError: error });
    });
  });

  describe('accepted', () => {
    it('starts ESTABLISHED on the adopted socket and never dials', () => {
      const socket = new net.Socket();
      const fake = start({ socket, id: 'c1' });
      expect(fake.state()).toBe('ESTABLISHED');
      expect(fake.context()).toMatchObject({ id: 'c1', role: 'accepted' });
      expect(fake.link.inputs[0]?.socket).toBe(socket);
      fake.actor.send({ type: 'USER.CLOSE' });
      fake.link.emit(closed);
      expect(fake.state()).toBe('CLOSED');
      expect(fake.context().adopted).toBeUndefined();
      fake.actor.send({ type: 'USER.CONNECT' });
      expect(fake.state()).toBe('CLOSED');
      expect(fake.link.started).toBe(1);
    });

    it('does not reconnect an accepted connection', () => {
      const fake = start({ socket: new net.Socket(), reconnect: true, retry: { attempts: 3 } });
      fake.link.emit(closed);
      expect(fake.state()).toBe('CLOSED');
    });
  });
});

describe('connection model', () => {
  it('reaches every state and every transition along paths generated from its definition', () => {
    const socket = new net.Socket();
    const model = connectionMachine.provide({ actors: { socketLink: fakeLink().logic } });
    const started = performance.now();
    const coverage = exploreModel(model, {
      events: connectionSampleEvents,
      inputs: [
        { host: 'h', port: 1 },
        { host: 'h', port: 1, reconnect: true, retry: { attempts: 2 }, heartbeat: { intervalMs: 60_000, maxMissed: 3 } },
        { host: 'h', port: 1, reconnect: true, halfOpen: true, retry: { attempts: 1 } },
        { socket, halfOpen: true },
      ],
      serializeContext: (c) => ({ retries: c.retries, closeReason: c.closeReason, adopted: c.adopted !== undefined }),
    });
    console.log(`${formatCoverage(coverage)} in ${Math.round(performance.now() - started)} ms`);
    expect(coverage.failures).toEqual([]);
    expect(coverage.states.missed).toEqual([]);
    expect(coverage.transitions.missed).toEqual([]);
    expect(coverage.states.all).toHaveLength(9);
  });
});

describe('connection over loopback', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  function dial(input: Omit<ConnectionInput, 'host'>) {
    const received: Buffer[] = [];
    const onData = (chunk: Buffer) => received.push(chunk);
    const actor = cleanup.actor(createActor(connectionMachine, { input: { host: '127.0.0.1', onData, ...input } }));
    actor.subscribe({ error: (error) => received.push(Buffer.from(`ACTOR ERROR ${String(error)}`)) });
    actor.start();
    actor.send({ type: 'USER.CONNECT' });
    return { actor, received };
  }

  const inState = (name: ConnectionStateName) => (snapshot: Parameters<typeof connectionState>[0]) => connectionState(snapshot) === name;
  const closedFor = (snapshot: Parameters<typeof connectionState>[0]) =>
    ['CLOSED', 'FAILED'].includes(connectionState(snapshot)) && snapshot.context.closedAt !== null;

  it('hands each chunk to onData as it is read and counted, then empties its frames array', async () => {
    const { server, port, sockets } = await listenRaw();
    cleanup.server(server, sockets);
    const accepted = eventOnce(server, 'connection');
    const seen: { during: string; frames: unknown[] }[] = [];
    const { actor } = dial({
      port,
      framing: 'qt',
      onData: (chunk, frames) => seen.push({ during: `${chunk.length} bytes, ${frames?.length} frames, ${stats().messagesIn} counted`, frames: frames! }),
    });
    const stats = () => actor.getSnapshot().context.stats;
    await waitFor(actor, inState('ESTABLISHED'));
    const [peer] = (await accepted) as [net.Socket];
    peer.write(SERVER_HEARTBEAT_REPLY);
    await waitFor(actor, (s) => s.context.stats.messagesIn === 1);
    expect(seen.map((s) => s.during)).toEqual([`${SERVER_HEARTBEAT_REPLY.length} bytes, 1 frames, 1 counted`]);
    expect(seen[0]!.frames).toEqual([]);
    expect(stats().bytesIn).toBe(SERVER_HEARTBEAT_REPLY.length);
  });

  it('tells its machine of the first chunk on a link only: later chunks are counted and delivered with no event', async () => {
    const { server, port, sockets } = await listenRaw();
    cleanup.server(server, sockets);
    const accepted = eventOnce(server, 'connection');
    const received: Buffer[] = [];
    const waiters = new Waiters();
    const { actor } = dial({ port, onData: (chunk) => (received.push(chunk), waiters.wake()) });
    const events: string[] = [];
    actor.system.inspect((e) => e.type === '@xstate.event' && e.actorRef === actor && events.push(e.event.type));
    await waitFor(actor, inState('ESTABLISHED'));
    const [peer] = (await accepted) as [net.Socket];
    for (const word of ['one', 'two', 'three']) {
      peer.write(word);
      await waiters.until(() => (Buffer.concat(received).toString().endsWith(word) ? true : undefined), 2_000, () => `"${word}" delivered`);
    }
    expect(Buffer.concat(received).toString()).toBe('onetwothree');
    expect(actor.getSnapshot().context.stats).toMatchObject({ bytesIn: 11, messagesIn: received.length });
    expect(events.filter((type) => type === 'SOCKET.DATA')).toEqual(['SOCKET.DATA']);
  });

  it('connects, exchanges bytes both ways, and closes gracefully', async () => {
    const { server, port, sockets } = await listenRaw();
    cleanup.server(server, sockets);
    const accepted = eventOnce(server, 'connection');
    const { actor, received } = dial({ port });
    await waitFor(actor, inState('ESTABLISHED'));
    const [peer] = (await accepted) as [net.Socket];
    const fromClient = readBytes(peer, 5);
    actor.send({ type: 'USER.SEND', data: Buffer.from('hello') });
    expect((await fromClient).toString()).toBe('hello');
    peer.write('world');
    await waitFor(actor, (s) => s.context.stats.bytesIn >= 5);
    expect(Buffer.concat(received).toString()).toBe('world');
    const peerEnded = eventOnce(peer, 'end');
    actor.send({ type: 'USER.CLOSE' });
    expect(connectionState(actor.getSnapshot())).toBe('FIN_WAIT');
    await peerEnded;
    const final = await waitFor(actor, closedFor);
    expect(connectionState(final)).toBe('CLOSED');
    expect(final.context).toMatchObject({ closeReason: 'closed', stats: { bytesOut: 5, bytesIn: 5 }, peer: `127.0.0.1:${port}` });
  });

  it('fails with E_CONN_REFUSED when nothing listens', async () => {
    const port = await freePort();
    const { actor } = dial({ port });
    const final = await waitFor(actor, closedFor);
    expect(connectionState(final)).toBe('FAILED');
    expect(final.context.lastError?.code).toBe('E_CONN_REFUSED');
  });

  it('retries a refused connect, then fails with E_CONN_REFUSED', async () => {
    const port = await freePort();
    const { actor } = dial({ port, retry: { attempts: 2, baseMs: 5, maxMs: 10 } });
    const final = await waitFor(actor, closedFor);
    expect(connectionState(final)).toBe('FAILED');
    expect(final.context).toMatchObject({ retries: 2, lastError: { code: 'E_CONN_REFUSED' } });
  });

  it('stays half-open in CLOSE_WAIT after the peer half-closes, and can still send', async () => {
    const { server, port, sockets } = await listenRaw(undefined, { allowHalfOpen: true });
    cleanup.server(server, sockets);
    const accepted = eventOnce(server, 'connection');
    const { actor } = dial({ port, halfOpen: true });
    await waitFor(actor, inState('ESTABLISHED'));
    const [peer] = (await accepted) as [net.Socket];
    const everything = readAll(peer);
    peer.end();
    await waitFor(actor, inState('CLOSE_WAIT'));
    actor.send({ type: 'USER.SEND', data: Buffer.from('late reply') });
    actor.send({ type: 'USER.CLOSE' });
    expect(connectionState(actor.getSnapshot())).toBe('LAST_ACK');
    expect((await everything).toString()).toBe('late reply');
    const final = await waitFor(actor, closedFor);
    expect(connectionState(final)).toBe('CLOSED');
    expect(final.context.closeReason).toBe('closed');
  });

  it('closes through LAST_ACK when the peer half-closes and halfOpen is off', async () => {
    const { server, port, sockets } = await listenRaw();
    cleanup.server(server, sockets);
    const accepted = eventOnce(server, 'connection');
    const { actor } = dial({ port });
    await waitFor(actor, inState('ESTABLISHED'));
    const [peer] = (await accepted) as [net.Socket];
    peer.end();
    const final = await waitFor(actor, closedFor);
    expect(connectionState(final)).toBe('CLOSED');
    expect(final.context.closeReason).toBe('peer-closed');
  });

  it('records a reset from the peer as closeReason reset', async () => {
    const { server, port, sockets } = await listenRaw();
    cleanup.server(server, sockets);
    const accepted = eventOnce(server, 'connection');
    const { actor } = dial({ port });
    await waitFor(actor, inState('ESTABLISHED'));
    const [peer] = (await accepted) as [net.Socket];
    peer.write('some bytes first');
    await waitFor(actor, (s) => s.context.stats.bytesIn > 0);
    peer.resetAndDestroy();
    const final = await waitFor(actor, closedFor);
    expect(connectionState(final)).toBe('CLOSED');
    expect(final.context).toMatchObject({ closeReason: 'reset', lastError: { code: 'E_CONN_RESET' } });
  });

  it('reconnects after a reset with reconnect: true', async () => {
    const peers: net.Socket[] = [];
    const { server, port, sockets } = await listenRaw((socket) => peers.push(socket));
    cleanup.server(server, sockets);
    const { actor } = dial({ port, reconnect: true, retry: { attempts: 3, baseMs: 5, maxMs: 10 } });
    await waitFor(actor, inState('ESTABLISHED'));
    await waitFor(actor, () => peers.length === 1);
    peers[0]!.resetAndDestroy();
    await waitFor(actor, inState('RETRY_WAIT'));
    const again = await waitFor(actor, inState('ESTABLISHED'));
    expect(again.context).toMatchObject({ retries: 0, lastError: null });
    const [second] = (await (peers.length > 1 ? Promise.resolve([peers[1]]) : eventOnce(server, 'connection'))) as [net.Socket];
    const bytes = readBytes(second, 4);
    actor.send({ type: 'USER.SEND', data: Buffer.from('back') });
    expect((await bytes).toString()).toBe('back');
  });

  it('drops a peer that never reads with E_SLOW_CONSUMER, its queue bounded by maxBufferedBytes', async () => {
    const { server, port, sockets } = await listenRaw((socket) => socket.pause());
    cleanup.server(server, sockets);
    const maxBufferedBytes = 256 * 1024;
    const { actor } = dial({ port, maxBufferedBytes });
    await waitFor(actor, inState('ESTABLISHED'));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const deadline = Date.now() + 10_000;
    while (connectionState(actor.getSnapshot()) === 'ESTABLISHED' && sent < 256 * 1024 * 1024 && Date.now() < deadline) {
      actor.send({ type: 'USER.SEND', data: chunk });
      sent += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const final = await waitFor(actor, closedFor);
    expect(final.context.lastError?.code).toBe('E_SLOW_CONSUMER');
    expect(final.context.closeReason).toBe('error');
  });
});
