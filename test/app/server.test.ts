import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../src/app/client.js';
import { createServer, type Server, type ServerOptions } from '../../src/app/server.js';
import { connectionState } from '../../src/machines/connection.js';
import { SynackError } from '../../src/errors.js';
import { Cleanup, connectRaw, EventLog, eventOnce, listenRaw, readAll, readBytes, waitFor } from '../helpers.js';

describe('synack server', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** A server on 127.0.0.1 port 0, listening, closed after the test. */
  async function start(options: Partial<ServerOptions> = {}) {
    const server = createServer({ port: 0, ...options });
    const log = new EventLog(server.events$);
    cleanup.add(server, (s) => s.close({ graceMs: 200 }));
    const { port } = await server.listen();
    return { server, log, port };
  }

  /** A raw client, destroyed after the test; `id` is its id on the server once connected. */
  async function join(server: Server, log: EventLog, port: number, options: Partial<net.NetConnectOpts> = {}) {
    const socket = cleanup.socket(await connectRaw(port, options));
    const connected = await log.next('connected', (e) => e.peer === `127.0.0.1:${socket.localPort}`);
    return { socket, id: connected.id };
  }

  describe('listening', () => {
    it('binds a free port for port 0 and reports BINDING, LISTENING and listening', async () => {
      const { server, log, port } = await start();
      expect(port).toBeGreaterThan(0);
      expect(log.names()).toEqual([`state ${server.id} BINDING`, `state ${server.id} LISTENING`, 'listening']);
      expect(log.all('listening')).toEqual([{ event: 'listening', id: server.id, host: '127.0.0.1', port }]);
      const socket = cleanup.socket(await connectRaw(port));
      expect(socket.remotePort).toBe(port);
    });

    it('rejects listen() with E_ADDR_IN_USE when the port is taken, and ends FAILED with an error event', async () => {
      const taken = await listenRaw();
      cleanup.server(taken.server, taken.sockets);
      const server = createServer({ port: taken.port });
      cleanup.add(server, (s) => s.close());
      const log = new EventLog(server.events$);
      const error = await server.listen().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SynackError);
      expect(error).toMatchObject({ code: 'E_ADDR_IN_USE', message: expect.stringContaining(`127.0.0.1:${taken.port}`) });
      expect((error as Error).message).not.toContain('\n');
      expect(log.all('error')).toEqual([{ event: 'error', id: server.id, code: 'E_ADDR_IN_USE', message: (error as Error).message }]);
      expect(log.all('state').at(-1)).toMatchObject({ state: 'FAILED' });
      expect(log.all('listening')).toEqual([]);
    });

    it('retries binding with bindRetry and listens once the port is free', async () => {
      const taken = await listenRaw();
      const server = createServer({ port: taken.port, bindRetry: { attempts: 5, baseMs: 20, jitter: 0 } });
      cleanup.add(server, (s) => s.close());
      const log = new EventLog(server.events$);
      const listening = server.listen();
      await log.next('error', (e) => e.code === 'E_ADDR_IN_USE');
      await log.next('state', (e) => e.state === 'RETRY_WAIT');
      await new Promise<void>((resolve) => taken.server.close(() => resolve()));
      expect(await listening).toEqual({ host: '127.0.0.1', port: taken.port });
    });
  });

  describe('clients', () => {
    it('reports connected, data and disconnected (with the reason) in order', async () => {
      const { server, log, port } = await start();
      const socket = cleanup.socket(await connectRaw(port));
      const peer = `127.0.0.1:${socket.localPort}`;
      const connected = await log.next('connected');
      expect(connected).toEqual({ event: 'connected', id: 'c1', peer, clients: 1 });
      socket.write('hello');
      const data = await log.next('data');
      expect(data).toEqual({ event: 'data', id: 'c1', peer, chunk: Buffer.from('hello') });
      socket.end();
      const disconnected = await log.next('disconnected');
      expect(disconnected).toEqual({ event: 'disconnected', id: 'c1', peer, reason: 'peer-closed', clients: 0 });
      expect(log.names().filter((n) => ['connected', 'data', 'disconnected'].includes(n))).toEqual(['connected', 'data', 'disconnected']);
      expect(log.all('state').filter((e) => e.actor === 'c1').map((e) => e.state)).toEqual(['ESTABLISHED', 'LAST_ACK', 'CLOSED']);
      expect(server.list()).toEqual([]);
    });

    it('lists its clients with peer, state and counters', async () => {
      const { server, log, port } = await start();
      const a = await join(server, log, port);
      const b = await join(server, log, port);
      a.socket.write('four');
      await log.next('data', (e) => e.id === a.id);
      server.send(b.id, 'two');
      await readBytes(b.socket, 3);
      const list = server.list();
      expect(list.map((c) => c.id)).toEqual([a.id, b.id]);
      expect(list[0]).toMatchObject({
        peer: `127.0.0.1:${a.socket.localPort}`,
        local: `127.0.0.1:${port}`,
        state: 'ESTABLISHED',
        bytesIn: 4,
        messagesIn: 1,
        bytesOut: 0,
      });
      expect(list[1]).toMatchObject({ state: 'ESTABLISHED', bytesIn: 0, bytesOut: 3, messagesOut: 1 });
      expect(list[0]!.since).toBeGreaterThan(0);
    });

    it('sends to one client only, and says false for an unknown id', async () => {
      const { server, log, port } = await start();
      const a = await join(server, log, port);
      const b = await join(server, log, port);
      const bGot: Buffer[] = [];
      b.socket.on('data', (chunk: Buffer) => bGot.push(chunk));
      expect(server.send(a.id, 'just you\n')).toBe(true);
      expect((await readBytes(a.socket, 9)).toString()).toBe('just you\n');
      expect(log.all('sent')).toEqual([{ event: 'sent', id: a.id, peer: `127.0.0.1:${a.socket.localPort}`, chunk: Buffer.from('just you\n') }]);
      expect(server.send('c99', 'nobody')).toBe(false);
      // b gets the next broadcast as its first bytes: nothing meant for a reached it.
      server.broadcast('all\n');
      expect((await readBytes(b.socket, 4)).toString()).toBe('all\n');
      expect(Buffer.concat(bGot).toString()).toBe('all\n');
    });

    it('broadcasts to every client, or every client but one, and says how many', async () => {
      const { server, log, port } = await start();
      const clients = [await join(server, log, port), await join(server, log, port), await join(server, log, port)];
      const all = clients.map((c) => readBytes(c.socket, 3));
      expect(server.broadcast(Buffer.from([1, 2, 3]))).toBe(3);
      for (const got of await Promise.all(all)) expect(got).toEqual(Buffer.from([1, 2, 3]));
      const first = clients[0]!.socket;
      const firstGot: Buffer[] = [];
      first.on('data', (chunk: Buffer) => firstGot.push(chunk));
      const others = clients.slice(1).map((c) => readBytes(c.socket, 1));
      expect(server.broadcast('x', clients[0]!.id)).toBe(2);
      for (const got of await Promise.all(others)) expect(got.toString()).toBe('x');
      // The first client's next bytes are the ones sent to it alone: the broadcast skipped it.
      const own = readBytes(first, 1);
      expect(server.send(clients[0]!.id, 'y')).toBe(true);
      await own;
      expect(Buffer.concat(firstGot).toString()).toBe('y');
    });

    it('disconnects one client gracefully and keeps the others', async () => {
      const { server, log, port } = await start();
      const a = await join(server, log, port);
      const b = await join(server, log, port);
      expect(server.disconnect(a.id)).toBe(true);
      expect((await readAll(a.socket)).length).toBe(0);
      a.socket.end();
      const gone = await log.next('disconnected');
      expect(gone).toMatchObject({ id: a.id, reason: 'closed', clients: 1 });
      expect(server.disconnect('c99')).toBe(false);
      expect(server.list().map((c) => c.id)).toEqual([b.id]);
      server.broadcast('still here');
      expect((await readBytes(b.socket, 10)).toString()).toBe('still here');
    });

    it('refuses clients beyond maxClients with a rejected event, and takes one again when a place frees', async () => {
      const { server, log, port } = await start({ maxClients: 1 });
      const a = await join(server, log, port);
      const extra = cleanup.socket(await connectRaw(port));
      const extraPeer = `127.0.0.1:${extra.localPort}`;
      const rejected = await log.next('rejected');
      expect(rejected).toEqual({
        event: 'rejected',
        peer: extraPeer,
        code: 'E_MAX_CLIENTS',
        message: 'refused: already serving 1 clients (--max-clients)',
      });
      await eventOnce(extra, 'close');
      expect(server.list().map((c) => c.id)).toEqual([a.id]);
      a.socket.end();
      await log.next('disconnected', (e) => e.id === a.id);
      const b = await join(server, log, port);
      expect(server.list().map((c) => c.id)).toEqual([b.id]);
    });
  });

  describe('failing peers', () => {
    it('keeps serving the others when one client resets mid-stream', async () => {
      const { server, log, port } = await start();
      const clients = [await join(server, log, port), await join(server, log, port), await join(server, log, port)];
      const [bad, ...good] = clients as [typeof clients[0], ...typeof clients];
      bad.socket.write('half a mess');
      await log.next('data', (e) => e.id === bad.id);
      bad.socket.resetAndDestroy();
      const gone = await log.next('disconnected', (e) => e.id === bad.id);
      expect(gone).toMatchObject({ reason: 'reset', code: 'E_CONN_RESET', clients: 2 });
      const reads = good.map((c) => readBytes(c.socket, 8));
      expect(server.broadcast('on we go')).toBe(2);
      for (const got of await Promise.all(reads)) expect(got.toString()).toBe('on we go');
      good[0]!.socket.write('me too');
      expect(await log.next('data', (e) => e.id === good[0]!.id)).toMatchObject({ chunk: Buffer.from('me too') });
    });

    it('answers a half-close by closing its side too (CLOSE_WAIT → LAST_ACK → CLOSED)', async () => {
      const { log, port, server } = await start();
      const a = await join(server, log, port, { allowHalfOpen: true });
      a.socket.end();
      expect((await readAll(a.socket)).length).toBe(0);
      const gone = await log.next('disconnected');
      expect(gone).toMatchObject({ id: a.id, reason: 'peer-closed' });
      expect(log.all('state').filter((e) => e.actor === a.id).map((e) => e.state)).toEqual(['ESTABLISHED', 'LAST_ACK', 'CLOSED']);
    });

    it('with connection.halfOpen stays in CLOSE_WAIT, still sending, until it closes (LAST_ACK)', async () => {
      const { log, port, server } = await start({ connection: { halfOpen: true } });
      const a = await join(server, log, port, { allowHalfOpen: true });
      a.socket.end();
      await log.next('state', (e) => e.actor === a.id && e.state === 'CLOSE_WAIT');
      expect(server.list()[0]).toMatchObject({ id: a.id, state: 'CLOSE_WAIT' });
      server.send(a.id, 'after your FIN');
      expect((await readBytes(a.socket, 14)).toString()).toBe('after your FIN');
      server.disconnect(a.id);
      await log.next('state', (e) => e.actor === a.id && e.state === 'LAST_ACK');
      const gone = await log.next('disconnected');
      expect(gone).toMatchObject({ id: a.id, reason: 'closed', clients: 0 });
    });

    it('talks half-open with a synack client: the server closes first, the client still sends in CLOSE_WAIT', async () => {
      const { server, log, port } = await start();
      const client = createClient({ host: '127.0.0.1', port, halfOpen: true });
      cleanup.add(client, (c) => c.close());
      await client.connect();
      const { id } = await log.next('connected');
      server.disconnect(id);
      await log.next('state', (e) => e.actor === id && e.state === 'FIN_WAIT');
      await waitFor(client.connection, (s) => connectionState(s) === 'CLOSE_WAIT');
      expect(client.send('one more thing')).toBe(true);
      expect(await log.next('data', (e) => e.id === id)).toMatchObject({ chunk: Buffer.from('one more thing') });
      await client.end();
      expect(await log.next('disconnected', (e) => e.id === id)).toMatchObject({ reason: 'closed' });
      expect(log.all('state').filter((e) => e.actor === id).map((e) => e.state)).toEqual(['ESTABLISHED', 'FIN_WAIT', 'CLOSED']);
    });

    it('drops a client that never reads with E_SLOW_CONSUMER, keeping memory bounded and the others served', async () => {
      const maxBufferedBytes = 256 * 1024;
      const { server, log, port } = await start({ connection: { maxBufferedBytes } });
      const slow = await join(server, log, port);
      slow.socket.pause();
      const fast = await join(server, log, port);
      const chunk = Buffer.alloc(64 * 1024, 0x2a);
      // Loopback kernel buffers hold a few MiB; past them, at most maxBufferedBytes may queue.
      let sent = 0;
      for (let i = 0; i < 512 && log.all('disconnected').length === 0; i++) {
        server.broadcast(chunk);
        sent += chunk.length;
        await readBytes(fast.socket, chunk.length, 3_000);
      }
      const dropped = await log.next('disconnected', (e) => e.id === slow.id);
      expect(dropped).toMatchObject({ reason: 'error', code: 'E_SLOW_CONSUMER', clients: 1 });
      expect(log.all('error')).toEqual([]);
      expect(sent).toBeLessThan(512 * chunk.length);
      expect(server.list().map((c) => c.id)).toEqual([fast.id]);
      expect(server.broadcast('after')).toBe(1);
      expect((await readBytes(fast.socket, 5)).toString()).toBe('after');
    });
  });

  describe('stopping and closing', () => {
    it('stop() stops accepting but keeps its clients', async () => {
      const { server, log, port } = await start();
      const a = await join(server, log, port);
      await server.stop();
      expect(log.names().slice(-3)).toEqual([`state ${server.id} CLOSING`, `state ${server.id} STOPPED`, 'stopped']);
      const refused = net.connect({ host: '127.0.0.1', port });
      cleanup.socket(refused);
      const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
        refused.once('error', resolve);
        refused.once('connect', () => reject(new Error('a new client got in after stop()')));
      });
      expect(error.code).toBe('ECONNREFUSED');
      expect(server.list().map((c) => c.id)).toEqual([a.id]);
      server.broadcast('still yours');
      expect((await readBytes(a.socket, 11)).toString()).toBe('still yours');
      a.socket.write('and back');
      expect(await log.next('data')).toMatchObject({ id: a.id, chunk: Buffer.from('and back') });
    });

    it('stop({ closeClients: true }) closes every client with a FIN', async () => {
      const { server, log, port } = await start();
      const clients = [await join(server, log, port), await join(server, log, port)];
      const ends = clients.map((c) => readAll(c.socket));
      await server.stop({ closeClients: true });
      for (const end of ends) expect((await end).length).toBe(0);
      await log.count('disconnected', 2);
      expect(log.all('disconnected').map((e) => e.reason)).toEqual(['closed', 'closed']);
      expect(server.list()).toEqual([]);
    });

    it('listens again after stop()', async () => {
      const { server, log, port } = await start();
      await server.stop();
      const again = await server.listen();
      expect(again.port).toBeGreaterThan(0);
      await join(server, log, again.port);
      expect(port).toBeGreaterThan(0);
    });

    it('close() closes the clients, stops the listener and completes events$', async () => {
      const server = createServer({ port: 0 });
      const log = new EventLog(server.events$);
      const { port } = await server.listen();
      const a = await join(server, log, port);
      const end = readAll(a.socket);
      a.socket.on('end', () => a.socket.end());
      const started = Date.now();
      await server.close({ graceMs: 5_000 });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await end).length).toBe(0);
      expect(log.all('disconnected')).toMatchObject([{ id: a.id, reason: 'closed' }]);
      expect(log.completed).toBe(true);
      expect(server.listener.getSnapshot().status).toBe('stopped');
    });

    it('close() after stop() still closes the remaining clients gracefully', async () => {
      const server = createServer({ port: 0 });
      const log = new EventLog(server.events$);
      const { port } = await server.listen();
      const a = await join(server, log, port);
      a.socket.on('end', () => a.socket.end());
      await server.stop();
      const started = Date.now();
      await server.close({ graceMs: 5_000 });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(log.all('disconnected')).toMatchObject([{ id: a.id, reason: 'closed' }]);
    });
  });

  it('can be closed twice, the second close waiting for the first, without poking stopped actors', async () => {
    const server = createServer({ port: 0 });
    const log = new EventLog(server.events$);
    const { port } = await server.listen();
    const a = await join(server, log, port);
    a.socket.on('end', () => a.socket.end());
    const warn = vi.spyOn(console, 'warn');
    try {
      const first = server.close();
      const second = server.close();
      await second;
      expect(log.completed).toBe(true);
      await first;
      await server.close();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  describe('at scale', () => {
    it('takes 1,000 clients connecting and leaving at once, then serves a new one', { timeout: 30_000 }, async () => {
      const { server, log, port } = await start();
      const n = 1_000;
      const sockets = await Promise.all(Array.from({ length: n }, () => connectRaw(port, {}, 15_000)));
      for (const s of sockets) cleanup.socket(s);
      await log.count('connected', n, 15_000);
      expect(server.list()).toHaveLength(n);
      expect(new Set(log.all('connected').map((e) => e.id)).size).toBe(n);
      for (const s of sockets) s.end();
      await log.count('disconnected', n, 15_000);
      expect(server.list()).toEqual([]);
      expect(log.all('disconnected').every((e) => e.reason === 'peer-closed')).toBe(true);
      expect(log.all('disconnected').at(-1)?.clients).toBe(0);
      const last = await join(server, log, port);
      server.broadcast('next');
      expect((await readBytes(last.socket, 4)).toString()).toBe('next');
      expect(server.list()).toHaveLength(1);
    });
  });
});
