import { filter, firstValueFrom, Observable, Subject } from 'rxjs';
import { waitFor } from 'xstate';
import { SynackError } from '../errors.js';
import {
  connectionState,
  type ConnectionActor,
  type ConnectionInput,
  type ConnectionSnapshot,
} from '../machines/connection.js';
import { isHeartbeat, type QtFrame } from '../transport/qt-frame.js';
import type { SynackEvent } from './events.js';
import { snapshots$ } from './observe.js';
import { Supervisor } from './supervisor.js';

export interface ClientOptions extends Omit<ConnectionInput, 'socket' | 'id' | 'onData'> {
  host: string;
  port: number;
  supervisor?: Supervisor;
  id?: string;
}

/**
 * A TCP client: one connection actor with connect timeout, retries with backoff and jitter,
 * optional reconnect after a lost link, half-close, and backpressure.
 *
 * @example
 * ```ts
 * const client = createClient({ host: '127.0.0.1', port: 9000, retry: { attempts: 5 }, reconnect: true });
 * client.events$.subscribe((e) => e.event === 'data' && process.stdout.write(e.chunk));
 * await client.connect();
 * if (!client.send('hello\n')) await client.drained();
 * await client.end();
 * ```
 */
export class Client {
  readonly id: string;
  readonly connection: ConnectionActor;
  readonly state$: Observable<ConnectionSnapshot>;
  readonly events$: Observable<SynackEvent>;
  readonly #events = new Subject<SynackEvent>();
  readonly #supervisor: Supervisor;
  readonly #ownsSupervisor: boolean;
  #closed = false;

  constructor(options: ClientOptions) {
    const { supervisor, id, ...input } = options;
    this.#ownsSupervisor = !supervisor;
    this.#supervisor = supervisor ?? new Supervisor();
    this.id = id ?? this.#supervisor.nextId('client');
    this.events$ = this.#events.asObservable();
    const onData = (chunk: Buffer, frames: QtFrame[] | undefined) => this.#received(chunk, frames);
    this.connection = this.#supervisor.start(this.id, { machine: 'connection', input: { ...input, id: this.id, onData } });
    this.state$ = snapshots$(this.connection);
    this.#wire();
  }

  #received(chunk: Buffer, frames: QtFrame[] | undefined): void {
    const peer = this.connection.getSnapshot().context.peer ?? '?';
    if (!frames) return this.#events.next({ event: 'data', id: this.id, peer, chunk });
    for (const frame of frames) if (!isHeartbeat(frame)) this.#events.next({ event: 'message', id: this.id, peer, frame });
  }

  #wire(): void {
    let last = '';
    let lastError: unknown = null;
    this.connection.on('heartbeat', ({ direction, missed }) =>
      this.#events.next({ event: 'heartbeat', id: this.id, direction, missed }),
    );
    this.state$.subscribe((snapshot) => {
      const state = connectionState(snapshot);
      const c = snapshot.context;
      if (c.lastError && c.lastError !== lastError) this.#events.next({ event: 'error', id: this.id, code: c.lastError.code, message: c.lastError.message });
      lastError = c.lastError;
      if (state === last) return;
      const previous = last;
      last = state;
      this.#events.next({ event: 'state', actor: this.id, machine: 'connection', state });
      if (state === 'ESTABLISHED' && previous === 'SYN_SENT') this.#events.next({ event: 'connected', id: this.id, peer: c.peer ?? '?' });
      // A link that was up went down (not a failed attempt to bring one up): say so before retrying,
      // or before giving up (a dead peer with no retries left goes straight to FAILED).
      if (['CLOSED', 'RETRY_WAIT', 'FAILED'].includes(state) && c.establishedAt !== null && isOpen(previous) && previous !== 'SYN_SENT') {
        this.#events.next({
          event: 'disconnected',
          id: this.id,
          peer: c.peer ?? '?',
          reason: c.closeReason ?? 'closed',
          ...(c.lastError ? { code: c.lastError.code } : {}),
        });
      }
      if (state === 'RETRY_WAIT') this.#events.next({ event: 'reconnecting', id: this.id, attempt: c.retries, delayMs: c.retryDelayMs });
    });
  }

  /** The connection's TCP-style state now. */
  get state(): string {
    return connectionState(this.connection.getSnapshot());
  }

  /**
   * Connects (with the retry policy); resolves once ESTABLISHED, rejects with the last error
   * (E_CONN_REFUSED, E_TIMEOUT, E_HOST_NOT_FOUND…) once the attempts have run out.
   */
  async connect(): Promise<void> {
    this.connection.send({ type: 'USER.CONNECT' });
    const snapshot = await waitFor(this.connection, (s) => ['ESTABLISHED', 'FAILED', 'CLOSED'].includes(connectionState(s)));
    if (connectionState(snapshot) !== 'ESTABLISHED') {
      const error = snapshot.context.lastError;
      const tries = snapshot.context.retries + 1;
      throw new SynackError(
        error?.code ?? 'E_NOT_CONNECTED',
        `gave up connecting to ${snapshot.context.config.host}:${snapshot.context.config.port} after ${tries} attempt${tries === 1 ? '' : 's'}: ${error?.message ?? 'closed'}`,
      );
    }
  }

  /**
   * Sends bytes. Returns false when the socket's buffer is full: wait for {@link drained}
   * before sending more. Throws E_NOT_CONNECTED when there is no open link to send on.
   */
  send(data: Buffer | string): boolean {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    const snapshot = this.connection.getSnapshot();
    const state = connectionState(snapshot);
    if (state !== 'ESTABLISHED' && state !== 'CLOSE_WAIT') {
      throw new SynackError('E_NOT_CONNECTED', `cannot send while ${state}: the connection is not open`);
    }
    this.connection.send({ type: 'USER.SEND', data: chunk });
    this.#events.next({ event: 'sent', id: this.id, peer: snapshot.context.peer ?? '?', chunk });
    return this.connection.getSnapshot().context.writable;
  }

  /** Resolves when the socket can take more data (or the link is gone). */
  async drained(): Promise<void> {
    await waitFor(this.connection, (s) => s.context.writable || !isOpen(connectionState(s)));
  }

  /** Closes gracefully (FIN, then waits for the peer's); resolves when CLOSED. */
  async end(): Promise<void> {
    this.connection.send({ type: 'USER.CLOSE' });
    await waitFor(this.connection, (s) => ['CLOSED', 'FAILED'].includes(connectionState(s)));
  }

  /** Closes at once and stops the actor. */
  async close(): Promise<void> {
    // Closing twice (a finally block and a shutdown hook, say) must not poke a stopped actor.
    if (this.#closed) return;
    this.#closed = true;
    if (isOpen(this.state)) this.connection.send({ type: 'USER.ABORT' });
    else if (this.state === 'RETRY_WAIT') this.connection.send({ type: 'USER.CLOSE' });
    this.#supervisor.stop(this.id);
    this.#events.complete();
    if (this.#ownsSupervisor) this.#supervisor.shutdown();
  }

  /** Resolves with the next event of the given kind. */
  next<K extends SynackEvent['event']>(kind: K): Promise<Extract<SynackEvent, { event: K }>> {
    return firstValueFrom(this.events$.pipe(filter((e): e is Extract<SynackEvent, { event: K }> => e.event === kind)));
  }
}

function isOpen(state: string): boolean {
  return ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK'].includes(state);
}

/** Creates a {@link Client}; call `connect()` to dial. */
export function createClient(options: ClientOptions): Client {
  return new Client(options);
}
