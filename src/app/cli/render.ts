import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { ClientInfo } from '../../machines/client-table.js';
import type { Framing } from '../../machines/connection.js';
import { frameText, QtFrameType } from '../../transport/qt-frame.js';
import { displayText, hexDump } from '../../transport/raw.js';
import type { SynackEvent } from '../events.js';
import { frameLabel, frameTypeName, wholeFrames } from '../frame-display.js';
import type { P2pEvent, PeerEntry } from '../p2p-events.js';
import { formatEndpoint } from '../../transport/socket-bridge.js';

type MessageEvent = Extract<SynackEvent, { event: 'message' }> & { path?: string };

/** What the CLI prints: the library's {@link SynackEvent}s (a `message` with where its media was saved) and its own. */
export type CliEvent =
  | Exclude<SynackEvent, { event: 'message' }>
  | MessageEvent
  | { event: 'clients'; clients: ClientInfo[] }
  | { event: 'interface'; name: string; family: string; address: string; cidr: string | null; internal: boolean }
  | { event: 'info'; message: string };

export interface RenderOptions {
  json: boolean;
  hex: boolean;
  color: boolean;
  /** In human output, show per-connection state changes (a client shows its own; a server hides its clients'). */
  connectionStates: boolean;
  /** With `qt`, what we send is shown as the frames it holds. */
  framing?: Framing;
}

/** Writes events as NDJSON (`--json`) or as a human log; returns the function that prints one. */
export function createRenderer(out: Writable, options: RenderOptions): (event: CliEvent) => void {
  if (options.json) return (event) => out.write(`${JSON.stringify(toJson(event, options.framing))}\n`);
  return (event) => {
    const line = human(event, options);
    if (line !== null) out.write(`${line}\n`);
  };
}

/** The `--json` form: `event` and `ts` first, buffers as `bytes` + `text` + `hex`. */
export function toJson(event: CliEvent, framing: Framing = 'raw'): Record<string, unknown> {
  const ts = Date.now();
  if (event.event === 'data' || event.event === 'sent') {
    const { chunk, event: name, ...rest } = event;
    const text = event.event === 'sent' && framing === 'qt' ? sentFramesText(chunk) : null;
    return { event: name, ts, ...rest, bytes: chunk.length, text: text ?? displayText(chunk), hex: chunk.toString('hex') };
  }
  if (event.event === 'message') {
    const { frame, event: name, ...rest } = event;
    const text = frame.type === QtFrameType.TEXT ? frameText(frame) : null;
    const body = text !== null ? { text } : { bytes: frame.data?.length ?? 0, sha256: sha256(frame.data) };
    return { event: name, ts, ...rest, type: frame.type, description: frame.description, ...body };
  }
  const { event: name, ...rest } = event;
  return { event: name, ts, ...rest };
}

const COLORS = { recv: '32', sent: '36', info: '90', warn: '33', error: '31' } as const;

type Paint = (kind: keyof typeof COLORS, text: string) => string;

const P2P_EVENTS = new Set<string>(['peers', 'joined', 'left', 'refused', 'registered', 'chat', 'chat-sent']);
const FILE_EVENTS = new Set<string>(['progress', 'file', 'resuming', 'summary']);

function human(event: CliEvent, options: RenderOptions): string | null {
  const paint: Paint = (kind, text) => (options.color ? `\x1b[${COLORS[kind]}m${text}\x1b[0m` : text);
  const time = paint('info', new Date().toISOString().slice(11, 23));
  if (P2P_EVENTS.has(event.event)) return `${time} ${p2pLine(event as P2pEvent, paint)}`;
  // The file commands print these with their progress bar (createFilePrinter).
  if (FILE_EVENTS.has(event.event)) return null;
  return coreLine(event as Exclude<CliEvent, P2pEvent | { event: 'progress' | 'file' | 'resuming' | 'summary' }>, time, paint, options);
}

function coreLine(
  event: Exclude<CliEvent, P2pEvent | { event: 'progress' | 'file' | 'resuming' | 'summary' }>,
  time: string,
  paint: Paint,
  options: RenderOptions,
): string | null {
  const clients = (n: number | undefined) => (n === undefined ? '' : ` (${n} client${n === 1 ? '' : 's'})`);
  switch (event.event) {
    case 'listening':
      return `${time} listening on ${formatEndpoint(event.host, event.port)}`;
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
    case 'message': {
      const { frame } = event;
      const text = frame.type === QtFrameType.TEXT ? frameText(frame) : null;
      const body =
        text !== null
          ? displayText(Buffer.from(text))
          : `[${frameTypeName(frame.type)} ${frame.data?.length ?? 0} B sha256 ${sha256(frame.data).slice(0, 16)}…]${event.path ? ` saved to ${event.path}` : ''}`;
      return `${time} ${paint('recv', `← ${event.id} ${event.peer}`)} ${body}`;
    }
    case 'heartbeat':
      if (!options.connectionStates) return null;
      return `${time} ${paint('info', `♥ ${event.direction}${event.missed ? ` (${event.missed} unanswered)` : ''}`)}`;
    case 'sent': {
      const text = options.framing === 'qt' && !options.hex ? sentFramesText(event.chunk) : null;
      return `${time} ${paint('sent', `→ ${event.id === '*' ? 'all' : event.id} ${event.peer}`)} ${text ?? payload(event.chunk, options.hex)}`;
    }
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

function peerList(peers: readonly PeerEntry[]): string {
  return peers.length === 0 ? 'none' : peers.map((p) => `${p.name}@${formatEndpoint(p.host, p.port)}`).join(', ');
}

/** A registry's or peer's own event, for people. */
function p2pLine(event: P2pEvent, paint: Paint): string {
  switch (event.event) {
    case 'peers':
      return `peers (${event.peers.length}): ${peerList(event.peers)}`;
    case 'joined':
      return `${paint('warn', `+ ${event.name}@${formatEndpoint(event.host, event.port)} joined from ${event.peer} (${event.link})`)} (${event.peers} registered)`;
    case 'left':
      return `${paint('warn', `- ${event.name}@${formatEndpoint(event.host, event.port)} left: ${event.reason}`)} (${event.peers} registered)`;
    case 'refused':
      return paint('error', `x ${event.link} ${event.peer} closed: ${event.message} (${event.code})`);
    case 'registered':
      return `registered as ${event.name}@${formatEndpoint(event.host, event.port)} with ${event.registry}`;
    case 'chat':
      return `${paint('recv', `← ${event.from}:`)} ${event.text}`;
    case 'chat-sent':
      return `${paint('sent', `→ ${event.to}:`)} ${event.text}`;
  }
}

/** SHA-256 of a frame's bytes, hex. */
export function sha256(bytes: Buffer | null): string {
  return createHash('sha256').update(bytes ?? Buffer.alloc(0)).digest('hex');
}

/** What a person reads for qt frames we sent: the text, or `[image N B]`; null if not whole frames. */
function sentFramesText(chunk: Buffer): string | null {
  return wholeFrames(chunk)?.map((frame) => frameLabel(frame)).join(' ') ?? null;
}

function payload(chunk: Buffer, hex: boolean): string {
  if (hex) return `${chunk.length} bytes\n${hexDump(chunk)}`;
  const text = displayText(chunk);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
