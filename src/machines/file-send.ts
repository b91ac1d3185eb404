import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { assertEvent, assign, fromCallback, sendTo, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import type { SynackErrorCode, SynackErrorInfo } from '../errors.js';
import { encodeFileHeader } from '../transport/qt-file-header.js';
import { ProgressTicker } from '../transport/file-progress.js';
import { fileErrorInfo, hashRange, HashCheckpoints, readAtOf, sampleDigests, type ReadAt } from '../transport/file-store.js';
import { ControlLineDecoder, encodeControl, toWireName, type ControlMessage } from '../transport/file-wire.js';
import { endpointsOf, type Endpoint } from '../transport/socket-bridge.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { finishedNow, initialTransfer, progressAfter, SAMPLE_SHA256, streamingFrom, transferStateName, type TransferContext } from './transfer.js';

/** Size of each read from the file, as the seed sender writes (64 KiB). */
export const READ_CHUNK_BYTES = 64 * 1024;
/** Reads in flight ahead of the socket. */
const READ_AHEAD = 4;
/** What the socket may buffer before `write()` returns false and the sender waits for `drain`. */
const SOCKET_BUFFER_BYTES = 256 * 1024;

/** What a file-send actor is started with. */
export interface FileSendInput {
  id?: string;
  host: string;
  port: number;
  /** The local file to send. */
  path: string;
  /** The name to announce: a POSIX relative path (`photos/a.jpg`). Default: the file's base name. */
  name?: string;
  /**
   * Announce the bare base name exactly as a seed 002 sender does, without synack's `./`
   * prefix: the receiver then never answers, so there is no resume and no receipt.
   */
  plainName?: boolean;
  /** Continue from what a synack receiver already holds when it offers to. Default true. */
  resume?: boolean;
  /** Try again after a refused or lost connection (a synack receiver then offers to resume). */
  retry?: Partial<RetryPolicy>;
  /** Give up a connect attempt after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Wait this long for a receiver to accept a continuation. Default 10 s. */
  headerTimeoutMs?: number;
  /** Fail when no byte could be sent for this long (a receiver that stopped reading). Default 60 s. */
  idleTimeoutMs?: number;
  /** After the last byte, wait this long for the receiver's receipt or close. Default 10 s. */
  finTimeoutMs?: number;
  /** Pause between progress reports. Default 100 ms. */
  progressIntervalMs?: number;
  /** Keep a copy of the running SHA-256 every this many bytes, to continue without hashing from 0. Default 16 MiB. */
  checkpointBytes?: number;
}

/** A continuation the next link asks for: bytes from `offset` on, with the samples checked. */
export interface Continuation {
  offset: number;
  head: string;
  tail: string;
}

/** What a file-send actor knows; the app and the inspector read it from snapshots. */
export interface FileSendContext extends TransferContext {
  host: string;
  port: number;
  path: string;
  /** The name announced (without synack's `./` prefix). */
  name: string;
  /** The name as it goes on the wire. */
  wireName: string;
  synack: boolean;
  resume: boolean;
  /** What the receiver turned out to be: `synack` (it sent a receipt) or `qt` (it just closed). */
  receiver: 'synack' | 'qt' | null;
  /** The receiver's SHA-256 matched ours. */
  verified: boolean;
  /** What the next link asks the receiver for; null for a plain seed 002 header. */
  continuation: Continuation | null;
  retries: number;
  retry: RetryPolicy;
  retryDelayMs: number;
  connectTimeoutMs: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  finTimeoutMs: number;
  checkpoints: HashCheckpoints;
}

/** Events of the file-send machine: `FILE.*` and `SOCKET.CONNECTED` from its link, `USER.CANCEL` from the app. */
export type FileSendEvent =
  | { type: 'FILE.OPENED'; size: number }
  | { type: 'SOCKET.CONNECTED'; local: Endpoint; peer: Endpoint }
  | { type: 'FILE.STREAMING'; offset: number; rehashedBytes: number; at: number }
  | { type: 'FILE.PROGRESS'; bytes: number; at: number }
  | { type: 'FILE.SENT'; bytes: number; sha256: string; at: number }
  | { type: 'FILE.OFFER'; offset: number; head: string; tail: string; matches: boolean }
  | { type: 'FILE.RECEIPT'; bytes: number; sha256: string; name: string }
  | { type: 'FILE.PEER_CLOSED' }
  | { type: 'FILE.REFUSED'; error: SynackErrorInfo }
  | { type: 'FILE.ERROR'; error: SynackErrorInfo }
  | { type: 'FILE.CANCELLED' }
  | { type: 'USER.CANCEL' };

/** Commands the machine gives its link. */
export type SendLinkCommand = { type: 'CANCEL' };

/** What one link (one connection attempt) is started with. */
export interface SendLinkInput {
  host: string;
  port: number;
  path: string;
  wireName: string;
  /** Reads the receiver's control lines (the wire name carries synack's prefix). */
  synack: boolean;
  continuation: Continuation | null;
  progressIntervalMs: number;
  checkpoints: HashCheckpoints;
}

/** The file being sent, as the link reads it. */
export interface FileSource {
  size: number;
  /** Reads up to `length` bytes at `position`; fewer means the file ended there. */
  read: ReadAt;
  close(): Promise<void>;
}

/** The effects of {@link createSendLink} that a test may replace. */
export interface SendLinkDeps {
  /** Opens the file to send; rejects with a Node error (ENOENT, EACCES…). */
  openSource?: (path: string) => Promise<FileSource>;
}

/**
 * Opens a regular file for sending; rejects with the Node error (ENOENT, EACCES, EISDIR…).
 *
 * @example
 * ```ts
 * const source = await openFileSource('a.bin');
 * const head = await source.read(0, 65536);
 * await source.close();
 * ```
 */
export async function openFileSource(file: string): Promise<FileSource> {
  const handle = await open(file, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: stat.isDirectory() ? 'EISDIR' : 'EINVAL' });
    return { size: stat.size, read: readAtOf(handle), close: () => handle.close().catch(() => {}) };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

const NETWORK_CODES = new Set<SynackErrorCode>(['E_CONN_REFUSED', 'E_CONN_RESET', 'E_TIMEOUT', 'E_HOST_UNREACHABLE', 'E_SOCKET']);

/**
 * Builds the effect that owns one connection attempt: it opens the file, dials, writes the seed
 * 002 header (or, on a continuation, `SYNACK SEND` and waits for `ACCEPT`), streams the file in
 * 64 KiB reads hashing as it goes, stopping while `write()` returns false until `drain`, then
 * half-closes and reads the receiver's receipt. It reports throttled progress, never one event
 * per chunk.
 *
 * @example
 * ```ts
 * const flaky = fileSendMachine.provide({ actors: { sendLink: createSendLink({ openSource: failingOpen }) } });
 * ```
 */
export function createSendLink(deps: SendLinkDeps = {}) {
  const openSource = deps.openSource ?? openFileSource;
  return fromCallback<SendLinkCommand, SendLinkInput>(({ input, sendBack, receive }) => {
    const back = (event: FileSendEvent) => sendBack(event);
    let finished = false;
    let source: FileSource | undefined;
    let socket: net.Socket | undefined;
    let streaming = false;
    let wakeDrain: (() => void) | undefined;
    let phase: 'opening' | 'connecting' | 'header' | 'streaming' | 'sent' | 'offered' = 'opening';
    let position = 0;
    let size = 0;
    let socketError: SynackErrorInfo | undefined;
    const lines = new ControlLineDecoder();
    const ticker = new ProgressTicker(input.progressIntervalMs, () => position, (bytes, at) => back({ type: 'FILE.PROGRESS', bytes, at }));

    const stopStreaming = () => {
      streaming = false;
      ticker.stop();
      wakeDrain?.();
    };
    const teardown = () => {
      stopStreaming();
      if (socket && !socket.destroyed) socket.destroy();
      void source?.close();
    };
    const finish = (event: FileSendEvent) => {
      if (finished) return;
      finished = true;
      teardown();
      back(event);
    };
    const fail = (error: SynackErrorInfo) => finish({ type: 'FILE.ERROR', error });
    const where = () => `${input.host}:${input.port}`;
    const drained = () =>
      new Promise<void>((resolve) => {
        wakeDrain = resolve;
        socket!.once('drain', resolve);
      });

    // Reads run ahead of the socket (READ_AHEAD of them in flight); chunks that are ready in the
    // same tick go out corked, as one writev.
    const startStreaming = async (offset: number) => {
      phase = 'streaming';
      let hash: Hash;
      let rehashedBytes = 0;
      if (offset === 0) {
        hash = createHash('sha256');
      } else {
        const nearest = input.checkpoints.nearest(offset);
        hash = nearest.hash;
        rehashedBytes = await hashRange(source!.read, nearest.offset, offset, hash);
        if (finished) return;
      }
      position = offset;
      streaming = true;
      back({ type: 'FILE.STREAMING', offset, rehashedBytes, at: Date.now() });
      ticker.start();
      const pending: Promise<Buffer>[] = [];
      let readTo = offset;
      const readAhead = () => {
        while (pending.length < READ_AHEAD && readTo < size) {
          const read = source!.read(readTo, Math.min(READ_CHUNK_BYTES, size - readTo));
          read.catch(() => {});
          pending.push(read);
          readTo += Math.min(READ_CHUNK_BYTES, size - readTo);
        }
      };
      const uncork = () => socket!.uncork();
      readAhead();
      while (pending.length > 0) {
        const chunk = await pending.shift()!;
        if (!streaming) return;
        if (chunk.length === 0 || (chunk.length < READ_CHUNK_BYTES && position + chunk.length < size)) {
          return fail({ code: 'E_TRANSFER_SHORT', message: `${input.path} shrank while it was sent: ${position + chunk.length} of ${size} bytes read` });
        }
        readAhead();
        const before = position;
        hash.update(chunk);
        position += chunk.length;
        input.checkpoints.passed(hash, before, position);
        if (socket!.writableCorked === 0) {
          socket!.cork();
          process.nextTick(uncork);
        }
        if (!socket!.write(chunk)) {
          uncork();
          await drained();
        }
        if (!streaming) return;
      }
      stopStreaming();
      phase = 'sent';
      socket!.end();
      back({ type: 'FILE.SENT', bytes: position, sha256: hash.digest('hex'), at: Date.now() });
    };
    const stream = (offset: number) => startStreaming(offset).catch((error: unknown) => fail(fileErrorInfo(error, `cannot read ${input.path}`)));

    const onMessage = (message: ControlMessage) => {
      if (message.verb === 'ERROR') return finish({ type: 'FILE.REFUSED', error: { code: message.code, message: `receiver: ${message.message}` } });
      // The offer may come after the last byte of a small file: the receiver dropped them all the same.
      if (message.verb === 'RESUME' && (phase === 'streaming' || phase === 'sent') && !input.continuation) {
        stopStreaming();
        phase = 'offered';
        if (message.offset > size) return finish({ type: 'FILE.OFFER', offset: message.offset, head: message.head, tail: message.tail, matches: false });
        void sampleDigests(source!.read, message.offset).then(
          ({ head, tail }) => finish({ type: 'FILE.OFFER', offset: message.offset, head: message.head, tail: message.tail, matches: head === message.head && tail === message.tail }),
          (error: unknown) => fail(fileErrorInfo(error, `cannot read ${input.path}`)),
        );
        return;
      }
      if (message.verb === 'ACCEPT' && phase === 'header') {
        if (message.offset > (input.continuation?.offset ?? 0)) {
          return fail({ code: 'E_PROTOCOL', message: `the receiver accepted from byte ${message.offset}, beyond the ${input.continuation?.offset} asked for` });
        }
        void stream(message.offset);
        return;
      }
      if (message.verb === 'DONE' && phase === 'sent') return finish({ type: 'FILE.RECEIPT', bytes: message.bytes, sha256: message.sha256, name: message.name });
      fail({ code: 'E_PROTOCOL', message: `unexpected ${message.verb} from the receiver while ${phase}` });
    };

    const connect = () => {
      phase = 'connecting';
      try {
        // net.connect passes stream options on to the socket; its typings leave them out.
        const options = { host: input.host, port: input.port, allowHalfOpen: true, noDelay: true, writableHighWaterMark: SOCKET_BUFFER_BYTES };
        socket = net.connect(options as net.NetConnectOpts);
      } catch (error) {
        return fail({ code: 'E_USAGE', message: `cannot connect to ${where()}: ${(error as Error).message}` });
      }
      socket.on('connect', () => {
        if (finished) return;
        const ends = endpointsOf(socket!);
        back({ type: 'SOCKET.CONNECTED', local: ends.local, peer: ends.peer });
        phase = 'header';
        if (input.continuation) {
          const { offset, head, tail } = input.continuation;
          socket!.write(encodeControl({ verb: 'SEND', name: input.wireName, size, offset, head, tail }));
        } else {
          socket!.write(encodeFileHeader(input.wireName, size));
          void stream(0);
        }
      });
      socket.on('data', (chunk: Buffer) => {
        // A seed 002 receiver never writes; without the synack prefix there is nothing to read.
        if (finished || !input.synack) return;
        try {
          for (const message of lines.push(chunk).messages) {
            onMessage(message);
            if (finished) return;
          }
        } catch (error) {
          fail({ code: 'E_PROTOCOL', message: (error as Error).message });
        }
      });
      socket.on('end', () => {
        if (phase === 'offered') return;
        if (phase === 'sent') return finish({ type: 'FILE.PEER_CLOSED' });
        fail({ code: 'E_CONN_RESET', message: `${where()} closed the connection after ${position} of ${size} bytes` });
      });
      socket.on('error', (error) => {
        socketError = fileErrorInfo(error, phase === 'connecting' ? `cannot connect to ${where()}` : `connection to ${where()}`);
      });
      socket.on('close', () => {
        if (phase === 'offered') return;
        if (phase === 'sent' && !socketError) return finish({ type: 'FILE.PEER_CLOSED' });
        fail(socketError ?? { code: 'E_CONN_RESET', message: `connection to ${where()} lost after ${position} of ${size} bytes` });
      });
    };

    openSource(input.path).then(
      (opened) => {
        if (finished) return void opened.close();
        source = opened;
        size = opened.size;
        back({ type: 'FILE.OPENED', size });
        connect();
      },
      (error: unknown) => fail(fileErrorInfo(error, `cannot read ${input.path}`)),
    );

    receive((command) => {
      if (command.type === 'CANCEL') finish({ type: 'FILE.CANCELLED' });
    });
    return () => {
      finished = true;
      teardown();
    };
  });
}

/**
 * Sends one file over its own connection, the seed 002 way: `CONNECTING → HEADER → STREAMING →
 * FIN_WAIT → DONE`, or `FAILED` / `CANCELLED`; with a retry policy a lost or refused connection
 * goes to `RETRY_WAIT` and dials again. A synack receiver that already holds part of the file
 * offers to resume; the sender checks the offer against its file and continues on a new
 * connection from that offset (see docs/file-transfer.md). Context: bytes, total, rate (bytes/s),
 * etaMs, sha256 once done, lastError.
 *
 * @example
 * ```ts
 * const send = createActor(fileSendMachine, { input: { host: '127.0.0.1', port: 9999, path: 'a.txt' } });
 * send.subscribe((s) => console.log(s.value, s.context.bytes, s.context.total));
 * send.start();
 * ```
 */
export const fileSendMachine = setup({
  types: {
    context: {} as FileSendContext,
    events: {} as FileSendEvent,
    input: {} as FileSendInput,
  },
  actors: { sendLink: createSendLink() },
  guards: {
    canRetry: ({ context, event }) =>
      event.type === 'FILE.ERROR' && context.retries < context.retry.attempts && NETWORK_CODES.has(event.error.code),
    canRetryTimeout: ({ context }) => context.retries < context.retry.attempts,
    takesOffer: ({ context, event }) => event.type === 'FILE.OFFER' && context.resume && event.matches,
    receiptMatches: ({ context, event }) => event.type === 'FILE.RECEIPT' && event.sha256 === context.sha256 && event.bytes === context.total,
  },
  delays: {
    connectTimeout: ({ context }) => context.connectTimeoutMs,
    headerTimeout: ({ context }) => context.headerTimeoutMs,
    idleTimeout: ({ context }) => context.idleTimeoutMs,
    finTimeout: ({ context }) => context.finTimeoutMs,
    retryDelay: ({ context }) => context.retryDelayMs,
  },
  actions: {
    cancelLink: sendTo('link', { type: 'CANCEL' as const }),
    recordSize: assign(({ event }) => {
      assertEvent(event, 'FILE.OPENED');
      return { total: event.size };
    }),
    recordConnected: assign(({ event }) => {
      assertEvent(event, 'SOCKET.CONNECTED');
      return { local: event.local, peer: event.peer };
    }),
    startStreaming: assign(({ event }) => {
      assertEvent(event, 'FILE.STREAMING');
      return { ...streamingFrom(event.offset, event.at), rehashedBytes: event.rehashedBytes };
    }),
    recordProgress: assign(({ context, event }) => {
      assertEvent(event, ['FILE.PROGRESS', 'FILE.SENT']);
      return progressAfter(context, event.bytes, event.at);
    }),
    recordDigest: assign(({ event }) => {
      assertEvent(event, 'FILE.SENT');
      return { sha256: event.sha256 };
    }),
    planContinuation: assign(({ event }) => {
      assertEvent(event, 'FILE.OFFER');
      return { continuation: { offset: event.offset, head: event.head, tail: event.tail } };
    }),
    planRestart: assign(({ event }) => {
      assertEvent(event, 'FILE.OFFER');
      return { continuation: { offset: 0, head: event.head, tail: event.tail } };
    }),
    recordSynackReceiver: assign({ receiver: 'synack' as const, verified: true }),
    recordQtReceiver: assign({ receiver: 'qt' as const }),
    recordMismatch: assign(({ context, event }) => {
      assertEvent(event, 'FILE.RECEIPT');
      return {
        receiver: 'synack' as const,
        lastError: {
          code: 'E_PROTOCOL' as const,
          message: `the receiver got ${event.bytes} bytes with SHA-256 ${event.sha256}, we sent ${context.total} with ${context.sha256}`,
        },
      };
    }),
    recordError: assign(({ event }) => {
      assertEvent(event, ['FILE.ERROR', 'FILE.REFUSED']);
      return { lastError: event.error };
    }),
    recordTimeout: assign(({ context }, params: { phase: string }) => ({
      lastError: {
        code: 'E_TIMEOUT' as const,
        message:
          params.phase === 'connect'
            ? `connect to ${context.host}:${context.port} timed out after ${context.connectTimeoutMs} ms`
            : params.phase === 'header'
              ? `the receiver did not accept the continuation within ${context.headerTimeoutMs} ms`
              : params.phase === 'idle'
                ? `no byte could be sent for ${context.idleTimeoutMs} ms (the receiver stopped reading)`
                : `the receiver neither confirmed nor closed within ${context.finTimeoutMs} ms after the last byte`,
      },
    })),
    recordCancel: assign({ lastError: { code: 'E_CANCELLED' as const, message: 'the transfer was cancelled' } }),
    planRetry: assign(({ context }) => ({
      retries: context.retries + 1,
      retryDelayMs: backoffDelay(context.retry, context.retries + 1),
      continuation: null,
    })),
    markFinished: assign(finishedNow),
    markDone: assign(({ context }) => ({ finishedAt: Date.now(), etaMs: 0, bytes: context.total ?? context.bytes, lastError: null })),
  },
}).createMachine({
  id: 'file-send',
  context: ({ input }) => {
    const name = input.name ?? path.basename(input.path);
    const synack = !input.plainName;
    return {
      ...initialTransfer(input.id ?? 'file-send', input.progressIntervalMs),
      host: input.host,
      port: input.port,
      path: input.path,
      name,
      wireName: toWireName(name, !synack),
      synack,
      resume: input.resume ?? true,
      receiver: null,
      verified: false,
      continuation: null,
      retries: 0,
      retry: { ...DEFAULT_RETRY, ...input.retry },
      retryDelayMs: 0,
      connectTimeoutMs: input.connectTimeoutMs ?? 10_000,
      headerTimeoutMs: input.headerTimeoutMs ?? 10_000,
      idleTimeoutMs: input.idleTimeoutMs ?? 60_000,
      finTimeoutMs: input.finTimeoutMs ?? 10_000,
      checkpoints: new HashCheckpoints(input.checkpointBytes),
    };
  },
  initial: 'LINK',
  states: {
    LINK: {
      initial: 'CONNECTING',
      invoke: {
        id: 'link',
        src: 'sendLink',
        input: ({ context }) => ({
          host: context.host,
          port: context.port,
          path: context.path,
          wireName: context.wireName,
          synack: context.synack,
          continuation: context.continuation,
          progressIntervalMs: context.progressIntervalMs,
          checkpoints: context.checkpoints,
        }),
      },
      on: {
        'FILE.OPENED': { actions: 'recordSize' },
        'FILE.ERROR': [
          { guard: 'canRetry', target: 'RETRY_WAIT', actions: ['recordError', 'planRetry'] },
          { target: 'FAILED', actions: ['recordError', 'markFinished'] },
        ],
        'FILE.REFUSED': { target: 'FAILED', actions: ['recordError', 'markFinished'] },
        // Leaving LINK and entering it again stops this connection and dials the continuation.
        'FILE.OFFER': [
          { guard: 'takesOffer', target: 'LINK', reenter: true, actions: 'planContinuation' },
          { target: 'LINK', reenter: true, actions: 'planRestart' },
        ],
        'USER.CANCEL': { actions: 'cancelLink' },
        'FILE.CANCELLED': { target: 'CANCELLED', actions: ['recordCancel', 'markFinished'] },
      },
      states: {
        CONNECTING: {
          after: {
            connectTimeout: [
              { guard: 'canRetryTimeout', target: '#file-send.RETRY_WAIT', actions: [{ type: 'recordTimeout', params: { phase: 'connect' } }, 'planRetry'] },
              { target: '#file-send.FAILED', actions: [{ type: 'recordTimeout', params: { phase: 'connect' } }, 'markFinished'] },
            ],
          },
          on: { 'SOCKET.CONNECTED': { target: 'HEADER', actions: 'recordConnected' } },
        },
        HEADER: {
          after: {
            headerTimeout: { target: '#file-send.FAILED', actions: [{ type: 'recordTimeout', params: { phase: 'header' } }, 'markFinished'] },
          },
          on: { 'FILE.STREAMING': { target: 'STREAMING', actions: 'startStreaming' } },
        },
        STREAMING: {
          after: {
            idleTimeout: { target: '#file-send.FAILED', actions: [{ type: 'recordTimeout', params: { phase: 'idle' } }, 'markFinished'] },
          },
          on: {
            // Re-entering restarts the idle timer: it fires only when no progress came for that long.
            'FILE.PROGRESS': { target: 'STREAMING', reenter: true, actions: 'recordProgress' },
            'FILE.SENT': { target: 'FIN_WAIT', actions: ['recordProgress', 'recordDigest'] },
          },
        },
        FIN_WAIT: {
          after: {
            finTimeout: { target: '#file-send.FAILED', actions: [{ type: 'recordTimeout', params: { phase: 'fin' } }, 'markFinished'] },
          },
          on: {
            'FILE.RECEIPT': [
              { guard: 'receiptMatches', target: '#file-send.DONE', actions: ['recordSynackReceiver', 'markDone'] },
              { target: '#file-send.FAILED', actions: ['recordMismatch', 'markFinished'] },
            ],
            'FILE.PEER_CLOSED': { target: '#file-send.DONE', actions: ['recordQtReceiver', 'markDone'] },
          },
        },
      },
    },
    RETRY_WAIT: {
      after: { retryDelay: { target: 'LINK' } },
      on: { 'USER.CANCEL': { target: 'CANCELLED', actions: ['recordCancel', 'markFinished'] } },
    },
    DONE: { type: 'final' },
    FAILED: { type: 'final' },
    CANCELLED: { type: 'final' },
  },
});

/** A running file-send actor. */
export type FileSendActor = ActorRefFrom<typeof fileSendMachine>;
/** A snapshot of a file-send actor. */
export type FileSendSnapshot = SnapshotFrom<typeof fileSendMachine>;
/** The states of a file-send actor, nesting left out. */
export type FileSendStateName = 'CONNECTING' | 'HEADER' | 'STREAMING' | 'FIN_WAIT' | 'RETRY_WAIT' | 'DONE' | 'FAILED' | 'CANCELLED';

/**
 * The state name of a file-send actor: `STREAMING`, `DONE`, …
 *
 * @example
 * ```ts
 * send.subscribe((s) => console.log(fileSendState(s))); // CONNECTING, HEADER, STREAMING, FIN_WAIT, DONE
 * ```
 */
export function fileSendState(snapshot: FileSendSnapshot): FileSendStateName {
  return transferStateName(snapshot.value) as FileSendStateName;
}

/** Sample events for graph traversal (`xstate/graph`): one of each event the machine handles. */
export const fileSendSampleEvents: FileSendEvent[] = [
  { type: 'FILE.OPENED', size: 5 },
  { type: 'SOCKET.CONNECTED', local: '127.0.0.1:50000', peer: '127.0.0.1:9999' },
  { type: 'FILE.STREAMING', offset: 0, rehashedBytes: 0, at: 1_000 },
  { type: 'FILE.PROGRESS', bytes: 3, at: 1_100 },
  { type: 'FILE.SENT', bytes: 5, sha256: SAMPLE_SHA256, at: 1_200 },
  { type: 'FILE.OFFER', offset: 3, head: SAMPLE_SHA256, tail: SAMPLE_SHA256, matches: true },
  { type: 'FILE.OFFER', offset: 3, head: SAMPLE_SHA256, tail: SAMPLE_SHA256, matches: false },
  { type: 'FILE.RECEIPT', bytes: 5, sha256: SAMPLE_SHA256, name: 'a.txt' },
  { type: 'FILE.RECEIPT', bytes: 5, sha256: '0'.repeat(64), name: 'a.txt' },
  { type: 'FILE.PEER_CLOSED' },
  { type: 'FILE.REFUSED', error: { code: 'E_FRAME_TOO_LARGE', message: 'receiver: the announced file is too large' } },
  { type: 'FILE.ERROR', error: { code: 'E_CONN_RESET', message: 'read ECONNRESET', errno: 'ECONNRESET' } },
  { type: 'FILE.ERROR', error: { code: 'E_NOT_FOUND', message: 'cannot read a.txt: ENOENT', errno: 'ENOENT' } },
  { type: 'USER.CANCEL' },
  { type: 'FILE.CANCELLED' },
];
