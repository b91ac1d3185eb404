import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileTransferEvent } from '../../src/app/file-events.js';
import { createFileReceiver, listBatch, sendFile, sendFiles, type FileReceiverOptions } from '../../src/app/file-transfer.js';
import { Supervisor } from '../../src/app/supervisor.js';
import { createReceiveLink, fileReceiveMachine, type SinkOptions } from '../../src/machines/file-receive.js';
import { createSendLink, fileSendMachine, type FileSource } from '../../src/machines/file-send.js';
import { listenerState, type ListenerActor } from '../../src/machines/listener.js';
import { cuttingProxy, patternBytes, qtLikeReceiver, qtLikeSend, seedHeader, sha256, smallDisk, unwritableDir } from '../file-peers.js';
import { Cleanup, connectRaw, firstValue, waitFor } from '../helpers.js';
import { tempFolder } from '../temp.js';

const VECTOR = readFileSync(path.join(import.meta.dirname, '../vectors/file_header_a_txt.bin'));

/** `promise`, or a rejection after `ms`: every wait here is bounded. */
function within<T>(promise: Promise<T>, ms = 10_000, what = 'the transfer'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('file transfer (library)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const folder = () => tempFolder(cleanup);

  async function receiver(options: Omit<FileReceiverOptions, 'port'>) {
    const r = createFileReceiver({ port: 0, ...options });
    const events: FileTransferEvent[] = [];
    r.events$.subscribe((e) => events.push(e));
    cleanup.add(r, (x) => x.close({ graceMs: 500 }));
    const { port } = await r.listen();
    return { receiver: r, port, events };
  }

  function collect<T extends { events$: { subscribe(f: (e: FileTransferEvent) => void): unknown } }>(transfer: T): FileTransferEvent[] {
    const events: FileTransferEvent[] = [];
    transfer.events$.subscribe((e) => events.push(e));
    return events;
  }

  const nextFile = (r: { events$: import('rxjs').Observable<FileTransferEvent> }, timeoutMs = 5_000) =>
    firstValue(r.events$, (e) => e.event === 'file' || e.event === 'error', timeoutMs, 'a file or error event');

  it('sends a file to a receiver: both ends report the same SHA-256, and progress comes at most ~10 times a second plus the end', async () => {
    const dir = folder();
    const file = path.join(dir, 'data.bin');
    const data = patternBytes(24 * 1024 * 1024);
    writeFileSync(file, data);
    const out = path.join(dir, 'out');
    const { receiver: r, port, events: received } = await receiver({ outDir: out });
    const arrived = nextFile(r);
    const transfer = sendFile({ host: '127.0.0.1', port, path: file });
    const sent = collect(transfer);
    const result = await within(transfer.done);
    await arrived;
    expect(result).toMatchObject({ name: 'data.bin', bytes: data.length, sha256: sha256(data), verified: true, peerKind: 'synack', resumedFrom: 0 });
    expect(received.find((e) => e.event === 'file')).toMatchObject({ name: 'data.bin', path: path.join(out, 'data.bin'), bytes: data.length, sha256: sha256(data) });
    expect(sha256(path.join(out, 'data.bin'))).toBe(sha256(data));
    for (const events of [sent, received]) {
      const progress = events.filter((e) => e.event === 'progress');
      expect(progress.at(-1)).toMatchObject({ bytes: data.length, total: data.length });
      expect(progress.length).toBeLessThanOrEqual(3 + Math.ceil(result.ms / 100));
    }
  });

  it('sends files and folders one after another with overall progress, keeping relative paths', async () => {
    const dir = folder();
    const src = path.join(dir, 'album');
    mkdirSync(path.join(src, 'raw'), { recursive: true });
    writeFileSync(path.join(src, 'cover.jpg'), patternBytes(5_000, 1));
    writeFileSync(path.join(src, 'raw', 'b.dng'), patternBytes(70_000, 2));
    writeFileSync(path.join(dir, 'notes.txt'), 'hi');
    expect((await listBatch([path.join(dir, 'notes.txt'), src])).map((e) => e.name)).toEqual(['notes.txt', 'album/cover.jpg', 'album/raw/b.dng']);
    const out = path.join(dir, 'out');
    const { port } = await receiver({ outDir: out });
    const batch = sendFiles({ host: '127.0.0.1', port, paths: [path.join(dir, 'notes.txt'), src] });
    const events = collect(batch);
    const result = await within(batch.done);
    expect(result.failed).toEqual([]);
    expect(result.sent.map((f) => f.name)).toEqual(['notes.txt', 'album/cover.jpg', 'album/raw/b.dng']);
    expect(sha256(path.join(out, 'album/raw/b.dng'))).toBe(sha256(patternBytes(70_000, 2)));
    const files = events.filter((e) => e.event === 'file');
    expect(files.map((e) => [e.index, e.count])).toEqual([[1, 3], [2, 3], [3, 3]]);
    const last = events.filter((e) => e.event === 'progress').at(-1);
    expect(last).toMatchObject({ index: 3, count: 3, overallBytes: 75_002, overallTotal: 75_002 });
    expect(events.at(-1)).toMatchObject({ event: 'summary', files: 3, failed: 0, bytes: 75_002 });
  });

  it('serves several transfers at once, each on its own', async () => {
    const dir = folder();
    const out = path.join(dir, 'out');
    const { port, receiver: r } = await receiver({ outDir: out });
    const files = [1, 2, 3].map((n) => {
      const file = path.join(dir, `f${n}.bin`);
      writeFileSync(file, patternBytes(2_000_000, n));
      return file;
    });
    const results = await within(Promise.all(files.map((file) => sendFile({ host: '127.0.0.1', port, path: file }).done)));
    expect(results.map((f) => f.sha256)).toEqual(files.map((f) => sha256(f)));
    expect(r.received).toHaveLength(3);
    expect(readdirSync(out).sort()).toEqual(['f1.bin', 'f2.bin', 'f3.bin']);
  });

  it('listens through a listener actor whose clients are its transfers, stopped when the receiver closes', async () => {
    const dir = folder();
    const file = path.join(dir, 'one.txt');
    writeFileSync(file, 'one');
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    const { port, receiver: r } = await receiver({ outDir: path.join(dir, 'out'), supervisor, id: 'recv-1' });
    const listener = supervisor.children()['recv-1'] as ListenerActor;
    expect(listenerState(listener.getSnapshot())).toBe('LISTENING');
    expect(listener.getSnapshot().context.boundPort).toBe(port);
    await within(sendFile({ host: '127.0.0.1', port, path: file }).done);
    await waitFor(listener, (s) => s.context.accepted === 1 && s.context.clientCount === 0, 2_000, 'the transfer counted and let go');
    await within(r.close(), 5_000, 'the receiver');
    expect(supervisor.children()['recv-1']).toBeUndefined();
    await expect(connectRaw(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('stops listening after the first transfer with once, as the seed receiver does', async () => {
    const dir = folder();
    const file = path.join(dir, 'one.txt');
    writeFileSync(file, 'one');
    const { port, receiver: r } = await receiver({ outDir: path.join(dir, 'out'), once: true });
    await within(sendFile({ host: '127.0.0.1', port, path: file }).done);
    await within(r.closed, 5_000, 'the receiver');
    await expect(connectRaw(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses to listen into a folder it cannot write, with E_ACCESS', async () => {
    const locked = unwritableDir(folder());
    cleanup.add(locked, (l) => l.cleanup());
    const r = createFileReceiver({ port: 0, outDir: locked.dir });
    await expect(r.listen()).rejects.toMatchObject({ code: 'E_ACCESS' });
  });

  it('reports a full disk to both ends and leaves no .part behind', async () => {
    const dir = folder();
    const file = path.join(dir, 'big.bin');
    writeFileSync(file, patternBytes(2 * 1024 * 1024));
    const disk = smallDisk(dir, 512);
    if (disk) cleanup.add(disk, (d) => d.cleanup());
    const out = disk?.dir ?? path.join(dir, 'out');
    const full = async (p: string, options: SinkOptions) => {
      writeFileSync(p, '', { flag: options.flags === 'wx' ? 'wx' : 'w' });
      let n = 0;
      return new Writable({
        write(chunk: Buffer, _e, cb) {
          n += chunk.length;
          cb(n > 512 * 1024 ? Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }) : null);
        },
      });
    };
    // A real 512 KiB tmpfs when this runs as root; otherwise ENOSPC comes from the write effect.
    const machine = disk ? fileReceiveMachine : fileReceiveMachine.provide({ actors: { receiveLink: createReceiveLink({ openSink: full }) } });
    const { receiver: r, port } = await receiver({ outDir: out, machine });
    const failed = nextFile(r);
    await expect(within(sendFile({ host: '127.0.0.1', port, path: file }).done)).rejects.toMatchObject({ code: 'E_DISK_FULL', message: expect.stringMatching(/^receiver: /) });
    expect(await failed).toMatchObject({ event: 'error', code: 'E_DISK_FULL' });
    expect(readdirSync(out)).toEqual([]);
  });

  describe('with seed 002 (Qt) peers', () => {
    it('a Qt-like sender writes exactly the captured header bytes, and synack saves its file without writing a byte back', async () => {
      const dir = folder();
      const file = path.join(dir, 'a.txt');
      writeFileSync(file, 'hello');
      const { receiver: r, port } = await receiver({ outDir: path.join(dir, 'out') });
      const arrived = nextFile(r);
      const sent = await qtLikeSend({ port, file, observeReplies: true });
      expect(sent.wire).toEqual(VECTOR);
      expect(await arrived).toMatchObject({ event: 'file', name: 'a.txt', bytes: 5, sha256: sha256(Buffer.from('hello')), peerKind: 'qt' });
      expect(sent.replies).toBe(0);
    });

    it('a Qt-like sender that never reads gets a 3 MiB file through intact', async () => {
      const dir = folder();
      const file = path.join(dir, 'photo.jpg');
      writeFileSync(file, patternBytes(3 * 1024 * 1024));
      const out = path.join(dir, 'out');
      const { receiver: r, port } = await receiver({ outDir: out });
      const arrived = nextFile(r);
      await qtLikeSend({ port, file });
      expect(await arrived).toMatchObject({ event: 'file', sha256: sha256(file) });
      expect(sha256(path.join(out, 'photo.jpg'))).toBe(sha256(file));
    });

    it('a synack sender delivers to a Qt-like receiver at once (no waiting for a reply that never comes)', async () => {
      const dir = folder();
      const file = path.join(dir, 'movie.bin');
      writeFileSync(file, patternBytes(3 * 1024 * 1024));
      const qt = await qtLikeReceiver(cleanup, dir);
      const started = performance.now();
      const result = await within(sendFile({ host: '127.0.0.1', port: qt.port, path: file }).done);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(result).toMatchObject({ peerKind: 'qt', verified: false, sha256: sha256(file) });
      expect(await qt.result).toMatchObject({ name: './movie.bin', wrote: 0 });
      expect(sha256(path.join(qt.inbox, 'movie.bin'))).toBe(sha256(file));
    });

    it('with a plain name a synack sender is byte for byte the Qt sender', async () => {
      const dir = folder();
      const file = path.join(dir, 'a.txt');
      writeFileSync(file, 'hello');
      const qt = await qtLikeReceiver(cleanup, dir);
      await within(sendFile({ host: '127.0.0.1', port: qt.port, path: file, plainName: true }).done);
      expect(await qt.result).toMatchObject({ name: 'a.txt', totalBytes: 35, bytesReceive: 35 });
      expect(seedHeader(file, 5)).toEqual(VECTOR.subarray(0, 30));
    });
  });

  describe('resume', () => {
    const size = 6 * 1024 * 1024;

    async function setup(checkpointBytes = 1024 * 1024) {
      const dir = folder();
      const file = path.join(dir, 'disk.img');
      writeFileSync(file, patternBytes(size, 7));
      const out = path.join(dir, 'out');
      return { dir, file, out, checkpointBytes };
    }

    it('continues a cut transfer from what the receiver has, without hashing the received part again on either end', async () => {
      const { file, out, checkpointBytes } = await setup();
      const { port, events } = await receiver({ outDir: out });
      const proxy = await cuttingProxy(port, 3_500_000);
      cleanup.add(proxy, (p) => p.close());
      const transfer = sendFile({ host: '127.0.0.1', port: proxy.port, path: file, retry: { attempts: 2, baseMs: 50 }, checkpointBytes });
      const result = await within(transfer.done);
      const kept = events.find((e) => e.event === 'resuming');
      expect(kept).toMatchObject({ direction: 'receive', name: 'disk.img', total: size });
      const offset = (kept as { offset: number }).offset;
      expect(offset).toBeGreaterThan(3_000_000);
      expect(result).toMatchObject({ resumedFrom: offset, sha256: sha256(file), verified: true });
      expect(transfer.actor.getSnapshot().context.rehashedBytes).toBeLessThan(checkpointBytes);
      const saved = events.find((e) => e.event === 'file');
      expect(saved).toMatchObject({ resumedFrom: offset, sha256: sha256(file) });
      // The continuation carried the SEND line and the missing bytes only, not the file again.
      expect(proxy.perConnection.at(-1)).toBeLessThan(size - offset + 1_024);
      expect(sha256(path.join(out, 'disk.img'))).toBe(sha256(file));
    });

    it('continues after the receiver restarted, hashing its partial once', async () => {
      const { file, out } = await setup();
      const first = await receiver({ outDir: out });
      const proxy = await cuttingProxy(first.port, 2_000_000);
      cleanup.add(proxy, (p) => p.close());
      const failed = nextFile(first.receiver);
      await expect(within(sendFile({ host: '127.0.0.1', port: proxy.port, path: file }).done)).rejects.toBeDefined();
      expect(await failed).toMatchObject({ event: 'error', code: 'E_TRANSFER_SHORT' });
      await first.receiver.close();
      expect(readdirSync(out)).toEqual(['disk.img.part']);
      const second = await receiver({ outDir: out });
      const result = await within(sendFile({ host: '127.0.0.1', port: second.port, path: file }).done);
      expect(result.resumedFrom).toBeGreaterThan(1_500_000);
      expect(second.receiver.received[0]).toMatchObject({ resumedFrom: result.resumedFrom, rehashedBytes: result.resumedFrom, sha256: sha256(file) });
      expect(readdirSync(out)).toEqual(['disk.img']);
    });

    it('starts over when the partial belongs to another file, and when asked not to resume', async () => {
      const { file, out } = await setup();
      mkdirSync(out);
      writeFileSync(path.join(out, 'disk.img.part'), patternBytes(1_000_000, 99));
      const { port } = await receiver({ outDir: out });
      const other = await within(sendFile({ host: '127.0.0.1', port, path: file }).done);
      expect(other).toMatchObject({ resumedFrom: 0, sha256: sha256(file) });
      writeFileSync(path.join(out, 'disk.img.part'), readFileSync(file).subarray(0, 1_000_000));
      const refused = await within(sendFile({ host: '127.0.0.1', port, path: file, resume: false }).done);
      expect(refused).toMatchObject({ resumedFrom: 0, sha256: sha256(file) });
      expect(readdirSync(out).sort()).toEqual(['disk (1).img', 'disk.img']);
    });

    it('continues a small file whose every byte was already sent when the offer came', async () => {
      const dir = folder();
      const file = path.join(dir, 'note.txt');
      writeFileSync(file, patternBytes(10_000, 3));
      const out = path.join(dir, 'out');
      mkdirSync(out);
      writeFileSync(path.join(out, 'note.txt.part'), readFileSync(file).subarray(0, 4_000));
      const { port } = await receiver({ outDir: out });
      const result = await within(sendFile({ host: '127.0.0.1', port, path: file }).done);
      expect(result).toMatchObject({ resumedFrom: 4_000, verified: true, sha256: sha256(file) });
      expect(readdirSync(out)).toEqual(['note.txt']);
    });

    it('leaves a partial alone for a Qt sender: no offer, nothing written back, the file saved in full', async () => {
      const { file, out } = await setup();
      mkdirSync(out);
      const partial = readFileSync(file).subarray(0, 1_000_000);
      writeFileSync(path.join(out, 'disk.img.part'), partial);
      const { receiver: r, port, events } = await receiver({ outDir: out });
      const arrived = nextFile(r);
      const sent = await qtLikeSend({ port, file, observeReplies: true, timeoutMs: 10_000 });
      expect(await arrived).toMatchObject({ event: 'file', resumedFrom: 0, sha256: sha256(file) });
      expect(sent.replies).toBe(0);
      expect(events.some((e) => e.event === 'resuming')).toBe(false);
      expect(sha256(path.join(out, 'disk.img.part'))).toBe(sha256(partial));
      expect(existsSync(path.join(out, 'disk.img'))).toBe(true);
    });
  });

  it('cancels a transfer in flight: the sender ends with E_CANCELLED and the receiver reports the cut', async () => {
    const dir = folder();
    const endless = async (): Promise<FileSource> => ({ size: 2 ** 40, read: async (_p, n) => Buffer.alloc(n), close: async () => {} });
    const machine = fileSendMachine.provide({ actors: { sendLink: createSendLink({ openSource: endless }) } });
    const { receiver: r, port } = await receiver({ outDir: path.join(dir, 'out') });
    const transfer = sendFile({ host: '127.0.0.1', port, path: 'endless.bin', machine });
    await firstValue(transfer.events$, (e) => e.event === 'progress' && e.bytes > 0, 5_000, 'progress');
    const cut = nextFile(r);
    await within(transfer.cancel());
    await expect(within(transfer.done)).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(await cut).toMatchObject({ event: 'error', code: 'E_TRANSFER_SHORT' });
  });

  it('answers a connection that sends nothing useful with an error event, and keeps serving', async () => {
    const dir = folder();
    const { receiver: r, port } = await receiver({ outDir: path.join(dir, 'out') });
    const probe = await connectRaw(port);
    const failed = nextFile(r);
    probe.end();
    expect(await failed).toMatchObject({ event: 'error', code: 'E_PROTOCOL' });
    const file = path.join(dir, 'after.txt');
    writeFileSync(file, 'still here');
    expect((await within(sendFile({ host: '127.0.0.1', port, path: file }).done)).verified).toBe(true);
  });
});
