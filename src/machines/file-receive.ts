import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { assertEvent, assign, fromCallback, sendTo, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import { SynackError, type SynackErrorCode, type SynackErrorInfo } from '../errors.js';
import { ProgressTicker } from '../transport/file-progress.js';
import { commitFile, exists, fileError, fileErrorInfo, hashRange, PartialStore, readAtOf, prepareTarget, sampleDigests, type ReceiveTarget } from '../transport/file-store.js';
import { CONTROL_FIRST_BYTE, ControlLineDecoder, encodeControl, errorMessage, parseWireName, type ControlMessage } from '../transport/file-wire.js';
import { FileHeaderDecoder, type FileHeader } from '../transport/qt-file-header.js';
import { nextFreeName, safeBaseName, safeRelativePath } from '../transport/safe-name.js';
import { endpointsOf, socketEvents } from '../transport/socket-bridge.js';
import { finishedNow, initialTransfer, progressAfter, SAMPLE_SHA256, streamingFrom, transferStateName, type TransferContext } from './transfer.js';

/** Bytes the file writer buffers before the socket is paused (one `writev` per batch). */
export const WRITE_BUFFER_BYTES = 1 << 20;

/** What a file-receive actor is started with. */
export interface FileReceiveInput {
  id?: string;
  /** An accepted connection, not yet read from. */
  socket: net.Socket;
  /** Where files go; names are kept inside it. */
  outDir: string;
  /** Replace an existing file of the same name instead of picking `name (1).ext`. */
  force?: boolean;
  /** Refuse a file announced larger than this, before writing anything. */
  maxBytes?: number;
  /** Shared by the transfers of one receiver: `.part` files in use and resumable running hashes. */
  partials?: PartialStore;
  /** Fail when the header is not complete this long after the connection. Default 30 s. */
  headerTimeoutMs?: number;
  /** Fail when no byte arrives for this long while streaming. Default 60 s. */
  idleTimeoutMs?: number;
  /** After the last byte, wait this long for the sender's close before saving anyway. Default 2 s. */
  lingerMs?: number;
  /** Pause between progress reports. Default 100 ms. */
  progressIntervalMs?: number;
}

/** What a file-receive actor knows; the app and the inspector read it from snapshots. */
export interface FileReceiveContext extends TransferContext {
  outDir: string;
  /** The safe name the file is saved under (relative to outDir), once the header is read. */
  name: string | null;
  /** The final path, once saved. */
  path: string | null;
  /** The `.part` being written. */
  partPath: string | null;
  /** `synack` when the name carried synack's prefix (it reads our replies), `qt` otherwise. */
  sender: 'synack' | 'qt' | null;
  /** The offset offered to the sender, when this connection ended with a resume offer. */
  offered: number | null;
  force: boolean;
  maxBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  lingerMs: number;
  socket: net.Socket;
  partials: PartialStore;
}

/** Events of the file-receive machine: `FILE.*` from its link, `USER.CANCEL` from the app. */
export type FileReceiveEvent =
  | { type: 'FILE.HEADER'; name: string; total: number; sender: 'synack' | 'qt'; partPath: string; resumedFrom: number; rehashedBytes: number; at: number }
  | { type: 'FILE.OFFERED'; name: string; offset: number; total: number }
  | { type: 'FILE.PROGRESS'; bytes: number; at: number }
  | { type: 'FILE.RECEIVED'; bytes: number; at: number }
  | { type: 'FILE.COMMITTED'; path: string; sha256: string; bytes: number }
  | { type: 'FILE.HUNG_UP' }
  | { type: 'FILE.ERROR'; error: SynackErrorInfo; bytes: number; name?: string }
  | { type: 'FILE.CANCELLED'; bytes: number }
  | { type: 'USER.CANCEL' };

/** Commands the machine gives its link. */
export type ReceiveLinkCommand = { type: 'COMMIT' } | { type: 'ABORT'; error: SynackErrorInfo } | { type: 'CANCEL' };

/** What the receive link is started with. */
export interface ReceiveLinkInput {
  socket: net.Socket;
  outDir: string;
  force: boolean;
  maxBytes: number;
  partials: PartialStore;
  progressIntervalMs: number;
}

/** How a `.part` file is opened: created (`wx`, `w`) or continued at `start` (`r+`). */
export interface SinkOptions {
  flags: 'wx' | 'w' | 'r+';
  start: number;
}

/** The effects of {@link createReceiveLink} that a test may replace. */
export interface ReceiveLinkDeps {
  /** Opens the file bytes are written to; its stream reports write errors (ENOSPC…) as `error`. */
  openSink?: (path: string, options: SinkOptions) => Promise<Writable>;
}

/**
 * Opens a `.part` for writing (truncated to `start`), buffered {@link WRITE_BUFFER_BYTES}.
 *
 * @example
 * ```ts
 * const sink = await openFileSink('/dl/a.bin.part', { flags: 'r+', start: 1_000_000 });
 * sink.end(rest);
 * ```
 */
export async function openFileSink(file: string, options: SinkOptions): Promise<Writable> {
  const handle = await open(file, options.flags);
  try {
    if (options.flags === 'r+') await handle.truncate(options.start);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return createWriteStream('', { fd: handle, start: options.start, highWaterMark: WRITE_BUFFER_BYTES });
}

/** How long a synack transfer waits for another connection to let go of its `.part`. */
const PARTIAL_WAIT_MS = 2_000;

/** Errors after which a synack sender may continue the partial later. */
const RESUMABLE = new Set<SynackErrorCode>(['E_TRANSFER_SHORT', 'E_TIMEOUT', 'E_CONN_RESET', 'E_CANCELLED']);

/**
 * Builds the effect that owns an accepted connection: it decodes the seed 002 header (or a
 * synack continuation request), makes the name safe, writes the bytes to a `.part` with
 * backpressure (the socket pauses while the file is behind) while hashing them, and saves the
 * file under its final name only when exactly the announced number of bytes came. It speaks to
 * the sender only when the name carries synack's prefix. Progress is throttled.
 *
 * @example
 * ```ts
 * const full = fileReceiveMachine.provide({ actors: { receiveLink: createReceiveLink({ openSink: diskFullSink }) } });
 * ```
 */
export function createReceiveLink(deps: ReceiveLinkDeps = {}) {
  const openSink = deps.openSink ?? openFileSink;
  return fromCallback<ReceiveLinkCommand, ReceiveLinkInput>(({ input, sendBack, receive }) => {
    const back = (event: FileReceiveEvent) => sendBack(event);
    const { socket, partials } = input;
    type Phase = 'first' | 'header' | 'control' | 'opening' | 'body' | 'complete' | 'committing' | 'offered' | 'closing' | 'done';
    let phase: Phase = 'first';
    let synack = false;
    let name = '';
    let total = 0;
    let received = 0;
    let target: ReceiveTarget | undefined;
    let partPath: string | undefined;
    let sink: Writable | undefined;
    /** This connection opened the `.part` for writing (so a failure removes it unless kept). */
    let wrote = false;
    let hash: Hash | undefined;
    let held: Buffer[] = [];
    let peerEnded = false;
    let socketError: SynackErrorInfo | undefined;
    const decoder = new FileHeaderDecoder();
    const lines = new ControlLineDecoder();
    const ticker = new ProgressTicker(input.progressIntervalMs, () => received, (bytes, at) => back({ type: 'FILE.PROGRESS', bytes, at }));

    const reply = (message: ControlMessage) => {
      if (synack && socket.writable) socket.write(encodeControl(message));
    };

    const closeSink = (keep: boolean) =>
      new Promise<boolean>((resolve) => {
        if (!sink || sink.destroyed) return resolve(false);
        let errored = false;
        sink.once('error', () => (errored = true));
        sink.once('close', () => resolve(keep && !errored));
        if (keep) sink.end();
        else sink.destroy();
      });

    const fail = (error: SynackErrorInfo, options: { keep?: boolean; cancelled?: boolean } = {}) => {
      if (phase === 'done' || phase === 'closing') return;
      const keepWanted = (options.keep ?? false) && synack && received > 0 && hash !== undefined;
      phase = 'closing';
      ticker.stop();
      if (synack && socket.writable) {
        reply(errorMessage(error));
        socket.end();
        socket.resume();
      } else {
        socket.destroy();
      }
      void (async () => {
        const kept = await closeSink(keepWanted);
        if (partPath) {
          if (kept) partials.keep(partPath, hash!, received);
          else if (wrote) await unlink(partPath).catch(() => {});
          partials.release(partPath);
        }
      })().finally(() => {
        phase = 'done';
        back(options.cancelled ? { type: 'FILE.CANCELLED', bytes: received } : { type: 'FILE.ERROR', error, bytes: received, ...(name ? { name } : {}) });
      });
    };
    const failWith = (error: unknown, context?: string) => fail(context ? fileErrorInfo(error, context) : SynackError.from(error).toInfo());

    const hold = (chunk: Buffer) => {
      if (chunk.length > 0) held.push(chunk);
    };

    const complete = () => {
      phase = 'complete';
      ticker.stop();
      back({ type: 'FILE.RECEIVED', bytes: received, at: Date.now() });
      if (peerEnded) commit();
    };

    const body = (chunk: Buffer) => {
      if (chunk.length > total - received) {
        received += chunk.length;
        return fail({ code: 'E_TRANSFER_OVERLONG', message: `${name}: the sender sent more than the ${total} bytes it announced` });
      }
      received += chunk.length;
      hash!.update(chunk);
      if (!sink!.write(chunk)) {
        socket.pause();
        sink!.once('drain', () => {
          if (phase === 'body' || phase === 'complete') socket.resume();
        });
      }
      if (received === total) complete();
    };

    const onData = (chunk: Buffer): void => {
      switch (phase) {
        case 'first':
          if (chunk.length === 0) return;
          phase = chunk[0] === CONTROL_FIRST_BYTE ? 'control' : 'header';
          return onData(chunk);
        case 'header': {
          let decoded: { header: FileHeader; rest: Buffer } | null;
          try {
            decoded = decoder.push(chunk);
          } catch (error) {
            return failWith(error);
          }
          if (!decoded) return;
          phase = 'opening';
          socket.pause();
          hold(decoded.rest);
          onHeader(decoded.header).catch((error: unknown) => failWith(error, `cannot receive ${name || decoded.header.fileName}`));
          return;
        }
        case 'control': {
          let parsed: { messages: ControlMessage[]; rest: Buffer };
          try {
            parsed = lines.push(chunk, true);
          } catch (error) {
            return failWith(error);
          }
          const [message] = parsed.messages;
          if (!message) return;
          phase = 'opening';
          socket.pause();
          hold(parsed.rest);
          if (message.verb !== 'SEND') return fail({ code: 'E_PROTOCOL', message: `expected SYNACK SEND first, got ${message.verb}` });
          onSend(message).catch((error: unknown) => failWith(error, `cannot continue ${name || message.name}`));
          return;
        }
        case 'opening':
          return hold(chunk);
        case 'body':
          return body(chunk);
        case 'complete':
          received += chunk.length;
          return fail({ code: 'E_TRANSFER_OVERLONG', message: `${name}: the sender sent more than the ${total} bytes it announced` });
        default:
          return;
      }
    };

    const settleEnd = () => {
      switch (phase) {
        case 'first':
        case 'header':
        case 'control':
          return fail({ code: 'E_PROTOCOL', message: `the sender closed the connection before a complete header${socketError ? ` (${socketError.message})` : ''}` });
        case 'body':
          return fail(
            { code: 'E_TRANSFER_SHORT', message: `${name}: the sender stopped after ${received} of ${total} bytes${socketError ? ` (${socketError.message})` : ''}` },
            { keep: true },
          );
        case 'complete':
          return commit();
        case 'offered':
          phase = 'done';
          return back({ type: 'FILE.HUNG_UP' });
        default:
          return;
      }
    };

    const claimPart = async (wanted: string, replace: boolean): Promise<{ path: string; flags: SinkOptions['flags'] }> => {
      if (replace && partials.claim(wanted)) return { path: wanted, flags: 'w' };
      if (!replace && !(await exists(wanted)) && partials.claim(wanted)) return { path: wanted, flags: 'wx' };
      const dir = path.dirname(wanted);
      // Another transfer may take the free name while we look: look again until one is ours.
      for (;;) {
        const chosen = path.join(dir, await nextFreeName(dir, path.basename(wanted), async (p) => partials.isActive(p) || (await exists(p))));
        if (partials.claim(chosen)) return { path: chosen, flags: 'wx' };
      }
    };

    const beginBody = (start: number, sender: 'synack' | 'qt', rehashedBytes: number) => {
      received = start;
      back({ type: 'FILE.HEADER', name, total, sender, partPath: partPath!, resumedFrom: start, rehashedBytes, at: Date.now() });
      phase = 'body';
      ticker.start();
      if (received === total) complete();
      const pending = held;
      held = [];
      for (const chunk of pending) onData(chunk);
      if (phase === 'body' || phase === 'complete') socket.resume();
      if (peerEnded) settleEnd();
    };

    const openPart = async (flags: SinkOptions['flags'], start: number) => {
      sink = await openSink(partPath!, { flags, start }).catch((error: unknown) => {
        throw fileError(error, `cannot write ${partPath}`);
      });
      wrote = true;
      sink.on('error', (error) => fail(fileErrorInfo(error, `cannot write ${partPath}`)));
    };

    const refuseSize = () => fail({ code: 'E_FRAME_TOO_LARGE', message: `the announced file is ${total} bytes, more than the ${input.maxBytes} allowed` });

    const onHeader = async (header: FileHeader) => {
      const wire = parseWireName(header.fileName);
      synack = wire.synack;
      name = synack ? safeRelativePath(wire.name) : safeBaseName(wire.name);
      total = header.fileBytes;
      if (total > input.maxBytes) return refuseSize();
      target = await prepareTarget(input.outDir, name);
      // A retry can come before the cut connection has finished putting its partial away.
      if (synack) await partials.whenFree(target.partPath, PARTIAL_WAIT_MS);
      if (phase !== 'opening') return;
      if (synack && !partials.isActive(target.partPath)) {
        const partial = await stat(target.partPath).catch(() => null);
        if (phase !== 'opening') return;
        if (partial?.isFile() && partial.size > 0 && partial.size <= total) {
          const { head, tail } = await sampleDigests(target.partPath, partial.size);
          if (phase !== 'opening') return;
          phase = 'offered';
          held = [];
          reply({ verb: 'RESUME', offset: partial.size, head, tail });
          socket.end();
          back({ type: 'FILE.OFFERED', name, offset: partial.size, total });
          socket.resume();
          if (peerEnded) settleEnd();
          return;
        }
      }
      const part = await claimPart(target.partPath, synack);
      partPath = part.path;
      partials.forget(partPath);
      hash = createHash('sha256');
      await openPart(part.flags, 0);
      if (phase !== 'opening') return;
      beginBody(0, synack ? 'synack' : 'qt', 0);
    };

    const onSend = async (request: Extract<ControlMessage, { verb: 'SEND' }>) => {
      const wire = parseWireName(request.name);
      synack = true;
      if (!wire.synack) return fail({ code: 'E_PROTOCOL', message: `a continuation must name a synack path (./…), got ${JSON.stringify(request.name)}` });
      name = safeRelativePath(wire.name);
      total = request.size;
      if (total > input.maxBytes) return refuseSize();
      target = await prepareTarget(input.outDir, name);
      await partials.whenFree(target.partPath, PARTIAL_WAIT_MS);
      if (!partials.claim(target.partPath)) {
        return fail({ code: 'E_FILE_EXISTS', message: `${name} is being received on another connection` });
      }
      partPath = target.partPath;
      let offset = 0;
      if (request.offset > 0) {
        const partial = await stat(partPath).catch(() => null);
        if (partial?.isFile() && partial.size >= request.offset) {
          const { head, tail } = await sampleDigests(partPath, request.offset);
          if (head === request.head && tail === request.tail) offset = request.offset;
        }
      }
      let rehashed = 0;
      const kept = offset > 0 ? partials.take(partPath, offset) : undefined;
      partials.forget(partPath);
      hash = kept ?? createHash('sha256');
      if (offset > 0 && !kept) {
        const handle = await open(partPath, 'r');
        try {
          rehashed = await hashRange(readAtOf(handle), 0, offset, hash);
        } finally {
          await handle.close();
        }
      }
      await openPart(offset > 0 ? 'r+' : 'w', offset);
      if (phase !== 'opening') return;
      reply({ verb: 'ACCEPT', offset });
      beginBody(offset, 'synack', rehashed);
    };

    const commit = () => {
      if (phase !== 'complete') return;
      phase = 'committing';
      void (async () => {
        if (!(await closeSink(true))) throw new SynackError('E_ACCESS', `cannot finish writing ${partPath}`);
        const saved = await commitFile(partPath!, target!.finalPath, input.force);
        partials.release(partPath!);
        const sha256 = hash!.digest('hex');
        reply({ verb: 'DONE', bytes: received, sha256, name });
        if (!socket.writableEnded) socket.end();
        phase = 'done';
        back({ type: 'FILE.COMMITTED', path: saved, sha256, bytes: received });
      })().catch((error: unknown) => {
        if (phase === 'committing') failWith(error, `cannot save ${name}`);
      });
    };

    const subscription = socketEvents(socket).subscribe((event) => {
      if (event.type === 'SOCKET.DATA') onData(event.chunk);
      else if (event.type === 'SOCKET.ERROR') socketError = event.error;
      else if (event.type === 'SOCKET.END' || event.type === 'SOCKET.CLOSED') {
        peerEnded = true;
        settleEnd();
      }
    });

    receive((command) => {
      if (command.type === 'COMMIT') commit();
      else if (command.type === 'ABORT') fail(command.error, { keep: RESUMABLE.has(command.error.code) });
      else fail({ code: 'E_CANCELLED', message: `${name || 'the transfer'} was cancelled by the receiver` }, { keep: true, cancelled: true });
    });

    return () => {
      ticker.stop();
      subscription.unsubscribe();
      if (phase !== 'done' && phase !== 'closing') {
        phase = 'done';
        socket.destroy();
        sink?.destroy();
        if (partPath) {
          if (!synack && wrote) void unlink(partPath).catch(() => {});
          partials.release(partPath);
        }
      } else if (!socket.destroyed) {
        if (socket.writableEnded) {
          socket.setTimeout(2_000, () => socket.destroy());
          socket.resume();
        } else {
          socket.destroy();
        }
      }
    };
  });
}


/**
 * Receives one file from an accepted connection: `HEADER → STREAMING → FIN_WAIT → DONE`, or
 * `FAILED` / `CANCELLED`. In FIN_WAIT every announced byte is here and it waits for the sender's
 * close (an overlong stream fails there) before the `.part` becomes the final file. A synack
 * sender of a file whose `.part` is already here gets a resume offer instead: `HEADER → OFFERED →
 * HANDED_OFF`, and the transfer continues on the sender's next connection. Context: name, path,
 * bytes, total, rate (bytes/s), etaMs, sha256 once done, lastError.
 *
 * @example
 * ```ts
 * server.on('connection', (socket) => {
 *   const receive = createActor(fileReceiveMachine, { input: { socket, outDir: '/downloads', maxBytes: 1 << 30 } });
 *   receive.subscribe((s) => s.status === 'done' && console.log(s.value, s.context.path, s.context.sha256));
 *   receive.start();
 * });
 * ```
 */
export const fileReceiveMachine = setup({
  types: {
    context: {} as FileReceiveContext,
    events: {} as FileReceiveEvent,
    input: {} as FileReceiveInput,
  },
  actors: { receiveLink: createReceiveLink() },
  delays: {
    headerTimeout: ({ context }) => context.headerTimeoutMs,
    idleTimeout: ({ context }) => context.idleTimeoutMs,
    linger: ({ context }) => context.lingerMs,
  },
  actions: {
    cancelLink: sendTo('link', { type: 'CANCEL' as const }),
    commitLink: sendTo('link', { type: 'COMMIT' as const }),
    abortLink: sendTo('link', ({ context }, params: { phase: 'header' | 'idle' }) => ({
      type: 'ABORT' as const,
      error: {
        code: 'E_TIMEOUT' as const,
        message:
          params.phase === 'header'
            ? `no complete header within ${context.headerTimeoutMs} ms`
            : `${context.name}: no byte for ${context.idleTimeoutMs} ms (after ${context.bytes} of ${context.total})`,
      },
    })),
    recordHeader: assign(({ event }) => {
      assertEvent(event, 'FILE.HEADER');
      return {
        name: event.name,
        total: event.total,
        sender: event.sender,
        partPath: event.partPath,
        ...streamingFrom(event.resumedFrom, event.at),
        rehashedBytes: event.rehashedBytes,
      };
    }),
    recordOffer: assign(({ event }) => {
      assertEvent(event, 'FILE.OFFERED');
      return { name: event.name, total: event.total, sender: 'synack' as const, offered: event.offset, bytes: event.offset };
    }),
    recordProgress: assign(({ context, event }) => {
      assertEvent(event, ['FILE.PROGRESS', 'FILE.RECEIVED']);
      return progressAfter(context, event.bytes, event.at);
    }),
    recordCommit: assign(({ event }) => {
      assertEvent(event, 'FILE.COMMITTED');
      return { path: event.path, sha256: event.sha256, bytes: event.bytes, etaMs: 0, finishedAt: Date.now() };
    }),
    recordError: assign(({ event }) => {
      assertEvent(event, 'FILE.ERROR');
      return { ...finishedNow(), lastError: event.error, bytes: event.bytes, ...(event.name !== undefined ? { name: event.name } : {}) };
    }),
    recordCancel: assign(({ event }) => {
      assertEvent(event, 'FILE.CANCELLED');
      return {
        ...finishedNow(),
        lastError: { code: 'E_CANCELLED' as const, message: 'the transfer was cancelled by the receiver' },
        bytes: event.bytes,
      };
    }),
    markFinished: assign(finishedNow),
  },
}).createMachine({
  id: 'file-receive',
  context: ({ input }) => {
    const ends = input.socket.remoteAddress ? endpointsOf(input.socket) : null;
    return {
      ...initialTransfer(input.id ?? 'file-receive', input.progressIntervalMs),
      local: ends?.local ?? null,
      peer: ends?.peer ?? null,
      outDir: input.outDir,
      name: null,
      path: null,
      partPath: null,
      sender: null,
      offered: null,
      force: input.force ?? false,
      maxBytes: input.maxBytes ?? Number.MAX_SAFE_INTEGER,
      headerTimeoutMs: input.headerTimeoutMs ?? 30_000,
      idleTimeoutMs: input.idleTimeoutMs ?? 60_000,
      lingerMs: input.lingerMs ?? 2_000,
      socket: input.socket,
      partials: input.partials ?? new PartialStore(),
    };
  },
  initial: 'LINK',
  states: {
    LINK: {
      initial: 'HEADER',
      invoke: {
        id: 'link',
        src: 'receiveLink',
        input: ({ context }) => ({
          socket: context.socket,
          outDir: context.outDir,
          force: context.force,
          maxBytes: context.maxBytes,
          partials: context.partials,
          progressIntervalMs: context.progressIntervalMs,
        }),
      },
      on: {
        'FILE.ERROR': { target: 'FAILED', actions: 'recordError' },
        'USER.CANCEL': { actions: 'cancelLink' },
        'FILE.CANCELLED': { target: 'CANCELLED', actions: 'recordCancel' },
      },
      states: {
        HEADER: {
          after: { headerTimeout: { actions: { type: 'abortLink', params: { phase: 'header' } } } },
          on: {
            'FILE.HEADER': { target: 'STREAMING', actions: 'recordHeader' },
            'FILE.OFFERED': { target: 'OFFERED', actions: 'recordOffer' },
          },
        },
        STREAMING: {
          after: { idleTimeout: { actions: { type: 'abortLink', params: { phase: 'idle' } } } },
          on: {
            // Re-entering restarts the idle timer: it fires only when no byte came for that long.
            'FILE.PROGRESS': { target: 'STREAMING', reenter: true, actions: 'recordProgress' },
            'FILE.RECEIVED': { target: 'FIN_WAIT', actions: 'recordProgress' },
          },
        },
        FIN_WAIT: {
          after: { linger: { actions: 'commitLink' } },
          on: { 'FILE.COMMITTED': { target: '#file-receive.DONE', actions: 'recordCommit' } },
        },
        OFFERED: {
          after: { linger: { target: '#file-receive.HANDED_OFF', actions: 'markFinished' } },
          on: { 'FILE.HUNG_UP': { target: '#file-receive.HANDED_OFF', actions: 'markFinished' } },
        },
      },
    },
    DONE: { type: 'final' },
    FAILED: { type: 'final' },
    CANCELLED: { type: 'final' },
    /** This connection offered a resume; the transfer goes on over the sender's next connection. */
    HANDED_OFF: { type: 'final' },
  },
});

/** A running file-receive actor. */
export type FileReceiveActor = ActorRefFrom<typeof fileReceiveMachine>;
/** A snapshot of a file-receive actor. */
export type FileReceiveSnapshot = SnapshotFrom<typeof fileReceiveMachine>;
/** The states of a file-receive actor, nesting left out. */
export type FileReceiveStateName = 'HEADER' | 'STREAMING' | 'FIN_WAIT' | 'OFFERED' | 'DONE' | 'FAILED' | 'CANCELLED' | 'HANDED_OFF';

/**
 * The state name of a file-receive actor: `STREAMING`, `DONE`, …
 *
 * @example
 * ```ts
 * receive.subscribe((s) => console.log(fileReceiveState(s))); // HEADER, STREAMING, FIN_WAIT, DONE
 * ```
 */
export function fileReceiveState(snapshot: FileReceiveSnapshot): FileReceiveStateName {
  return transferStateName(snapshot.value) as FileReceiveStateName;
}

/** Sample events for graph traversal (`xstate/graph`): one of each event the machine handles. */
export const fileReceiveSampleEvents: FileReceiveEvent[] = [
  { type: 'FILE.HEADER', name: 'a.txt', total: 5, sender: 'qt', partPath: '/tmp/a.txt.part', resumedFrom: 0, rehashedBytes: 0, at: 1_000 },
  { type: 'FILE.OFFERED', name: 'a.txt', offset: 3, total: 5 },
  { type: 'FILE.PROGRESS', bytes: 3, at: 1_100 },
  { type: 'FILE.RECEIVED', bytes: 5, at: 1_200 },
  { type: 'FILE.COMMITTED', path: '/tmp/a.txt', sha256: SAMPLE_SHA256, bytes: 5 },
  { type: 'FILE.HUNG_UP' },
  { type: 'FILE.ERROR', error: { code: 'E_TRANSFER_SHORT', message: 'a.txt: the sender stopped after 3 of 5 bytes' }, bytes: 3 },
  { type: 'USER.CANCEL' },
  { type: 'FILE.CANCELLED', bytes: 3 },
];
