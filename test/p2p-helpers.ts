/**
 * Test helpers for the P2P registry and peers: a frame codec written independently of
 * src/transport/p2p-frame.ts (so the tests check our bytes against the protocol, not against
 * ourselves), a raw link, and an "original peer" that speaks P2PChatRoom's bytes the way its Qt
 * client does, a starter for the registry and peer machines under test, plus bounded polling for
 * tests that run under fake timers.
 */
import net from 'node:net';
import { afterEach, beforeEach, vi } from 'vitest';
import type { Actor, AnyStateMachine, EmittedFrom, EventFrom } from 'xstate';
import { connectRaw, eventOnce, Waiters } from './helpers.js';

/** `TYPE len payload`, the length in UTF-8 bytes, as the Qt client builds it. */
export function frame(type: string, payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${type} ${body.length} `, 'latin1'), body]);
}

export interface RawFrame {
  type: string;
  payload: string;
}

/** Splits a byte stream into frames; trusts its input (tests only feed it our registry's output). */
export class FrameReader {
  #buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawFrame[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const frames: RawFrame[] = [];
    for (;;) {
      const first = this.#buffer.indexOf(0x20);
      if (first < 0) break;
      const second = this.#buffer.indexOf(0x20, first + 1);
      if (second < 0) break;
      const length = Number(this.#buffer.subarray(first + 1, second).toString('latin1'));
      if (this.#buffer.length < second + 1 + length) break;
      frames.push({
        type: this.#buffer.subarray(0, first).toString('latin1'),
        payload: this.#buffer.subarray(second + 1, second + 1 + length).toString('utf8'),
      });
      this.#buffer = this.#buffer.subarray(second + 1 + length);
    }
    return frames;
  }
}

/** A socket with its frames collected; every wait is bounded. */
export class RawLink {
  readonly frames: RawFrame[] = [];
  readonly bytes: Buffer[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  readonly #reader = new FrameReader();
  readonly #waiters = new Waiters();
  #cursor = 0;

  constructor(readonly socket: net.Socket) {
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.bytes.push(chunk);
      this.frames.push(...this.#reader.push(chunk));
      this.#waiters.wake();
    });
    this.closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.#waiters.wake();
        resolve();
      }),
    );
  }

  static async connect(port: number): Promise<RawLink> {
    return new RawLink(await connectRaw(port));
  }

  write(type: string, payload: string): void {
    this.socket.write(frame(type, payload));
  }

  /** Everything received so far, as text. */
  text(): string {
    return Buffer.concat(this.bytes).toString('utf8');
  }

  /**
   * Resolves with the first frame that matches among those not yet taken by an earlier `next`
   * (frames are consumed in order: earlier ones are passed over), within `timeoutMs`.
   */
  next(match: (f: RawFrame) => boolean, timeoutMs = 2_000, what = 'frame'): Promise<RawFrame> {
    return this.#waiters.until(
      () => {
        const index = this.frames.findIndex((f, i) => i >= this.#cursor && match(f));
        if (index >= 0) {
          this.#cursor = index + 1;
          return this.frames[index]!;
        }
        if (this.isClosed) throw new Error(`RawLink: closed before ${what}; got ${JSON.stringify(this.text())}`);
        return undefined;
      },
      timeoutMs,
      () => `RawLink: no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.text())}`,
    );
  }

  /** Resolves when the other side closes, within `timeoutMs`. */
  async waitClosed(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`RawLink: still open after ${timeoutMs} ms; got ${JSON.stringify(this.text())}`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A peer of the original P2PChatRoom Qt client, in raw bytes: it listens for chat links, greets
 * the registry with `GREETING name:ip:port` then `REGISTER name@ip:port` the moment it connects,
 * rebuilds its list from every PEERLIST, and on chat links greets, answers a greeting with its
 * own, and sends MESSAGE frames.
 */
export class OriginalPeer {
  readonly chatLinks: RawLink[] = [];
  registry: RawLink | undefined;
  list: { name: string; ip: string; port: number }[] = [];
  port = 0;
  readonly #server = net.createServer();
  readonly #waiters = new Waiters();

  constructor(readonly name: string, readonly ip = '127.0.0.1') {}

  async listen(): Promise<number> {
    this.#server.on('connection', (socket) => {
      const link = new RawLink(socket);
      this.chatLinks.push(link);
      let greeted = false;
      socket.on('data', () => {
        if (!greeted && link.frames[0]?.type === 'GREETING') {
          greeted = true;
          socket.write(frame('GREETING', `${this.name}:${this.ip}:${this.port}`));
        }
        this.#waiters.wake();
      });
      this.#waiters.wake();
    });
    this.#server.listen({ host: this.ip, port: 0 });
    await eventOnce(this.#server, 'listening');
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this.port;
  }

  async register(registryPort: number): Promise<void> {
    const socket = await connectRaw(registryPort);
    this.registry = new RawLink(socket);
    socket.write(Buffer.concat([frame('GREETING', `${this.name}:${this.ip}:${this.port}`), frame('REGISTER', `${this.name}@${this.ip}:${this.port}`)]));
    socket.on('data', () => {
      const last = [...this.registry!.frames].reverse().find((f) => f.type === 'PEERLIST');
      if (last) {
        this.list = last.payload === '' ? [] : last.payload.split(';').map((entry) => {
          const [name, address] = entry.split('@') as [string, string];
          const [ip, port] = address.split(':') as [string, string];
          return { name, ip, port: Number(port) };
        });
      }
      this.#waiters.wake();
    });
  }

  /** Dials a peer from its list, greets, and sends each text as a MESSAGE. */
  async chat(name: string, ...texts: string[]): Promise<RawLink> {
    const entry = this.list.find((p) => p.name === name);
    if (!entry) throw new Error(`OriginalPeer: ${name} is not in the list ${JSON.stringify(this.list)}`);
    const link = await RawLink.connect(entry.port);
    link.socket.write(Buffer.concat([frame('GREETING', `${this.name}:${this.ip}:${this.port}`), ...texts.map((t) => frame('MESSAGE', t))]));
    return link;
  }

  /** Resolves once `predicate` holds, checked on every frame received, within `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
    await this.#waiters.until(() => (predicate() ? true : undefined), timeoutMs, () => `OriginalPeer ${this.name}: no ${what} within ${timeoutMs} ms`);
  }

  async close(): Promise<void> {
    this.registry?.destroy();
    for (const link of this.chatLinks) link.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * For tests under fake timers (with setImmediate and performance left real): lets I/O run and
 * fires the timers that are due (moving fake time on by `stepMs` each round, 0 by default) until
 * `predicate` holds; fails after `timeoutMs` of real time.
 */
export async function settle(predicate: () => boolean, what: string, timeoutMs = 3_000, stepMs = 0): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    vi.advanceTimersByTime(stepMs);
    if (predicate()) return;
    if (performance.now() > deadline) throw new Error(`settle: no ${what} within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Starts a registry or peer actor and sends it USER.START, collecting the events of `types` it
 * emits and any error it fails with; adds it to `running` (see {@link actorsUnderFakeTimers}).
 */
export function startWatched<TMachine extends AnyStateMachine>(
  actor: Actor<TMachine>,
  types: readonly EmittedFrom<TMachine>['type'][],
  running: { stop(): void }[],
): { log: EmittedFrom<TMachine>[]; errors: unknown[] } {
  const log: EmittedFrom<TMachine>[] = [];
  const errors: unknown[] = [];
  for (const type of types) actor.on(type, (e) => log.push(e));
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  running.push(actor);
  actor.send({ type: 'USER.START' } as EventFrom<TMachine>);
  return { log, errors };
}

/** Fake timers in each test of the calling describe, and the actors that afterEach stops before it restores real ones. */
export function actorsUnderFakeTimers(): { stop(): void }[] {
  const running: { stop(): void }[] = [];
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    for (const actor of running.splice(0)) actor.stop();
    vi.useRealTimers();
  });
  return running;
}
