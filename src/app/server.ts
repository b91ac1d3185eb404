import { Observable, Subject } from 'rxjs';
import { waitFor } from 'xstate';
import { SynackError } from '../errors.js';
import { ClientTable, type ClientInfo } from '../machines/client-table.js';
import type { ConnectionInput, Framing } from '../machines/connection.js';
import { isHeartbeat } from '../transport/qt-frame.js';
import { listenerState, type ListenerActor, type ListenerSnapshot } from '../machines/listener.js';
import type { RetryPolicy } from '../machines/retry.js';
import type { SynackEvent } from './events.js';
import { snapshots$ } from './observe.js';
import { Supervisor } from './supervisor.js';

export interface ServerOptions {
  /** Port to listen on; 0 picks a free one (see the `listening` event). */
  port: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Refuse clients beyond this many. */
  maxClients?: number;
  /** Retry binding, e.g. while the port is still held by a previous run. */
  bindRetry?: Partial<RetryPolicy>;
  /** Options for every accepted connection (half-open, send-buffer limit). */
  connection?: Pick<ConnectionInput, 'halfOpen' | 'maxBufferedBytes' | 'finTimeoutMs' | 'heartbeat'>;
  /** `raw` (default) or seed 001's `qt` frames; a qt server answers heartbeats as the seed does. */
  framing?: Framing;
  /** Qt framing: forward text, image and video frames from each client to every other one. */
  relay?: boolean;
  /** Evict clients silent for longer than this. */
  idleTimeoutMs?: number;
  /** Largest qt frame accepted from a client. Default 64 MiB. */
  maxFrameBytes?: number;
  supervisor?: Supervisor;
  id?: string;
}

/**
 * A TCP server: a listener actor and its client table, with events and state as Observables.
 *
 * @example
 * ```ts
 * const server = createServer({ port: 0 });
 * server.events$.subscribe((e) => {
 *   if (e.event === 'data') server.broadcast(e.chunk, e.id); // a tiny chat relay
 * });
 * const { port } = await server.listen();
 * // … later
 * await server.close();
 * ```
 */
export class Server {
  readonly id: string;
  readonly listener: ListenerActor;
  readonly clients: ClientTable;
  readonly state$: Observable<ListenerSnapshot>;
  readonly events$: Observable<SynackEvent>;
  readonly #events = new Subject<SynackEvent>();
  readonly #supervisor: Supervisor;
  readonly #ownsSupervisor: boolean;
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions) {
    this.#ownsSupervisor = !options.supervisor;
    this.#supervisor = options.supervisor ?? new Supervisor();
    this.id = options.id ?? this.#supervisor.nextId('server');
    const framing = options.framing ?? 'raw';
    if (options.relay && framing !== 'qt') throw new SynackError('E_USAGE', 'relay needs qt framing: raw bytes have no message boundaries to relay');
    this.clients = new ClientTable({
      connection: {
        ...options.connection,
        framing,
        answerHeartbeats: framing === 'qt',
        ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}),
      },
      ...(options.relay ? { relay: true } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      adopted: (actor) => this.#supervisor.adopt(actor, this.listener),
      idPrefix: 'c',
    });
    this.events$ = this.#events.asObservable();
    this.listener = this.#supervisor.start(this.id, {
      machine: 'listener',
      input: {
        id: this.id,
        port: options.port,
        clients: this.clients,
        ...(options.host !== undefined ? { host: options.host } : {}),
        ...(options.maxClients !== undefined ? { maxClients: options.maxClients } : {}),
        ...(options.bindRetry ? { retry: options.bindRetry } : {}),
      },
    });
    this.state$ = snapshots$(this.listener);
    this.#wire();
  }

  #wire(): void {
    let last = '';
    let lastError: unknown = null;
    this.state$.subscribe((snapshot) => {
      const state = listenerState(snapshot);
      const { lastError: error, boundPort, host } = snapshot.context;
      if (error && error !== lastError) this.#events.next({ event: 'error', id: this.id, code: error.code, message: error.message });
      lastError = error;
      if (state === last) return;
      const previous = last;
      last = state;
      this.#events.next({ event: 'state', actor: this.id, machine: 'listener', state });
      if (state === 'LISTENING') this.#events.next({ event: 'listening', id: this.id, host, port: boundPort! });
      if (state === 'STOPPED' && previous !== '') this.#events.next({ event: 'stopped', id: this.id });
    });
    this.listener.on('rejected', ({ peer, error }) =>
      this.#events.next({ event: 'rejected', peer, code: error.code, message: error.message }),
    );
    this.clients.events$.subscribe((e) => {
      if (e.type === 'data') {
        if (!this.#events.observed) return;
        if (!e.frames) return this.#events.next({ event: 'data', id: e.id, peer: e.peer, chunk: e.chunk });
        for (const frame of e.frames) if (!isHeartbeat(frame)) this.#events.next({ event: 'message', id: e.id, peer: e.peer, frame });
      } else if (e.type === 'heartbeat') this.#events.next({ event: 'heartbeat', id: e.id, direction: e.direction, missed: e.missed });
      else if (e.type === 'state') this.#events.next({ event: 'state', actor: e.id, machine: 'connection', state: e.state });
      else if (e.type === 'connected') this.#events.next({ event: 'connected', id: e.id, peer: e.peer, clients: e.clients });
      else
        this.#events.next({
          event: 'disconnected',
          id: e.id,
          peer: e.peer,
          reason: e.reason,
          clients: e.clients,
          ...(e.error ? { code: e.error.code } : {}),
        });
    });
  }

  /** Starts listening; resolves with the bound address, rejects with a SynackError (E_ADDR_IN_USE…). */
  async listen(): Promise<{ host: string; port: number }> {
    this.listener.send({ type: 'USER.LISTEN' });
    const snapshot = await waitFor(this.listener, (s) => {
      const state = listenerState(s);
      return state === 'LISTENING' || state === 'FAILED';
    });
    if (listenerState(snapshot) === 'FAILED') {
      const error = snapshot.context.lastError;
      throw new SynackError(error?.code ?? 'E_SOCKET', error?.message ?? 'could not listen');
    }
    return { host: snapshot.context.host, port: snapshot.context.boundPort! };
  }

  /** Sends bytes to one client; false when there is no client with that id. */
  send(id: string, data: Buffer | string): boolean {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    const info = this.clients.get(id)?.getSnapshot().context;
    if (!info) return false;
    this.listener.send({ type: 'USER.SEND_TO', id, data: chunk });
    this.#events.next({ event: 'sent', id, peer: info.peer ?? '?', chunk });
    return true;
  }

  /** Sends bytes to every client (but `except`); returns how many clients it went to. */
  broadcast(data: Buffer | string, except?: string): number {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    const count = this.clients.size - (except && this.clients.get(except) ? 1 : 0);
    this.listener.send({ type: 'USER.BROADCAST', data: chunk, ...(except ? { except } : {}) });
    if (count > 0) this.#events.next({ event: 'sent', id: '*', peer: `${count} clients`, chunk });
    return count;
  }

  /** The client list: peer, state, counters, connected since. */
  list(): ClientInfo[] {
    return this.clients.list();
  }

  /** Closes one client gracefully; false when there is no such client. */
  disconnect(id: string): boolean {
    if (!this.clients.get(id)) return false;
    this.listener.send({ type: 'USER.CLOSE_CLIENT', id });
    return true;
  }

  /** Stops listening; clients stay connected unless `closeClients`. Resolves when STOPPED. */
  async stop(options: { closeClients?: boolean } = {}): Promise<void> {
    const state = listenerState(this.listener.getSnapshot());
    if (state === 'STOPPED' || state === 'FAILED') return;
    this.listener.send({ type: 'USER.STOP', ...options });
    await waitFor(this.listener, (s) => listenerState(s) === 'STOPPED');
  }

  /**
   * Stops listening and closes every client: gracefully (FIN) first, then at once for those
   * still open after `graceMs`. The listener actor is stopped.
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    // A second close() waits for the first instead of poking stopped actors.
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: { graceMs?: number }): Promise<void> {
    await this.stop({ closeClients: true });
    if (this.clients.size > 0) {
      // Clients kept by an earlier stop() have not been asked to close yet (asking twice is harmless).
      this.clients.closeAll();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          sub.unsubscribe();
          this.clients.closeAll({ abort: true });
          resolve();
        }, options.graceMs ?? 2_000);
        const sub = this.clients.events$.subscribe(() => {
          if (this.clients.size === 0) {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve();
          }
        });
      });
    }
    this.#supervisor.stop(this.id);
    this.#events.complete();
    if (this.#ownsSupervisor) this.#supervisor.shutdown();
  }
}

/** Creates a {@link Server}; call `listen()` to bind. */
export function createServer(options: ServerOptions): Server {
  return new Server(options);
}
