/**
 * Shared test helpers: bounded waits (never a sleep used as synchronisation), loopback sockets,
 * and a cleanup list for afterEach. Waits use real timers: do not call them under fake timers.
 */
import { once, type EventEmitter } from 'node:events';
import net from 'node:net';
import type { Observable } from 'rxjs';
import { fromCallback, type AnyActorRef, type SnapshotFrom } from 'xstate';
import type { SynackEvent } from '../src/app/events.js';
import type { ConnectionEvent, LinkCommand, LinkInput } from '../src/machines/connection.js';
import type { ListenerEvent } from '../src/machines/listener.js';

function describeSnapshot(snapshot: unknown): string {
  const s = snapshot as { value?: unknown; status?: string; context?: Record<string, unknown> } | undefined;
  const parts = [`status ${s?.status}`];
  if (s?.value !== undefined) parts.push(`state ${JSON.stringify(s.value)}`);
  const lastError = s?.context?.lastError;
  if (lastError) parts.push(`lastError ${JSON.stringify(lastError)}`);
  return parts.join(', ');
}

/**
 * Resolves with the first snapshot of `actor` (the current one included) that satisfies
 * `predicate`; rejects after `timeoutMs`, when the actor errors, or when it stops first.
 */
export function waitFor<TActor extends AnyActorRef>(
  actor: TActor,
  predicate: (snapshot: SnapshotFrom<TActor>) => boolean,
  timeoutMs = 2_000,
  what = 'the expected state',
): Promise<SnapshotFrom<TActor>> {
  return new Promise((resolve, reject) => {
    const current = actor.getSnapshot() as SnapshotFrom<TActor>;
    if (predicate(current)) return resolve(current);
    let subscription: { unsubscribe(): void } | undefined;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`waitFor: no ${what} within ${timeoutMs} ms (${describeSnapshot(actor.getSnapshot())})`))),
      timeoutMs,
    );
    subscription = actor.subscribe({
      next: (snapshot: SnapshotFrom<TActor>) => {
        if (predicate(snapshot)) finish(() => resolve(snapshot));
      },
      error: (error: unknown) => finish(() => reject(error instanceof Error ? error : new Error(String(error)))),
      complete: () => {
        const last = actor.getSnapshot() as SnapshotFrom<TActor>;
        finish(() => (predicate(last) ? resolve(last) : reject(new Error(`waitFor: actor stopped before ${what} (${describeSnapshot(last)})`))));
      },
    });
    if (settled) subscription.unsubscribe();
  });
}

/** The first value of `source` that satisfies `predicate`, within `timeoutMs`. */
export function firstValue<T>(source: Observable<T>, predicate: (value: T) => boolean, timeoutMs = 2_000, what = 'value'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`firstValue: no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const subscription = source.subscribe({
      next: (value) => {
        if (!predicate(value)) return;
        clearTimeout(timer);
        queueMicrotask(() => subscription.unsubscribe());
        resolve(value);
      },
      error: (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
}

/** `events.once` with a bound: resolves with the event's arguments. */
export async function eventOnce(emitter: EventEmitter, event: string, timeoutMs = 2_000): Promise<unknown[]> {
  try {
    return await once(emitter, event, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw new Error(`eventOnce: no '${event}' within ${timeoutMs} ms`);
    throw error;
  }
}

/** Everything a socket receives until it ends or closes, within `timeoutMs`. */
export function readAll(socket: net.Socket, timeoutMs = 2_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`readAll: no end within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** Resolves with at least `length` bytes received on `socket` (the first `length` of them). */
export function readBytes(socket: net.Socket, length: number, timeoutMs = 2_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= length) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(Buffer.concat(chunks).subarray(0, length));
      }
    };
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`readBytes: ${size} of ${length} bytes within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', onData);
  });
}

/** A plain Node server on 127.0.0.1, port 0, listening. */
export async function listenRaw(
  onConnection: (socket: net.Socket) => void = () => {},
  options: net.ServerOpts = {},
): Promise<{ server: net.Server; port: number; sockets: Set<net.Socket> }> {
  const server = net.createServer(options);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await eventOnce(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port, sockets };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const { server, port } = await listenRaw();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A plain Node client connected to 127.0.0.1:`port`. */
export async function connectRaw(port: number, options: Partial<net.NetConnectOpts> = {}, timeoutMs = 2_000): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, ...options } as net.NetConnectOpts);
  socket.on('error', () => {});
  await eventOnce(socket, 'connect', timeoutMs);
  return socket;
}

/** A list of things to undo, run in reverse order in afterEach. */
export class Cleanup {
  readonly #steps: (() => unknown)[] = [];

  add<T>(value: T, undo: (value: T) => unknown): T {
    this.#steps.push(() => undo(value));
    return value;
  }

  /** Stops an actor. */
  actor<T extends { stop(): unknown }>(actor: T): T {
    return this.add(actor, (a) => a.stop());
  }

  /** Closes a server and destroys its sockets. */
  server(server: net.Server, sockets?: Set<net.Socket>): net.Server {
    return this.add(server, (s) => {
      for (const socket of sockets ?? []) socket.destroy();
      return new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
    });
  }

  /** Destroys a socket. */
  socket(socket: net.Socket): net.Socket {
    return this.add(socket, (s) => s.destroy());
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.#steps.length > 0) {
      try {
        await this.#steps.pop()!();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

// ---------------------------------------------------------------------------------------------
// Fakes for machine effects, to swap in with `.provide()`.


/**
 * A stand-in for the connection's `socketLink`: records each link started (its input), every
 * command it receives (`WRITE hello`, `END`) and when it is stopped; `emit()` sends a
 * `SOCKET.*` event back to the machine as the real bridge would.
 */
export function fakeLink() {
  const inputs: LinkInput[] = [];
  const commands: string[] = [];
  let sendBack: ((event: ConnectionEvent) => void) | undefined;
  let stopped = 0;
  const logic = fromCallback<LinkCommand, LinkInput, ConnectionEvent>(({ input, sendBack: back, receive }) => {
    inputs.push(input);
    sendBack = back;
    receive((command) => commands.push(command.type === 'WRITE' ? `WRITE ${command.data.toString()}` : command.type));
    return () => {
      stopped++;
      if (sendBack === back) sendBack = undefined;
    };
  });
  return {
    logic,
    inputs,
    commands,
    /** Links started so far. */
    get started() {
      return inputs.length;
    },
    /** Links stopped so far (the real one destroys its socket then). */
    get stopped() {
      return stopped;
    },
    /** Sends an event from the live link; throws when no link is live. */
    emit(event: ConnectionEvent) {
      if (!sendBack) throw new Error(`fakeLink: no live link to emit ${event.type}`);
      sendBack(event);
    },
  };
}

/** A stand-in for the listener's `listenSocket`, in the manner of {@link fakeLink}. */
export function fakeListenSocket() {
  const inputs: { host: string; port: number }[] = [];
  const commands: string[] = [];
  let sendBack: ((event: ListenerEvent) => void) | undefined;
  let stopped = 0;
  const logic = fromCallback<{ type: 'CLOSE' }, { host: string; port: number }, ListenerEvent>(({ input, sendBack: back, receive }) => {
    inputs.push(input);
    sendBack = back;
    receive((command) => commands.push(command.type));
    return () => {
      stopped++;
      if (sendBack === back) sendBack = undefined;
    };
  });
  return {
    logic,
    inputs,
    commands,
    get started() {
      return inputs.length;
    },
    get stopped() {
      return stopped;
    },
    emit(event: ListenerEvent) {
      if (!sendBack) throw new Error(`fakeListenSocket: no live socket to emit ${event.type}`);
      sendBack(event);
    },
  };
}

/**
 * Bounded waits on something that changes: each `until` checks its condition now and at every
 * `wake()`, and settles once it holds, throws, or `timeoutMs` passes.
 *
 * @example
 * ```ts
 * const waiters = new Waiters();
 * socket.on('data', (chunk) => { got.push(chunk); waiters.wake(); });
 * await waiters.until(() => (got.length >= 2 ? got : undefined), 2_000, () => `only ${got.length} chunks`);
 * ```
 */
export class Waiters {
  readonly #checks = new Set<() => void>();

  /** Checks every waiting condition again. */
  wake(): void {
    for (const check of [...this.#checks]) check();
  }

  /**
   * Resolves with the first value `found` gives other than undefined; rejects with what `found`
   * throws (a wait that can no longer succeed), or with `missing()` after `timeoutMs`.
   */
  until<T>(found: () => T | undefined, timeoutMs: number, missing: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value: T | undefined;
        try {
          value = found();
        } catch (error) {
          done();
          return reject(error);
        }
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(missing()));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#checks.delete(check);
      };
      this.#checks.add(check);
      check();
    });
  }
}

type Named<K extends SynackEvent['event']> = Extract<SynackEvent, { event: K }>;

/** Records a synack `events$` stream, and waits (bounded) for what it should say next. */
export class EventLog {
  readonly events: SynackEvent[] = [];
  completed = false;
  #cursor = 0;
  readonly #waiters = new Waiters();

  constructor(source: Observable<SynackEvent>) {
    source.subscribe({
      next: (event) => {
        this.events.push(event);
        this.#waiters.wake();
      },
      complete: () => {
        this.completed = true;
        this.#waiters.wake();
      },
    });
  }

  /** The next matching event after the last one `next` returned. */
  next<K extends SynackEvent['event']>(name: K, predicate: (e: Named<K>) => boolean = () => true, timeoutMs = 3_000): Promise<Named<K>> {
    return this.#waiters.until(
      () => {
        for (let i = this.#cursor; i < this.events.length; i++) {
          const e = this.events[i]!;
          if (e.event === name && predicate(e as Named<K>)) {
            this.#cursor = i + 1;
            return e as Named<K>;
          }
        }
        return undefined;
      },
      timeoutMs,
      () => `no ${name} event within ${timeoutMs} ms; got: ${this.names().join(', ')}`,
    );
  }

  /** Waits until `count` events of this name have been seen in all. */
  async count(name: SynackEvent['event'], count: number, timeoutMs = 3_000): Promise<void> {
    await this.#waiters.until(
      () => (this.all(name).length >= count ? true : undefined),
      timeoutMs,
      () => `only ${this.all(name).length} of ${count} ${name} events within ${timeoutMs} ms`,
    );
  }

  all<K extends SynackEvent['event']>(name: K): Named<K>[] {
    return this.events.filter((e): e is Named<K> => e.event === name);
  }

  /** Event names in order, a state change as `state <actor> <state>`. */
  names(): string[] {
    return this.events.map((e) => (e.event === 'state' ? `state ${e.actor} ${e.state}` : e.event));
  }

  /** The states reported, in order. */
  states(): string[] {
    return this.all('state').map((e) => e.state);
  }
}
