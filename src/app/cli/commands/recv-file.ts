import path from 'node:path';
import { SynackError } from '../../../errors.js';
import type { FileTransferEvent } from '../../file-events.js';
import { createFileReceiver } from '../../file-transfer.js';
import { withInspector } from '../../inspector/cli.js';
import { Supervisor } from '../../supervisor.js';
import { INSPECT_OPTION, parseCommandArgs, parseHost, parsePort } from '../args.js';
import { createIo } from '../io.js';
import { createFilePrinter, formatBytes, progressLine } from './send-file.js';
import { formatEndpoint } from '../../../transport/socket-bridge.js';

/** `synack recv-file --help`; its first line is the command's entry in `synack --help`. */
export const RECV_FILE_HELP = `synack recv-file --port P --out DIR [options]

Receive files the seed 002 way: each connection carries one file, saved in DIR under a safe
name (a synack sender's folders are kept inside DIR), written to NAME.part and renamed only
when every announced byte came. Transfers are served one after another or at once.

Options:
  --port P          port to listen on (0 = any free port)
  --host H          address to bind (default 127.0.0.1; 0.0.0.0 or :: for all)
  --out DIR         folder for received files (created if missing)
  --once            stop listening after the first transfer, like the Qt receiver
                    (exit status 1 if that transfer failed)
  --force           replace an existing file (default: save as "name (1).ext")
  --max-bytes N     refuse a file announced larger than N bytes, before writing anything
                    (suffixes K, M, G, T for KiB, MiB, GiB, TiB)
  --inspect         serve the live inspector on 127.0.0.1 and print its URL
  --json            one JSON event per line on stdout`;

/**
 * A size option in bytes, with optional binary suffixes; E_USAGE when it is not one.
 *
 * @example
 * ```ts
 * parseSize('512K', '--max-bytes'); // 524288
 * parseSize('1.5G', '--max-bytes'); // 1610612736
 * ```
 */
export function parseSize(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([kmgt])?(?:i?b)?$/i.exec(value.trim());
  const scale = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 } as Record<string, number>;
  const bytes = match ? Math.floor(Number(match[1]) * (match[2] ? scale[match[2].toLowerCase()]! : 1)) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || (match?.[2] === undefined && match?.[1]?.includes('.'))) {
    throw new SynackError('E_USAGE', `invalid ${option} '${value}': expected a number of bytes, e.g. 1048576 or 512M`);
  }
  return bytes;
}

function humanReceive(event: FileTransferEvent | { event: 'info'; message: string }): string | null {
  switch (event.event) {
    case 'listening':
      return `listening on ${formatEndpoint(event.host, event.port)}`;
    case 'connected':
      return `+ ${event.id} ${event.peer}`;
    case 'file': {
      const resumed = event.resumedFrom > 0 ? `, continued from ${formatBytes(event.resumedFrom)}` : '';
      return `received ${event.name} (${formatBytes(event.bytes)}) from ${event.peer} → ${event.path}${resumed}  sha256 ${event.sha256}`;
    }
    case 'resuming':
      return `${event.id} ${event.name}: already have ${formatBytes(event.offset)} of ${formatBytes(event.total)}, offered to continue`;
    case 'stopped':
      return 'stopped listening';
    case 'info':
      return event.message;
    default:
      return null;
  }
}

/**
 * `synack recv-file`: receives files until SIGINT/SIGTERM (exit 0), or with `--once` until the
 * first transfer ends (exit 0 if it was saved, 1 if not); 2 for bad usage.
 *
 * @example
 * ```ts
 * await recvFileCommand(['--port', '9999', '--out', './incoming', '--max-bytes', '2G']);
 * ```
 */
export async function recvFileCommand(args: string[]): Promise<void> {
  const { values } = parseCommandArgs('recv-file', args, {
    ...INSPECT_OPTION,
    port: { type: 'string' },
    host: { type: 'string' },
    out: { type: 'string' },
    once: { type: 'boolean' },
    force: { type: 'boolean' },
    'max-bytes': { type: 'string' },
  });
  if (values.help) return void process.stdout.write(`${RECV_FILE_HELP}\n`);
  const port = parsePort(values.port, { allowZero: true });
  const host = parseHost(values.host, '127.0.0.1');
  if (!values.out) throw new SynackError('E_USAGE', '--out is required: the folder received files go to');
  const outDir = path.resolve(values.out);
  const maxBytes = parseSize(values['max-bytes'], '--max-bytes');
  const once = values.once ?? false;
  const json = values.json ?? false;
  const io = createIo({ json, hex: false, connectionStates: false });
  const printer = createFilePrinter({ json }, humanReceive);

  const supervisor = new Supervisor();
  await withInspector(supervisor, values.inspect ?? false, io.print);
  const receiver = createFileReceiver({
    supervisor,
    port,
    host,
    outDir,
    once,
    force: values.force ?? false,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  });
  const active = new Map<string, Extract<FileTransferEvent, { event: 'progress' }>>();
  receiver.events$.subscribe((event) => {
    if (event.event === 'progress') {
      if (event.bytes >= event.total) active.delete(event.id);
      else active.set(event.id, event);
      const columns = Math.floor((process.stderr.columns ?? 100) / Math.max(1, active.size)) - 3;
      printer.bar([...active.values()].map((p) => progressLine(p, columns)).join(' | '));
      return printer.event(event);
    }
    if (event.event === 'file' || event.event === 'error') active.delete(event.id);
    if (event.event === 'error') return printer.error(event, `${event.id}${event.name ? ` ${event.name}` : ''}: `);
    printer.event(event);
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await receiver.close({ graceMs: 1_000 });
    printer.clearBar();
    io.exit(code);
  };
  io.onSignal(() => void stop(0));

  try {
    const bound = await receiver.listen();
    const where = bound.host.includes(':') ? `[${bound.host}]` : bound.host;
    if (!json) printer.event({ event: 'info', message: `saving to ${outDir}; send with: synack send-file --host ${where} --port ${bound.port} FILE` });
  } catch (error) {
    io.fail(error);
    await receiver.close();
    return io.exit(1);
  }
  if (once) {
    await receiver.closed;
    if (!stopping) {
      printer.clearBar();
      io.exit(receiver.received.length > 0 && receiver.failed.length === 0 ? 0 : 1);
    }
  }
}
