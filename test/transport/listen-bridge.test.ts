import net from 'node:net';
import os from 'node:os';
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { listenEvents, type ListenEvent, type ListenOptions } from '../../src/transport/listen-bridge.js';
import { Cleanup, connectRaw, eventOnce, listenRaw, readBytes } from '../helpers.js';

const hasIPv6Loopback = Object.values(os.networkInterfaces()).some((infos) => infos?.some((i) => i.address === '::1'));

/** Subscribes to listenEvents and keeps what it reports, with bounded waits. */
function watch(options: ListenOptions, cleanup: Cleanup) {
  const events: ListenEvent[] = [];
  const waiters = new Set<() => void>();
  const subscription: Subscription = listenEvents(options).subscribe((event) => {
    events.push(event);
    if (event.type === 'LISTEN.ACCEPTED') cleanup.socket(event.socket);
    for (const w of [...waiters]) w();
  });
  cleanup.add(subscription, (s) => s.unsubscribe());
  const next = <T extends ListenEvent['type']>(type: T, timeoutMs = 2_000) =>
    new Promise<Extract<ListenEvent, { type: T }>>((resolve, reject) => {
      const check = () => {
        const found = events.find((e) => e.type === type);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found as Extract<ListenEvent, { type: T }>);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${type} within ${timeoutMs} ms; got ${events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { events, subscription, next };
}

/** Whether a fresh server can bind this port now (and releases it again). */
async function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = net.createServer();
  const result = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host, port }, () => resolve(true));
  });
  if (result) await new Promise<void>((resolve) => server.close(() => resolve()));
  return result;
}

describe('listen bridge', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('reports the bound address, with the port picked for port 0', async () => {
    const { next } = watch({ host: '127.0.0.1', port: 0 }, cleanup);
    const listening = await next('LISTEN.LISTENING');
    expect(listening.host).toBe('127.0.0.1');
    expect(listening.port).toBeGreaterThan(0);
    expect(listening.address).toBe(`127.0.0.1:${listening.port}`);
    expect(await canBind(listening.port)).toBe(false);
  });

  it.runIf(hasIPv6Loopback)('writes an IPv6 address in brackets', async () => {
    const { next } = watch({ host: '::1', port: 0 }, cleanup);
    const listening = await next('LISTEN.LISTENING');
    expect(listening.host).toBe('::1');
    expect(listening.address).toBe(`[::1]:${listening.port}`);
  });

  it('hands over each accepted socket, which allows half-open connections', async () => {
    const { next } = watch({ host: '127.0.0.1', port: 0 }, cleanup);
    const { port } = await next('LISTEN.LISTENING');
    const client = cleanup.socket(await connectRaw(port, { allowHalfOpen: true }));
    const { socket } = await next('LISTEN.ACCEPTED');
    expect(socket.remotePort).toBe(client.localPort);
    // The client shuts down its sending side; the accepted socket can still write to it.
    client.end();
    await eventOnce(socket, 'end');
    const reply = readBytes(client, 5);
    socket.write('later');
    expect((await reply).toString()).toBe('later');
  });

  it('reports a port in use as LISTEN.ERROR with E_ADDR_IN_USE, naming the address', async () => {
    const taken = await listenRaw();
    cleanup.server(taken.server, taken.sockets);
    const { next, events } = watch({ host: '127.0.0.1', port: taken.port }, cleanup);
    const { error } = await next('LISTEN.ERROR');
    expect(error).toEqual({
      code: 'E_ADDR_IN_USE',
      errno: 'EADDRINUSE',
      message: expect.stringMatching(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${taken.port}: .*EADDRINUSE`)),
    });
    expect(events.map((e) => e.type)).toEqual(['LISTEN.ERROR']);
  });

  it('frees the port on unsubscribe and leaves accepted sockets open', async () => {
    const { next, subscription } = watch({ host: '127.0.0.1', port: 0 }, cleanup);
    const { port } = await next('LISTEN.LISTENING');
    const client = cleanup.socket(await connectRaw(port));
    const { socket } = await next('LISTEN.ACCEPTED');
    subscription.unsubscribe();
    expect(await canBind(port)).toBe(true);
    const got = readBytes(client, 5);
    socket.write('still');
    expect((await got).toString()).toBe('still');
  });

  it('gives the port back when unsubscribed before the bind completes', async () => {
    const probe = await listenRaw();
    const port = probe.port;
    await new Promise<void>((resolve) => probe.server.close(() => resolve()));
    const early = listenEvents({ host: '127.0.0.1', port }).subscribe(() => {});
    early.unsubscribe();
    // The bind was already under way (it completes within this turn of the event loop); once it
    // has, the port must be free again rather than held by a server nobody can close.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await canBind(port)).toBe(true);
  });
});
