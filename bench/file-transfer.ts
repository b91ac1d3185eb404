/**
 * File transfer: 1 GiB (quick: 32 MiB) over loopback from a synack sender to a synack receiver
 * (seed 002 header, SHA-256 on both ends, `.part` then rename, progress to the machines)
 * against a raw Node socket pipe (`fs.createReadStream(64 KiB).pipe(socket)` into
 * `socket.pipe(fs.createWriteStream())`), each end in its own process, the same run, rounds
 * alternating, median. Then the peak RSS of each process during one large transfer (4 GiB in a
 * full run when the scratch folder has room and the time budget allows, else the largest that
 * fits; the row says which).
 *
 * Files live on /dev/shm when it has room (RAM-backed, so the figure is the transfer path and
 * not the disk), else in the OS temp folder.
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { absoluteRow, fmt, higherIsBetter, median, now, startChild, type BenchOptions, type BenchRow, type ChildHandle } from './types.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

type Mode = 'raw' | 'synack';
type Done = { type: 'done'; ms: number; bytes: number; baseRss: number; peakRss: number };
type Sent = { type: 'sent'; ms: number; baseRss: number; peakRss: number };

function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

/** A scratch folder with room for `bytes`: /dev/shm if it can, else the OS temp folder. */
function scratch(bytes: number): { dir: string; where: string } {
  for (const base of ['/dev/shm', os.tmpdir()]) {
    if (freeBytes(base) > bytes) return { dir: mkdtempSync(path.join(base, 'synack-bench-')), where: base };
  }
  throw new Error(`no scratch folder with ${fmt(bytes / GiB)} GiB free`);
}

/** Writes `size` bytes of incompressible-looking data (a random MiB, varied per MiB). */
function makeFile(file: string, size: number): void {
  const block = randomFillSync(Buffer.allocUnsafe(MiB));
  const fd = openSync(file, 'w');
  try {
    for (let written = 0, n = 0; written < size; n++) {
      block.writeUInt32LE(n, 0);
      const length = Math.min(MiB, size - written);
      writeSync(fd, block, 0, length);
      written += length;
    }
  } finally {
    closeSync(fd);
  }
}

function label(bytes: number): string {
  return bytes >= GiB ? `${fmt(bytes / GiB)} GiB` : `${fmt(bytes / MiB)} MiB`;
}

export async function benchFileTransfer({ quick }: BenchOptions): Promise<BenchRow[]> {
  const size = quick ? 32 * MiB : GiB;
  const rounds = quick ? 1 : 5;
  const wantedRss = quick ? 32 * MiB : 4 * GiB;
  // Room for the source and one received copy of the largest file, plus slack.
  const space = scratch(2 * size + 64 * MiB);
  const rssSize = freeBytes(space.dir) > 2 * wantedRss + 512 * MiB ? wantedRss : size;
  const children: ChildHandle[] = [];
  try {
    const source = path.join(space.dir, 'source.bin');
    makeFile(source, size);
    const pairs = {} as Record<Mode, { receiver: ChildHandle; sender: ChildHandle; out: string; port: number }>;
    for (const mode of ['raw', 'synack'] as const) {
      const out = path.join(space.dir, `out-${mode}`);
      mkdirSync(out);
      const receiver = startChild('load/file-transfer-peer.ts', ['receiver', mode, out]);
      const sender = startChild('load/file-transfer-peer.ts', ['sender', mode]);
      children.push(receiver, sender);
      const { port } = await receiver.next<{ type: 'listening'; port: number }>('listening');
      pairs[mode] = { receiver, sender, out, port };
    }

    const transfer = async (mode: Mode, file: string, timeoutMs: number) => {
      const { receiver, sender, port, out } = pairs[mode];
      const done = receiver.next<Done>('done', timeoutMs);
      const sent = sender.request<Sent>('send', { port, file }, 'sent', timeoutMs);
      const [d, s] = await Promise.all([done, sent]);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      return { done: d, sent: s };
    };

    const rate: Record<Mode, number[]> = { raw: [], synack: [] };
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? (['raw', 'synack'] as const) : (['synack', 'raw'] as const)) {
        const { done } = await transfer(mode, source, 60_000);
        if (done.bytes !== size) throw new Error(`${mode}: received ${done.bytes} of ${size} bytes`);
        rate[mode].push(size / MiB / (done.ms / 1000));
      }
    }
    const rows: BenchRow[] = [
      higherIsBetter(
        `file transfer ${label(size)} over loopback, sender → receiver`,
        median(rate.synack),
        median(rate.raw),
        'MiB/s',
        0.9,
        `${rounds} round${rounds > 1 ? 's' : ''}, median (best: synack ${fmt(Math.max(...rate.synack))}, raw ${fmt(Math.max(...rate.raw))}), ` +
          `${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(1)}, files on ${space.where}; synack also computes SHA-256 on both ends and renames a .part`,
      ),
    ];

    let big = source;
    if (rssSize !== size) {
      rmSync(source);
      big = path.join(space.dir, 'big.bin');
      makeFile(big, rssSize);
    }
    const peaks = {} as Record<Mode, { peak: number; growth: number; ms: number }>;
    for (const mode of ['raw', 'synack'] as const) {
      const started = now();
      const { done, sent } = await transfer(mode, big, 120_000);
      const peak = Math.max(done.peakRss, sent.peakRss);
      const growth = Math.max(done.peakRss - done.baseRss, sent.peakRss - sent.baseRss);
      peaks[mode] = { peak: peak / 1e6, growth: growth / 1e6, ms: now() - started };
    }
    rows.push(
      absoluteRow(
        `peak RSS per process during a ${label(rssSize)} transfer`,
        peaks.synack.peak,
        peaks.raw.peak,
        'MB',
        '≤ 150 MB',
        peaks.synack.peak <= 150,
        `growth during the transfer: synack ${fmt(peaks.synack.growth)} MB, raw ${fmt(peaks.raw.growth)} MB` +
          (rssSize < 4 * GiB ? `; measured at ${label(rssSize)} (${quick ? 'quick run' : 'no room for 4 GiB'}), target is for 4 GiB` : ''),
      ),
    );
    return rows;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    rmSync(space.dir, { recursive: true, force: true });
  }
}
