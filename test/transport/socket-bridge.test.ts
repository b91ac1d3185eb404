import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { endpointsOf, formatEndpoint, socketEvents, writeBounded, type SocketEvent } from '../../src/transport/socket-bridge.js';
import { Cleanup, connectRaw, eventOnce, freePort, listenRaw, readBytes } from '../helpers.js';

/** Subscribes to a socket's events and keeps them, with a bounded wait for the next kind. */
function record(socket: net.Socket) {
  const events: SocketEvent[] = [];
  let completed = false;
  const waiters: (() => void)[] = [];
  const subscription = socketEvents(socket).subscribe({
    next: (event) => {
      events.push(event);
      for (const w of [...waiters]) w();
    },
    complete: () => {
      completed = true;
      for (const w of [...waiters]) w();
    },
  });
  const until = (predicate: () => boolean, what: string, timeoutMs = 3_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(check), 1);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      waiters.push(check);
      check();
    });
  return {
    events,
    subscription,
    get completed() {
      return completed;
    },
    types: () => events.map((e) => e.type),
    until,
    untilType: (type: SocketEvent['type']) => until(() => events.some((e) => e.type === type), type),
    untilCompleted: () => until(() => completed, 'completion'),
  };
}

/** The first socket a raw server accepted, waiting (bounded) for it. */
async function accepted(raw: { server: net.Server; sockets: Set<net.Socket> }): Promise<net.Socket> {
  if (raw.sockets.size === 0) await eventOnce(raw.server, 'connection');
  return [...raw.sockets][0]!;
}

describe('socket bridge', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  describe('socketEvents', () => {
    it('reports connect, each data chunk, the peer’s end and the close, then completes', async () => {
      const raw = await listenRaw();
      cleanup.server(raw.server, raw.sockets);
      const socket = cleanup.socket(net.connect({ host: '127.0.0.1', port: raw.port, allowHalfOpen: true }));
      const rec = record(socket);
      await rec.untilType('SOCKET.CONNECTED');
      const connected = rec.events[0]!;
      expect(connected).toEqual({
        type: 'SOCKET.CONNECTED',
        local: `127.0.0.1:${socket.localPort}`,
        peer: `127.0.0.1:${raw.port}`,
      });
      const peer = await accepted(raw);
      peer.write('hello ');
      await rec.until(() => rec.events.filter((e) => e.type === 'SOCKET.DATA').length >= 1, 'first chunk');
      peer.write('world');
      peer.end();
      await rec.untilType('SOCKET.END');
      const data = Buffer.concat(rec.events.flatMap((e) => (e.type === 'SOCKET.DATA' ? [e.chunk] : [])));
      expect(data.toString()).toBe('hello world');
      expect(rec.types().filter((t) => t === 'SOCKET.DATA').length).toBeGreaterThanOrEqual(2);
      expect(rec.completed).toBe(false);
      socket.end();
      await rec.untilCompleted();
      expect(rec.types()[0]).toBe('SOCKET.CONNECTED');
      expect(rec.types().slice(-2)).toEqual(['SOCKET.END', 'SOCKET.CLOSED']);
      expect(rec.events.at(-1)).toEqual({ type: 'SOCKET.CLOSED', hadError: false });
      expect(rec.types()).not.toContain('SOCKET.ERROR');
    });

    it('reports SOCKET.CONNECTED at once for a socket that is already connected', async () => {
      const raw = await listenRaw();
      cleanup.server(raw.server, raw.sockets);
      const socket = cleanup.socket(await connectRaw(raw.port));
      const rec = record(socket);
      expect(rec.events).toEqual([{ type: 'SOCKET.CONNECTED', ...endpointsOf(socket) }]);
      rec.subscription.unsubscribe();
    });

    it('closes and completes at once for a socket that is already destroyed', async () => {
      const raw = await listenRaw();
      cleanup.server(raw.server, raw.sockets);
      const socket = await connectRaw(raw.port);
      socket.destroy();
      await eventOnce(socket, 'close');
      const rec = record(socket);
      await rec.untilCompleted();
      expect(rec.events).toEqual([{ type: 'SOCKET.CLOSED', hadError: false }]);
    });

    it('turns a refused connect into SOCKET.ERROR with the stable code E_CONN_REFUSED, then a close with error', async () => {
      const port = await freePort();
      const socket = cleanup.socket(net.connect({ host: '127.0.0.1', port }));
      const rec = record(socket);
      await rec.untilCompleted();
      expect(rec.types()).toEqual(['SOCKET.ERROR', 'SOCKET.CLOSED']);
      expect(rec.events[0]).toMatchObject({ error: { code: 'E_CONN_REFUSED', errno: 'ECONNREFUSED' } });
      expect(rec.events[1]).toEqual({ type: 'SOCKET.CLOSED', hadError: true });
    });

    it('turns a reset from the peer into SOCKET.ERROR E_CONN_RESET', async () => {
      const raw = await listenRaw();
      cleanup.server(raw.server, raw.sockets);
      const socket = cleanup.socket(await connectRaw(raw.port));
      const rec = record(socket);
      (await accepted(raw)).resetAndDestroy();
      await rec.untilCompleted();
      expect(rec.types()).toEqual(['SOCKET.CONNECTED', 'SOCKET.ERROR', 'SOCKET.CLOSED']);
      expect(rec.events[1]).toMatchObject({ error: { code: 'E_CONN_RESET', errno: 'ECONNRESET' } });
      expect(rec.events[2]).toEqual({ type: 'SOCKET.CLOSED', hadError: true });
    });

    it('reports SOCKET.DRAIN once a peer that stopped reading catches up', async () => {
      const raw = await listenRaw((s) => s.pause());
      cleanup.server(raw.server, raw.sockets);
      const socket = cleanup.socket(await connectRaw(raw.port));
      const rec = record(socket);
      const peer = await accepted(raw);
      let received = 0;
      let full = false;
      for (let i = 0; i < 2_000 && !full; i++) full = !socket.write(Buffer.alloc(64 * 1024));
      expect(full).toBe(true);
      expect(rec.types()).not.toContain('SOCKET.DRAIN');
      peer.on('data', (chunk: Buffer) => (received += chunk.length));
      peer.resume();
      await rec.untilType('SOCKET.DRAIN');
      expect(received).toBeGreaterThan(0);
    });

    it('detaches on unsubscribe and leaves a no-op error listener, so a late error cannot crash Node', async () => {
      const raw = await listenRaw();
      cleanup.server(raw.server, raw.sockets);
      const socket = cleanup.socket(await connectRaw(raw.port));
      socket.removeAllListeners('error');
      const names = ['connect', 'data', 'end', 'drain', 'close'];
      const before = names.map((name) => socket.listenerCount(name));
      const rec = record(socket);
      expect(names.map((name) => socket.listenerCount(name))).toEqual(before.map((n) => n + 1));
      rec.subscription.unsubscribe();
      expect(names.map((name) => socket.listenerCount(name))).toEqual(before);
      expect(socket.listenerCount('error')).toBe(1);
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.destroy(new Error('late failure'));
      expect(await closed).toBe(true);
      expect(rec.types()).toEqual(['SOCKET.CONNECTED']);
    });
  });

  describe('formatEndpoint', () => {
    it('writes IPv4 as ip:port, IPv6 in brackets, and ? when unknown', () => {
      expect(formatEndpoint('127.0.0.1', 9000)).toBe('127.0.0.1:9000');
      expect(formatEndpoint('::1', 9000)).toBe('[::1]:9000');
      expect(formatEndpoint(undefined, 9000)).toBe('?');
    });
  });

  describe('writeBounded', () => {
    async function pausedPeer() {
      const raw = await listenRaw((s) => s.pause());
      cleanup.server(raw.server, raw.sockets);
      const socket = cleanup.socket(await connectRaw(raw.port));
      return socket;
    }

    it('says written for a small write', async () => {
      const socket = await pausedPeer();
      expect(writeBounded(socket, 'hello', 1024 * 1024)).toBe('written');
    });

    it('says blocked once the kernel is full and Node’s buffer passes its high-water mark', async () => {
      const socket = await pausedPeer();
      let result = 'written';
      for (let i = 0; i < 2_000 && result === 'written'; i++) result = writeBounded(socket, Buffer.alloc(64 * 1024), 256 * 1024 * 1024);
      expect(result).toBe('blocked');
      expect(socket.writableLength).toBeGreaterThanOrEqual(socket.writableHighWaterMark);
    });

    it('says overflow, without queueing, once a peer that does not read would hold more than the bound', async () => {
      const socket = await pausedPeer();
      const max = 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const results = new Set<string>();
      let result = '';
      // The kernel's buffers take the first few MiB; after that the bytes queue in Node.
      for (let i = 0; i < 2_000 && result !== 'overflow'; i++) {
        const before = socket.writableLength;
        result = writeBounded(socket, chunk, max);
        results.add(result);
        if (result === 'overflow') expect(socket.writableLength).toBe(before);
        expect(socket.writableLength).toBeLessThanOrEqual(max);
      }
      expect(result).toBe('overflow');
      expect(results.has('blocked')).toBe(true);
      expect(socket.writableLength).toBeGreaterThan(max - chunk.length);
    });

    it('lets one write larger than the bound through while nothing is queued', async () => {
      const socket = await pausedPeer();
      expect(writeBounded(socket, Buffer.alloc(2 * 1024 * 1024), 1024 * 1024)).not.toBe('overflow');
    });

    it('does not lose or reorder bytes it reports written', async () => {
      const raw = await listenRaw();
      cleanup.server(raw.server, raw.sockets);
      const socket = cleanup.socket(await connectRaw(raw.port));
      const peer = await accepted(raw);
      const parts = Array.from({ length: 50 }, (_, i) => Buffer.from(`part ${i};`));
      const expected = Buffer.concat(parts);
      const arriving = readBytes(peer, expected.length);
      for (const part of parts) expect(writeBounded(socket, part, 1024 * 1024)).toBe('written');
      expect((await arriving).toString()).toBe(expected.toString());
    });
  });
});
