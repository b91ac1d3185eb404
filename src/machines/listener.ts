import type net from 'node:net';
import { assertEvent, assign, emit, fromCallback, sendTo, setup, type ActorRefFrom, type SnapshotFrom, type EventObject } from 'xstate';
import type { SynackErrorInfo } from '../errors.js';
import { listenEvents, type ListenEvent } from '../transport/listen-bridge.js';
import { endpointsOf, formatEndpoint, type Endpoint } from '../transport/socket-bridge.js';
import { ClientTable } from './client-table.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './retry.js';

export interface ListenerInput {
  id?: string;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 picks any free port. */
  port: number;
  /** Refuse clients beyond this many. Default unlimited. */
  maxClients?: number;
  /** Retry binding (e.g. while a port is still in use). Default no retries. */
  retry?: Partial<RetryPolicy>;
  /** Where accepted sockets go: a {@link ClientTable} of connection actors, made if not given. */
  clients?: ClientKeeper;
}

/**
 * Where a listener's accepted sockets go. A {@link ClientTable} keeps each as a connection actor
 * that can be sent to; a file receiver runs a transfer on each. `adopt` takes the socket over
 * and must call `onClosed(id)` once it is gone: the listener counts its clients, and holds them
 * to `maxClients`, by those calls. Stopping the listener actor calls `closeAll`.
 */
export interface ClientKeeper {
  adopt(socket: net.Socket, onClosed?: (id: string) => void): string;
  close(id: string): boolean;
  closeAll(options?: { abort?: boolean }): void;
  /** Bytes to one client (`USER.SEND_TO`); a keeper whose clients take no bytes has none. */
  send?(id: string, data: Buffer): boolean;
  /** Bytes to every client (`USER.BROADCAST`). */
  broadcast?(data: Buffer, except?: string): number;
}

export interface ListenerContext {
  id: string;
  host: string;
  port: number;
  address: Endpoint | null;
  boundPort: number | null;
  maxClients: number;
  clientCount: number;
  accepted: number;
  rejected: number;
  retries: number;
  retry: RetryPolicy;
  retryDelayMs: number;
  lastError: SynackErrorInfo | null;
  clients: ClientKeeper;
}

export type ListenerEvent =
  | ListenEvent
  | { type: 'USER.LISTEN' }
  | { type: 'USER.STOP'; closeClients?: boolean }
  | { type: 'USER.SEND_TO'; id: string; data: Buffer }
  | { type: 'USER.BROADCAST'; data: Buffer; except?: string }
  | { type: 'USER.CLOSE_CLIENT'; id: string }
  | { type: 'CLIENT.CLOSED'; id: string };

/** Holds the client keeper for the listener's whole life: stopping the actor closes its clients. */
const clientOwner = fromCallback<EventObject, ClientKeeper>(({ input }) => () => input.closeAll());

export type ListenerEmitted = { type: 'rejected'; peer: Endpoint; error: SynackErrorInfo };

/** The effect that owns the listening socket while the listener is ACTIVE. */
const listenSocket = fromCallback<{ type: 'CLOSE' }, { host: string; port: number }, ListenerEvent>(
  ({ input, sendBack, receive }) => {
    const subscription = listenEvents(input).subscribe((event) => sendBack(event));
    receive(() => {
      subscription.unsubscribe();
      setImmediate(() => sendBack({ type: 'LISTEN.CLOSED' }));
    });
    return () => subscription.unsubscribe();
  },
);

/**
 * A TCP listener: `STOPPED → BINDING → LISTENING → CLOSING → STOPPED`, with
 * `RETRY_WAIT → BINDING` or `FAILED` when binding fails. It owns its accepted connections
 * through a {@link ClientKeeper}, by default a {@link ClientTable}: client list, send to one,
 * broadcast, a maximum. Stopping stops accepting; existing clients stay unless `closeClients`
 * is asked for. Stopping the actor itself closes every client it holds.
 *
 * @example
 * ```ts
 * const listener = createActor(listenerMachine, { input: { port: 0, maxClients: 100 } }).start();
 * listener.send({ type: 'USER.LISTEN' });
 * listener.send({ type: 'USER.BROADCAST', data: Buffer.from('hello all\n') });
 * ```
 */
export const listenerMachine = setup({
  types: {
    context: {} as ListenerContext,
    events: {} as ListenerEvent,
    input: {} as ListenerInput,
    emitted: {} as ListenerEmitted,
  },
  actors: { listenSocket, clientOwner },
  guards: {
    hasRoom: ({ context }) => context.clientCount < context.maxClients,
    canRetry: ({ context }) => context.retries < context.retry.attempts,
    closesClients: ({ event }) => event.type === 'USER.STOP' && event.closeClients === true,
  },
  delays: {
    retryDelay: ({ context }) => context.retryDelayMs,
  },
  actions: {
    adoptClient: ({ context, event, self }) => {
      assertEvent(event, 'LISTEN.ACCEPTED');
      context.clients.adopt(event.socket, (id) => self.getSnapshot().status === 'active' && self.send({ type: 'CLIENT.CLOSED', id }));
    },
    countAccepted: assign(({ context }) => ({ clientCount: context.clientCount + 1, accepted: context.accepted + 1 })),
    rejectClient: ({ event }) => {
      assertEvent(event, 'LISTEN.ACCEPTED');
      event.socket.on('error', () => {});
      event.socket.destroy();
    },
    countRejected: assign(({ context }) => ({ rejected: context.rejected + 1 })),
    emitRejected: emit(({ context, event }) => {
      assertEvent(event, 'LISTEN.ACCEPTED');
      return {
        type: 'rejected' as const,
        peer: rejectedPeer(event.socket),
        error: { code: 'E_MAX_CLIENTS' as const, message: `refused: already serving ${context.maxClients} clients (--max-clients)` },
      };
    }),
    forgetClient: assign(({ context }) => ({ clientCount: Math.max(0, context.clientCount - 1) })),
    sendToClient: ({ context, event }) => {
      assertEvent(event, 'USER.SEND_TO');
      context.clients.send?.(event.id, event.data);
    },
    broadcast: ({ context, event }) => {
      assertEvent(event, 'USER.BROADCAST');
      context.clients.broadcast?.(event.data, event.except);
    },
    closeClient: ({ context, event }) => {
      assertEvent(event, 'USER.CLOSE_CLIENT');
      context.clients.close(event.id);
    },
    closeAllClients: ({ context }) => context.clients.closeAll(),
    closeSocket: sendTo('listenSocket', { type: 'CLOSE' as const }),
    recordBound: assign(({ event }) => {
      assertEvent(event, 'LISTEN.LISTENING');
      return { address: event.address, boundPort: event.port, retries: 0, lastError: null };
    }),
    recordError: assign(({ event }) => {
      assertEvent(event, 'LISTEN.ERROR');
      return { lastError: event.error };
    }),
    clearBound: assign({ address: null, boundPort: null }),
    planRetry: assign(({ context }) => ({
      retries: context.retries + 1,
      retryDelayMs: backoffDelay(context.retry, context.retries + 1),
    })),
    resetRetries: assign({ retries: 0, lastError: null }),
  },
}).createMachine({
  id: 'listener',
  context: ({ input }) => ({
    id: input.id ?? 'listener',
    host: input.host ?? '127.0.0.1',
    port: input.port,
    address: null,
    boundPort: null,
    maxClients: input.maxClients ?? Number.POSITIVE_INFINITY,
    clientCount: 0,
    accepted: 0,
    rejected: 0,
    retries: 0,
    retry: { ...DEFAULT_RETRY, ...input.retry },
    retryDelayMs: 0,
    lastError: null,
    clients: input.clients ?? new ClientTable(),
  }),
  initial: 'STOPPED',
  invoke: { src: 'clientOwner', input: ({ context }) => context.clients },
  on: {
    'USER.SEND_TO': { actions: 'sendToClient' },
    'USER.BROADCAST': { actions: 'broadcast' },
    'USER.CLOSE_CLIENT': { actions: 'closeClient' },
    'CLIENT.CLOSED': { actions: 'forgetClient' },
  },
  states: {
    STOPPED: {
      on: { 'USER.LISTEN': { target: 'ACTIVE', actions: 'resetRetries' } },
    },
    ACTIVE: {
      initial: 'BINDING',
      invoke: {
        id: 'listenSocket',
        src: 'listenSocket',
        input: ({ context }) => ({ host: context.host, port: context.port }),
      },
      exit: 'clearBound',
      on: { 'LISTEN.ACCEPTED': { actions: 'rejectClient' } },
      states: {
        BINDING: {
          on: {
            'LISTEN.LISTENING': { target: 'LISTENING', actions: 'recordBound' },
            'LISTEN.ERROR': [
              { guard: 'canRetry', target: '#listener.RETRY_WAIT', actions: ['recordError', 'planRetry'] },
              { target: '#listener.FAILED', actions: 'recordError' },
            ],
            'USER.STOP': { target: '#listener.STOPPED' },
          },
        },
        LISTENING: {
          on: {
            'LISTEN.ACCEPTED': [
              { guard: 'hasRoom', actions: ['countAccepted', 'adoptClient'] },
              // Emit before rejecting: a destroyed socket no longer knows its peer's address.
              { actions: ['emitRejected', 'countRejected', 'rejectClient'] },
            ],
            'LISTEN.ERROR': { actions: 'recordError' },
            'USER.STOP': [
              { guard: 'closesClients', target: 'CLOSING', actions: ['closeSocket', 'closeAllClients'] },
              { target: 'CLOSING', actions: 'closeSocket' },
            ],
          },
        },
        CLOSING: {
          on: { 'LISTEN.CLOSED': { target: '#listener.STOPPED' } },
        },
      },
    },
    RETRY_WAIT: {
      after: { retryDelay: { target: 'ACTIVE' } },
      on: { 'USER.STOP': { target: 'STOPPED' } },
    },
    FAILED: {
      on: { 'USER.LISTEN': { target: 'ACTIVE', actions: 'resetRetries' } },
    },
  },
});

function rejectedPeer(socket: net.Socket): Endpoint {
  return socket.remoteAddress ? endpointsOf(socket).peer : formatEndpoint(undefined, undefined);
}

export type ListenerActor = ActorRefFrom<typeof listenerMachine>;
export type ListenerSnapshot = SnapshotFrom<typeof listenerMachine>;
export type ListenerStateName = 'STOPPED' | 'BINDING' | 'LISTENING' | 'CLOSING' | 'RETRY_WAIT' | 'FAILED';

/** The TCP-style name of a listener's state: `LISTENING`, `RETRY_WAIT`, … */
export function listenerState(snapshot: ListenerSnapshot): ListenerStateName {
  const value = snapshot.value;
  return (typeof value === 'string' ? value : value.ACTIVE) as ListenerStateName;
}

/** Sample events for graph traversal (`xstate/graph`). */
export const listenerSampleEvents: ListenerEvent[] = [
  { type: 'USER.LISTEN' },
  { type: 'LISTEN.LISTENING', host: '127.0.0.1', port: 9000, address: '127.0.0.1:9000' },
  { type: 'LISTEN.ERROR', error: { code: 'E_ADDR_IN_USE', message: 'listen EADDRINUSE' } },
  { type: 'USER.STOP' },
  { type: 'USER.STOP', closeClients: true },
  { type: 'LISTEN.CLOSED' },
  { type: 'USER.SEND_TO', id: 'c1', data: Buffer.from('to one') },
  { type: 'USER.BROADCAST', data: Buffer.from('to all') },
  { type: 'USER.CLOSE_CLIENT', id: 'c1' },
  { type: 'CLIENT.CLOSED', id: 'c1' },
];
