import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { ClientTable, type ClientEvent } from '../../src/machines/client-table.js';
import {
  listenerMachine,
  listenerSampleEvents,
  listenerState,
  type ListenerEmitted,
  type ListenerEvent,
  type ListenerInput,
  type ListenerSnapshot,
  type ListenerStateName,
} from '../../src/machines/listener.js';
import { exploreModel, formatCoverage } from '../../src/testing/graph.js';
import { Cleanup, connectRaw, eventOnce, fakeListenSocket, firstValue, listenRaw, readAll, readBytes, waitFor } from '../helpers.js';

const inUse: ListenerEvent = {
  type: 'LISTEN.ERROR',
  error: { code: 'E_ADDR_IN_USE', message: 'cannot listen on 127.0.0.1:9000: listen EADDRINUSE', errno: 'EADDRINUSE' },
};
const listening: ListenerEvent = { type: 'LISTEN.LISTENING', host: '127.0.0.1', port: 9000, address: '127.0.0.1:9000' };

/** A listener whose listening socket is a fake and whose client table adopts nothing for real. */
function startFake(input: Omit<ListenerInput, 'clients'>) {
  const socket = fakeListenSocket();
  const clients = new ClientTable();
  const adopted: { socket: net.Socket; onClosed: ((id: string) => void) | undefined }[] = [];
  const adopt = vi.spyOn(clients, 'adopt').mockImplementation((socket, onClosed) => {
    adopted.push({ socket, onClosed });
    return `c${adopted.length}`;
  });
  const send = vi.spyOn(clients, 'send').mockReturnValue(true);
  const broadcast = vi.spyOn(clients, 'broadcast').mockReturnValue(0);
  const close = vi.spyOn(clients, 'close').mockReturnValue(true);
  const closeAll = vi.spyOn(clients, 'closeAll').mockReturnValue(undefined);
  const errors: unknown[] = [];
  const rejected: ListenerEmitted[] = [];
  const actor = createActor(listenerMachine.provide({ actors: { listenSocket: socket.logic } }), { input: { ...input, clients } });
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.on('rejected', (event) => rejected.push(event));
  actor.start();
  return {
    actor,
    socket,
    adopted,
    spies: { adopt, send, broadcast, close, closeAll },
    errors,
    rejected,
    state: () => listenerState(actor.getSnapshot()),
    context: () => actor.getSnapshot().context,
  };
}

type Fake = ReturnType<typeof startFake>;

function bind(fake: Fake): void {
  fake.actor.send({ type: 'USER.LISTEN' });
  fake.socket.emit(listening);
  expect(fake.state()).toBe('LISTENING');
}

const accept = (fake: Fake) => {
  const socket = new net.Socket();
  fake.socket.emit({ type: 'LISTEN.ACCEPTED', socket });
  return socket;
};

describe('listener', () => {
  let fakes: Fake[] = [];
  const start = (input: Omit<ListenerInput, 'clients'>) => {
    const fake = startFake(input);
    fakes.push(fake);
    return fake;
  };

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    for (const fake of fakes) {
      expect(fake.errors).toEqual([]);
      fake.actor.stop();
    }
    fakes = [];
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  describe('binding', () => {
    it('is STOPPED until asked to listen, then binds and reports the port', () => {
      const fake = start({ port: 0 });
      expect(fake.state()).toBe('STOPPED');
      fake.actor.send({ type: 'USER.LISTEN' });
      expect(fake.state()).toBe('BINDING');
      expect(fake.socket.inputs).toEqual([{ host: '127.0.0.1', port: 0 }]);
      fake.socket.emit(listening);
      expect(fake.state()).toBe('LISTENING');
      expect(fake.context()).toMatchObject({ boundPort: 9000, address: '127.0.0.1:9000', retries: 0, lastError: null });
    });

    it('fails with E_ADDR_IN_USE when the port is taken and no retries are asked for', () => {
      const fake = start({ port: 9000 });
      fake.actor.send({ type: 'USER.LISTEN' });
      fake.socket.emit(inUse);
      expect(fake.state()).toBe('FAILED');
      expect(fake.context().lastError?.code).toBe('E_ADDR_IN_USE');
      expect(fake.socket.stopped).toBe(1);
      vi.advanceTimersByTime(60_000);
      expect(fake.socket.started).toBe(1);
    });

    it('retries binding with backoff and recovers when the port frees', () => {
      const retry = { attempts: 3, baseMs: 100, factor: 2, maxMs: 1_000, jitter: 0.2 };
      const fake = start({ port: 9000, retry });
      fake.actor.send({ type: 'USER.LISTEN' });
      for (let attempt = 1; attempt <= 2; attempt++) {
        fake.socket.emit(inUse);
        expect(fake.state()).toBe('RETRY_WAIT');
        const { retries, retryDelayMs } = fake.context();
        const raw = retry.baseMs * retry.factor ** (attempt - 1);
        expect(retries).toBe(attempt);
        expect(retryDelayMs).toBeGreaterThanOrEqual(raw * 0.8);
        expect(retryDelayMs).toBeLessThanOrEqual(raw * 1.2);
        vi.advanceTimersByTime(retryDelayMs - 1);
        expect(fake.state()).toBe('RETRY_WAIT');
        vi.advanceTimersByTime(1);
        expect(fake.state()).toBe('BINDING');
        expect(fake.socket.started).toBe(attempt + 1);
      }
      fake.socket.emit(listening);
      expect(fake.state()).toBe('LISTENING');
      expect(fake.context()).toMatchObject({ retries: 0, lastError: null });
    });

    it('gives up binding after the last retry, and starts afresh when asked again', () => {
      const fake = start({ port: 9000, retry: { attempts: 1, baseMs: 50, jitter: 0 } });
      fake.actor.send({ type: 'USER.LISTEN' });
      fake.socket.emit(inUse);
      vi.advanceTimersByTime(50);
      fake.socket.emit(inUse);
      expect(fake.state()).toBe('FAILED');
      expect(fake.context()).toMatchObject({ retries: 1, lastError: { code: 'E_ADDR_IN_USE' } });
      fake.actor.send({ type: 'USER.LISTEN' });
      expect(fake.state()).toBe('BINDING');
      expect(fake.context()).toMatchObject({ retries: 0, lastError: null });
    });

    it('stops on USER.STOP while binding or waiting to retry', () => {
      const fake = start({ port: 9000, retry: { attempts: 5, baseMs: 50, jitter: 0 } });
      fake.actor.send({ type: 'USER.LISTEN' });
      fake.actor.send({ type: 'USER.STOP' });
      expect(fake.state()).toBe('STOPPED');
      expect(fake.socket.stopped).toBe(1);
      fake.actor.send({ type: 'USER.LISTEN' });
      fake.socket.emit(inUse);
      expect(fake.state()).toBe('RETRY_WAIT');
      fake.actor.send({ type: 'USER.STOP' });
      expect(fake.state()).toBe('STOPPED');
      vi.advanceTimersByTime(60_000);
      expect(fake.socket.started).toBe(2);
    });

    it('keeps listening after an error on the listening socket, recording it', () => {
      const fake = start({ port: 0 });
      bind(fake);
      fake.socket.emit({ type: 'LISTEN.ERROR', error: { code: 'E_SOCKET', message: 'accept EMFILE' } });
      expect(fake.state()).toBe('LISTENING');
      expect(fake.context().lastError?.code).toBe('E_SOCKET');
    });
  });

  describe('clients', () => {
    it('adopts accepted sockets into its client table and counts them', () => {
      const fake = start({ port: 0 });
      bind(fake);
      const first = accept(fake);
      accept(fake);
      expect(fake.adopted.map((a) => a.socket)[0]).toBe(first);
      expect(fake.context()).toMatchObject({ clientCount: 2, accepted: 2, rejected: 0 });
    });

    it('rejects clients beyond maxClients, emitting rejected with E_MAX_CLIENTS', () => {
      const fake = start({ port: 0, maxClients: 2 });
      bind(fake);
      accept(fake);
      accept(fake);
      const third = accept(fake);
      expect(third.destroyed).toBe(true);
      expect(fake.adopted).toHaveLength(2);
      expect(fake.context()).toMatchObject({ clientCount: 2, accepted: 2, rejected: 1 });
      expect(fake.rejected).toEqual([{ type: 'rejected', peer: '?', error: { code: 'E_MAX_CLIENTS', message: expect.stringContaining('2 clients') } }]);
    });

    it('makes room again when a client leaves', () => {
      const fake = start({ port: 0, maxClients: 1 });
      bind(fake);
      accept(fake);
      fake.adopted[0]!.onClosed?.('c1');
      expect(fake.context().clientCount).toBe(0);
      const next = accept(fake);
      expect(next.destroyed).toBe(false);
      expect(fake.context()).toMatchObject({ clientCount: 1, accepted: 2, rejected: 0 });
    });

    it('refuses connections that arrive while it is not listening', () => {
      const fake = start({ port: 0 });
      fake.actor.send({ type: 'USER.LISTEN' });
      const early = accept(fake);
      expect(early.destroyed).toBe(true);
      expect(fake.context()).toMatchObject({ clientCount: 0, accepted: 0 });
    });

    it('sends to one client, broadcasts, and closes one client through its table', () => {
      const fake = start({ port: 0 });
      bind(fake);
      const data = Buffer.from('hi');
      fake.actor.send({ type: 'USER.SEND_TO', id: 'c1', data });
      fake.actor.send({ type: 'USER.BROADCAST', data, except: 'c1' });
      fake.actor.send({ type: 'USER.CLOSE_CLIENT', id: 'c1' });
      expect(fake.spies.send).toHaveBeenCalledWith('c1', data);
      expect(fake.spies.broadcast).toHaveBeenCalledWith(data, 'c1');
      expect(fake.spies.close).toHaveBeenCalledWith('c1');
    });
  });

  describe('stopping', () => {
    it('stops listening but keeps its clients', () => {
      const fake = start({ port: 0 });
      bind(fake);
      accept(fake);
      fake.actor.send({ type: 'USER.STOP' });
      expect(fake.state()).toBe('CLOSING');
      expect(fake.socket.commands).toEqual(['CLOSE']);
      fake.socket.emit({ type: 'LISTEN.CLOSED' });
      expect(fake.state()).toBe('STOPPED');
      expect(fake.spies.closeAll).not.toHaveBeenCalled();
      expect(fake.context()).toMatchObject({ clientCount: 1, boundPort: null, address: null });
      // Its clients can still be reached.
      fake.actor.send({ type: 'USER.BROADCAST', data: Buffer.from('still there') });
      expect(fake.spies.broadcast).toHaveBeenCalledTimes(1);
    });

    it('stops listening and closes its clients when asked to', () => {
      const fake = start({ port: 0 });
      bind(fake);
      accept(fake);
      fake.actor.send({ type: 'USER.STOP', closeClients: true });
      expect(fake.state()).toBe('CLOSING');
      expect(fake.spies.closeAll).toHaveBeenCalledTimes(1);
      fake.socket.emit({ type: 'LISTEN.CLOSED' });
      expect(fake.state()).toBe('STOPPED');
    });
  });
});

describe('listener model', () => {
  it('reaches every state and every transition along paths generated from its definition', () => {
    const model = listenerMachine.provide({
      actors: { listenSocket: fakeListenSocket().logic },
      actions: { adoptClient: () => {}, rejectClient: () => {} },
    });
    const socket = new net.Socket();
    const data = Buffer.from('x');
    const started = performance.now();
    const coverage = exploreModel(model, {
      // The module's samples, and those events whose payloads it cannot make (a socket) or that
      // act on clients.
      events: [
        ...listenerSampleEvents,
        { type: 'LISTEN.ACCEPTED', socket },
        { type: 'CLIENT.CLOSED', id: 'c1' },
        { type: 'USER.SEND_TO', id: 'c1', data },
        { type: 'USER.BROADCAST', data },
        { type: 'USER.CLOSE_CLIENT', id: 'c1' },
      ],
      inputs: [{ port: 0, maxClients: 1, retry: { attempts: 1 } }],
      serializeContext: (c) => ({ retries: c.retries, clientCount: c.clientCount }),
    });
    console.log(`${formatCoverage(coverage)} in ${Math.round(performance.now() - started)} ms`);
    expect(coverage.failures).toEqual([]);
    expect(coverage.states.missed).toEqual([]);
    expect(coverage.transitions.missed).toEqual([]);
    expect(coverage.states.all).toHaveLength(7);
  });
});

describe('listener over loopback', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const inState = (name: ListenerStateName) => (snapshot: ListenerSnapshot) => listenerState(snapshot) === name;

  function listen(input: Omit<ListenerInput, 'clients'> & { clients?: ClientTable }) {
    const clients = input.clients ?? new ClientTable();
    const actor = createActor(listenerMachine, { input: { ...input, clients } });
    // Cleanups run in reverse: clients are closed while the listener still hears of it.
    cleanup.actor(actor);
    cleanup.add(clients, (table) => table.closeAll({ abort: true }));
    const errors: unknown[] = [];
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    actor.send({ type: 'USER.LISTEN' });
    return { actor, clients, errors };
  }

  async function listening(input: Omit<ListenerInput, 'clients' | 'port'> & { clients?: ClientTable } = {}) {
    const server = listen({ port: 0, ...input });
    const snapshot = await waitFor(server.actor, inState('LISTENING'));
    return { ...server, port: snapshot.context.boundPort! };
  }

  const client = async (port: number, options: Partial<net.NetConnectOpts> = {}) => cleanup.socket(await connectRaw(port, options));
  const nextEvent = <T extends ClientEvent['type']>(table: ClientTable, type: T, timeoutMs = 2_000) =>
    firstValue(table.events$, (e) => e.type === type, timeoutMs, type) as Promise<Extract<ClientEvent, { type: T }>>;

  it('accepts a client and exchanges bytes both ways', async () => {
    const { actor, clients, port } = await listening();
    const connectedEvent = nextEvent(clients, 'connected');
    const socket = await client(port);
    const { id, peer } = await connectedEvent;
    expect(peer).toBe(`127.0.0.1:${socket.localPort}`);
    const dataEvent = nextEvent(clients, 'data');
    socket.write('ping');
    expect((await dataEvent).chunk.toString()).toBe('ping');
    const reply = readBytes(socket, 9);
    actor.send({ type: 'USER.SEND_TO', id, data: Buffer.from('pong ') });
    actor.send({ type: 'USER.BROADCAST', data: Buffer.from('all!') });
    expect((await reply).toString()).toBe('pong all!');
    expect(actor.getSnapshot().context).toMatchObject({ clientCount: 1, accepted: 1 });
    expect(clients.list()).toMatchObject([{ id, state: 'ESTABLISHED', bytesIn: 4, bytesOut: 9 }]);
  });

  it('keeps a half-closed client writable with halfOpen, until asked to close it', async () => {
    const { actor, clients, port } = await listening({ clients: new ClientTable({ connection: { halfOpen: true } }) });
    const connectedEvent = nextEvent(clients, 'connected');
    const socket = await client(port, { allowHalfOpen: true });
    const { id } = await connectedEvent;
    const halfClosed = firstValue(clients.events$, (e) => e.type === 'state' && e.state === 'CLOSE_WAIT', 2_000, 'CLOSE_WAIT');
    const everything = readAll(socket);
    socket.end();
    await halfClosed;
    actor.send({ type: 'USER.SEND_TO', id, data: Buffer.from('after your FIN') });
    actor.send({ type: 'USER.CLOSE_CLIENT', id });
    expect((await everything).toString()).toBe('after your FIN');
    await waitFor(actor, (s) => s.context.clientCount === 0);
    expect(clients.size).toBe(0);
  });

  it('forgets a client that half-closes when halfOpen is off', async () => {
    const { actor, clients, port } = await listening();
    const connectedEvent = nextEvent(clients, 'connected');
    const socket = await client(port);
    await connectedEvent;
    const gone = nextEvent(clients, 'disconnected');
    socket.end();
    expect(await gone).toMatchObject({ reason: 'peer-closed', clients: 0 });
    await waitFor(actor, (s) => s.context.clientCount === 0);
  });

  it('reports a client that resets as disconnected with reason reset', async () => {
    const { actor, clients, port } = await listening();
    const connectedEvent = nextEvent(clients, 'connected');
    const socket = await client(port);
    await connectedEvent;
    const gone = nextEvent(clients, 'disconnected');
    socket.resetAndDestroy();
    expect(await gone).toMatchObject({ reason: 'reset', error: { code: 'E_CONN_RESET' } });
    await waitFor(actor, (s) => s.context.clientCount === 0);
  });

  it('fails with E_ADDR_IN_USE when the port is taken', async () => {
    const blocker = await listenRaw();
    cleanup.server(blocker.server, blocker.sockets);
    const { actor } = listen({ port: blocker.port });
    const final = await waitFor(actor, inState('FAILED'));
    expect(final.context.lastError?.code).toBe('E_ADDR_IN_USE');
  });

  it('retries binding while the port is taken, and listens once it frees', async () => {
    const blocker = await listenRaw();
    const { actor } = listen({ port: blocker.port, retry: { attempts: 100, baseMs: 10, maxMs: 20 } });
    await waitFor(actor, inState('RETRY_WAIT'));
    expect(actor.getSnapshot().context.lastError?.code).toBe('E_ADDR_IN_USE');
    await new Promise<void>((resolve) => blocker.server.close(() => resolve()));
    const bound = await waitFor(actor, inState('LISTENING'), 3_000);
    expect(bound.context).toMatchObject({ boundPort: blocker.port, retries: 0, lastError: null });
    const socket = await client(blocker.port);
    expect(socket.remotePort).toBe(blocker.port);
  });

  it('rejects clients beyond maxClients and says so', async () => {
    const { actor, clients, port } = await listening({ maxClients: 1 });
    const connectedEvent = nextEvent(clients, 'connected');
    await client(port);
    await connectedEvent;
    const rejected = new Promise<ListenerEmitted>((resolve) => actor.on('rejected', resolve));
    const second = await client(port);
    const secondGone = eventOnce(second, 'close');
    const event = await rejected;
    expect(event).toMatchObject({ peer: `127.0.0.1:${second.localPort}`, error: { code: 'E_MAX_CLIENTS' } });
    await secondGone;
    expect(actor.getSnapshot().context).toMatchObject({ clientCount: 1, accepted: 1, rejected: 1 });
  });

  it('drops a client that never reads while it broadcasts, with E_SLOW_CONSUMER, memory bounded', async () => {
    const maxBufferedBytes = 256 * 1024;
    const { actor, clients, port } = await listening({ clients: new ClientTable({ connection: { maxBufferedBytes } }) });
    const connectedEvent = nextEvent(clients, 'connected');
    const reader = await client(port);
    const slow = await client(port);
    slow.pause();
    await connectedEvent;
    await waitFor(actor, (s) => s.context.clientCount === 2);
    let readerBytes = 0;
    reader.on('data', (chunk: Buffer) => (readerBytes += chunk.length));
    const dropped = nextEvent(clients, 'disconnected', 10_000);
    let done = false;
    void dropped.finally(() => (done = true)).catch(() => {});
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let sent = 0;
    const limit = 128 * 1024 * 1024;
    while (!done && sent < limit) {
      actor.send({ type: 'USER.BROADCAST', data: chunk });
      sent += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const event = await dropped;
    console.log(`slow consumer dropped after ${(sent / 1048576).toFixed(1)} MiB broadcast`);
    expect(event).toMatchObject({ reason: 'error', error: { code: 'E_SLOW_CONSUMER' }, clients: 1 });
    expect(event.error?.message).toContain(`limit ${maxBufferedBytes}`);
    // Dropped long before the broadcast could have grown memory without bound.
    expect(sent).toBeLessThan(limit);
    expect(clients.size).toBe(1);
    await waitFor(actor, (s) => s.context.clientCount === 1);
    expect(readerBytes).toBeGreaterThan(0);
  });

  it('stops listening but keeps its clients', async () => {
    const { actor, clients, port } = await listening();
    const connectedEvent = nextEvent(clients, 'connected');
    const socket = await client(port);
    await connectedEvent;
    actor.send({ type: 'USER.STOP' });
    await waitFor(actor, inState('STOPPED'));
    await expect(connectRaw(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const bytes = readBytes(socket, 5);
    actor.send({ type: 'USER.BROADCAST', data: Buffer.from('still') });
    expect((await bytes).toString()).toBe('still');
    expect(actor.getSnapshot().context.clientCount).toBe(1);
  });

  it('stops listening and closes its clients when asked to', async () => {
    const { actor, clients, port } = await listening();
    const connectedEvent = nextEvent(clients, 'connected');
    const socket = await client(port);
    await connectedEvent;
    const ended = eventOnce(socket, 'end');
    actor.send({ type: 'USER.STOP', closeClients: true });
    await ended;
    socket.end();
    await waitFor(actor, (s) => listenerState(s) === 'STOPPED' && s.context.clientCount === 0);
    expect(clients.size).toBe(0);
  });

  it('closes its clients when the actor itself is stopped', async () => {
    const { actor, clients, port } = await listening();
    const connectedEvent = nextEvent(clients, 'connected');
    const socket = await client(port);
    await connectedEvent;
    const ended = eventOnce(socket, 'end');
    actor.stop();
    await ended;
    socket.end();
    await expect(connectRaw(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await vi.waitFor(() => expect(clients.size).toBe(0), { timeout: 2_000 });
  });

  it('handles 1,000 clients connecting and leaving at once', async () => {
    const count = 1_000;
    const started = performance.now();
    const { actor, clients, port } = await listening();
    const sockets = await Promise.all(Array.from({ length: count }, () => client(port, {}).catch((error: unknown) => error)));
    const failed = sockets.filter((s) => !(s instanceof net.Socket));
    expect(failed).toEqual([]);
    await waitFor(actor, (s) => s.context.clientCount === count, 10_000, `${count} clients`);
    expect(clients.size).toBe(count);
    for (const socket of sockets as net.Socket[]) socket.end();
    const final = await waitFor(actor, (s) => s.context.clientCount === 0, 10_000, 'every client gone');
    expect(final.context.accepted).toBe(count);
    expect(clients.size).toBe(0);
    const elapsed = performance.now() - started;
    console.log(`1,000 clients in and out in ${Math.round(elapsed)} ms`);
    expect(elapsed).toBeLessThan(15_000);
  }, 20_000);
});
