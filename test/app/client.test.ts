import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client, type ClientOptions } from '../../src/app/client.js';
import { SynackError } from '../../src/errors.js';
import { Cleanup, EventLog, eventOnce, freePort, listenRaw, readAll, readBytes } from '../helpers.js';

async function rejection(promise: Promise<unknown>): Promise<SynackError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SynackError);
  return error as SynackError;
}

describe('synack client', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** A plain Node server for the client to talk to; `peer()` is the socket it accepted. */
  async function rawServer(options: net.ServerOpts = {}) {
    const raw = await listenRaw(() => {}, options);
    cleanup.server(raw.server, raw.sockets);
    const peer = async () => {
      if (raw.sockets.size === 0) await eventOnce(raw.server, 'connection');
      return [...raw.sockets].at(-1)!;
    };
    return { ...raw, peer };
  }

  function client(options: Partial<ClientOptions> & { port: number }): { client: Client; log: EventLog } {
    const c = createClient({ host: '127.0.0.1', ...options });
    const log = new EventLog(c.events$);
    cleanup.add(c, (x) => x.close());
    return { client: c, log };
  }

  describe('talking', () => {
    it('connects, sends, receives and ends gracefully, reporting each step', async () => {
      const raw = await rawServer();
      const { client: c, log } = client({ port: raw.port });
      await c.connect();
      expect(c.state).toBe('ESTABLISHED');
      const peer = await raw.peer();
      const connected = await log.next('connected');
      expect(connected).toEqual({ event: 'connected', id: c.id, peer: `127.0.0.1:${raw.port}` });
      const got = readBytes(peer, 6);
      expect(c.send('hello\n')).toBe(true);
      expect((await got).toString()).toBe('hello\n');
      expect(log.all('sent')).toEqual([{ event: 'sent', id: c.id, peer: `127.0.0.1:${raw.port}`, chunk: Buffer.from('hello\n') }]);
      peer.write(Buffer.from([0x68, 0x69, 0x00]));
      expect(await log.next('data')).toEqual({ event: 'data', id: c.id, peer: `127.0.0.1:${raw.port}`, chunk: Buffer.from([0x68, 0x69, 0x00]) });
      const peerSaw = readAll(peer);
      await c.end();
      expect((await peerSaw).length).toBe(0);
      expect(c.state).toBe('CLOSED');
      expect(await log.next('disconnected')).toEqual({ event: 'disconnected', id: c.id, peer: `127.0.0.1:${raw.port}`, reason: 'closed' });
      expect(log.states()).toEqual(['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT', 'CLOSED']);
      expect(log.names().filter((n) => !n.startsWith('state'))).toEqual(['connected', 'sent', 'data', 'disconnected']);
      expect(c.connection.getSnapshot().context.stats).toMatchObject({ bytesOut: 6, bytesIn: 3, messagesOut: 1, messagesIn: 1 });
    });

    it('refuses to send while not connected, with E_NOT_CONNECTED', async () => {
      const raw = await rawServer();
      const { client: c } = client({ port: raw.port });
      expect(() => c.send('too early')).toThrow(expect.objectContaining({ code: 'E_NOT_CONNECTED', message: 'cannot send while CLOSED: the connection is not open' }));
      await c.connect();
      await c.end();
      expect(() => c.send('too late')).toThrow(expect.objectContaining({ code: 'E_NOT_CONNECTED' }));
    });

    it('says false when the socket is full, and drained() resolves once the peer reads again', async () => {
      const raw = await rawServer();
      const { client: c } = client({ port: raw.port, maxBufferedBytes: 256 * 1024 * 1024 });
      await c.connect();
      const peer = await raw.peer();
      peer.pause();
      let accepted = true;
      let sent = 0;
      for (let i = 0; i < 4_000 && accepted; i++) {
        accepted = c.send(Buffer.alloc(64 * 1024, 0x61));
        sent += 64 * 1024;
      }
      expect(accepted).toBe(false);
      expect(c.connection.getSnapshot().context.writable).toBe(false);
      let resumed = false;
      const drained = c.drained().then(() => resumed);
      // Let the loop turn: a drained() that resolved without a drain would show here.
      await new Promise((resolve) => setImmediate(resolve));
      const all = readBytes(peer, sent, 10_000);
      resumed = true;
      peer.resume();
      expect(await drained).toBe(true);
      expect(c.connection.getSnapshot().context.writable).toBe(true);
      expect((await all).length).toBe(sent);
      expect(c.send('more')).toBe(true);
    });

    it('close() drops the link at once, stops the actor and completes events$', async () => {
      const raw = await rawServer();
      const { client: c, log } = client({ port: raw.port });
      await c.connect();
      const peer = await raw.peer();
      const peerSaw = readAll(peer);
      await c.close();
      await peerSaw;
      expect(c.state).toBe('CLOSED');
      expect(c.connection.getSnapshot().status).toBe('stopped');
      expect(log.completed).toBe(true);
      expect(log.all('disconnected')).toMatchObject([{ reason: 'aborted' }]);
    });
  });

  it('can be closed twice without poking a stopped actor', async () => {
    const raw = await rawServer();
    const { client: c } = client({ port: raw.port });
    await c.connect();
    const warn = vi.spyOn(console, 'warn');
    try {
      await c.close();
      await c.close();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  describe('when the server is not there', () => {
    it('gives up at once with E_CONN_REFUSED and ends FAILED when no retries are asked for', async () => {
      const port = await freePort();
      const { client: c, log } = client({ port });
      const error = await rejection(c.connect());
      expect(error.code).toBe('E_CONN_REFUSED');
      expect(error.message).toMatch(new RegExp(`^gave up connecting to 127\\.0\\.0\\.1:${port} after 1 attempt: .*ECONNREFUSED`));
      expect(error.message).not.toContain('\n');
      expect(c.state).toBe('FAILED');
      expect(log.all('reconnecting')).toEqual([]);
      expect(log.all('error')).toMatchObject([{ code: 'E_CONN_REFUSED' }]);
      expect(log.all('connected')).toEqual([]);
      expect(log.all('disconnected')).toEqual([]);
    });

    it('retries with growing delays, reporting each retry, then fails with E_CONN_REFUSED', async () => {
      const port = await freePort();
      const { client: c, log } = client({ port, retry: { attempts: 3, baseMs: 40, factor: 3, jitter: 0.2 } });
      const error = await rejection(c.connect());
      expect(error.code).toBe('E_CONN_REFUSED');
      expect(error.message).toContain('after 4 attempts');
      const retries = log.all('reconnecting');
      expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
      const delays = retries.map((r) => r.delayMs);
      expect(delays[0]).toBeGreaterThanOrEqual(32);
      expect(delays[0]).toBeLessThanOrEqual(48);
      expect(delays[1]!).toBeGreaterThan(delays[0]!);
      expect(delays[2]!).toBeGreaterThan(delays[1]!);
      expect(log.states()).toEqual(['SYN_SENT', 'RETRY_WAIT', 'SYN_SENT', 'RETRY_WAIT', 'SYN_SENT', 'RETRY_WAIT', 'SYN_SENT', 'FAILED']);
      expect(log.all('disconnected')).toEqual([]);
    });

    it('connects on a retry once the server comes up', async () => {
      const probe = await rawServer();
      const port = probe.port;
      await new Promise<void>((resolve) => probe.server.close(() => resolve()));
      const { client: c, log } = client({ port, retry: { attempts: 20, baseMs: 20, factor: 1, jitter: 0 } });
      const connecting = c.connect();
      await log.next('reconnecting');
      const raw = net.createServer();
      cleanup.server(raw);
      raw.on('connection', (s) => cleanup.socket(s));
      raw.listen({ host: '127.0.0.1', port });
      await connecting;
      expect(c.state).toBe('ESTABLISHED');
      expect(c.connection.getSnapshot().context.retries).toBe(0);
    });
  });

  describe('when the link fails', () => {
    it('reports disconnected with reason reset when the peer resets mid-stream', async () => {
      const raw = await rawServer();
      const { client: c, log } = client({ port: raw.port });
      await c.connect();
      const peer = await raw.peer();
      const got = readBytes(peer, 5);
      c.send('start');
      await got;
      peer.write('partial');
      await log.next('data');
      peer.resetAndDestroy();
      const gone = await log.next('disconnected');
      expect(gone).toMatchObject({ reason: 'reset', code: 'E_CONN_RESET' });
      expect(c.state).toBe('CLOSED');
      expect(log.all('error')).toMatchObject([{ code: 'E_CONN_RESET' }]);
    });

    it('closes its side when the peer half-closes (no halfOpen): LAST_ACK, then CLOSED', async () => {
      const raw = await rawServer({ allowHalfOpen: true });
      const { client: c, log } = client({ port: raw.port });
      await c.connect();
      const peer = await raw.peer();
      const peerSaw = readAll(peer);
      peer.end();
      expect((await peerSaw).length).toBe(0);
      expect(await log.next('disconnected')).toMatchObject({ reason: 'peer-closed' });
      expect(log.states().slice(-2)).toEqual(['LAST_ACK', 'CLOSED']);
    });

    it('with halfOpen can still send in CLOSE_WAIT after the peer’s FIN, then closes (LAST_ACK)', async () => {
      const raw = await rawServer({ allowHalfOpen: true });
      const { client: c, log } = client({ port: raw.port, halfOpen: true });
      await c.connect();
      const peer = await raw.peer();
      peer.end('bye from the server');
      expect(await log.next('data')).toMatchObject({ chunk: Buffer.from('bye from the server') });
      await log.next('state', (e) => e.state === 'CLOSE_WAIT');
      expect(c.state).toBe('CLOSE_WAIT');
      const tail = readAll(peer);
      expect(c.send('still talking')).toBe(true);
      await c.end();
      expect((await tail).toString()).toBe('still talking');
      expect(log.states().slice(-3)).toEqual(['CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
      expect(log.all('disconnected')).toMatchObject([{ reason: 'closed' }]);
    });

    it('reconnects after a lost link when asked to, and carries on', async () => {
      const raw = await rawServer();
      const { client: c, log } = client({ port: raw.port, reconnect: true, retry: { attempts: 3, baseMs: 20, jitter: 0 } });
      await c.connect();
      const first = await raw.peer();
      first.destroy();
      expect(await log.next('disconnected')).toMatchObject({ reason: 'peer-closed' });
      expect(await log.next('reconnecting')).toMatchObject({ attempt: 1, delayMs: 20 });
      await log.next('connected');
      const second = await raw.peer();
      expect(second).not.toBe(first);
      const got = readBytes(second, 5);
      c.send('again');
      expect((await got).toString()).toBe('again');
    });

    it('reports one disconnected per lost link, not one per failed reconnect', async () => {
      const raw = await rawServer();
      const { client: c, log } = client({ port: raw.port, reconnect: true, retry: { attempts: 2, baseMs: 20, jitter: 0 } });
      await c.connect();
      const peer = await raw.peer();
      await new Promise<void>((resolve) => {
        raw.server.close(() => resolve());
        peer.destroy();
      });
      await log.next('state', (e) => e.state === 'FAILED', 5_000);
      expect(log.all('reconnecting').map((e) => e.attempt)).toEqual([1, 2]);
      expect(log.all('disconnected')).toHaveLength(1);
    });
  });
});
