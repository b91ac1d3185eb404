/** The real CLI, `node bin/synack.js send-file | recv-file`, as child processes. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { parseSize } from '../../../src/app/cli/commands/recv-file.js';
import { formatBytes, formatEta, progressLine } from '../../../src/app/cli/commands/send-file.js';
import { patternBytes, qtLikeReceiver, qtLikeSend, sha256, unwritableDir } from '../../file-peers.js';
import { tempFolder } from '../../temp.js';
import { perTestCleanup } from './run-cli.js';

const scope = perTestCleanup();

/** Per-test helpers (the tests run concurrently: each cleans up after itself). */
function harness(ctx: TestContext) {
  const cleanup = scope(ctx);
  // Every stdout line that looks like JSON must be JSON.
  const run = (args: string[]) => cleanup.add(scope.cli(ctx, args, { waitMs: 30_000 }), (p) => expect(p.notJson).toEqual([]));
  const folder = () => tempFolder(cleanup);
  const recvFile = async (args: string[]) => {
    const recv = run(['recv-file', '--port', '0', '--json', ...args]);
    const listening = await recv.waitForSeen('listening');
    return { recv, port: String(listening.port) };
  };
  return { cleanup, run, folder, recvFile };
}

// Child processes start slowly on a busy machine: each test may take up to 45 s (every wait inside is bounded).
describe.concurrent('synack send-file / recv-file (CLI)', { timeout: 45_000 }, () => {
  it('delivers a folder and a file, one connection each, with NDJSON events on both ends, and stops on SIGINT', async (ctx) => {
    const { run, folder, recvFile } = harness(ctx);
    const dir = folder();
    mkdirSync(path.join(dir, 'site', 'css'), { recursive: true });
    writeFileSync(path.join(dir, 'site', 'index.html'), '<h1>hi</h1>');
    writeFileSync(path.join(dir, 'site', 'css', 'main.css'), patternBytes(300_000));
    writeFileSync(path.join(dir, 'readme.txt'), 'read me');
    const out = path.join(dir, 'out');
    const { recv, port } = await recvFile(['--out', out]);
    const send = run(['send-file', '--port', port, '--json', path.join(dir, 'site'), path.join(dir, 'readme.txt')]);
    const sent = await send.exited();
    expect(sent.code).toBe(0);
    const files = send.events.filter((e) => e.event === 'file');
    expect(files.map((e) => [e.name, e.index, e.count, e.verified])).toEqual([
      ['site/css/main.css', 1, 3, true],
      ['site/index.html', 2, 3, true],
      ['readme.txt', 3, 3, true],
    ]);
    for (const e of send.events) expect(typeof e.ts).toBe('number');
    expect(send.events.filter((e) => e.event === 'progress').at(-1)).toMatchObject({ index: 3, count: 3, overallBytes: 300_018, overallTotal: 300_018 });
    expect(send.events.at(-1)).toMatchObject({ event: 'summary', files: 3, failed: 0 });
    await recv.waitForSeen((e) => e.event === 'file' && e.name === 'readme.txt');
    expect(recv.events.filter((e) => e.event === 'file').map((e) => e.sha256)).toEqual(files.map((e) => e.sha256));
    expect(sha256(path.join(out, 'site/css/main.css'))).toBe(sha256(patternBytes(300_000)));
    recv.signal('SIGINT');
    expect((await recv.exited()).code).toBe(0);
  });

  it('talks to Qt-like peers both ways; recv-file --once stops after the first transfer', async (ctx) => {
    const { cleanup, run, folder, recvFile } = harness(ctx);
    const dir = folder();
    const file = path.join(dir, 'clip.bin');
    writeFileSync(file, patternBytes(1_500_000));
    const qt = await qtLikeReceiver(cleanup, dir);
    const sent = await run(['send-file', '--port', String(qt.port), file]).exited();
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(
      new RegExp(`sent clip\\.bin \\(1\\.4 MiB\\) to 127\\.0\\.0\\.1:${qt.port}  sha256 ${sha256(file)}  \\(unconfirmed: the receiver is a seed 002 \\(Qt\\) receiver\\)`),
    );
    expect(sha256(path.join(qt.inbox, 'clip.bin'))).toBe(sha256(file));

    const out = path.join(dir, 'out');
    const { recv, port } = await recvFile(['--out', out, '--once']);
    const qtSent = await qtLikeSend({ port: Number(port), file, observeReplies: true });
    expect(qtSent.replies).toBe(0);
    expect((await recv.exited()).code).toBe(0);
    expect(recv.events.find((e) => e.event === 'file')).toMatchObject({ name: 'clip.bin', peerKind: 'qt', sha256: sha256(file) });
    expect(recv.events.at(-1)?.event).toBe('stopped');
    expect(readdirSync(out)).toEqual(['clip.bin']);
  });

  it('exits 1 on both ends when the receiver refuses a file over --max-bytes, saying why', async (ctx) => {
    const { run, folder, recvFile } = harness(ctx);
    const dir = folder();
    writeFileSync(path.join(dir, 'big.bin'), patternBytes(100_000));
    const out = path.join(dir, 'out');
    const { recv, port } = await recvFile(['--out', out, '--once', '--max-bytes', '10K']);
    const send = run(['send-file', '--port', port, path.join(dir, 'big.bin')]);
    const sent = await send.exited();
    expect(sent.code).toBe(1);
    expect(sent.stderr).toContain('synack: big.bin: receiver: the announced file is 100000 bytes, more than the 10240 allowed (E_FRAME_TOO_LARGE)');
    const received = await recv.exited();
    expect(received.code).toBe(1);
    expect(recv.events.find((e) => e.event === 'error')).toMatchObject({ code: 'E_FRAME_TOO_LARGE', name: 'big.bin' });
    expect(readdirSync(out)).toEqual([]);
  });

  it('exits 1 with a clear message for a missing file and for an unwritable --out', async (ctx) => {
    const { cleanup, run, folder } = harness(ctx);
    const dir = folder();
    const locked = unwritableDir(dir);
    cleanup.add(locked, (l) => l.cleanup());
    const missing = run(['send-file', '--port', '9', path.join(dir, 'nope.txt')]);
    const unwritable = run(['recv-file', '--port', '0', '--out', locked.dir]);
    const [m, u] = await Promise.all([missing.exited(), unwritable.exited()]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/^synack: nope\.txt: cannot read .*nope\.txt: ENOENT.* \(E_NOT_FOUND\)$/m);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/^synack: cannot write to the output folder .*locked/m);
  });

  it('exits 2 with a one-line reason for bad usage', async (ctx) => {
    const { run } = harness(ctx);
    const cases: [string[], RegExp][] = [
      [['send-file', '--port', '9'], /^synack: send-file: name at least one FILE or DIR to send$/],
      [['recv-file', '--port', '0', '--max-bytes', '1M'], /^synack: --out is required/],
      [['send-file', '--port', '9', '--bogus', 'a.txt'], /^synack: send-file: Unknown option '--bogus'/],
    ];
    const exits = await Promise.all(cases.map(([args]) => run(args).exited()));
    exits.forEach((exit, i) => {
      expect(exit.code, cases[i]![0].join(' ')).toBe(2);
      expect(exit.stderr.split('\n')[0]).toMatch(cases[i]![1]);
    });
  });
});

describe('file command output', () => {
  it('writes sizes in binary units and time left as m:ss', () => {
    expect([0, 532, 1_536, 1_572_864, 5 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '532 B', '1.5 KiB', '1.5 MiB', '5.0 GiB']);
    expect([0, 65_000, 3_723_000, null].map(formatEta)).toEqual(['0:00', '1:05', '1:02:03', '--:--']);
  });

  it('fits a progress line with file i of N and the batch\'s share into the terminal width', () => {
    const line = progressLine({ name: 'zero.bin', bytes: 300 << 20, total: 400 << 20, rate: 50 << 20, etaMs: 2_000, index: 1, count: 2, overallBytes: 300 << 20, overallTotal: 600 << 20 }, 80);
    expect(line).toBe('[1/2 50%] zero.bin  75% [###########----] 300 MiB/400 MiB  50.0 MiB/s  ETA 0:02');
    expect(line.length).toBeLessThan(80);
  });

  it('reads --max-bytes with binary suffixes and refuses anything else as bad usage', () => {
    expect(['1048576', '512K', '10M', '1.5G', '2GiB'].map((v) => parseSize(v, '--max-bytes'))).toEqual([1_048_576, 524_288, 10_485_760, 1_610_612_736, 2_147_483_648]);
    for (const bad of ['lots', '1.5', '-1', '10X']) expect(() => parseSize(bad, '--max-bytes')).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });
});
