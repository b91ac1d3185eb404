import net from 'node:net';
import { assertEvent, assign, enqueueActions, fromCallback, sendTo, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import { SynackError, type SynackErrorInfo } from '../errors.js';
import { CLIENT_HEARTBEAT, isHeartbeat, QtFrameDecoder, SERVER_HEARTBEAT_REPLY, type QtFrame } from '../transport/qt-frame.js';
import { endpointsOf, slowConsumerError, socketEvents, writeBounded, type Endpoint, type SocketEvent } from '../transport/socket-bridge.js';
import { heartbeatMachine, type HeartbeatInput, type HeartbeatParentEvent } from './heartbeat.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './retry.js';

/** How bytes on the wire are cut into messages: none (`raw`) or seed 001's Qt frames (`qt`). */
export type Framing = 'raw' | 'qt';

/** How a connection is made: dialled out (`host`/`port`) or adopted from a listener (`socket`). */
export interface ConnectionInput {
  id?: string;
  host?: string;
  port?: number;
  socket?: net.Socket;
  /** Give up a connect attempt after this long. Default 10 s. */
  connectTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Dial again (with the retry policy) when an established link is lost. Default false. */
  reconnect?: boolean;
  /** Stay in CLOSE_WAIT after the peer's FIN, still able to send, until `USER.CLOSE`. Default false. */
  halfOpen?: boolean;
  /** A peer that does not read is dropped once this much is queued for it. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** After our FIN, wait this long for the peer's before dropping the link. Default 5 s. */
  finTimeoutMs?: number;
  /** Default `raw`. With `qt`, each chunk is decoded into a batch of frames (one event per chunk). */
  framing?: Framing;
  /** Largest qt frame accepted; a bigger one is a protocol error for this connection. Default 64 MiB. */
  maxFrameBytes?: number;
  /** Ping the peer (qt heartbeat frames) and declare it dead after `maxMissed` unanswered pings. */
  heartbeat?: HeartbeatInput;
  /** Answer qt heartbeat frames as the seed server does. */
  answerHeartbeats?: boolean;
  /** Where received bytes go: every chunk, as it is read (see {@link DataSink}). */
  onData?: DataSink;
}

/**
 * Takes a connection's received bytes: its link calls it once per chunk, synchronously, as the
 * chunk is read and counted, with the chunk's frames when the framing is `qt` (`[]` when the
 * chunk completes none). Chunks of nothing but pings that the link answers are only counted.
 * The frames array is emptied once the call returns: copy it (`[...frames]`) to keep frames.
 *
 * Bytes go here rather than through the machine: like a pong (DESIGN §2, scale rules), a chunk
 * changes no state, so the machine hears only of those that do (see {@link LinkData}). Why not as
 * an emitted event: XState hands every action an executor and arguments object, and V8 pretenures
 * them in the relay's steady state, so through them each chunk was kept alive until a full GC.
 *
 * @example
 * ```ts
 * const conn = createActor(connectionMachine, {
 *   input: { host: '127.0.0.1', port: 9000, onData: (chunk) => process.stdout.write(chunk) },
 * });
 * ```
 */
export type DataSink = (chunk: Buffer, frames: QtFrame[] | undefined) => void;

/** A connection's fixed settings, resolved from its {@link ConnectionInput} with the defaults. */
export interface ConnectionConfig {
  host: string | undefined;
  port: number | undefined;
  retry: RetryPolicy;
  reconnect: boolean;
  halfOpen: boolean;
  connectTimeoutMs: number;
  finTimeoutMs: number;
  maxBufferedBytes: number;
  framing: Framing;
  maxFrameBytes: number;
  heartbeat: HeartbeatInput | null;
  answerHeartbeats: boolean;
  onData: DataSink | undefined;
}

/**
 * A connection's traffic counters. One object for the connection's whole life, counted in
 * place (no context copy per chunk; received bytes by the link, as they are read): every
 * snapshot shows the latest figures, so copy it to keep the figures of a moment.
 */
export interface ConnectionStats {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  /** When bytes last arrived (idle detection reads this). */
  lastReceivedAt: number | null;
}

export interface ConnectionContext {
  id: string;
  role: 'outbound' | 'accepted';
  config: ConnectionConfig;
  local: Endpoint | undefined;
  peer: Endpoint | undefined;
  stats: ConnectionStats;
  /** Retries made since the last successful connect. */
  retries: number;
  retryDelayMs: number;
  writable: boolean;
  lastError: SynackErrorInfo | null;
  /** Why the link last went down: `closed` (we closed), `peer-closed`, `reset`, `timeout`, `error`, `aborted`. */
  closeReason: string | null;
  openedAt: number | null;
  establishedAt: number | null;
  closedAt: number | null;
  /** An accepted socket not yet taken over by the link actor. */
  adopted: net.Socket | undefined;
}

export type ConnectionEvent =
  | Exclude<SocketEvent, { type: 'SOCKET.DATA' }>
  | LinkData
  | { type: 'SOCKET.BLOCKED' }
  | { type: 'USER.CONNECT' }
  | { type: 'USER.SEND'; data: Buffer }
  | { type: 'USER.CLOSE' }
  | { type: 'USER.ABORT' }
  | { type: 'HEARTBEAT.IDLE'; silentMs: number }
  | HeartbeatParentEvent;

/**
 * Events a connection emits to observers (`actor.on('heartbeat', …)`): about its own heartbeat,
 * a ping it sent or a pong it received. Pings it answers (`answerHeartbeats`) are answered and
 * counted by its link, with no event. Received bytes go to `onData` ({@link DataSink}).
 */
export type ConnectionEmitted = { type: 'heartbeat'; direction: 'sent' | 'received'; missed: number };

/**
 * Bytes arrived: the link has counted them and handed them to `onData` already. It tells the
 * machine of the first chunk on each link (the peer is heard: after a reconnect, the retry
 * budget starts over) and of every chunk with a heartbeat frame on a connection that pings (a
 * pong for its heartbeat child); other chunks change no state and cost no event.
 */
export type LinkData = { type: 'SOCKET.DATA'; bytes: number; heartbeats: number };

/** Commands the connection sends to its socket link. */
export type LinkCommand = { type: 'WRITE'; data: Buffer } | { type: 'END' };

/** What the socket link is started with. */
export interface LinkInput {
  host: string | undefined;
  port: number | undefined;
  socket: net.Socket | undefined;
  maxBufferedBytes: number;
  framing: Framing;
  maxFrameBytes: number;
  /** Answer each qt heartbeat frame with the seed server's reply, right where it is read. */
  answerHeartbeats: boolean;
  /** The machine awaits pongs (it has a heartbeat child): every heartbeat must reach it. */
  awaitsPongs: boolean;
  /** The connection's counters, which the link counts received bytes in. */
  stats: ConnectionStats;
  onData: DataSink | undefined;
}

/** The effect that owns the Node socket for as long as the link lives. */
const socketLink = fromCallback<LinkCommand, LinkInput, ConnectionEvent>(({ input, sendBack, receive }) => {
  const socket =
    input.socket ?? net.connect({ host: input.host!, port: input.port!, allowHalfOpen: true, noDelay: true });
  const decoder = input.framing === 'qt' ? new QtFrameDecoder({ maxFrameBytes: input.maxFrameBytes }) : null;
  const write = (data: Buffer) => {
    const result = writeBounded(socket, data, input.maxBufferedBytes);
    if (result === 'blocked') sendBack({ type: 'SOCKET.BLOCKED' });
    if (result === 'overflow') {
      sendBack({ type: 'SOCKET.ERROR', error: slowConsumerError(socket, input.maxBufferedBytes) });
      socket.destroy();
    }
  };
  const stats = input.stats;
  const count = (chunk: Buffer, messages: number) => {
    stats.bytesIn += chunk.length;
    stats.messagesIn += messages;
    stats.lastReceivedAt = Date.now();
  };
  let heard = false;
  const received = (chunk: Buffer, frames: QtFrame[] | undefined, heartbeats: number) => {
    count(chunk, frames ? frames.length : 1);
    input.onData?.(chunk, frames);
    if (frames) frames.length = 0;
    if (heard && (heartbeats === 0 || !input.awaitsPongs)) return;
    heard = true;
    sendBack({ type: 'SOCKET.DATA', bytes: chunk.length, heartbeats });
  };
  // Pings are answered here, one write per chunk, not as an actor event and a link command each.
  const answer = (frames: QtFrame[]): number => {
    let beats = 0;
    for (const frame of frames) if (isHeartbeat(frame)) beats++;
    if (beats > 0 && input.answerHeartbeats) {
      write(beats === 1 ? SERVER_HEARTBEAT_REPLY : Buffer.concat(new Array<Buffer>(beats).fill(SERVER_HEARTBEAT_REPLY)));
    }
    return beats;
  };
  const subscription = socketEvents(socket).subscribe((event) => {
    if (event.type !== 'SOCKET.DATA') return sendBack(event);
    if (!decoder) return received(event.chunk, undefined, 0);
    const frames: QtFrame[] = [];
    const carried = decoder.bufferedBytes > 0;
    try {
      decoder.push(event.chunk, frames);
    } catch (error) {
      // The frames before the bad one in this chunk were whole and valid: deliver them first.
      if (frames.length > 0) received(event.chunk, frames, answer(frames));
      sendBack({ type: 'SOCKET.ERROR', error: SynackError.from(error).toInfo() });
      socket.destroy();
      return;
    }
    const beats = answer(frames);
    // A chunk of nothing but whole pings that were answered is only counted. A chunk that ends or
    // completes a frame split across chunks is always delivered: onData (a relay tracking wire
    // bytes) must see every byte of the stream.
    const whole = !carried && decoder.bufferedBytes === 0;
    if (input.answerHeartbeats && beats > 0 && beats === frames.length && whole && !input.awaitsPongs) return count(event.chunk, beats);
    received(event.chunk, frames, beats);
  });
  receive((command) => {
    if (command.type === 'WRITE') write(command.data);
    else socket.end();
  });
  return () => {
    subscription.unsubscribe();
    if (!socket.destroyed) socket.destroy();
  };
});

/** The chunk carries a heartbeat frame, and this connection pings (it has a heartbeat child to tell). */
function bringsPong(context: ConnectionContext, event: ConnectionEvent): boolean {
  assertEvent(event, 'SOCKET.DATA');
  return context.config.heartbeat !== null && event.heartbeats > 0;
}

function reasonFor(error: SynackErrorInfo | null): string {
  if (!error) return 'peer-closed';
  if (error.code === 'E_CONN_RESET') return 'reset';
  if (error.code === 'E_TIMEOUT') return 'timeout';
  if (error.code === 'E_DEAD_PEER') return 'dead';
  if (error.code === 'E_IDLE') return 'idle';
  if (error.code === 'E_PROTOCOL' || error.code === 'E_FRAME_TOO_LARGE') return 'protocol-error';
  return 'error';
}

/**
 * One TCP connection, outbound or accepted, with TCP's state names:
 * `CLOSED → SYN_SENT → ESTABLISHED`; local close `ESTABLISHED → FIN_WAIT → CLOSED`;
 * peer closes first `ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED`; failures with a retry
 * policy `RETRY_WAIT → SYN_SENT`, or `FAILED` when attempts run out. Accepted connections
 * go straight to ESTABLISHED. The socket exists exactly while the machine is in `LINK`.
 *
 * @example
 * ```ts
 * const conn = createActor(connectionMachine, {
 *   input: { host: '127.0.0.1', port: 9000, retry: { attempts: 3 }, onData: (chunk) => process.stdout.write(chunk) },
 * });
 * conn.start();
 * conn.send({ type: 'USER.CONNECT' });
 * conn.send({ type: 'USER.SEND', data: Buffer.from('hello\n') });
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionEmitted,
  },
  actors: { socketLink, heartbeat: heartbeatMachine },
  guards: {
    hasAdoptedSocket: ({ context }) => context.adopted !== undefined,
    canDial: ({ context }) => context.role === 'outbound',
    canRetry: ({ context }) => context.retries < context.config.retry.attempts,
    reconnectsOnLoss: ({ context }) =>
      context.config.reconnect &&
      context.role === 'outbound' &&
      context.closeReason !== 'closed' &&
      context.retries < context.config.retry.attempts,
    outOfRetries: ({ context }) =>
      context.config.reconnect && context.role === 'outbound' && context.retries >= context.config.retry.attempts,
    closesOnPeerEnd: ({ context }) => !context.config.halfOpen,
    // The peer was heard: the link works, so the retry budget starts over (see markEstablished).
    heardAfterRetries: ({ context }) => context.retries > 0,
    carriesHeartbeat: ({ context, event }) => bringsPong(context, event),
  },
  delays: {
    connectTimeout: ({ context }) => context.config.connectTimeoutMs,
    retryDelay: ({ context }) => context.retryDelayMs,
    finTimeout: ({ context }) => context.config.finTimeoutMs,
  },
  actions: {
    write: sendTo('link', ({ event }) => {
      assertEvent(event, 'USER.SEND');
      return { type: 'WRITE' as const, data: event.data };
    }),
    endLink: sendTo('link', { type: 'END' as const }),
    // Counters are counted in place (see ConnectionStats): no context copy per chunk.
    countSent: ({ context, event }) => {
      assertEvent(event, 'USER.SEND');
      context.stats.bytesOut += event.data.length;
      context.stats.messagesOut++;
    },
    // A pong for our heartbeat child; pings to answer are the link's (LinkInput.answerHeartbeats).
    handleHeartbeats: enqueueActions(({ context, event, enqueue }) => {
      if (!bringsPong(context, event)) return;
      enqueue.sendTo('heartbeat', { type: 'HEARTBEAT.PONG' });
      enqueue.emit({ type: 'heartbeat', direction: 'received', missed: 0 });
    }),
    startHeartbeat: enqueueActions(({ context, enqueue }) => {
      if (context.config.heartbeat) enqueue.spawnChild('heartbeat', { id: 'heartbeat', input: context.config.heartbeat });
    }),
    stopHeartbeat: enqueueActions(({ context, enqueue }) => {
      if (context.config.heartbeat) enqueue.stopChild('heartbeat');
    }),
    sendPing: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'HEARTBEAT.PING');
      enqueue.sendTo('link', { type: 'WRITE', data: CLIENT_HEARTBEAT });
      enqueue(() => {
        context.stats.bytesOut += CLIENT_HEARTBEAT.length;
        context.stats.messagesOut++;
      });
      enqueue.emit({ type: 'heartbeat', direction: 'sent', missed: event.missed });
    }),
    recordDead: assign(({ event }) => {
      assertEvent(event, 'HEARTBEAT.DEAD');
      return {
        closeReason: 'dead',
        lastError: {
          code: 'E_DEAD_PEER' as const,
          message: `peer did not answer ${event.missed} heartbeat${event.missed === 1 ? '' : 's'} (silent for ${event.silentMs} ms)`,
        },
      };
    }),
    recordIdle: assign(({ event }) => {
      assertEvent(event, 'HEARTBEAT.IDLE');
      return {
        closeReason: 'idle',
        lastError: { code: 'E_IDLE' as const, message: `evicted: silent for ${event.silentMs} ms (idle timeout)` },
      };
    }),
    markBlocked: assign({ writable: false }),
    markWritable: assign({ writable: true }),
    markOpening: assign({ openedAt: () => Date.now(), closeReason: null, writable: true }),
    markHeard: ({ context }) => {
      context.stats.lastReceivedAt = Date.now();
    },
    markEstablished: assign(({ context, event }) => ({
      establishedAt: Date.now(),
      // A hung peer still completes TCP's handshake: with a heartbeat, a link counts as a success
      // (and resets the retry budget) only once the peer is heard on it (heardAfterRetries).
      retries: context.config.heartbeat ? context.retries : 0,
      lastError: null,
      ...(event.type === 'SOCKET.CONNECTED' ? { local: event.local, peer: event.peer } : {}),
      ...(context.adopted ? endpointsOf(context.adopted) : {}),
    })),
    recordError: assign(({ event }) => {
      assertEvent(event, 'SOCKET.ERROR');
      return { lastError: event.error };
    }),
    recordTimeout: assign(({ context }) => ({
      lastError: {
        code: 'E_TIMEOUT' as const,
        message: `connect to ${context.config.host}:${context.config.port} timed out after ${context.config.connectTimeoutMs} ms`,
      },
      closeReason: 'timeout',
    })),
    recordLoss: assign(({ context }) => ({ closeReason: context.closeReason ?? reasonFor(context.lastError) })),
    recordLocalClose: assign({ closeReason: 'closed' }),
    recordAbort: assign({ closeReason: 'aborted' }),
    markClosed: assign({ closedAt: () => Date.now(), writable: false, adopted: undefined }),
    planRetry: assign(({ context }) => ({
      retries: context.retries + 1,
      retryDelayMs: backoffDelay(context.config.retry, context.retries + 1),
    })),
    resetRetries: assign({ retries: 0, lastError: null }),
    clearRetries: assign({ retries: 0 }),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    id: input.id ?? 'connection',
    role: input.socket ? 'accepted' : 'outbound',
    config: {
      host: input.host,
      port: input.port,
      retry: { ...DEFAULT_RETRY, ...input.retry },
      reconnect: input.reconnect ?? false,
      halfOpen: input.halfOpen ?? false,
      connectTimeoutMs: input.connectTimeoutMs ?? 10_000,
      finTimeoutMs: input.finTimeoutMs ?? 5_000,
      maxBufferedBytes: input.maxBufferedBytes ?? 8 * 1024 * 1024,
      framing: input.framing ?? 'raw',
      maxFrameBytes: input.maxFrameBytes ?? 64 * 1024 * 1024,
      heartbeat: input.heartbeat && input.heartbeat.intervalMs > 0 ? input.heartbeat : null,
      answerHeartbeats: input.answerHeartbeats ?? false,
      onData: input.onData,
    },
    local: undefined,
    peer: input.socket ? endpointsOf(input.socket).peer : undefined,
    stats: { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, lastReceivedAt: null },
    retries: 0,
    retryDelayMs: 0,
    writable: false,
    lastError: null,
    closeReason: null,
    openedAt: null,
    establishedAt: null,
    closedAt: null,
    adopted: input.socket,
  }),
  initial: 'CLOSED',
  states: {
    CLOSED: {
      always: { guard: 'hasAdoptedSocket', target: 'LINK.ESTABLISHED', actions: ['markEstablished', 'markHeard'] },
      on: { 'USER.CONNECT': { guard: 'canDial', target: 'LINK', actions: 'resetRetries' } },
    },
    LINK: {
      initial: 'SYN_SENT',
      entry: 'markOpening',
      invoke: {
        id: 'link',
        src: 'socketLink',
        input: ({ context }) => ({
          host: context.config.host,
          port: context.config.port,
          socket: context.adopted,
          maxBufferedBytes: context.config.maxBufferedBytes,
          framing: context.config.framing,
          maxFrameBytes: context.config.maxFrameBytes,
          answerHeartbeats: context.config.answerHeartbeats,
          awaitsPongs: context.config.heartbeat !== null,
          stats: context.stats,
          onData: context.config.onData,
        }),
      },
      on: {
        'SOCKET.ERROR': { actions: 'recordError' },
        'SOCKET.BLOCKED': { actions: 'markBlocked' },
        'SOCKET.DRAIN': { actions: 'markWritable' },
        // Leaving LINK stops the link actor, whose cleanup destroys the socket. Transition actions
        // run after exit, when the child is already gone, so they must not sendTo('link').
        'USER.ABORT': { target: 'CLOSED', actions: ['recordAbort', 'markClosed'] },
        'HEARTBEAT.IDLE': { target: 'CLOSED', actions: ['recordIdle', 'markClosed'] },
      },
      states: {
        SYN_SENT: {
          after: {
            connectTimeout: [
              { guard: 'canRetry', target: '#connection.RETRY_WAIT', actions: ['recordTimeout', 'planRetry'] },
              { target: '#connection.FAILED', actions: ['recordTimeout', 'markClosed'] },
            ],
          },
          on: {
            'SOCKET.CONNECTED': { target: 'ESTABLISHED', actions: ['markEstablished', 'markHeard'] },
            'SOCKET.CLOSED': [
              { guard: 'canRetry', target: '#connection.RETRY_WAIT', actions: 'planRetry' },
              { target: '#connection.FAILED', actions: 'markClosed' },
            ],
            'USER.CLOSE': { target: '#connection.CLOSED', actions: ['recordLocalClose', 'markClosed'] },
          },
        },
        ESTABLISHED: {
          entry: 'startHeartbeat',
          exit: 'stopHeartbeat',
          on: {
            'SOCKET.DATA': [
              { guard: 'heardAfterRetries', actions: ['clearRetries', 'handleHeartbeats'] },
              { guard: 'carriesHeartbeat', actions: 'handleHeartbeats' },
            ],
            'HEARTBEAT.PING': { actions: 'sendPing' },
            'HEARTBEAT.DEAD': [
              { guard: 'reconnectsOnLoss', target: '#connection.RETRY_WAIT', actions: ['recordDead', 'planRetry'] },
              { guard: 'outOfRetries', target: '#connection.FAILED', actions: ['recordDead', 'markClosed'] },
              { target: '#connection.CLOSED', actions: ['recordDead', 'markClosed'] },
            ],
            'USER.SEND': { actions: ['write', 'countSent'] },
            'USER.CLOSE': { target: 'FIN_WAIT', actions: ['recordLocalClose', 'endLink'] },
            'SOCKET.END': { target: 'CLOSE_WAIT' },
            'SOCKET.CLOSED': [
              { guard: 'reconnectsOnLoss', target: '#connection.RETRY_WAIT', actions: ['recordLoss', 'planRetry'] },
              { target: '#connection.CLOSED', actions: ['recordLoss', 'markClosed'] },
            ],
          },
        },
        FIN_WAIT: {
          after: { finTimeout: { target: '#connection.CLOSED', actions: 'markClosed' } },
          on: {
            'SOCKET.CLOSED': { target: '#connection.CLOSED', actions: 'markClosed' },
          },
        },
        CLOSE_WAIT: {
          always: { guard: 'closesOnPeerEnd', target: 'LAST_ACK', actions: 'endLink' },
          on: {
            'USER.SEND': { actions: ['write', 'countSent'] },
            'USER.CLOSE': { target: 'LAST_ACK', actions: ['recordLocalClose', 'endLink'] },
            'SOCKET.CLOSED': [
              { guard: 'reconnectsOnLoss', target: '#connection.RETRY_WAIT', actions: ['recordLoss', 'planRetry'] },
              { target: '#connection.CLOSED', actions: ['recordLoss', 'markClosed'] },
            ],
          },
        },
        LAST_ACK: {
          after: { finTimeout: { target: '#connection.CLOSED', actions: ['recordLoss', 'markClosed'] } },
          on: {
            'SOCKET.CLOSED': [
              { guard: 'reconnectsOnLoss', target: '#connection.RETRY_WAIT', actions: ['recordLoss', 'planRetry'] },
              { target: '#connection.CLOSED', actions: ['recordLoss', 'markClosed'] },
            ],
          },
        },
      },
    },
    RETRY_WAIT: {
      after: { retryDelay: { target: 'LINK' } },
      on: {
        'USER.CONNECT': { target: 'LINK' },
        'USER.CLOSE': { target: 'CLOSED', actions: ['recordLocalClose', 'markClosed'] },
      },
    },
    FAILED: {
      on: { 'USER.CONNECT': { target: 'LINK', actions: 'resetRetries' } },
    },
  },
});

export type ConnectionActor = ActorRefFrom<typeof connectionMachine>;
export type ConnectionSnapshot = SnapshotFrom<typeof connectionMachine>;

/** The TCP-style name of a connection's state: `ESTABLISHED`, `RETRY_WAIT`, … */
export function connectionState(snapshot: ConnectionSnapshot): ConnectionStateName {
  const value = snapshot.value;
  return (typeof value === 'string' ? value : value.LINK) as ConnectionStateName;
}

export type ConnectionStateName =
  | 'CLOSED'
  | 'SYN_SENT'
  | 'ESTABLISHED'
  | 'FIN_WAIT'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'RETRY_WAIT'
  | 'FAILED';

/**
 * Sample events for graph traversal (`xstate/graph`): one of each event the machine handles,
 * with payloads, so that every state and transition can be reached.
 */
export const connectionSampleEvents: ConnectionEvent[] = [
  { type: 'USER.CONNECT' },
  { type: 'SOCKET.CONNECTED', local: '127.0.0.1:50000', peer: '127.0.0.1:9000' },
  { type: 'SOCKET.DATA', bytes: 2, heartbeats: 0 },
  { type: 'SOCKET.DATA', bytes: CLIENT_HEARTBEAT.length, heartbeats: 1 },
  { type: 'USER.SEND', data: Buffer.from('hello') },
  { type: 'SOCKET.BLOCKED' },
  { type: 'SOCKET.DRAIN' },
  { type: 'SOCKET.END' },
  { type: 'SOCKET.ERROR', error: { code: 'E_CONN_RESET', message: 'read ECONNRESET' } },
  { type: 'SOCKET.CLOSED', hadError: false },
  { type: 'USER.CLOSE' },
  { type: 'USER.ABORT' },
  { type: 'HEARTBEAT.PING', missed: 1 },
  { type: 'HEARTBEAT.DEAD', missed: 3, silentMs: 12_000 },
  { type: 'HEARTBEAT.IDLE', silentMs: 30_000 },
];
