import { constants } from 'node:fs';
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import { Observable, Subject } from 'rxjs';
import { createActor, waitFor } from 'xstate';
import { SynackError, type SynackErrorInfo } from '../errors.js';
import { fileReceiveMachine, fileReceiveState, type FileReceiveActor, type FileReceiveInput, type FileReceiveSnapshot } from '../machines/file-receive.js';
import { fileSendMachine, fileSendState, type FileSendActor, type FileSendInput, type FileSendSnapshot } from '../machines/file-send.js';
import { listenerState, type ClientKeeper, type ListenerActor } from '../machines/listener.js';
import { fileError, PartialStore } from '../transport/file-store.js';
import type { Endpoint } from '../transport/socket-bridge.js';
import type { BatchPosition, FileTransferEvent } from './file-events.js';
import { snapshots$ } from './observe.js';
import { Supervisor } from './supervisor.js';

/** Options of {@link sendFile}: where to, which file, and the file-send machine's settings. */
export interface SendFileOptions extends Omit<FileSendInput, 'id'> {
  id?: string;
  /** Gives ids and the inspector (`inspect`) to the transfer actor. */
  supervisor?: Supervisor;
  /** Its place in a batch, copied onto its events. */
  batch?: BatchPosition;
  /** The machine to run: {@link fileSendMachine} by default, or one with other effects (`.provide()`). */
  machine?: typeof fileSendMachine;
}

/** A file that went across, on either end. */
export interface TransferredFile {
  id: string;
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  peer: Endpoint;
  /** The other end, as far as the wire tells. */
  peerKind: 'synack' | 'qt';
  /** Offset the transfer continued from (0 unless resumed). */
  resumedFrom: number;
  ms: number;
}

/** A delivered file. */
export interface SentFile extends TransferredFile {
  /** The receiver confirmed the same SHA-256 (a synack receiver). */
  verified: boolean;
}

/** A received file. */
export interface ReceivedFile extends TransferredFile {
  /** Bytes of an earlier partial hashed again to continue it (0 when its running hash was kept). */
  rehashedBytes: number;
}

let sequence = 0;
const nextId = (supervisor: Supervisor | undefined, prefix: string) => supervisor?.nextId(prefix) ?? `${prefix}-${++sequence}`;

function errorOf(info: SynackErrorInfo | null, fallback: string): SynackError {
  return new SynackError(info?.code ?? 'E_SOCKET', info?.message ?? fallback);
}

/**
 * One file on its way: the file-send actor, its snapshots, its events, and a promise of the
 * result. The actor starts on the next microtask, so events$ subscribed right after
 * {@link sendFile} sees everything.
 *
 * @example
 * ```ts
 * const transfer = sendFile({ host: '127.0.0.1', port: 9999, path: 'a.iso' });
 * transfer.state$.subscribe((s) => console.log(fileSendState(s), s.context.bytes));
 * setTimeout(() => void transfer.cancel(), 5_000);
 * await transfer.done.catch((e) => console.log(e.code)); // E_CANCELLED if still running
 * ```
 */
export class FileSend {
  readonly id: string;
  readonly actor: FileSendActor;
  readonly state$: Observable<FileSendSnapshot>;
  readonly events$: Observable<FileTransferEvent>;
  /** Resolves when delivered; rejects with a SynackError (E_NOT_FOUND, E_CONN_REFUSED, E_CANCELLED…). */
  readonly done: Promise<SentFile>;
  readonly #events = new Subject<FileTransferEvent>();

  constructor(options: SendFileOptions) {
    const { supervisor, batch, id, machine, ...input } = options;
    this.id = id ?? nextId(supervisor, 'send');
    this.actor = createActor(machine ?? fileSendMachine, {
      id: this.id,
      input: { ...input, id: this.id },
    });
    supervisor?.adopt(this.actor);
    this.state$ = snapshots$(this.actor);
    this.events$ = this.#events.asObservable();
    this.done = new Promise<SentFile>((resolve, reject) => this.#wire(batch ?? {}, resolve, reject));
    this.done.catch(() => {});
    queueMicrotask(() => this.actor.start());
  }

  #wire(batch: BatchPosition, resolve: (file: SentFile) => void, reject: (error: SynackError) => void): void {
    let last = '';
    let reported = -1;
    let continuation: unknown = null;
    const emit = (event: FileTransferEvent) => this.#events.next(event);
    this.actor.subscribe({
      next: (snapshot) => {
        const state = fileSendState(snapshot);
        const c = snapshot.context;
        if (state !== last) {
          last = state;
          emit({ event: 'state', actor: this.id, machine: 'file-send', state });
        }
        if (c.continuation !== continuation) {
          continuation = c.continuation;
          if (c.continuation && c.continuation.offset > 0) {
            emit({ event: 'resuming', id: this.id, direction: 'send', name: c.name, offset: c.continuation.offset, total: c.total ?? 0 });
          }
        }
        const streaming = state === 'STREAMING' || state === 'FIN_WAIT' || state === 'DONE';
        if (streaming && c.total !== null && (c.bytes !== reported || (state === 'DONE' && reported < 0))) {
          reported = c.bytes;
          emit({ event: 'progress', id: this.id, direction: 'send', name: c.name, bytes: c.bytes, total: c.total, rate: Math.round(c.rate), etaMs: c.etaMs, ...overall(batch, c.bytes) });
        }
        if (snapshot.status !== 'done') return;
        const ms = (c.finishedAt ?? Date.now()) - c.startedAt;
        if (state === 'DONE') {
          const file: SentFile = {
            id: this.id,
            name: c.name,
            path: c.path,
            bytes: c.total ?? c.bytes,
            sha256: c.sha256 ?? '',
            peer: c.peer ?? `${c.host}:${c.port}`,
            verified: c.verified,
            peerKind: c.receiver ?? 'qt',
            resumedFrom: c.resumedFrom,
            ms,
          };
          const { id: _, ms: __, ...fields } = file;
          emit({ event: 'file', id: this.id, direction: 'send', ...fields, ...batch });
          resolve(file);
        } else {
          const error = errorOf(c.lastError, 'the transfer failed');
          emit({ event: 'error', id: this.id, direction: 'send', code: error.code, message: error.message, name: c.name, path: c.path, bytes: c.bytes, total: c.total, ...batch });
          reject(error);
        }
        queueMicrotask(() => this.#events.complete());
      },
      error: (error) => {
        const e = SynackError.from(error, 'file-send actor');
        emit({ event: 'error', id: this.id, direction: 'send', code: e.code, message: e.message });
        reject(e);
        this.#events.complete();
      },
    });
  }

  /** The state name now: `STREAMING`, `DONE`… */
  get state(): string {
    return fileSendState(this.actor.getSnapshot());
  }

  /** Cancels the transfer; resolves once it has stopped (its `done` then rejects with E_CANCELLED). */
  async cancel(): Promise<void> {
    if (this.actor.getSnapshot().status === 'done') return;
    this.actor.send({ type: 'USER.CANCEL' });
    await this.done.catch(() => {});
  }
}

function overall(batch: BatchPosition, bytes: number): BatchPosition {
  if (batch.index === undefined) return {};
  return { ...batch, overallBytes: (batch.overallBytes ?? 0) + bytes };
}

/**
 * Sends one file the seed 002 way over its own connection: a Qt receiver gets exactly the stream
 * it expects; a synack receiver also confirms the SHA-256 and, if it already holds part of the
 * file, lets the transfer continue from there.
 *
 * @example
 * ```ts
 * const transfer = sendFile({ host: '127.0.0.1', port: 9999, path: 'report.pdf', retry: { attempts: 3 } });
 * transfer.events$.subscribe((e) => e.event === 'progress' && console.log(`${e.bytes}/${e.total}`));
 * const { sha256, verified } = await transfer.done;
 * ```
 */
export function sendFile(options: SendFileOptions): FileSend {
  return new FileSend(options);
}

/** A file of a batch: the local path and the name to announce (a relative path for folders). */
export interface BatchEntry {
  path: string;
  name: string;
  size: number;
}

/**
 * The files a list of paths stands for, in order: a file as its base name, a folder as every
 * regular file below it (sorted), named by its path from the folder's parent (`photos/2024/a.jpg`).
 * Symbolic links to files are followed, to folders not (no loops). A path that cannot be read is
 * kept with size 0, so that its transfer reports the error.
 *
 * @example
 * ```ts
 * await listBatch(['notes.txt', 'photos']);
 * // [{ path: 'notes.txt', name: 'notes.txt', size: 120 }, { path: 'photos/a.jpg', name: 'photos/a.jpg', size: 52011 }, …]
 * ```
 */
export async function listBatch(paths: string[]): Promise<BatchEntry[]> {
  const entries: BatchEntry[] = [];
  for (const given of paths) {
    const info = await stat(given).catch(() => null);
    if (!info?.isDirectory()) {
      entries.push({ path: given, name: path.basename(given), size: info?.size ?? 0 });
      continue;
    }
    const root = path.basename(path.resolve(given));
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const children = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const child of children) {
        const full = path.join(dir, child.name);
        const name = `${prefix}/${child.name}`;
        if (child.isDirectory()) await walk(full, name);
        else if (child.isFile()) entries.push({ path: full, name, size: (await stat(full)).size });
        else if (child.isSymbolicLink()) {
          const target = await stat(full).catch(() => null);
          if (target?.isFile()) entries.push({ path: full, name, size: target.size });
        }
      }
    };
    await walk(given, root);
  }
  return entries;
}

/** Options of {@link sendFiles}: like {@link sendFile}, with several paths (files or folders). */
export interface SendFilesOptions extends Omit<SendFileOptions, 'path' | 'name' | 'batch' | 'id'> {
  paths: string[];
  id?: string;
}

/** What a batch did. */
export interface BatchResult {
  sent: SentFile[];
  failed: { path: string; name: string; error: SynackError }[];
  bytes: number;
  ms: number;
}

/**
 * Several files, or folders, one transfer after another (a connection each), with overall
 * progress (file i of N, bytes of the whole batch). A failed file does not stop the others.
 *
 * @example
 * ```ts
 * const batch = new FileBatch({ host: '127.0.0.1', port: 9999, paths: ['photos'] });
 * const { sent, failed } = await batch.done;
 * ```
 */
export class FileBatch {
  readonly id: string;
  readonly events$: Observable<FileTransferEvent>;
  /** Resolves when every file has been tried (rejects only when the paths cannot be listed). */
  readonly done: Promise<BatchResult>;
  readonly #events = new Subject<FileTransferEvent>();
  #current: FileSend | undefined;
  #cancelled = false;

  constructor(options: SendFilesOptions) {
    const { paths, id, ...common } = options;
    this.id = id ?? nextId(common.supervisor, 'batch');
    this.events$ = this.#events.asObservable();
    this.done = this.#run(paths, common);
    this.done.catch(() => {});
  }

  async #run(paths: string[], common: Omit<SendFileOptions, 'path' | 'name' | 'batch' | 'id'>): Promise<BatchResult> {
    await Promise.resolve();
    const started = Date.now();
    const result: BatchResult = { sent: [], failed: [], bytes: 0, ms: 0 };
    try {
      const entries = await listBatch(paths);
      const overallTotal = entries.reduce((sum, e) => sum + e.size, 0);
      let overallBytes = 0;
      for (const [i, entry] of entries.entries()) {
        if (this.#cancelled) {
          result.failed.push({ path: entry.path, name: entry.name, error: new SynackError('E_CANCELLED', 'the batch was cancelled') });
          continue;
        }
        const transfer = sendFile({ ...common, path: entry.path, name: entry.name, batch: { index: i + 1, count: entries.length, overallBytes, overallTotal } });
        this.#current = transfer;
        const sub = transfer.events$.subscribe((event) => this.#events.next(event));
        try {
          const sent = await transfer.done;
          result.sent.push(sent);
          result.bytes += sent.bytes;
        } catch (error) {
          result.failed.push({ path: entry.path, name: entry.name, error: SynackError.from(error) });
        } finally {
          sub.unsubscribe();
        }
        overallBytes += entry.size;
      }
      result.ms = Date.now() - started;
      this.#events.next({ event: 'summary', id: this.id, files: entries.length, failed: result.failed.length, bytes: result.bytes, ms: result.ms });
      return result;
    } finally {
      this.#current = undefined;
      this.#events.complete();
    }
  }

  /** Cancels the file in flight and skips the rest. */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    await this.#current?.cancel();
    await this.done.catch(() => {});
  }
}

/**
 * Sends files and folders one after another; see {@link FileBatch}.
 *
 * @example
 * ```ts
 * const batch = sendFiles({ host: 'nas.local', port: 9999, paths: ['notes.txt', 'photos'] });
 * batch.events$.subscribe((e) => e.event === 'progress' && console.log(`file ${e.index}/${e.count}`, e.overallBytes, e.overallTotal));
 * const { sent, failed } = await batch.done;
 * ```
 */
export function sendFiles(options: SendFilesOptions): FileBatch {
  return new FileBatch(options);
}

/** Options of {@link createFileReceiver}. */
export interface FileReceiverOptions extends Pick<FileReceiveInput, 'force' | 'maxBytes' | 'headerTimeoutMs' | 'idleTimeoutMs' | 'lingerMs' | 'progressIntervalMs'> {
  /** Port to listen on; 0 picks a free one (see the `listening` event). */
  port: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Folder the files go to (created if missing). */
  outDir: string;
  /** Stop listening once the first transfer has finished, as the seed receiver does. */
  once?: boolean;
  supervisor?: Supervisor;
  id?: string;
  /** The machine each transfer runs: {@link fileReceiveMachine} by default, or one with other effects (`.provide()`). */
  machine?: typeof fileReceiveMachine;
}

/** One transfer of a receiver, as listed by {@link FileReceiver.transfers}. */
export interface TransferInfo {
  id: string;
  peer: Endpoint;
  state: string;
  name: string | null;
  bytes: number;
  total: number | null;
}

/**
 * A file receiver: a listener actor and one file-receive actor per connection it accepts,
 * each transfer independent (one after another or at once). Files go to `outDir` under safe
 * names, through `.part` files, never over an existing file unless `force`.
 *
 * @example
 * ```ts
 * const receiver = new FileReceiver({ port: 9999, outDir: './in', once: true });
 * await receiver.listen();
 * await receiver.closed; // after the first transfer
 * console.log(receiver.received[0]?.path, receiver.failed[0]?.code);
 * ```
 */
export class FileReceiver {
  readonly id: string;
  readonly events$: Observable<FileTransferEvent>;
  /** Every file received so far. */
  readonly received: ReceivedFile[] = [];
  /** Every transfer that failed so far. */
  readonly failed: SynackError[] = [];
  /** Resolves once the receiver has stopped: after {@link close}, or after the first transfer with `once`. */
  readonly closed: Promise<void>;
  readonly #options: FileReceiverOptions;
  readonly #events = new Subject<FileTransferEvent>();
  readonly #actors = new Map<string, FileReceiveActor>();
  readonly #partials = new PartialStore();
  readonly #supervisor: Supervisor;
  readonly #ownsSupervisor: boolean;
  /** What the listener hands each accepted socket to: a transfer. */
  readonly #transfers: ClientKeeper = {
    adopt: (socket, onClosed) => this.#accept(socket, onClosed),
    close: (id) => this.#cancel(this.#actors.get(id)),
    closeAll: () => {
      for (const actor of this.#actors.values()) this.#cancel(actor);
    },
  };
  #listener: ListenerActor | undefined;
  #settledOnce = false;
  #sequence = 0;
  #markClosed!: () => void;
  #closing = false;

  constructor(options: FileReceiverOptions) {
    this.#options = options;
    this.#ownsSupervisor = !options.supervisor;
    this.#supervisor = options.supervisor ?? new Supervisor();
    this.id = options.id ?? this.#supervisor.nextId('recv');
    this.events$ = this.#events.asObservable();
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  /**
   * Creates the output folder if needed, checks that it is writable, and listens. Resolves with
   * the bound address; rejects with a SynackError (E_ACCESS for an unwritable folder,
   * E_ADDR_IN_USE…).
   */
  async listen(): Promise<{ host: string; port: number }> {
    const outDir = this.#options.outDir;
    try {
      await mkdir(outDir, { recursive: true });
      await access(outDir, constants.W_OK);
    } catch (error) {
      throw fileError(error, `cannot write to the output folder ${outDir}`);
    }
    const listener = (this.#listener = this.#supervisor.start(this.id, {
      machine: 'listener',
      input: { id: this.id, host: this.#options.host ?? '127.0.0.1', port: this.#options.port, clients: this.#transfers },
    }));
    listener.send({ type: 'USER.LISTEN' });
    const snapshot = await waitFor(listener, (s) => ['LISTENING', 'FAILED'].includes(listenerState(s)));
    const { host, boundPort, lastError } = snapshot.context;
    if (listenerState(snapshot) === 'FAILED') {
      this.#supervisor.stop(this.id);
      this.#listener = undefined;
      throw SynackError.fromInfo(lastError ?? { code: 'E_SOCKET', message: 'could not listen' });
    }
    this.#events.next({ event: 'listening', id: this.id, host, port: boundPort! });
    return { host, port: boundPort! };
  }

  /** Starts a transfer on an accepted socket; `onClosed` tells the listener once it has ended. */
  #accept(socket: net.Socket, onClosed?: (id: string) => void): string {
    socket.on('error', () => {});
    const id = `${this.id}.${++this.#sequence}`;
    // In a microtask: an actor must not begin life inside another actor's action (the listener's).
    queueMicrotask(() => {
      if (this.#closing) {
        socket.destroy();
        onClosed?.(id);
        return;
      }
      const o = this.#options;
      const actor = createActor(o.machine ?? fileReceiveMachine, {
        id,
        input: {
          id,
          socket,
          outDir: o.outDir,
          partials: this.#partials,
          ...(o.force !== undefined ? { force: o.force } : {}),
          ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
          ...(o.headerTimeoutMs !== undefined ? { headerTimeoutMs: o.headerTimeoutMs } : {}),
          ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
          ...(o.lingerMs !== undefined ? { lingerMs: o.lingerMs } : {}),
          ...(o.progressIntervalMs !== undefined ? { progressIntervalMs: o.progressIntervalMs } : {}),
        },
      });
      this.#supervisor.adopt(actor, this.#listener);
      this.#actors.set(id, actor);
      this.#watch(id, actor, onClosed);
      this.#events.next({ event: 'connected', id, peer: actor.getSnapshot().context.peer ?? '?' });
      actor.start();
    });
    return id;
  }

  #cancel(actor: FileReceiveActor | undefined): boolean {
    actor?.send({ type: 'USER.CANCEL' });
    return actor !== undefined;
  }

  #watch(id: string, actor: FileReceiveActor, onClosed?: (id: string) => void): void {
    let last = '';
    let reported = -1;
    const emit = (event: FileTransferEvent) => this.#events.next(event);
    actor.subscribe({
      next: (snapshot: FileReceiveSnapshot) => {
        const state = fileReceiveState(snapshot);
        const c = snapshot.context;
        if (state !== last) {
          last = state;
          emit({ event: 'state', actor: id, machine: 'file-receive', state });
          if (state === 'OFFERED') emit({ event: 'resuming', id, direction: 'receive', name: c.name ?? '?', offset: c.offered ?? 0, total: c.total ?? 0 });
        }
        const streaming = state === 'STREAMING' || state === 'FIN_WAIT' || state === 'DONE';
        if (streaming && c.name !== null && c.total !== null && (c.bytes !== reported || (state === 'DONE' && reported < 0))) {
          reported = c.bytes;
          emit({ event: 'progress', id, direction: 'receive', name: c.name, bytes: c.bytes, total: c.total, rate: Math.round(c.rate), etaMs: c.etaMs });
        }
        if (snapshot.status !== 'done') return;
        this.#actors.delete(id);
        onClosed?.(id);
        const ms = (c.finishedAt ?? Date.now()) - c.startedAt;
        if (state === 'DONE') {
          const file: ReceivedFile = {
            id,
            name: c.name!,
            path: c.path!,
            bytes: c.bytes,
            sha256: c.sha256!,
            peer: c.peer ?? '?',
            peerKind: c.sender ?? 'qt',
            resumedFrom: c.resumedFrom,
            rehashedBytes: c.rehashedBytes,
            ms,
          };
          this.received.push(file);
          emit({ event: 'file', id, direction: 'receive', name: file.name, path: file.path, bytes: file.bytes, sha256: file.sha256, peer: file.peer, resumedFrom: file.resumedFrom, peerKind: file.peerKind });
        } else if (state === 'FAILED' || state === 'CANCELLED') {
          const error = errorOf(c.lastError, 'the transfer failed');
          this.failed.push(error);
          emit({ event: 'error', id, direction: 'receive', code: error.code, message: error.message, ...(c.name ? { name: c.name } : {}), bytes: c.bytes, total: c.total });
        }
        queueMicrotask(() => actor.stop());
        if (state !== 'HANDED_OFF' && this.#options.once && !this.#settledOnce) {
          this.#settledOnce = true;
          void this.close({ cancelActive: false });
        } else if (this.#closing && this.#actors.size === 0) {
          this.#finishClose();
        }
      },
      error: (error) => {
        this.#actors.delete(id);
        onClosed?.(id);
        const e = SynackError.from(error, 'file-receive actor');
        emit({ event: 'error', id, direction: 'receive', code: e.code, message: e.message });
      },
    });
  }

  /** The transfers in progress. */
  transfers(): TransferInfo[] {
    return [...this.#actors.entries()].map(([id, actor]) => {
      const snapshot = actor.getSnapshot();
      const c = snapshot.context;
      return { id, peer: c.peer ?? '?', state: fileReceiveState(snapshot), name: c.name, bytes: c.bytes, total: c.total };
    });
  }

  /**
   * Stops listening and, unless `cancelActive` is false, cancels the transfers in progress
   * (a synack sender's partial is kept for a later resume, a Qt sender's removed); resolves
   * when every transfer has ended, stopping any still running after `graceMs`.
   */
  async close(options: { cancelActive?: boolean; graceMs?: number } = {}): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#listener?.send({ type: 'USER.STOP' });
      this.#events.next({ event: 'stopped', id: this.id });
      if (options.cancelActive ?? true) this.#transfers.closeAll();
      if (this.#actors.size === 0) this.#finishClose();
      else {
        const timer = setTimeout(() => {
          for (const actor of this.#actors.values()) actor.stop();
          this.#actors.clear();
          this.#finishClose();
        }, options.graceMs ?? (options.cancelActive === false ? 60_000 : 2_000));
        timer.unref();
        void this.closed.then(() => clearTimeout(timer));
      }
    }
    await this.closed;
  }

  #finishClose(): void {
    if (this.#listener) this.#supervisor.stop(this.id);
    if (this.#ownsSupervisor) this.#supervisor.shutdown();
    this.#markClosed();
    queueMicrotask(() => this.#events.complete());
  }
}

/**
 * Creates a {@link FileReceiver}; call `listen()` to bind.
 *
 * @example
 * ```ts
 * const receiver = createFileReceiver({ port: 9999, outDir: './incoming', maxBytes: 1 << 30 });
 * receiver.events$.subscribe((e) => e.event === 'file' && console.log(e.path, e.sha256));
 * await receiver.listen();
 * // … later
 * await receiver.close();
 * ```
 */
export function createFileReceiver(options: FileReceiverOptions): FileReceiver {
  return new FileReceiver(options);
}
