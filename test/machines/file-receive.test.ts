import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import {
  createReceiveLink,
  fileReceiveMachine,
  fileReceiveSampleEvents,
  fileReceiveState,
  WRITE_BUFFER_BYTES,
  type FileReceiveActor,
  type FileReceiveEvent,
  type FileReceiveInput,
  type ReceiveLinkCommand,
  type ReceiveLinkInput,
  type SinkOptions,
} from '../../src/machines/file-receive.js';
import { PartialStore, sampleDigests } from '../../src/transport/file-store.js';
import { encodeControl, parseControl } from '../../src/transport/file-wire.js';
import { encodeFileHeader } from '../../src/transport/qt-file-header.js';
import { exploreModel } from '../../src/testing/graph.js';
import { patternBytes, sha256, unwritableDir } from '../file-peers.js';
import { Cleanup, connectRaw, readAll, waitFor } from '../helpers.js';
import { expectFullCoverage } from '../model.js';
import { tempFolder } from '../temp.js';

const VECTOR = readFileSync(path.join(import.meta.dirname, '../vectors/file_header_a_txt.bin'));

function fakeReceiveLink() {
  const commands: ReceiveLinkCommand[] = [];
  let back: ((event: FileReceiveEvent) => void) | undefined;
  const logic = fromCallback<ReceiveLinkCommand, ReceiveLinkInput>(({ sendBack, receive }) => {
    back = (event) => sendBack(event);
    receive((command) => commands.push(command));
    return () => (back = undefined);
  });
  return {
    logic,
    commands,
    emit(event: FileReceiveEvent) {
      if (!back) throw new Error(`no live link to emit ${event.type}`);
      back(event);
    },
  };
}

describe('file-receive machine', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const socket = new net.Socket();

  function startFake(input: Partial<FileReceiveInput> = {}) {
    const link = fakeReceiveLink();
    const actor = createActor(fileReceiveMachine.provide({ actors: { receiveLink: link.logic } }), { input: { socket, outDir: '/tmp', ...input } });
    actor.start();
    return { actor, link, state: () => fileReceiveState(actor.getSnapshot()), context: () => actor.getSnapshot().context };
  }

  it('reaches every state and takes every transition of its definition (model-based)', () => {
    const model = fileReceiveMachine.provide({ actors: { receiveLink: fromCallback(() => {}) } });
    const coverage = exploreModel(model, {
      events: fileReceiveSampleEvents,
      inputs: [{ socket, outDir: '/tmp' }],
      serializeContext: (c) => ({ bytes: c.bytes }),
    });
    expectFullCoverage(coverage);
  });

  it('starts at HEADER and goes STREAMING → FIN_WAIT → DONE with the name, path and SHA-256', () => {
    const { link, state, context } = startFake();
    expect(state()).toBe('HEADER');
    link.emit({ type: 'FILE.HEADER', name: 'a.txt', total: 5, sender: 'qt', partPath: '/tmp/a.txt.part', resumedFrom: 0, rehashedBytes: 0, at: 0 });
    expect(state()).toBe('STREAMING');
    link.emit({ type: 'FILE.RECEIVED', bytes: 5, at: 50 });
    expect(state()).toBe('FIN_WAIT');
    link.emit({ type: 'FILE.COMMITTED', path: '/tmp/a.txt', sha256: sha256(Buffer.from('hello')), bytes: 5 });
    expect(state()).toBe('DONE');
    expect(context()).toMatchObject({ name: 'a.txt', path: '/tmp/a.txt', bytes: 5, total: 5, sender: 'qt', sha256: sha256(Buffer.from('hello')) });
  });

  it('asks its link to give up with E_TIMEOUT when no complete header comes in time', () => {
    vi.useFakeTimers();
    const { link } = startFake({ headerTimeoutMs: 1_000 });
    vi.advanceTimersByTime(999);
    expect(link.commands).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(link.commands).toEqual([{ type: 'ABORT', error: { code: 'E_TIMEOUT', message: 'no complete header within 1000 ms' } }]);
  });

  it('restarts its idle timer with each progress report and gives up only after a silent stretch', () => {
    vi.useFakeTimers();
    const { link } = startFake({ idleTimeoutMs: 500 });
    link.emit({ type: 'FILE.HEADER', name: 'a.txt', total: 100, sender: 'qt', partPath: '/tmp/a.txt.part', resumedFrom: 0, rehashedBytes: 0, at: 0 });
    for (let i = 1; i <= 4; i++) {
      vi.advanceTimersByTime(400);
      link.emit({ type: 'FILE.PROGRESS', bytes: i, at: i * 400 });
    }
    expect(link.commands).toEqual([]);
    vi.advanceTimersByTime(500);
    expect(link.commands).toMatchObject([{ type: 'ABORT', error: { code: 'E_TIMEOUT' } }]);
  });

  it('saves anyway when every byte came but the sender does not close within the linger time', () => {
    vi.useFakeTimers();
    const { link } = startFake({ lingerMs: 300 });
    link.emit({ type: 'FILE.HEADER', name: 'a.txt', total: 5, sender: 'qt', partPath: '/tmp/a.txt.part', resumedFrom: 0, rehashedBytes: 0, at: 0 });
    link.emit({ type: 'FILE.RECEIVED', bytes: 5, at: 1 });
    vi.advanceTimersByTime(300);
    expect(link.commands).toEqual([{ type: 'COMMIT' }]);
  });
});

describe('file-receive over loopback', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const folder = () => tempFolder(cleanup);

  /** A listener whose first accepted connection runs a file-receive actor. */
  async function receiver(input: Omit<FileReceiveInput, 'socket'>, machine = fileReceiveMachine) {
    let started!: (actor: FileReceiveActor) => void;
    const actor = new Promise<FileReceiveActor>((resolve, reject) => {
      started = resolve;
      setTimeout(() => reject(new Error('no connection reached the receiver within 5 s')), 5_000).unref();
    });
    actor.catch(() => {});
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      const a = cleanup.actor(createActor(machine, { input: { ...input, socket } }));
      a.start();
      started(a);
    });
    server.listen({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    cleanup.server(server);
    return { port: (server.address() as net.AddressInfo).port, actor };
  }

  /** Connects, writes `bytes`, half-closes (unless `keepOpen`), and collects what comes back. */
  async function deliver(port: number, bytes: Buffer, options: { keepOpen?: boolean } = {}) {
    const socket = cleanup.socket(await connectRaw(port, { allowHalfOpen: true }));
    const replies = readAll(socket, 5_000);
    socket.write(bytes);
    if (!options.keepOpen) socket.end();
    return { socket, replies };
  }

  const settled = (actor: FileReceiveActor) => waitFor(actor, (s) => s.status === 'done', 5_000, 'a final state');

  it('saves a seed 002 stream (the captured Qt bytes) under its name and writes nothing back', async () => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    const { replies } = await deliver(port, VECTOR);
    const snapshot = await settled(await actor);
    expect(fileReceiveState(snapshot)).toBe('DONE');
    expect(snapshot.context).toMatchObject({ name: 'a.txt', path: path.join(out, 'a.txt'), bytes: 5, total: 5, sender: 'qt', sha256: sha256(Buffer.from('hello')) });
    expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('hello');
    expect(readdirSync(out)).toEqual(['a.txt']);
    expect((await replies).length).toBe(0);
  });

  it('saves an empty file announced with a zero length', async () => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    await deliver(port, encodeFileHeader('empty.txt', 0));
    const snapshot = await settled(await actor);
    expect(fileReceiveState(snapshot)).toBe('DONE');
    expect(snapshot.context).toMatchObject({ bytes: 0, total: 0, sha256: sha256(Buffer.alloc(0)) });
    expect(readFileSync(path.join(out, 'empty.txt')).length).toBe(0);
  });

  it('answers a synack sender with a receipt holding the byte count and SHA-256', async () => {
    const out = folder();
    const data = patternBytes(200_000);
    const { port, actor } = await receiver({ outDir: out });
    const { replies } = await deliver(port, Buffer.concat([encodeFileHeader('./photos/2024/a.bin', data.length), data]));
    const snapshot = await settled(await actor);
    expect(snapshot.context.path).toBe(path.join(out, 'photos/2024/a.bin'));
    expect(parseControl((await replies).toString().trim())).toEqual({ verb: 'DONE', bytes: data.length, sha256: sha256(data), name: 'photos/2024/a.bin' });
  });

  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\notes.txt', 'notes.txt'],
    ['/absolute/evil.sh', 'evil.sh'],
    ['bad\u0000name.txt', 'badname.txt'],
  ])('keeps only a safe base name of a Qt sender\'s %j: %s, inside the folder', async (announced, saved) => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    await deliver(port, Buffer.concat([encodeFileHeader(announced, 2), Buffer.from('ok')]));
    const snapshot = await settled(await actor);
    expect(fileReceiveState(snapshot)).toBe('DONE');
    expect(snapshot.context.path).toBe(path.join(out, saved));
    expect(readFileSync(path.join(out, saved), 'utf8')).toBe('ok');
  });

  it.each([['..'], ['./../../escape.txt'], ['./a/../../b.txt'], ['./']])('refuses the unsafe name %j with E_UNSAFE_NAME and writes nothing', async (announced) => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    await deliver(port, Buffer.concat([encodeFileHeader(announced, 2), Buffer.from('no')]));
    const snapshot = await settled(await actor);
    expect(fileReceiveState(snapshot)).toBe('FAILED');
    expect(snapshot.context.lastError?.code).toBe('E_UNSAFE_NAME');
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a folder that a symbolic link leads outside the output folder', async () => {
    const root = folder();
    const out = path.join(root, 'out');
    const elsewhere = path.join(root, 'elsewhere');
    mkdirSync(out);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(out, 'link'));
    const { port, actor } = await receiver({ outDir: out });
    await deliver(port, Buffer.concat([encodeFileHeader('./link/x.txt', 2), Buffer.from('no')]));
    const snapshot = await settled(await actor);
    expect(snapshot.context.lastError?.code).toBe('E_UNSAFE_NAME');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('refuses a file announced larger than maxBytes before writing anything, and tells a synack sender why', async () => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out, maxBytes: 1_000 });
    const { replies } = await deliver(port, Buffer.concat([encodeFileHeader('./big.bin', 5_000), Buffer.alloc(5_000)]));
    const snapshot = await settled(await actor);
    expect(snapshot.context.lastError).toMatchObject({ code: 'E_FRAME_TOO_LARGE', message: expect.stringMatching(/5000 bytes, more than the 1000 allowed/) });
    expect(readdirSync(out)).toEqual([]);
    expect(parseControl((await replies).toString().trim())).toMatchObject({ verb: 'ERROR', code: 'E_FRAME_TOO_LARGE' });
  });

  it('reports a short stream as E_TRANSFER_SHORT with the bytes received, leaving nothing behind for a Qt sender', async () => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    await deliver(port, Buffer.concat([encodeFileHeader('a.bin', 10_000), Buffer.alloc(4_000, 7)]));
    const snapshot = await settled(await actor);
    expect(fileReceiveState(snapshot)).toBe('FAILED');
    expect(snapshot.context).toMatchObject({ bytes: 4_000, total: 10_000, lastError: { code: 'E_TRANSFER_SHORT', message: 'a.bin: the sender stopped after 4000 of 10000 bytes' } });
    expect(readdirSync(out)).toEqual([]);
  });

  it('keeps the .part of a synack sender\'s short stream so that the transfer can continue later', async () => {
    const out = folder();
    const partials = new PartialStore();
    const { port, actor } = await receiver({ outDir: out, partials });
    await deliver(port, Buffer.concat([encodeFileHeader('./a.bin', 10_000), Buffer.alloc(4_000, 7)]));
    const snapshot = await settled(await actor);
    expect(snapshot.context.lastError?.code).toBe('E_TRANSFER_SHORT');
    expect(readdirSync(out)).toEqual(['a.bin.part']);
    expect(sha256(path.join(out, 'a.bin.part'))).toBe(sha256(Buffer.alloc(4_000, 7)));
    expect(partials.take(path.join(out, 'a.bin.part'), 4_000)?.digest('hex')).toBe(sha256(Buffer.alloc(4_000, 7)));
  });

  it('reports an overlong stream as E_TRANSFER_OVERLONG and saves nothing', async () => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    await deliver(port, Buffer.concat([encodeFileHeader('a.txt', 5), Buffer.from('hello and more')]));
    const snapshot = await settled(await actor);
    expect(snapshot.context.lastError?.code).toBe('E_TRANSFER_OVERLONG');
    expect(snapshot.context.bytes).toBe(14);
    expect(readdirSync(out)).toEqual([]);
  });

  it('catches extra bytes that come after the announced end, before saving', async () => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    const { socket } = await deliver(port, VECTOR, { keepOpen: true });
    await waitFor(await actor, (s) => fileReceiveState(s) === 'FIN_WAIT');
    socket.end('!');
    const snapshot = await settled(await actor);
    expect(snapshot.context.lastError?.code).toBe('E_TRANSFER_OVERLONG');
    expect(readdirSync(out)).toEqual([]);
  });

  it('never replaces an existing file: the second one becomes "name (1).ext", unless forced', async () => {
    const out = folder();
    writeFileSync(path.join(out, 'a.txt'), 'old');
    const first = await receiver({ outDir: out });
    await deliver(first.port, VECTOR);
    expect((await settled(await first.actor)).context.path).toBe(path.join(out, 'a (1).txt'));
    expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('old');
    const forced = await receiver({ outDir: out, force: true });
    await deliver(forced.port, VECTOR);
    expect((await settled(await forced.actor)).context.path).toBe(path.join(out, 'a.txt'));
    expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('hello');
  });

  it.each([
    ['the name size disagrees with the QString', (() => {
      const header = encodeFileHeader('a.txt', 5);
      header.writeBigInt64BE(41n, 0);
      header.writeBigInt64BE(20n, 8);
      return header;
    })(), /name size field says 20 bytes but the file name takes 14/],
    ['the total is smaller than the header', (() => {
      const header = encodeFileHeader('a.txt', 5);
      header.writeBigInt64BE(10n, 0);
      return header;
    })(), /total size \(10\) is smaller than the header itself \(30 bytes\)/],
  ])('reports a header where %s as E_PROTOCOL', async (_why, header, message) => {
    const out = folder();
    const { port, actor } = await receiver({ outDir: out });
    await deliver(port, Buffer.concat([header, Buffer.from('hello')]));
    const snapshot = await settled(await actor);
    expect(snapshot.context.lastError).toMatchObject({ code: 'E_PROTOCOL', message: expect.stringMatching(message) });
    expect(readdirSync(out)).toEqual([]);
  });

  it('reports a full disk as E_DISK_FULL (ENOSPC from the write effect), removes the .part and tells a synack sender', async () => {
    const out = folder();
    const diskFull = async (file: string, options: SinkOptions) => {
      writeFileSync(file, '', { flag: options.flags === 'r+' ? 'r+' : 'w' });
      let written = 0;
      return new Writable({
        write(chunk: Buffer, _encoding, callback) {
          written += chunk.length;
          if (written > 64 * 1024) return callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
          callback();
        },
      });
    };
    const machine = fileReceiveMachine.provide({ actors: { receiveLink: createReceiveLink({ openSink: diskFull }) } });
    const { port, actor } = await receiver({ outDir: out }, machine);
    const { replies } = await deliver(port, Buffer.concat([encodeFileHeader('./movie.mkv', 1_000_000), patternBytes(1_000_000)]));
    const snapshot = await settled(await actor);
    expect(snapshot.context.lastError).toMatchObject({ code: 'E_DISK_FULL', errno: 'ENOSPC' });
    expect(readdirSync(out)).toEqual([]);
    expect(parseControl((await replies).toString().trim())).toMatchObject({ verb: 'ERROR', code: 'E_DISK_FULL' });
  });

  it('reports an unwritable output folder as E_ACCESS', async () => {
    const root = folder();
    const locked = unwritableDir(root);
    cleanup.add(locked, (l) => l.cleanup());
    const { port, actor } = await receiver({ outDir: locked.dir });
    await deliver(port, VECTOR);
    const snapshot = await settled(await actor);
    expect(fileReceiveState(snapshot)).toBe('FAILED');
    expect(snapshot.context.lastError).toMatchObject({ code: 'E_ACCESS', message: expect.stringMatching(/cannot write .*a\.txt\.part/) });
  });

  it('pauses the socket while the file is behind, so no more than its buffer waits in memory', async () => {
    const out = folder();
    let peak = 0;
    const slowDisk = async (file: string) => {
      writeFileSync(file, '');
      const sink: Writable = new Writable({
        highWaterMark: WRITE_BUFFER_BYTES,
        write(_chunk: Buffer, _encoding, callback) {
          peak = Math.max(peak, sink.writableLength);
          setTimeout(callback, 1);
        },
      });
      return sink;
    };
    const data = patternBytes(8 * 1024 * 1024);
    const machine = fileReceiveMachine.provide({ actors: { receiveLink: createReceiveLink({ openSink: slowDisk }) } });
    const { port, actor } = await receiver({ outDir: out }, machine);
    await deliver(port, Buffer.concat([encodeFileHeader('slow.bin', data.length), data]));
    const snapshot = await waitFor(await actor, (s) => s.status === 'done', 15_000);
    expect(fileReceiveState(snapshot)).toBe('DONE');
    expect(snapshot.context.sha256).toBe(sha256(data));
    expect(peak).toBeLessThanOrEqual(WRITE_BUFFER_BYTES + 64 * 1024);
  });

  describe('continuing a partial (SYNACK SEND)', () => {
    const data = patternBytes(300_000, 9);
    const offset = 120_000;

    async function continuation(out: string, partials: PartialStore, samples: { head: string; tail: string }) {
      const { port, actor } = await receiver({ outDir: out, partials });
      const socket = cleanup.socket(await connectRaw(port, { allowHalfOpen: true }));
      const replies = readAll(socket, 5_000);
      socket.write(encodeControl({ verb: 'SEND', name: './c.bin', size: data.length, offset, ...samples }));
      const accept = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
      const { offset: from } = parseControl(accept.toString().trim()) as { offset: number };
      socket.end(data.subarray(from));
      return { from, snapshot: await settled(await actor), replies };
    }

    it('appends to the partial, reusing the running hash it kept, and confirms the whole file', async () => {
      const out = folder();
      const partials = new PartialStore();
      const part = path.join(out, 'c.bin.part');
      writeFileSync(part, data.subarray(0, offset));
      partials.keep(part, createHash('sha256').update(data.subarray(0, offset)), offset);
      const { from, snapshot, replies } = await continuation(out, partials, await sampleDigests(part, offset));
      expect(from).toBe(offset);
      expect(snapshot.context).toMatchObject({ resumedFrom: offset, rehashedBytes: 0, sha256: sha256(data), bytes: data.length });
      expect(sha256(path.join(out, 'c.bin'))).toBe(sha256(data));
      expect((await replies).toString()).toContain(`"sha256":"${sha256(data)}"`);
    });

    it('hashes the partial once when its running hash is not known (a restarted receiver)', async () => {
      const out = folder();
      const part = path.join(out, 'c.bin.part');
      writeFileSync(part, data.subarray(0, offset));
      const { snapshot } = await continuation(out, new PartialStore(), await sampleDigests(part, offset));
      expect(snapshot.context).toMatchObject({ resumedFrom: offset, rehashedBytes: offset, sha256: sha256(data) });
    });

    it('starts over from byte 0 when the partial does not match the samples the sender checked', async () => {
      const out = folder();
      const part = path.join(out, 'c.bin.part');
      writeFileSync(part, Buffer.alloc(offset, 1));
      const theirs = { head: sha256(data.subarray(0, 65_536)), tail: sha256(data.subarray(offset - 65_536, offset)) };
      const { from, snapshot } = await continuation(out, new PartialStore(), theirs);
      expect(from).toBe(0);
      expect(snapshot.context.resumedFrom).toBe(0);
      expect(sha256(path.join(out, 'c.bin'))).toBe(sha256(data));
      expect(existsSync(part)).toBe(false);
    });
  });
});
