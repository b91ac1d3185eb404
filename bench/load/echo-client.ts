/**
 * Echo client (the same for both servers): `node --import tsx bench/load/echo-client.ts`.
 * On `run {port, size, count, warmup}` connects with a plain `net` socket and makes `warmup`
 * then `count` round trips one at a time (send `size` bytes, wait for all of them back), and
 * answers `result {p50, p99, mean}` in microseconds.
 */
import net from 'node:net';
import { once } from 'node:events';
import { percentile, serveChild } from '../types.js';

async function run(port: number, size: number, count: number, warmup: number, maxMs: number) {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  const payload = Buffer.alloc(size, 0x62);
  const samples = new Float64Array(count);
  let pending = 0;
  let wake: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    pending -= chunk.length;
    if (pending <= 0 && wake) {
      const w = wake;
      wake = null;
      w();
    }
  });
  const deadline = performance.now() + maxMs;
  let done = 0;
  for (let i = 0; i < warmup + count && performance.now() < deadline; i++) {
    pending = size;
    const t0 = process.hrtime.bigint();
    const back = new Promise<void>((resolve) => (wake = resolve));
    socket.write(payload);
    await back;
    if (i >= warmup) samples[done++] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  socket.end();
  socket.destroy();
  const sorted = samples.subarray(0, done).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sum / done, count: done };
}

const send = serveChild({
  run: async (m) => {
    const r = await run(m.port as number, m.size as number, m.count as number, m.warmup as number, (m.maxMs as number) ?? 30_000);
    send({ type: 'result', ...r });
  },
});
send({ type: 'ready' });
