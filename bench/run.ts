/**
 * `npm run bench [-- --quick] [-- --only throughput,echo]`
 *
 * Runs each benchmark module in turn, prints one table (figure, synack, baseline, ratio to
 * raw Node, target, pass) and, on a full run of every module, writes it with the date, Node
 * version and core count to docs/BENCHMARKS.md. `--quick` is a smoke run (small sizes, targets
 * not expected to hold) and never touches docs/BENCHMARKS.md.
 *
 * synack is measured as users load it: the built library in dist/ (`npm run bench` builds it
 * first). Run from source through tsx, every closure would pay for esbuild's keepNames
 * (`__name()` redefines each function's name, which also puts it in dictionary mode).
 *
 * Exit code: 0 unless a benchmark crashed (threw or overran its time budget); a missed target
 * is reported in the table, not an error.
 */
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, crashedRow, fmt, killAllChildren, now, ROOT, stopAllChildren, withTimeout, type Bench, type BenchRow } from './types.js';

/**
 * The benchmark modules, in run order: file in bench/, exported function. A module whose file
 * does not exist yet is skipped (reported, not a failure), so this list can name benchmarks
 * that are still being written.
 */
const MODULES: { name: string; file: string; fn: string }[] = [
  { name: 'throughput', file: 'throughput.ts', fn: 'benchThroughput' },
  { name: 'echo', file: 'echo.ts', fn: 'benchEcho' },
  { name: 'qt-relay', file: 'qt-relay.ts', fn: 'benchQtRelay' },
  { name: 'concurrency', file: 'concurrency.ts', fn: 'benchConcurrency' },
  { name: 'heartbeat', file: 'heartbeat.ts', fn: 'benchHeartbeat' },
  { name: 'file-transfer', file: 'file-transfer.ts', fn: 'benchFileTransfer' },
  { name: 'registry', file: 'registry.ts', fn: 'benchRegistry' },
  { name: 'inspection', file: 'inspection.ts', fn: 'benchInspection' },
];

/** Longest a module may run before it counts as crashed (full / quick). */
const MODULE_BUDGET_MS = { full: 150_000, quick: 45_000 };

const HEADER = ['figure', 'synack', 'baseline', 'unit', 'ratio', 'target', 'pass', 'note'];

/** The rows as a Markdown table. */
function formatTable(rows: BenchRow[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = [r.figure, fmt(r.synack), fmt(r.baseline), r.unit, Number.isFinite(r.ratio) ? `${fmt(r.ratio)}×` : '—', r.target, r.pass ? 'yes' : '**no**', r.note ?? ''];
    lines.push(`| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((a) => a.startsWith('--only'));
  const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1]! : argv[argv.indexOf(onlyArg) + 1] ?? '').split(',').filter(Boolean) : null;
  const budget = quick ? MODULE_BUDGET_MS.quick : MODULE_BUDGET_MS.full;
  const started = now();
  const rows: BenchRow[] = [];
  const skipped: string[] = [];
  let crashed = 0;

  console.log(`synack bench${quick ? ' --quick (smoke run: sizes are small, targets are not expected to hold)' : ''}`);
  console.log(`node ${process.version}, ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}`);
  const loadBefore = os.loadavg()[0]!;
  console.log(`load average ${loadBefore.toFixed(2)}${busy(loadBefore) ? ' — the machine is busy: figures will be noisy' : ''}\n`);

  for (const mod of MODULES) {
    if (only && !only.includes(mod.name)) continue;
    const file = path.join(BENCH_DIR, mod.file);
    if (!existsSync(file)) {
      skipped.push(mod.name);
      console.log(`${mod.name}: skipped (bench/${mod.file} is not there yet)`);
      continue;
    }
    const t0 = now();
    process.stdout.write(`${mod.name}: running…`);
    try {
      const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const fn = loaded[mod.fn] as Bench | undefined;
      if (typeof fn !== 'function') throw new Error(`bench/${mod.file} does not export ${mod.fn}()`);
      const result = await withTimeout(fn({ quick }), budget, `${mod.name} benchmark`);
      rows.push(...result);
      process.stdout.write(` ${((now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      crashed++;
      rows.push(crashedRow(mod.name, error));
      process.stdout.write(` crashed after ${((now() - t0) / 1000).toFixed(1)} s\n`);
      console.error(error);
    } finally {
      await stopAllChildren();
    }
  }

  const seconds = (now() - started) / 1000;
  const table = formatTable(rows);
  console.log(`\n${table}\n`);
  const missed = rows.filter((r) => !r.pass).length;
  console.log(
    `${rows.length} figures, ${missed} not meeting their target, ${crashed} crashed${skipped.length ? `, skipped: ${skipped.join(', ')}` : ''}; ${seconds.toFixed(1)} s`,
  );

  const diagnosis: string[] = [];
  try {
    const { contextFinding } = await import('./diagnose.js');
    diagnosis.push(contextFinding().long);
  } catch (error) {
    diagnosis.push(`(bench/diagnose.ts could not check the connection context: ${error instanceof Error ? error.message : String(error)})`);
  }
  const inspected = rows.find((r) => r.figure.startsWith('inspection off vs on: synack Server') && r.note?.includes('carry an inspection observer'));
  if (inspected) {
    diagnosis.push(
      'Inspection is not off by default for a Server: `Supervisor.inspect` is always a function (it feeds ' +
        '`inspection$` when someone subscribes), and the Server hands it to every accepted connection, so each ' +
        'of their transitions builds and dispatches inspection events even when nobody watches. The connection ' +
        'machine row shows what an observer costs per event; attaching one to accepted connections only while ' +
        '`inspection$` (or `options.inspect`) is observed would make "off" free again.',
    );
  }
  console.log(`\ndiagnosis: ${diagnosis.join('\n\n')}`);
  const loadAfter = os.loadavg()[0]!;
  if (!quick && !only) {
    const doc = renderDoc(table, seconds, skipped, [loadBefore, loadAfter], diagnosis);
    writeFileSync(path.join(ROOT, 'docs', 'BENCHMARKS.md'), doc);
    console.log('wrote docs/BENCHMARKS.md');
  }
  return crashed > 0 ? 1 : 0;
}

/** Another process is using a good part of the cores (1-minute load average). */
function busy(load: number): boolean {
  return load > os.availableParallelism() * 0.5;
}

function renderDoc(table: string, seconds: number, skipped: string[], load: [number, number], diagnosis: string[]): string {
  const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.ts); do not edit by hand.

- date: ${date}
- node: ${process.version} (${process.platform} ${process.arch})
- cores: ${os.availableParallelism()} (${os.cpus()[0]?.model ?? 'unknown cpu'})
- whole run: ${seconds.toFixed(0)} s; 1-minute load average ${load[0].toFixed(2)} before, ${load[1].toFixed(2)} after${busy(Math.max(...load)) ? ' (busy: other work was running, figures are noisier than usual)' : ''}${skipped.length ? `\n- not measured yet (module missing): ${skipped.join(', ')}` : ''}

Each figure compares synack with a raw-Node baseline doing the same work with plain \`net\`
and the same framing, in the same run. **ratio** is synack / baseline: throughput-like figures
must reach at least their target (≥), latency- and cost-like figures must stay at or below it
(≤); rows with a target on synack's own value say so. A missed target is shown as **no** with
the reason in the note. Loopback figures on a shared 2-vCPU VM vary by ±20 % or more from run
to run; each benchmark alternates raw and synack rounds in the same run and reports medians.

${table}

## Diagnosis

Checked again by every run (bench/diagnose.ts); CPU profiles with \`node --cpu-prof\` of the
server processes (bench/load/*-server.ts) show where the time goes.

${diagnosis.join('\n\n')}
`;
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
