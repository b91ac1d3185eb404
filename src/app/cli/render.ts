import type { Writable } from 'node:stream';
import type { ClientInfo } from '../../machines/client-table.js';
import { displayText, hexDump } from '../../transport/raw.js';
import type { SynackEvent } from '../events.js';

/** Events only the CLI prints, beside the library's {@link SynackEvent}s. */
export type CliEvent =
  | SynackEvent
  | { event: 'clients'; clients: ClientInfo[] }
  | { event: 'interface'; name: string; family: string; address: string; cidr: string | null; internal: boolean }
  | { event: 'info'; message: string };

export interface RenderOptions {
  json: boolean;
  hex: boolean;
  color: boolean;
  /** In human output, show per-connection state changes (a client shows its own; a server hides its clients'). */
  connectionStates: boolean;
}

/** Writes events as NDJSON (`--json`) or as a human log; returns the function that prints one. */
export function createRenderer(out: Writable, options: RenderOptions): (event: CliEvent) => void {
  if (options.json) return (event) => out.write(`${JSON.stringify(toJson(event))}\n`);
  return (event) => {
    const line = human(event, options);
    if (line !== null) out.write(`${line}\n`);
  };
}

/** The `--json` form: `event` and `ts` first, buffers as `bytes` + `text` + `hex`. */
export function toJson(event: CliEvent): Record<string, unknown> {
  const ts = Date.now();
  if (event.event === 'data' || event.event === 'sent') {
    const { chunk, event: name, ...rest } = event;
    return { event: name, ts, ...rest, bytes: chunk.length, text: displayText(chunk), hex: chunk.toString('hex') };
  }
  const { event: name, ...rest } = event;
  return { event: name, ts, ...rest };
}

const COLORS = { recv: '32', sent: '36', info: '90', warn: '33', error: '31' } as const;

function human(event: CliEvent, options: RenderOptions): string | null {
  const paint = (kind: keyof typeof COLORS, text: string) => (options.color ? `\x1b[${COLORS[kind]}m${text}\x1b[0m` : text);
  const time = paint('info', new Date().toISOString().slice(11, 23));
  const clients = (n: number | undefined) => (n === undefined ? '' : ` (${n} client${n === 1 ? '' : 's'})`);
  switch (event.event) {
    case 'listening':
      return `${time} listening on ${event.host.includes(':') ? `[${event.host}]` : event.host}:${event.port}`;
    case 'stopped':
      return `${time} stopped listening`;
    case 'state':
      if (event.machine === 'connection' && !options.connectionStates) return null;
      return `${time} ${paint('info', `${event.actor} ${event.state}`)}`;
    case 'connected':
      return `${time} ${paint('warn', `+ ${event.id} ${event.peer} connected`)}${clients(event.clients)}`;
    case 'disconnected':
      return `${time} ${paint('warn', `- ${event.id} ${event.peer} disconnected: ${event.reason}${event.code ? ` (${event.code})` : ''}`)}${clients(event.clients)}`;
    case 'data':
      return `${time} ${paint('recv', `← ${event.id} ${event.peer}`)} ${payload(event.chunk, options.hex)}`;
    case 'sent':
      return `${time} ${paint('sent', `→ ${event.id === '*' ? 'all' : event.id} ${event.peer}`)} ${payload(event.chunk, options.hex)}`;
    case 'rejected':
      return `${time} ${paint('warn', `x ${event.peer} ${event.message}`)}`;
    case 'reconnecting':
      return `${time} ${paint('warn', `reconnecting: attempt ${event.attempt} in ${event.delayMs} ms`)}`;
    case 'error':
      return `${time} ${paint('error', `error ${event.code}: ${event.message}`)}`;
    case 'clients':
      if (event.clients.length === 0) return `${time} no clients`;
      return [
        `${time} ${event.clients.length} client${event.clients.length === 1 ? '' : 's'}:`,
        ...event.clients.map(
          (c) =>
            `  ${c.id.padEnd(6)} ${c.peer.padEnd(22)} ${c.state.padEnd(11)} in ${c.bytesIn} B/${c.messagesIn}  out ${c.bytesOut} B/${c.messagesOut}  since ${new Date(c.since).toISOString().slice(11, 19)}`,
        ),
      ].join('\n');
    case 'interface':
      return `${event.name.padEnd(12)} ${event.family.padEnd(5)} ${event.address.padEnd(40)} ${event.cidr ?? ''}${event.internal ? ' (loopback)' : ''}`;
    case 'info':
      return `${time} ${event.message}`;
  }
}

function payload(chunk: Buffer, hex: boolean): string {
  if (hex) return `${chunk.length} bytes\n${hexDump(chunk)}`;
  const text = displayText(chunk);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
