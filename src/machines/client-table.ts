import type net from 'node:net';
import { Subject } from 'rxjs';
import { createActor, type InspectionEvent } from 'xstate';
import type { SynackErrorInfo } from '../errors.js';
import { encodeQtFrame, QtFrameType, type QtFrame } from '../transport/qt-frame.js';
import type { Endpoint } from '../transport/socket-bridge.js';
import {
  connectionMachine,
  connectionState,
  type ConnectionActor,
  type ConnectionInput,
  type ConnectionStateName,
} from './connection.js';

const RELAYED_TYPES = new Set<number>([QtFrameType.TEXT, QtFrameType.IMAGE, QtFrameType.VIDEO]);

/** What happens to the clients of a listener. */
export type ClientEvent =
  | { type: 'connected'; id: string; peer: Endpoint; clients: number }
  | { type: 'disconnected'; id: string; peer: Endpoint; reason: string; error: SynackErrorInfo | null; clients: number }
  | { type: 'data'; id: string; peer: Endpoint; chunk: Buffer; frames?: QtFrame[] }
  | { type: 'heartbeat'; id: string; direction: 'sent' | 'received'; missed: number }
  | { type: 'state'; id: string; state: ConnectionStateName };

/** One row of a listener's client list. */
export interface ClientInfo {
  id: string;
  peer: Endpoint;
  local: Endpoint;
  state: ConnectionStateName;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  since: number;
}

export interface ClientTableOptions {
  /** Defaults for every accepted connection (buffer limit, half-open…). */
  connection?: Pick<
    ConnectionInput,
    'halfOpen' | 'maxBufferedBytes' | 'finTimeoutMs' | 'framing' | 'maxFrameBytes' | 'answerHeartbeats'
  >;
  /** Evict a client silent for longer than this (one shared sweep timer, no per-chunk events). */
  idleTimeoutMs?: number;
  /** Qt framing: forward text, image and video frames to every other client, as the seed server does. */
  relay?: boolean;
  /** Inspection observer passed to every connection actor (see DESIGN §5). */
  inspect?: (event: InspectionEvent) => void;
  /** Prefix of client ids: `c1`, `c2`… */
  idPrefix?: string;
}

/**
 * The accepted connections of a listener, each its own connection actor, kept in a map rather
 * than as children of the listener: spawning into a parent copies its children, so a listener
 * with 10,000 children would make every accept cost O(n). Here adopting the 10,000th client
 * costs what the 10th did, and the listener machine holds only the count.
 *
 * @example
 * ```ts
 * const table = new ClientTable();
 * table.events$.subscribe((e) => console.log(e.type, e.id));
 * server.on('connection', (socket) => table.adopt(socket));
 * ```
 */
export class ClientTable {
  readonly events$ = new Subject<ClientEvent>();
  readonly #actors = new Map<string, ConnectionActor>();
  readonly #options: ClientTableOptions;
  #sequence = 0;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: ClientTableOptions = {}) {
    this.#options = options;
  }

  get size(): number {
    return this.#actors.size;
  }

  /**
   * Takes over an accepted socket as a new connection actor; `onClosed` runs when it is gone.
   * The actor is created in a microtask, so that a listener may adopt from inside its own action
   * (an actor must not begin life inside another actor's action).
   */
  adopt(socket: net.Socket, onClosed?: (id: string) => void): string {
    const id = `${this.#options.idPrefix ?? 'c'}${++this.#sequence}`;
    queueMicrotask(() => this.#start(id, socket, onClosed));
    return id;
  }

  #start(id: string, socket: net.Socket, onClosed?: (id: string) => void): void {
    const actor = createActor(connectionMachine, {
      id,
      input: { ...this.#options.connection, id, socket },
      ...(this.#options.inspect ? { inspect: this.#options.inspect } : {}),
    });
    this.#actors.set(id, actor);
    let peer: Endpoint = '?';
    let last: ConnectionStateName | undefined;
    actor.on('data', ({ chunk, frames }) => {
      if (frames && this.#options.relay) this.#relay(id, frames);
      this.events$.next(frames ? { type: 'data', id, peer, chunk, frames } : { type: 'data', id, peer, chunk });
    });
    actor.on('heartbeat', ({ direction, missed }) => this.events$.next({ type: 'heartbeat', id, direction, missed }));
    actor.subscribe({
      next: (snapshot) => {
        const state = connectionState(snapshot);
        if (state === last) return;
        if (last === undefined) {
          peer = snapshot.context.peer ?? '?';
          this.events$.next({ type: 'connected', id, peer, clients: this.#actors.size });
        }
        last = state;
        this.events$.next({ type: 'state', id, state });
        if (state === 'CLOSED' && snapshot.context.closedAt !== null) {
          this.#actors.delete(id);
          if (this.#actors.size === 0) this.#stopSweeper();
          const { closeReason, lastError } = snapshot.context;
          this.events$.next({
            type: 'disconnected',
            id,
            peer,
            reason: closeReason ?? 'closed',
            error: lastError,
            clients: this.#actors.size,
          });
          queueMicrotask(() => actor.stop());
          onClosed?.(id);
        }
      },
      error: (error) => this.events$.next({ type: 'disconnected', id, peer, reason: 'error', error: { code: 'E_SOCKET', message: String(error) }, clients: this.#actors.size }),
    });
    actor.start();
    this.#startSweeper();
  }

  #relay(from: string, frames: QtFrame[]): void {
    const relayed: Buffer[] = [];
    for (const frame of frames) if (RELAYED_TYPES.has(frame.type)) relayed.push(encodeQtFrame(frame));
    if (relayed.length === 0) return;
    this.broadcast(relayed.length === 1 ? relayed[0]! : Buffer.concat(relayed), from);
  }

  #startSweeper(): void {
    const idle = this.#options.idleTimeoutMs;
    if (!idle || this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const actor of this.#actors.values()) {
        const last = actor.getSnapshot().context.lastReceivedAt;
        if (last !== null && now - last > idle) actor.send({ type: 'HEARTBEAT.IDLE', silentMs: now - last });
      }
    }, Math.max(10, Math.min(1_000, Math.floor(idle / 4))));
    this.#sweeper.unref();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  get(id: string): ConnectionActor | undefined {
    return this.#actors.get(id);
  }

  ids(): string[] {
    return [...this.#actors.keys()];
  }

  list(): ClientInfo[] {
    return [...this.#actors.values()].map((actor) => {
      const snapshot = actor.getSnapshot();
      const c = snapshot.context;
      return {
        id: c.id,
        peer: c.peer ?? '?',
        local: c.local ?? '?',
        state: connectionState(snapshot),
        bytesIn: c.bytesIn,
        bytesOut: c.bytesOut,
        messagesIn: c.messagesIn,
        messagesOut: c.messagesOut,
        since: c.establishedAt ?? 0,
      };
    });
  }

  /** Sends to one client; false when there is no such client. */
  send(id: string, data: Buffer): boolean {
    const actor = this.#actors.get(id);
    if (!actor) return false;
    actor.send({ type: 'USER.SEND', data });
    return true;
  }

  /** Sends to every client (but `except`); returns how many it was sent to. */
  broadcast(data: Buffer, except?: string): number {
    let count = 0;
    for (const [id, actor] of this.#actors) {
      if (id === except) continue;
      actor.send({ type: 'USER.SEND', data });
      count++;
    }
    return count;
  }

  /** Closes one client gracefully (FIN); false when there is no such client. */
  close(id: string): boolean {
    const actor = this.#actors.get(id);
    actor?.send({ type: 'USER.CLOSE' });
    return actor !== undefined;
  }

  /** Closes every client gracefully, or at once with `abort`. */
  closeAll(options: { abort?: boolean } = {}): void {
    for (const actor of [...this.#actors.values()]) actor.send({ type: options.abort ? 'USER.ABORT' : 'USER.CLOSE' });
  }
}
