import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import {
  createSendLink,
  fileSendMachine,
  fileSendSampleEvents,
  fileSendState,
  openFileSource,
  type FileSendEvent,
  type FileSendInput,
  type FileSource,
  type SendLinkInput,
} from '../../src/machines/file-send.js';
import { encodeFileHeader } from '../../src/transport/qt-file-header.js';
import { ProgressTicker } from '../../src/transport/file-progress.js';
import { encodeControl } from '../../src/transport/file-wire.js';
import { exploreModel } from '../../src/testing/graph.js';
import { patternBytes, qtLikeReceiver, sha256 } from '../file-peers.js';
import { Cleanup, eventOnce, listenRaw, readAll, waitFor } from '../helpers.js';
import { expectFullCoverage } from '../model.js';
import { tempFolder } from '../temp.js';

const DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const VECTOR = readFileSync(path.join(import.meta.dirname, '../vectors/file_header_a_txt.bin'));

/** A stand-in for the sendLink: records each link's input and commands, and emits events as the real one would. */
function fakeSendLink() {
  const inputs: SendLinkInput[] = [];
  const commands: string[] = [];
  let back: ((event: FileSendEvent) => void) | undefined;
  const logic = fromCallback<{ type: 'CANCEL' }, SendLinkInput>(({ input, sendBack, receive }) => {
    inputs.push(input);
    const mine = (event: FileSendEvent) => sendBack(event);
    back = mine;
    receive((command) => commands.push(command.type));
    return () => {
      if (back === mine) back = undefined;
    };
  });
  return {
    logic,
    inputs,
    commands,
    emit(event: FileSendEvent) {
      if (!back) throw new Error(`no live link to emit ${event.type}`);
      back(event);
    },
  };
}

function startFake(input: Partial<FileSendInput> = {}) {
  const link = fakeSendLink();
  const actor = createActor(fileSendMachine.provide({ actors: { sendLink: link.logic } }), {
    input: { host: '127.0.0.1', port: 9, path: '/tmp/a.txt', ...input },
  });
  actor.start();
  return { actor, link, state: () => fileSendState(actor.getSnapshot()), context: () => actor.getSnapshot().context };
}

describe('file-send machine', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reaches every state and takes every transition of its definition (model-based)', () => {
    const model = fileSendMachine.provide({ actors: { sendLink: fromCallback(() => {}) } });
    const coverage = exploreModel(model, {
      events: fileSendSampleEvents,
      inputs: [
        { host: 'h', port: 1, path: '/a.txt' },
        { host: 'h', port: 1, path: '/a.txt', retry: { attempts: 1 } },
      ],
      serializeContext: (c) => ({ retries: c.retries, total: c.total, sha: c.sha256 !== null }),
    });
    expectFullCoverage(coverage);
  });

  it('goes CONNECTING → HEADER → STREAMING → FIN_WAIT → DONE and keeps bytes, total and the SHA-256', () => {
    const { link, state, context } = startFake();
    expect(state()).toBe('CONNECTING');
    link.emit({ type: 'FILE.OPENED', size: 5 });
    link.emit({ type: 'SOCKET.CONNECTED', local: '127.0.0.1:5000', peer: '127.0.0.1:9' });
    expect(state()).toBe('HEADER');
    link.emit({ type: 'FILE.STREAMING', offset: 0, rehashedBytes: 0, at: 1_000 });
    link.emit({ type: 'FILE.SENT', bytes: 5, sha256: DIGEST, at: 1_100 });
    expect(state()).toBe('FIN_WAIT');
    link.emit({ type: 'FILE.RECEIPT', bytes: 5, sha256: DIGEST, name: 'a.txt' });
    expect(state()).toBe('DONE');
    expect(context()).toMatchObject({ bytes: 5, total: 5, sha256: DIGEST, receiver: 'synack', verified: true, etaMs: 0, lastError: null });
  });

  it('computes a smoothed rate and an ETA from the progress reports it gets', () => {
    const { link, context } = startFake();
    link.emit({ type: 'FILE.OPENED', size: 10_000_000 });
    link.emit({ type: 'SOCKET.CONNECTED', local: 'l', peer: 'p' });
    link.emit({ type: 'FILE.STREAMING', offset: 0, rehashedBytes: 0, at: 0 });
    link.emit({ type: 'FILE.PROGRESS', bytes: 1_000_000, at: 100 });
    expect(context().rate).toBe(10_000_000);
    expect(context().etaMs).toBe(900);
    link.emit({ type: 'FILE.PROGRESS', bytes: 1_500_000, at: 200 });
    expect(context().rate).toBeCloseTo(10_000_000 + 0.3 * (5_000_000 - 10_000_000));
    expect(context().etaMs).toBe(Math.round((8_500_000 * 1000) / context().rate));
  });

  it('fails with E_TIMEOUT when the connect does not complete, after retrying when a policy allows it', () => {
    vi.useFakeTimers();
    const { link, state, context } = startFake({ connectTimeoutMs: 1_000, retry: { attempts: 1, baseMs: 100, jitter: 0 } });
    vi.advanceTimersByTime(1_000);
    expect(state()).toBe('RETRY_WAIT');
    expect(context().lastError?.code).toBe('E_TIMEOUT');
    vi.advanceTimersByTime(100);
    expect(state()).toBe('CONNECTING');
    expect(link.inputs).toHaveLength(2);
    vi.advanceTimersByTime(1_000);
    expect(state()).toBe('FAILED');
    expect(context().lastError?.message).toMatch(/timed out after 1000 ms/);
  });

  it('restarts its idle timer with each progress report and fails only after a silent stretch', () => {
    vi.useFakeTimers();
    const { link, state, context } = startFake({ idleTimeoutMs: 500 });
    link.emit({ type: 'FILE.OPENED', size: 100 });
    link.emit({ type: 'SOCKET.CONNECTED', local: 'l', peer: 'p' });
    link.emit({ type: 'FILE.STREAMING', offset: 0, rehashedBytes: 0, at: 0 });
    for (let i = 1; i <= 5; i++) {
      vi.advanceTimersByTime(400);
      link.emit({ type: 'FILE.PROGRESS', bytes: i * 10, at: i * 400 });
    }
    expect(state()).toBe('STREAMING');
    vi.advanceTimersByTime(500);
    expect(state()).toBe('FAILED');
    expect(context().lastError).toMatchObject({ code: 'E_TIMEOUT', message: expect.stringMatching(/stopped reading/) });
  });

  it('takes a matching resume offer by dialling again with a continuation, and starts over when the offer does not match', () => {
    const { link, state } = startFake();
    link.emit({ type: 'FILE.OPENED', size: 100 });
    link.emit({ type: 'SOCKET.CONNECTED', local: 'l', peer: 'p' });
    link.emit({ type: 'FILE.STREAMING', offset: 0, rehashedBytes: 0, at: 0 });
    link.emit({ type: 'FILE.OFFER', offset: 60, head: DIGEST, tail: DIGEST, matches: true });
    expect(state()).toBe('CONNECTING');
    expect(link.inputs[1]!.continuation).toEqual({ offset: 60, head: DIGEST, tail: DIGEST });
    link.emit({ type: 'SOCKET.CONNECTED', local: 'l', peer: 'p' });
    link.emit({ type: 'FILE.STREAMING', offset: 60, rehashedBytes: 0, at: 0 });
    link.emit({ type: 'FILE.OFFER', offset: 60, head: DIGEST, tail: DIGEST, matches: false });
    expect(link.inputs[2]!.continuation).toEqual({ offset: 0, head: DIGEST, tail: DIGEST });
  });

  it('refuses to resume when resume is off, asking the receiver to start over', () => {
    const { link } = startFake({ resume: false });
    link.emit({ type: 'FILE.OPENED', size: 100 });
    link.emit({ type: 'SOCKET.CONNECTED', local: 'l', peer: 'p' });
    link.emit({ type: 'FILE.STREAMING', offset: 0, rehashedBytes: 0, at: 0 });
    link.emit({ type: 'FILE.OFFER', offset: 60, head: DIGEST, tail: DIGEST, matches: true });
    expect(link.inputs[1]!.continuation?.offset).toBe(0);
  });

  it('fails when the receiver confirms a different SHA-256 than the one it sent', () => {
    const { link, state, context } = startFake();
    link.emit({ type: 'FILE.OPENED', size: 5 });
    link.emit({ type: 'SOCKET.CONNECTED', local: 'l', peer: 'p' });
    link.emit({ type: 'FILE.STREAMING', offset: 0, rehashedBytes: 0, at: 0 });
    link.emit({ type: 'FILE.SENT', bytes: 5, sha256: DIGEST, at: 1 });
    link.emit({ type: 'FILE.RECEIPT', bytes: 5, sha256: '0'.repeat(64), name: 'a.txt' });
    expect(state()).toBe('FAILED');
    expect(context().lastError?.code).toBe('E_PROTOCOL');
  });

  it('asks its link to cancel and ends CANCELLED once the link has let go', () => {
    const { actor, link, state } = startFake();
    actor.send({ type: 'USER.CANCEL' });
    expect(link.commands).toEqual(['CANCEL']);
    link.emit({ type: 'FILE.CANCELLED' });
    expect(state()).toBe('CANCELLED');
  });
});

describe('progress ticker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports at most once per interval, and only when the count changed', () => {
    vi.useFakeTimers();
    let bytes = 0;
    const reports: number[] = [];
    const ticker = new ProgressTicker(100, () => bytes, (n) => reports.push(n));
    ticker.start();
    for (let ms = 0; ms < 1_000; ms += 5) {
      bytes += 1_000;
      vi.advanceTimersByTime(5);
    }
    expect(reports).toHaveLength(10);
    vi.advanceTimersByTime(1_000);
    expect(reports).toHaveLength(10);
    ticker.stop();
  });
});

describe('file-send over loopback', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const folder = () => tempFolder(cleanup);

  function send(input: Omit<FileSendInput, 'host'>, machine = fileSendMachine) {
    const actor = cleanup.actor(createActor(machine, { input: { host: '127.0.0.1', ...input } }));
    actor.start();
    return actor;
  }

  const settled = (actor: ReturnType<typeof send>, timeoutMs = 5_000) => waitFor(actor, (s) => s.status === 'done', timeoutMs, 'a final state');

  it('writes the seed 002 header with synack\'s ./ name, then the file, and is done when a Qt-like receiver closes', async () => {
    const dir = folder();
    const file = path.join(dir, 'report.bin');
    writeFileSync(file, patternBytes(300_000));
    const qt = await qtLikeReceiver(cleanup, dir);
    const actor = send({ port: qt.port, path: file });
    const snapshot = await settled(actor);
    expect(fileSendState(snapshot)).toBe('DONE');
    expect(snapshot.context).toMatchObject({ receiver: 'qt', verified: false, bytes: 300_000, sha256: sha256(file) });
    const got = await qt.result;
    expect(got).toMatchObject({ name: './report.bin', bytesReceive: got.totalBytes, wrote: 0 });
    expect(sha256(path.join(qt.inbox, 'report.bin'))).toBe(sha256(file));
  });

  it('puts exactly the captured Qt bytes on the wire when asked for a plain name', async () => {
    const dir = folder();
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'hello');
    let wire: Promise<Buffer> | undefined;
    const { server, port, sockets } = await listenRaw((socket) => (wire = readAll(socket)), { allowHalfOpen: true });
    cleanup.server(server, sockets);
    const actor = send({ port, path: file, plainName: true });
    await waitFor(actor, (s) => fileSendState(s) === 'FIN_WAIT');
    expect(wire).toBeDefined();
    for (const socket of sockets) socket.end();
    expect(await wire!).toEqual(VECTOR);
    expect(fileSendState((await settled(actor)))).toBe('DONE');
  });

  it('stops reading the file while the receiver does not read, and fails after the idle timeout', async () => {
    const size = 256 * 1024 * 1024;
    let read = 0;
    const openSource = async (): Promise<FileSource> => ({
      size,
      read: async (_position, length) => {
        read += length;
        return Buffer.alloc(length);
      },
      close: async () => {},
    });
    const { server, port, sockets } = await listenRaw((socket) => socket.pause());
    cleanup.server(server, sockets);
    const machine = fileSendMachine.provide({ actors: { sendLink: createSendLink({ openSource }) } });
    const actor = send({ port, path: 'huge.bin', idleTimeoutMs: 300 }, machine);
    const snapshot = await settled(actor);
    expect(fileSendState(snapshot)).toBe('FAILED');
    expect(snapshot.context.lastError?.code).toBe('E_TIMEOUT');
    expect(read).toBeLessThan(32 * 1024 * 1024);
    expect(snapshot.context.bytes).toBeLessThanOrEqual(read);
  });

  it('fails cleanly with E_NOT_FOUND when the file does not exist, without connecting', async () => {
    let connections = 0;
    const { server, port, sockets } = await listenRaw(() => connections++);
    cleanup.server(server, sockets);
    const snapshot = await settled(send({ port, path: path.join(folder(), 'gone.txt') }));
    expect(fileSendState(snapshot)).toBe('FAILED');
    expect(snapshot.context.lastError).toMatchObject({ code: 'E_NOT_FOUND', errno: 'ENOENT' });
    expect(connections).toBe(0);
  });

  it('fails with E_ACCESS when the path is a folder or the file cannot be opened', async () => {
    const { server, port, sockets } = await listenRaw();
    cleanup.server(server, sockets);
    const folderSnapshot = await settled(send({ port, path: folder() }));
    expect(folderSnapshot.context.lastError).toMatchObject({ code: 'E_ACCESS', errno: 'EISDIR' });
    const denied = () => Promise.reject(Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' }));
    const machine = fileSendMachine.provide({ actors: { sendLink: createSendLink({ openSource: denied }) } });
    const deniedSnapshot = await settled(send({ port, path: 'secret.txt' }, machine));
    expect(fileSendState(deniedSnapshot)).toBe('FAILED');
    expect(deniedSnapshot.context.lastError).toMatchObject({ code: 'E_ACCESS', errno: 'EACCES' });
  });

  it('fails with E_TRANSFER_SHORT when the file shrinks while it is sent, and cuts the stream short', async () => {
    const dir = folder();
    const file = path.join(dir, 'log.bin');
    writeFileSync(file, patternBytes(1_000_000));
    let reads = 0;
    const openSource = async (p: string): Promise<FileSource> => {
      const source = await openFileSource(p);
      return {
        ...source,
        read: (position, length) => {
          if (++reads === 3) truncateSync(p, 100_000);
          return source.read(position, length);
        },
      };
    };
    let wire: Promise<Buffer> | undefined;
    const { server, port, sockets } = await listenRaw((socket) => (wire = readAll(socket)));
    cleanup.server(server, sockets);
    const machine = fileSendMachine.provide({ actors: { sendLink: createSendLink({ openSource }) } });
    const snapshot = await settled(send({ port, path: file }, machine));
    expect(fileSendState(snapshot)).toBe('FAILED');
    expect(snapshot.context.lastError).toMatchObject({ code: 'E_TRANSFER_SHORT', message: expect.stringMatching(/shrank/) });
    const received = await wire!;
    expect(received.length - encodeFileHeader('./log.bin', 1_000_000).length).toBeLessThan(1_000_000);
  });

  it('reports a read error in the middle of the file as E_ACCESS and cuts the connection', async () => {
    const openSource = async (): Promise<FileSource> => ({
      size: 1_000_000,
      read: async (position, length) => {
        if (position >= 200_000) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        return Buffer.alloc(length, 1);
      },
      close: async () => {},
    });
    let wire: Promise<Buffer> | undefined;
    const { server, port, sockets } = await listenRaw((socket) => (wire = readAll(socket)));
    cleanup.server(server, sockets);
    const machine = fileSendMachine.provide({ actors: { sendLink: createSendLink({ openSource }) } });
    const snapshot = await settled(send({ port, path: 'disk.img' }, machine));
    expect(snapshot.context.lastError).toMatchObject({ code: 'E_ACCESS', errno: 'EIO' });
    expect((await wire!).length).toBeLessThan(1_000_000);
  });

  it('fails with the receiver\'s own code and message when a synack receiver refuses the file', async () => {
    const dir = folder();
    const file = path.join(dir, 'big.bin');
    writeFileSync(file, patternBytes(100_000));
    const { server, port, sockets } = await listenRaw((socket) => {
      socket.once('data', () => {
        socket.end(encodeControl({ verb: 'ERROR', code: 'E_FRAME_TOO_LARGE', message: 'the announced file is 100000 bytes, more than the 10 allowed' }));
        socket.resume();
      });
    }, { allowHalfOpen: true });
    cleanup.server(server, sockets);
    const snapshot = await settled(send({ port, path: file }));
    expect(fileSendState(snapshot)).toBe('FAILED');
    expect(snapshot.context.lastError).toEqual({ code: 'E_FRAME_TOO_LARGE', message: 'receiver: the announced file is 100000 bytes, more than the 10 allowed' });
  });

  it('dials again with backoff after losing the connection when a retry policy allows it', async () => {
    const dir = folder();
    const file = path.join(dir, 'again.bin');
    // Larger than what loopback socket buffers take: the cut comes while the sender is still
    // writing, not after its last byte (when a close is what a Qt receiver's success looks like).
    const size = 8 * 1024 * 1024;
    writeFileSync(file, patternBytes(size));
    let accepted = 0;
    let second: Promise<Buffer> | undefined;
    const { server, port, sockets } = await listenRaw((socket) => {
      if (++accepted === 1) return void socket.once('data', () => socket.destroy());
      second = readAll(socket);
      socket.on('end', () => socket.end());
    }, { allowHalfOpen: true });
    cleanup.server(server, sockets);
    const actor = send({ port, path: file, retry: { attempts: 2, baseMs: 20 } });
    const states: string[] = [];
    actor.subscribe((s) => states.push(fileSendState(s)));
    const snapshot = await settled(actor);
    expect(fileSendState(snapshot)).toBe('DONE');
    expect(states).toContain('RETRY_WAIT');
    expect(snapshot.context.retries).toBe(1);
    const header = encodeFileHeader('./again.bin', size);
    expect(sha256((await second!).subarray(header.length))).toBe(sha256(file));
  });

  it('closes the connection and ends CANCELLED when cancelled while streaming', async () => {
    let accept!: (socket: net.Socket) => void;
    const accepted = new Promise<net.Socket>((resolve) => (accept = resolve));
    const { server, port, sockets } = await listenRaw((socket) => {
      socket.pause();
      accept(socket);
    });
    cleanup.server(server, sockets);
    const openSource = async (): Promise<FileSource> => ({ size: 1 << 30, read: async (_p, n) => Buffer.alloc(n), close: async () => {} });
    const actor = send({ port, path: 'endless.bin' }, fileSendMachine.provide({ actors: { sendLink: createSendLink({ openSource }) } }));
    const peer = await accepted;
    const peerClosed = eventOnce(peer, 'close', 3_000);
    await waitFor(actor, (s) => fileSendState(s) === 'STREAMING');
    actor.send({ type: 'USER.CANCEL' });
    expect(fileSendState(await settled(actor))).toBe('CANCELLED');
    peer.resume();
    await peerClosed;
  });
});
