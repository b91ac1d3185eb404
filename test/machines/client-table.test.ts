import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { ClientTable, type ClientEvent, type ClientTableOptions } from '../../src/machines/client-table.js';
import { Cleanup, connectRaw, eventOnce, firstValue, listenRaw, readAll, readBytes } from '../helpers.js';

describe('client table', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** A table adopting every connection of a real server; `events` records everything it says. */
  async function serve(options: ClientTableOptions = {}) {
    const table = new ClientTable(options);
    const events: ClientEvent[] = [];
    const closedIds: string[] = [];
    table.events$.subscribe((event) => events.push(event));
    const { server, port, sockets } = await listenRaw((socket) => table.adopt(socket, (id) => closedIds.push(id)), { allowHalfOpen: true });
    cleanup.server(server, sockets);
    cleanup.add(table, (t) => t.closeAll({ abort: true }));
    const join = async (connect: Partial<net.NetConnectOpts> = {}) => {
      const connected = firstValue(table.events$, (e) => e.type === 'connected', 2_000, 'connected') as Promise<Extract<ClientEvent, { type: 'connected' }>>;
      const socket = cleanup.socket(await connectRaw(port, connect));
      const { id } = await connected;
      return { socket, id };
    };
    const next = <T extends ClientEvent['type']>(type: T, predicate: (e: Extract<ClientEvent, { type: T }>) => boolean = () => true) =>
      firstValue(table.events$, (e) => e.type === type && predicate(e as Extract<ClientEvent, { type: T }>), 2_000, type) as Promise<
        Extract<ClientEvent, { type: T }>
      >;
    return { table, events, closedIds, join, next };
  }

  it('adopts an accepted socket as an ESTABLISHED connection and says so', async () => {
    const { table, events, join } = await serve();
    const { socket, id } = await join();
    expect(id).toBe('c1');
    const peer = `127.0.0.1:${socket.localPort}`;
    expect(events).toEqual([
      { type: 'connected', id, peer, clients: 1 },
      { type: 'state', id, state: 'ESTABLISHED' },
    ]);
    expect(table.size).toBe(1);
    expect(table.ids()).toEqual([id]);
    expect(table.get(id)).toBeDefined();
    expect(table.list()).toEqual([
      expect.objectContaining({ id, peer, local: `127.0.0.1:${socket.remotePort}`, state: 'ESTABLISHED', bytesIn: 0, bytesOut: 0 }),
    ]);
  });

  it('numbers clients with its prefix', async () => {
    const { join } = await serve({ idPrefix: 'srv-' });
    expect((await join()).id).toBe('srv-1');
    expect((await join()).id).toBe('srv-2');
  });

  it('reports what each client sends', async () => {
    const { join, next } = await serve();
    const a = await join();
    const b = await join();
    const fromB = next('data', (e) => e.id === b.id);
    b.socket.write('from b');
    expect((await fromB).chunk.toString()).toBe('from b');
    const fromA = next('data', (e) => e.id === a.id);
    a.socket.write('from a');
    expect(await fromA).toMatchObject({ id: a.id, peer: `127.0.0.1:${a.socket.localPort}` });
  });

  it('sends to one client, and returns false for an unknown id', async () => {
    const { table, join } = await serve();
    const { socket, id } = await join();
    const bytes = readBytes(socket, 5);
    expect(table.send(id, Buffer.from('hello'))).toBe(true);
    expect((await bytes).toString()).toBe('hello');
    expect(table.send('nobody', Buffer.from('x'))).toBe(false);
  });

  it('broadcasts to every client but the one excepted, and says how many', async () => {
    const { table, join } = await serve();
    const a = await join();
    const b = await join();
    const c = await join();
    const atB = readBytes(b.socket, 3);
    const atC = readBytes(c.socket, 3);
    let atA = 0;
    a.socket.on('data', (chunk: Buffer) => (atA += chunk.length));
    expect(table.broadcast(Buffer.from('all'), a.id)).toBe(2);
    expect((await atB).toString()).toBe('all');
    expect((await atC).toString()).toBe('all');
    // What a sent to itself arrives before anything else sent to it afterwards.
    const last = readBytes(a.socket, 4);
    table.send(a.id, Buffer.from('mine'));
    expect((await last).toString()).toBe('mine');
    expect(atA).toBe(4);
  });

  it('closes one client gracefully, forgets it, and tells its owner', async () => {
    const { table, closedIds, join, next } = await serve();
    const { socket, id } = await join();
    const ended = readAll(socket);
    const gone = next('disconnected');
    expect(table.close(id)).toBe(true);
    await ended;
    socket.end();
    expect(await gone).toMatchObject({ id, reason: 'closed', error: null, clients: 0 });
    expect(table.size).toBe(0);
    expect(closedIds).toEqual([id]);
    expect(table.close(id)).toBe(false);
  });

  it('aborts every client at once', async () => {
    const { table, events, join } = await serve();
    const clients = [await join(), await join(), await join()];
    const closed = clients.map(({ socket }) => eventOnce(socket, 'close'));
    table.closeAll({ abort: true });
    await Promise.all(closed);
    expect(table.size).toBe(0);
    const gone = events.filter((e) => e.type === 'disconnected');
    expect(gone.map((e) => e.type === 'disconnected' && e.reason)).toEqual(['aborted', 'aborted', 'aborted']);
  });

  it('gives every client the connection defaults it was made with', async () => {
    const { table, join, next } = await serve({ connection: { halfOpen: true } });
    const { socket, id } = await join({ allowHalfOpen: true });
    const halfClosed = next('state', (e) => e.state === 'CLOSE_WAIT');
    socket.end();
    await halfClosed;
    const bytes = readAll(socket);
    table.send(id, Buffer.from('reply after FIN'));
    table.close(id);
    expect((await bytes).toString()).toBe('reply after FIN');
  });

  it('forgets a client that leaves', async () => {
    const { table, join, next } = await serve();
    const { socket, id } = await join();
    const gone = next('disconnected');
    socket.end();
    expect(await gone).toMatchObject({ id, reason: 'peer-closed', clients: 0 });
    expect(table.size).toBe(0);
    expect(table.get(id)).toBeUndefined();
  });

  it('hands every connection actor to `adopted` before it starts, so that its first events can be inspected', async () => {
    const seen: InspectionEvent[] = [];
    const adopted: string[] = [];
    const { join } = await serve({
      adopted: (actor) => {
        adopted.push(actor.id);
        actor.system.inspect((event) => seen.push(event));
      },
    });
    const { id } = await join();
    expect(adopted).toEqual([id]);
    expect(seen.some((e) => e.type === '@xstate.snapshot' && e.event.type === 'xstate.init')).toBe(true);
  });
});
