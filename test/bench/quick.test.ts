import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = path.join(ROOT, 'docs', 'BENCHMARKS.md');
const LIMIT_MS = 120_000;

/** Figures the quick run must print (sizes in the labels are the quick ones). */
const FIGURES = [
  'raw-framing throughput, client → server',
  'echo round trip p50, 1 KiB',
  'echo round trip p99, 1 KiB',
  'qt relay 64 B → 1 receiver',
  'qt relay 64 B → 10 receivers',
  'qt relay 1 KiB → 1 receiver',
  'qt relay 1 KiB → 10 receivers',
  '500 concurrent clients: all held',
  '500 concurrent clients: heap per connection',
  '500 concurrent clients: accept CPU',
  'heartbeats, 200 connections: server CPU per heartbeat',
  'heartbeats, 500 connections: server CPU per heartbeat',
  'inspection off vs on: connection machine event',
  'inspection off vs on: synack Server per send',
];

function runQuick(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('npm run bench -- --quick', () => {
  it(
    'runs every benchmark briefly, prints a table row for each figure and leaves docs/BENCHMARKS.md alone',
    async () => {
      const before = existsSync(DOC) ? readFileSync(DOC, 'utf8') : null;
      const { code, signal, stdout, stderr } = await runQuick();
      const context = `exit ${code} ${signal ?? ''}\n--- stdout\n${stdout}\n--- stderr\n${stderr.slice(-4000)}`;
      expect(signal, context).toBeNull();
      expect(code, context).toBe(0);
      const rows = stdout.split('\n').filter((line) => line.startsWith('| '));
      for (const figure of FIGURES) {
        expect(rows.some((row) => row.startsWith(`| ${figure}`)), `no row for "${figure}"\n${context}`).toBe(true);
      }
      expect(rows.filter((row) => row.includes('crashed:')), context).toEqual([]);
      expect(existsSync(DOC) ? readFileSync(DOC, 'utf8') : null).toBe(before);
    },
    LIMIT_MS + 10_000,
  );
});
