import type { Writable } from 'node:stream';
import { SynackError } from '../../../errors.js';
import type { FileTransferEvent } from '../../file-events.js';
import { sendFiles } from '../../file-transfer.js';
import { withInspector } from '../../inspector/cli.js';
import { Supervisor } from '../../supervisor.js';
import { INSPECT_OPTION, parseCommandArgs, parseCount, parseHost, parsePort } from '../args.js';
import { createIo } from '../io.js';
import { toJson } from '../render.js';

/** `synack send-file --help`; its first line is the command's entry in `synack --help`. */
export const SEND_FILE_HELP = `synack send-file --host H --port P FILE… | DIR…

Send files the seed 002 way, one connection per file, one after another. A folder is sent
file by file under its relative paths (a synack receiver keeps them; a Qt receiver takes one
file and stops listening). A synack receiver confirms each file's SHA-256, and when it already
holds part of a file the transfer continues from there.

Options:
  --host H               receiver address (default 127.0.0.1)
  --port P               receiver port
  --retry N              try a refused or lost connection N more times, with backoff
                         (a synack receiver then continues where it stopped)
  --no-resume            start over even when the receiver holds part of a file
  --plain-name           announce bare base names, byte for byte like the Qt sender
                         (no resume, no receipt)
  --connect-timeout MS   give up one connect attempt after MS (default 10000)
  --inspect              serve the live inspector on 127.0.0.1 and print its URL
  --json                 one JSON event per line on stdout

Exit status: 0 when every file was delivered, 1 when one failed, 2 for bad usage.`;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * A byte count for people: binary units, three significant digits.
 *
 * @example
 * ```ts
 * formatBytes(532); // '532 B'
 * formatBytes(1_572_864); // '1.5 MiB'
 * ```
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Time left for people: `m:ss` or `h:mm:ss`, `--:--` while unknown.
 *
 * @example
 * ```ts
 * formatEta(65_000); // '1:05'
 * formatEta(null); // '--:--'
 * ```
 */
export function formatEta(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--:--';
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * One progress line, its bar filling what `columns` leaves: `[2/5 40%] photo.jpg  45% [#####-----]
 * 12.3 MiB/27.1 MiB  8.5 MiB/s  ETA 0:02` (in a batch, file i of N and the batch's share done).
 *
 * @example
 * ```ts
 * progressLine({ name: 'a.bin', bytes: 512, total: 1024, rate: 256, etaMs: 2000 }, 64);
 * // 'a.bin  50% [#########--------] 512 B/1.0 KiB  256 B/s  ETA 0:02'
 * ```
 */
export function progressLine(
  p: { name: string; bytes: number; total: number; rate: number; etaMs: number | null; index?: number; count?: number; overallBytes?: number; overallTotal?: number },
  columns = 100,
): string {
  const fraction = p.total > 0 ? Math.min(1, p.bytes / p.total) : 1;
  const overall = p.overallTotal ? ` ${Math.floor((100 * (p.overallBytes ?? 0)) / p.overallTotal)}%` : '';
  const position = p.count !== undefined && p.count > 1 ? `[${p.index}/${p.count}${overall}] ` : '';
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const tail = `${formatBytes(p.bytes)}/${formatBytes(p.total)}  ${formatBytes(Math.round(p.rate))}/s  ETA ${formatEta(p.etaMs)}`;
  const head = `${position}${p.name} ${percent} `;
  const width = Math.max(6, Math.min(30, columns - 1 - head.length - tail.length - 3));
  const filled = Math.round(fraction * width);
  return `${head}[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${tail}`;
}

/** Where file-transfer events go: NDJSON, or a log on stdout plus a live bar on a terminal's stderr. */
export interface FilePrinter {
  /** Prints a log line (human output) or one JSON object. */
  event: (event: FileTransferEvent | { event: 'info'; message: string }) => void;
  /** Redraws the progress bar (a terminal only; nothing otherwise). */
  bar: (text: string) => void;
  /** Removes the bar (before the process ends). */
  clearBar: () => void;
  /** Reports a failed transfer: one line on stderr, `synack: ${prefix}message (code)` (and the event with --json). */
  error: (event: Extract<FileTransferEvent, { event: 'error' }>, prefix: string) => void;
}

/**
 * The printer both file commands use: `--json` writes every event as one line with `event` and
 * `ts` first; otherwise `human` turns events into log lines, and on a terminal a progress bar
 * is redrawn on stderr.
 *
 * @example
 * ```ts
 * const printer = createFilePrinter({ json: false }, (e) => (e.event === 'file' ? `got ${e.name}` : null));
 * events$.subscribe((e) => (e.event === 'progress' ? printer.bar(progressLine(e)) : printer.event(e)));
 * ```
 */
export function createFilePrinter(
  options: { json: boolean; out?: Writable; err?: Writable & { isTTY?: boolean; columns?: number } },
  human: (event: FileTransferEvent | { event: 'info'; message: string }) => string | null,
): FilePrinter {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const tty = Boolean(err.isTTY) && !options.json;
  let shown = false;
  const clearBar = () => {
    if (!shown) return;
    err.write('\r\x1b[K');
    shown = false;
  };
  const printer: FilePrinter = {
    event(event) {
      if (options.json) return void out.write(`${JSON.stringify(toJson(event))}\n`);
      const line = human(event);
      if (line === null) return;
      clearBar();
      out.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
    },
    bar(text) {
      if (!tty) return;
      const columns = err.columns ?? 100;
      err.write(`\r\x1b[K${text.length >= columns ? `${text.slice(0, columns - 2)}…` : text}`);
      shown = true;
    },
    clearBar,
    error(event, prefix) {
      clearBar();
      printer.event(event);
      err.write(`synack: ${prefix}${event.message} (${event.code})\n`);
    },
  };
  return printer;
}

function humanSend(event: FileTransferEvent | { event: 'info'; message: string }): string | null {
  switch (event.event) {
    case 'file': {
      const where = event.count !== undefined && event.count > 1 ? `[${event.index}/${event.count}] ` : '';
      const confirmed = event.verified ? 'the receiver confirmed the SHA-256' : 'unconfirmed: the receiver is a seed 002 (Qt) receiver';
      const resumed = event.resumedFrom > 0 ? `, continued from ${formatBytes(event.resumedFrom)}` : '';
      return `${where}sent ${event.name} (${formatBytes(event.bytes)}) to ${event.peer}${resumed}  sha256 ${event.sha256}  (${confirmed})`;
    }
    case 'resuming':
      return `${event.name}: the receiver already has ${formatBytes(event.offset)} of ${formatBytes(event.total)}, continuing from there`;
    case 'summary':
      return event.files > 1 || event.failed > 0
        ? `${event.files - event.failed} of ${event.files} files sent (${formatBytes(event.bytes)} in ${(event.ms / 1000).toFixed(1)} s)${event.failed ? `, ${event.failed} failed` : ''}`
        : null;
    case 'info':
      return event.message;
    default:
      return null;
  }
}

/**
 * `synack send-file`: sends files and folders, one connection each; exits 0 when every file was
 * delivered, 1 when one failed, 2 for bad usage.
 *
 * @example
 * ```ts
 * await sendFileCommand(['--host', '10.0.0.5', '--port', '9999', '--json', 'photos']);
 * ```
 */
export async function sendFileCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(
    'send-file',
    args,
    {
      ...INSPECT_OPTION,
      host: { type: 'string' },
      port: { type: 'string' },
      retry: { type: 'string' },
      'no-resume': { type: 'boolean' },
      'plain-name': { type: 'boolean' },
      'connect-timeout': { type: 'string' },
    },
    true,
  );
  if (values.help) return void process.stdout.write(`${SEND_FILE_HELP}\n`);
  const host = parseHost(values.host, '127.0.0.1');
  const port = parsePort(values.port, { allowZero: false });
  const attempts = parseCount(values.retry, '--retry') ?? 0;
  const connectTimeoutMs = parseCount(values['connect-timeout'], '--connect-timeout', { min: 1 });
  if (positionals.length === 0) throw new SynackError('E_USAGE', 'send-file: name at least one FILE or DIR to send');
  const json = values.json ?? false;
  const io = createIo({ json, hex: false, connectionStates: false });
  const printer = createFilePrinter({ json }, humanSend);

  const supervisor = new Supervisor();
  await withInspector(supervisor, values.inspect ?? false, io.print);
  const batch = sendFiles({
    supervisor,
    host,
    port,
    paths: positionals,
    retry: { attempts },
    resume: !values['no-resume'],
    plainName: values['plain-name'] ?? false,
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
  });
  batch.events$.subscribe((event) => {
    if (event.event === 'error') return printer.error(event, event.name ? `${event.name}: ` : '');
    if (event.event === 'progress') printer.bar(progressLine(event, process.stderr.columns));
    printer.event(event);
  });
  io.onSignal(() => void batch.cancel());
  const result = await batch.done.catch((error: unknown) => {
    io.fail(error);
    return null;
  });
  printer.clearBar();
  io.exit(result && result.failed.length === 0 ? 0 : 1);
}
