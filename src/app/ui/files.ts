import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Subscription } from 'rxjs';
import { SynackError, type SynackErrorInfo } from '../../errors.js';
import { safeBaseName } from '../../transport/safe-name.js';
import type { FileTransferEvent } from '../file-events.js';
import { createFileReceiver, sendFile, type FileReceiver, type FileSend } from '../file-transfer.js';
import type { Supervisor } from '../supervisor.js';
import { usage, type UiCommand } from './commands.js';
import type { LogEntry } from './log.js';
import { formatEndpoint } from '../../transport/socket-bridge.js';

/** One transfer, sending or receiving, as the Files tab shows it. */
export interface FileTransferView {
  id: string;
  direction: 'send' | 'receive';
  /** The file's name (`null` until a receiver has read the header). */
  name: string | null;
  /** The other end: where we send to, or who sends to us. */
  peer: string;
  state: string;
  bytes: number;
  total: number | null;
  /** Bytes per second. */
  rate: number;
  etaMs: number | null;
  sha256: string | null;
  /** Sender: the receiver confirmed the same SHA-256 (a synack receiver). */
  verified: boolean;
  /** Receiver: where the file was written. */
  path: string | null;
  error: SynackErrorInfo | null;
  startedAt: number;
  /** Whether its machine takes a cancel now (`snapshot.can`). */
  can: { cancel: boolean };
}

/** The receiving side of the Files tab. */
export interface ReceiverView {
  id: string | null;
  state: 'STOPPED' | 'BINDING' | 'LISTENING' | 'FAILED';
  address: string | null;
  /** The folder files go to (absolute). */
  dir: string | null;
  lastError: SynackErrorInfo | null;
  can: { start: boolean; stop: boolean };
}

/** The Files tab. */
export interface FilesView {
  receiver: ReceiverView;
  /** Newest first. */
  transfers: FileTransferView[];
}

type FilesCommand = Extract<UiCommand, { type: `files.${string}` }>;
type Draft = Omit<LogEntry, 'seq' | 'ts'>;

/** Where the Files tab logs. */
export const FILES_PANEL = 'files';
/** Largest file the page may hand over for sending. */
export const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;
const MAX_PENDING_UPLOADS = 8;
const MAX_TRANSFERS = 50;

interface Upload {
  path: string;
  name: string;
  bytes: number;
}

interface ReceiverSlot {
  receiver: FileReceiver;
  view: ReceiverView;
  subscription: Subscription;
}

interface Tracked {
  view: FileTransferView;
  send?: FileSend;
  subscription?: Subscription;
}

export interface FilesPanelOptions {
  supervisor: Supervisor;
  /** Addresses a receiver may bind (the interface drop-down's values). */
  bindable: () => string[];
  log: (panel: string, draft: Draft) => void;
  changed: () => void;
  /** Largest upload; default {@link MAX_UPLOAD_BYTES}. */
  maxUploadBytes?: number;
}

/** `~/x` and relative folders, made absolute. */
export function resolveFolder(dir: string): string {
  const trimmed = dir.trim();
  if (trimmed === '~' || trimmed.startsWith('~/')) return path.join(os.homedir(), trimmed.slice(1));
  return path.resolve(trimmed);
}

/**
 * The Files tab's working part: files the page uploads are sent with {@link sendFile} (seed 002,
 * with synack's SHA-256 receipt and resume), and a {@link FileReceiver} writes incoming files
 * into a folder. Every transfer is its own machine; the view reads their progress events and
 * snapshots. Uploads wait in a private temporary folder and are deleted once sent.
 *
 * @example
 * ```ts
 * const files = new FilesPanel({ supervisor, bindable: () => ['127.0.0.1'], log, changed });
 * const { upload } = await files.upload(request, 'report.pdf');
 * await files.run({ type: 'files.send', upload, host: '127.0.0.1', port: 9999 });
 * ```
 */
export class FilesPanel {
  readonly #options: FilesPanelOptions;
  readonly #uploads = new Map<string, Upload>();
  readonly #transfers = new Map<string, Tracked>();
  #receiver: ReceiverSlot | undefined;
  #temp: Promise<string> | undefined;
  #uploadSeq = 0;
  #receiverSeq = 0;
  #closed = false;

  constructor(options: FilesPanelOptions) {
    this.#options = options;
  }

  view(): FilesView {
    const slot = this.#receiver;
    const receiver: ReceiverView = slot
      ? { ...slot.view }
      : { id: null, state: 'STOPPED', address: null, dir: null, lastError: null, can: { start: true, stop: false } };
    const transfers = [...this.#transfers.values()].reverse().map(({ view, send }) => ({
      ...view,
      can: { cancel: send ? send.actor.getSnapshot().can({ type: 'USER.CANCEL' }) : false },
    }));
    return { receiver, transfers };
  }

  /**
   * Stores a file the page sends (the request body) for a later `files.send`; resolves with its
   * upload id. Refuses an unsafe name (E_UNSAFE_NAME) and a body over the limit (status 413).
   */
  async upload(body: Readable, rawName: string, declaredBytes?: number): Promise<{ upload: string; name: string; bytes: number }> {
    if (this.#closed) throw usage('the UI is shutting down');
    const name = safeBaseName(rawName);
    const limit = this.#options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
    const tooLarge = () => Object.assign(new SynackError('E_USAGE', `file too large for the page to hand over (at most ${limit} bytes)`), { status: 413 });
    if (declaredBytes !== undefined && declaredBytes > limit) throw tooLarge();
    const id = `u${++this.#uploadSeq}`;
    const file = path.join(await this.#tempDir(), id);
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(bytes > limit ? tooLarge() : null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(file, { mode: 0o600 }));
    } catch (error) {
      await rm(file, { force: true });
      throw error instanceof SynackError ? error : SynackError.from(error, 'upload');
    }
    this.#uploads.set(id, { path: file, name, bytes });
    for (const [old, upload] of this.#uploads) {
      if (this.#uploads.size <= MAX_PENDING_UPLOADS) break;
      this.#uploads.delete(old);
      void rm(upload.path, { force: true });
    }
    return { upload: id, name, bytes };
  }

  #tempDir(): Promise<string> {
    this.#temp ??= mkdtemp(path.join(os.tmpdir(), 'synack-ui-uploads-'));
    return this.#temp;
  }

  /** Carries out a `files.*` command. */
  async run(command: FilesCommand): Promise<Record<string, unknown>> {
    switch (command.type) {
      case 'files.receive':
        return this.#receive(command);
      case 'files.stop': {
        const slot = this.#receiver;
        if (!slot || !slot.view.can.stop) throw usage('not receiving');
        await slot.receiver.close({ cancelActive: true, graceMs: 2_000 });
        return {};
      }
      case 'files.send':
        return this.#send(command);
      case 'files.cancel': {
        const tracked = this.#transfers.get(command.id);
        if (!tracked?.send) throw usage(`no transfer ${command.id} to cancel`);
        if (!tracked.send.actor.getSnapshot().can({ type: 'USER.CANCEL' })) throw usage(`${command.id} is ${tracked.view.state}: nothing to cancel`);
        await tracked.send.cancel();
        return {};
      }
      case 'files.clear':
        for (const [id, tracked] of this.#transfers) {
          if (tracked.send && tracked.send.actor.getSnapshot().status === 'active') continue;
          if (!tracked.send && ['HEADER', 'STREAMING', 'FIN_WAIT', 'OFFERED'].includes(tracked.view.state)) continue;
          tracked.subscription?.unsubscribe();
          this.#transfers.delete(id);
        }
        this.#options.changed();
        return {};
    }
  }

  async #receive(command: Extract<FilesCommand, { type: 'files.receive' }>): Promise<Record<string, unknown>> {
    if (!this.#options.bindable().includes(command.host)) throw usage(`host: ${command.host} is not an address of this machine; choose one from the interface list`);
    if (this.#receiver?.view.can.stop) throw usage('already receiving: stop first');
    this.#receiver?.subscription.unsubscribe();
    const dir = resolveFolder(command.dir);
    const receiver = createFileReceiver({
      supervisor: this.#options.supervisor,
      id: `recv-${++this.#receiverSeq}`,
      host: command.host,
      port: command.port,
      outDir: dir,
      force: command.force,
    });
    const view: ReceiverView = { id: receiver.id, state: 'BINDING', address: null, dir, lastError: null, can: { start: false, stop: true } };
    const slot: ReceiverSlot = { receiver, view, subscription: receiver.events$.subscribe((event) => this.#onReceiverEvent(slot, event)) };
    this.#receiver = slot;
    this.#options.changed();
    try {
      const bound = await receiver.listen();
      return { ...bound, dir };
    } catch (error) {
      const e = SynackError.from(error);
      Object.assign(view, { state: 'FAILED', lastError: e.toInfo(), can: { start: true, stop: false } });
      this.#options.log(FILES_PANEL, { kind: 'error', text: `${e.code}: ${e.message}` });
      this.#options.changed();
      throw e;
    }
  }

  #onReceiverEvent(slot: ReceiverSlot, event: FileTransferEvent): void {
    const { view } = slot;
    switch (event.event) {
      case 'listening':
        Object.assign(view, { state: 'LISTENING', address: formatEndpoint(event.host, event.port), lastError: null });
        this.#options.log(FILES_PANEL, { kind: 'event', text: `receiving into ${view.dir} on ${view.address}` });
        break;
      case 'stopped':
        Object.assign(view, { state: 'STOPPED', address: null, can: { start: true, stop: false } });
        this.#options.log(FILES_PANEL, { kind: 'event', text: 'stopped receiving' });
        break;
      case 'connected':
        this.#track({ view: this.#blank(event.id, 'receive', null, event.peer, 'HEADER') });
        break;
      default:
        this.#apply(event);
    }
    this.#options.changed();
  }

  async #send(command: Extract<FilesCommand, { type: 'files.send' }>): Promise<Record<string, unknown>> {
    const upload = this.#uploads.get(command.upload);
    if (!upload) throw usage(`no upload ${command.upload} (choose the file again)`);
    this.#uploads.delete(command.upload);
    const transfer = sendFile({ supervisor: this.#options.supervisor, host: command.host, port: command.port, path: upload.path, name: upload.name });
    const tracked: Tracked = { view: this.#blank(transfer.id, 'send', upload.name, formatEndpoint(command.host, command.port), 'CONNECTING'), send: transfer };
    tracked.view.total = upload.bytes;
    tracked.subscription = transfer.events$.subscribe((event) => {
      this.#apply(event);
      this.#options.changed();
    });
    this.#track(tracked);
    void transfer.done.then(
      () => rm(upload.path, { force: true }),
      () => rm(upload.path, { force: true }),
    );
    return { id: transfer.id };
  }

  #blank(id: string, direction: 'send' | 'receive', name: string | null, peer: string, state: string): FileTransferView {
    return { id, direction, name, peer, state, bytes: 0, total: null, rate: 0, etaMs: null, sha256: null, verified: false, path: null, error: null, startedAt: Date.now(), can: { cancel: false } };
  }

  #track(tracked: Tracked): void {
    this.#transfers.set(tracked.view.id, tracked);
    for (const [id, old] of this.#transfers) {
      if (this.#transfers.size <= MAX_TRANSFERS) break;
      old.subscription?.unsubscribe();
      this.#transfers.delete(id);
    }
    this.#options.changed();
  }

  #apply(event: FileTransferEvent): void {
    const id = event.event === 'state' ? event.actor : 'id' in event ? event.id : undefined;
    const view = id === undefined ? undefined : this.#transfers.get(id)?.view;
    if (!view) return;
    const arrow = view.direction === 'send' ? `${view.name} → ${view.peer}` : `${view.name ?? '?'} ← ${view.peer}`;
    switch (event.event) {
      case 'state':
        view.state = event.state;
        break;
      case 'progress':
        Object.assign(view, { name: event.name, bytes: event.bytes, total: event.total, rate: event.rate, etaMs: event.etaMs });
        break;
      case 'resuming':
        this.#options.log(FILES_PANEL, { kind: 'event', text: `${arrow}: continuing from byte ${event.offset} of ${event.total}` });
        break;
      case 'file':
        Object.assign(view, { name: event.name, bytes: event.bytes, total: event.bytes, sha256: event.sha256, verified: event.verified ?? false, path: event.direction === 'receive' ? event.path : null, etaMs: 0 });
        this.#options.log(FILES_PANEL, {
          kind: event.direction === 'send' ? 'out' : 'in',
          who: event.peer,
          text: `${event.name}: ${event.bytes} bytes, sha256 ${event.sha256}${event.direction === 'receive' ? ` → ${event.path}` : event.verified ? ' (receiver confirmed)' : ''}`,
        });
        break;
      case 'error':
        view.error = { code: event.code, message: event.message };
        if (event.bytes !== undefined) view.bytes = event.bytes;
        this.#options.log(FILES_PANEL, { kind: 'error', text: `${arrow}: ${event.code}: ${event.message}` });
        break;
    }
  }

  /** Stops receiving, cancels transfers in flight and deletes pending uploads. */
  async close(): Promise<void> {
    this.#closed = true;
    const sends = [...this.#transfers.values()].flatMap((t) => (t.send ? [t.send] : []));
    await Promise.all(sends.map((send) => send.cancel()));
    if (this.#receiver) await this.#receiver.receiver.close({ cancelActive: true, graceMs: 1_000 });
    this.#receiver?.subscription.unsubscribe();
    for (const tracked of this.#transfers.values()) tracked.subscription?.unsubscribe();
    if (this.#temp) await rm(await this.#temp, { recursive: true, force: true });
  }
}
