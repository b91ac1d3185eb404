import type net from 'node:net';
import { Subject } from 'rxjs';
import { createActor } from 'xstate';
import type { SynackErrorInfo } from '../errors.js';
import { qtFrameWireSize, QtFrameType, type QtFrame } from '../transport/qt-frame.js';
import { slowConsumerError, writeBounded, type Endpoint } from '../transport/socket-bridge.js';
import {
  connectionMachine,
  connectionState,
  type ConnectionActor,
  type ConnectionInput,
  type ConnectionStateName,
  type ConnectionStats,
} from './connection.js';

const RELAYED_TYPES = new Set<number>([QtFrameType.TEXT, QtFrameType.IMAGE, QtFrameType.VIDEO]);
const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Gives back the original bytes of the frames a connection decoded, so that a relay forwards
 * them as they came instead of encoding them again: it keeps the tail of the stream that
 * belongs to a frame not yet complete.
 */
class FrameBytes {
  #carry: Buffer[] = [];
  #carryBytes = 0;

  /** The wire bytes of the relayable frames among `frames`, the frames `chunk` completed; null if none. */
  relayable(chunk: Buffer, frames: QtFrame[]): { bytes: Buffer; count: number } | null {
    if (frames.length === 0) {
      this.#carry.push(chunk);
      this.#carryBytes += chunk.length;
      return null;
    }
    let whole = 0;
    let count = 0;
    for (const frame of frames) {
      whole += qtFrameWireSize(frame);
      if (RELAYED_TYPES.has(frame.type)) count++;
    }
    const head = whole - this.#carryBytes;
    const bytes = this.#carryBytes > 0 ? Buffer.concat([...this.#carry, chunk.subarray(0, head)], whole) : chunk.subarray(0, head);
    this.#carry = head < chunk.length ? [chunk.subarray(head)] : [];
    this.#carryBytes = chunk.length - head;
    if (count === 0) return null;
    if (count === frames.length) return { bytes, count };
    const parts: Buffer[] = [];
    let offset = 0;
    for (const frame of frames) {
      const size = qtFrameWireSize(frame);
      if (RELAYED_TYPES.has(frame.type)) parts.push(bytes.subarray(offset, offset + size));
      offset += size;
    }
    return { bytes: Buffer.concat(parts), count };
  }
}

/** One adopted client: its actor, the socket it was adopted with, and whether it can be written to. */
interface Member {
  actor: ConnectionActor;
  socket: net.Socket;
  stats: ConnectionStats;
  open: boolean;
}

/**
 * What happens to the clients of a listener. A `data` event's `frames` array is the connection's
 * own: it is emptied once the event has been handled, so copy it (`[...frames]`) to keep frames.
 */
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
  /** Told of every connection actor before it starts (a supervisor's inspection hooks in here). */
  adopted?: (actor: ConnectionActor) => void;
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
  readonly #members = new Map<string, Member>();
  readonly #options: ClientTableOptions;
  readonly #maxBufferedBytes: number;
  #sequence = 0;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: ClientTableOptions = {}) {
    this.#options = options;
    this.#maxBufferedBytes = options.connection?.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  get size(): number {
    return this.#members.size;
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
    let peer: Endpoint = '?';
    let last: ConnectionStateName | undefined;
    const frameBytes = this.#options.relay ? new FrameBytes() : null;
    const onData = (chunk: Buffer, frames: QtFrame[] | undefined) => {
      if (frames && frameBytes) {
        const relayed = frameBytes.relayable(chunk, frames);
        if (relayed) this.#relay(id, relayed.bytes, relayed.count);
      }
      this.events$.next(frames ? { type: 'data', id, peer, chunk, frames } : { type: 'data', id, peer, chunk });
    };
    const actor = createActor(connectionMachine, { id, input: { ...this.#options.connection, id, socket, onData } });
    const member: Member = { actor, socket, stats: actor.getSnapshot().context.stats, open: false };
    this.#members.set(id, member);
    this.#options.adopted?.(actor);
    actor.on('heartbeat', ({ direction, missed }) => this.events$.next({ type: 'heartbeat', id, direction, missed }));
    actor.subscribe({
      next: (snapshot) => {
        const state = connectionState(snapshot);
        if (state === last) return;
        member.open = state === 'ESTABLISHED' || state === 'CLOSE_WAIT';
        if (last === undefined) {
          peer = snapshot.context.peer ?? '?';
          this.events$.next({ type: 'connected', id, peer, clients: this.#members.size });
        }
        last = state;
        this.events$.next({ type: 'state', id, state });
        if (state === 'CLOSED' && snapshot.context.closedAt !== null) {
          this.#members.delete(id);
          if (this.#members.size === 0) this.#stopSweeper();
          const { closeReason, lastError } = snapshot.context;
          this.events$.next({
            type: 'disconnected',
            id,
            peer,
            reason: closeReason ?? 'closed',
            error: lastError,
            clients: this.#members.size,
          });
          queueMicrotask(() => actor.stop());
          onClosed?.(id);
        }
      },
      error: (error) => this.events$.next({ type: 'disconnected', id, peer, reason: 'error', error: { code: 'E_SOCKET', message: String(error) }, clients: this.#members.size }),
    });
    actor.start();
    this.#startSweeper();
  }

  /**
   * Writes one sender's relayable frames, as they came, straight to every other open client's
   * socket: one bounded write per receiver and chunk, counted on the receiver, no actor event.
   * A receiver that does not read is dropped at its buffer limit as its own writes would drop it.
   */
  #relay(from: string, bytes: Buffer, count: number): void {
    for (const [id, member] of this.#members) {
      if (id === from || !member.open) continue;
      const result = writeBounded(member.socket, bytes, this.#maxBufferedBytes);
      if (result === 'overflow') {
        member.open = false;
        // What the connection's own link reports when a write overflows, before it destroys the socket.
        member.actor.send({ type: 'SOCKET.ERROR', error: slowConsumerError(member.socket, this.#maxBufferedBytes) });
        member.socket.destroy();
        continue;
      }
      member.stats.bytesOut += bytes.length;
      member.stats.messagesOut += count;
      if (result === 'blocked' && member.actor.getSnapshot().context.writable) member.actor.send({ type: 'SOCKET.BLOCKED' });
    }
  }

  #startSweeper(): void {
    const idle = this.#options.idleTimeoutMs;
    if (!idle || this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const { actor, stats } of this.#members.values()) {
        const last = stats.lastReceivedAt;
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
    return this.#members.get(id)?.actor;
  }

  ids(): string[] {
    return [...this.#members.keys()];
  }

  list(): ClientInfo[] {
    return [...this.#members.values()].map(({ actor, stats }) => {
      const snapshot = actor.getSnapshot();
      const c = snapshot.context;
      return {
        id: c.id,
        peer: c.peer ?? '?',
        local: c.local ?? '?',
        state: connectionState(snapshot),
        bytesIn: stats.bytesIn,
        bytesOut: stats.bytesOut,
        messagesIn: stats.messagesIn,
        messagesOut: stats.messagesOut,
        since: c.establishedAt ?? 0,
      };
    });
  }

  /** Sends to one client; false when there is no such client. */
  send(id: string, data: Buffer): boolean {
    const actor = this.#members.get(id)?.actor;
    if (!actor) return false;
    actor.send({ type: 'USER.SEND', data });
    return true;
  }

  /** Sends to every client (but `except`); returns how many it was sent to. */
  broadcast(data: Buffer, except?: string): number {
    let count = 0;
    for (const [id, { actor }] of this.#members) {
      if (id === except) continue;
      actor.send({ type: 'USER.SEND', data });
      count++;
    }
    return count;
  }

  /** Closes one client gracefully (FIN); false when there is no such client. */
  close(id: string): boolean {
    const actor = this.#members.get(id)?.actor;
    actor?.send({ type: 'USER.CLOSE' });
    return actor !== undefined;
  }

  /** Closes every client gracefully, or at once with `abort`. */
  closeAll(options: { abort?: boolean } = {}): void {
    for (const { actor } of [...this.#members.values()]) actor.send({ type: options.abort ? 'USER.ABORT' : 'USER.CLOSE' });
  }
}
