import type { Framing } from '../../machines/connection.js';
import { encodeQtFrameHead, qtFrameWireSize } from '../../transport/qt-frame.js';
import { displayText, hexDump } from '../../transport/raw.js';
import type { SynackEvent } from '../events.js';
import { frameLabel, wholeFrames } from '../frame-display.js';
import { formatEndpoint } from '../../transport/socket-bridge.js';

/** One line of a panel's log, as the page shows it. */
export interface LogEntry {
  /** Increases across all panels; the page ignores entries it has already seen. */
  seq: number;
  ts: number;
  /** `in` received, `out` sent, `event` connection events, `error` failures. */
  kind: 'in' | 'out' | 'event' | 'error';
  /** Who it came from or went to: `c1 127.0.0.1:50312`, `all (2 clients)`. */
  who?: string;
  text: string;
  /** A hex dump of the bytes on the wire (data only). */
  hex?: string;
  bytes?: number;
}

/** Shown bytes per entry: text is cut after this many bytes, the hex dump sooner. */
const TEXT_BYTES = 8 * 1024;
const HEX_BYTES = 1024;

function more(total: number, shown: number): string {
  return total > shown ? `\n… ${total - shown} more bytes` : '';
}

function textOf(chunk: Buffer): string {
  const text = displayText(chunk.subarray(0, TEXT_BYTES)) + more(chunk.length, TEXT_BYTES);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** A hex dump of the first bytes of `chunk`, which starts `total` bytes on the wire. */
function hexOf(chunk: Buffer, total = chunk.length): string {
  return hexDump(chunk.subarray(0, HEX_BYTES)) + more(total, HEX_BYTES);
}

/** What a chunk we sent says: its qt frames' text, else the bytes as text. */
function sentText(chunk: Buffer, framing: Framing): string {
  const frames = framing === 'qt' ? wholeFrames(chunk) : null;
  return frames ? frames.map((frame) => frameLabel(frame, TEXT_BYTES)).join('\n') : textOf(chunk);
}

type Draft = Omit<LogEntry, 'seq' | 'ts'>;

/**
 * Turns a server's or client's event into a log line, or null for events a log does not show
 * (state changes and heartbeats, which the badges show, and the file and P2P events, which
 * their own panels log). A client card's log (`scope` client)
 * leaves out who: it is always the card's own peer.
 *
 * @example
 * ```ts
 * describeEvent({ event: 'data', id: 'c1', peer: '127.0.0.1:5000', chunk: Buffer.from('hi\n') }, 'raw');
 * // { kind: 'in', who: 'c1 127.0.0.1:5000', text: 'hi', hex: '00000000  68 69 0a …', bytes: 3 }
 * ```
 */
export function describeEvent(event: SynackEvent, framing: Framing, scope: 'server' | 'client' = 'server'): Draft | null {
  const draft = describe(event, framing);
  if (!draft || scope === 'server') return draft;
  const { who: _who, ...rest } = draft;
  if (event.event === 'connected') return { ...rest, text: `connected to ${event.peer}` };
  if (event.event === 'disconnected') return { ...rest, text: `disconnected from ${event.peer}: ${event.reason}${event.code ? ` (${event.code})` : ''}` };
  return rest;
}

function describe(event: SynackEvent, framing: Framing): Draft | null {
  switch (event.event) {
    case 'data':
      return { kind: 'in', who: `${event.id} ${event.peer}`, text: textOf(event.chunk), hex: hexOf(event.chunk), bytes: event.chunk.length };
    case 'message': {
      const { frame } = event;
      const head = encodeQtFrameHead(frame);
      const start = frame.data ? Buffer.concat([head, frame.data.subarray(0, HEX_BYTES)]) : head;
      const bytes = qtFrameWireSize(frame);
      return { kind: 'in', who: `${event.id} ${event.peer}`, text: frameLabel(frame, TEXT_BYTES), hex: hexOf(start, bytes), bytes };
    }
    case 'sent': {
      const who = event.id === '*' ? `all (${event.peer})` : `${event.id} ${event.peer}`;
      return { kind: 'out', who, text: sentText(event.chunk, framing), hex: hexOf(event.chunk), bytes: event.chunk.length };
    }
    case 'listening':
      return { kind: 'event', text: `listening on ${formatEndpoint(event.host, event.port)}` };
    case 'stopped':
      return { kind: 'event', text: 'stopped listening' };
    case 'connected':
      return { kind: 'event', who: `${event.id} ${event.peer}`, text: `connected${event.clients === undefined ? '' : ` (${event.clients} client${event.clients === 1 ? '' : 's'})`}` };
    case 'disconnected':
      return {
        kind: 'event',
        who: `${event.id} ${event.peer}`,
        text: `disconnected: ${event.reason}${event.code ? ` (${event.code})` : ''}${event.clients === undefined ? '' : ` (${event.clients} client${event.clients === 1 ? '' : 's'})`}`,
      };
    case 'rejected':
      return { kind: 'error', who: event.peer, text: event.message };
    case 'reconnecting':
      return { kind: 'event', text: `retry ${event.attempt} in ${event.delayMs} ms` };
    case 'error':
      return { kind: 'error', text: `${event.code}: ${event.message}` };
    case 'heartbeat':
      return event.missed > 0 ? { kind: 'error', text: `heartbeat: ${event.missed} unanswered` } : null;
    default:
      return null;
  }
}

const ARROWS: Record<LogEntry['kind'], string> = { in: '<-', out: '->', event: '--', error: '!!' };

/**
 * A log as a text file: one entry per line (ISO time, direction, who, text), multi-line
 * payloads and hex dumps indented under it.
 *
 * @example
 * ```ts
 * formatLog(entries, 'text'); // '2024-05-01T10:00:00.000Z <- c1 127.0.0.1:5000  hi\n'
 * ```
 */
export function formatLog(entries: readonly LogEntry[], format: 'text' | 'hex'): string {
  return entries
    .map((e) => {
      const body = format === 'hex' && e.hex !== undefined ? `${e.bytes ?? 0} bytes\n${e.hex}` : e.text;
      const [first, ...rest] = body.split('\n');
      const head = `${new Date(e.ts).toISOString()} ${ARROWS[e.kind]} ${e.who ? `${e.who}  ` : ''}${first ?? ''}`;
      return [head, ...rest.map((line) => `    ${line}`)].join('\n') + '\n';
    })
    .join('');
}

/**
 * The logs of every panel (the server and each client card), each a ring of the last `limit`
 * entries, numbered by one sequence so a page can tell new entries from ones it has.
 *
 * @example
 * ```ts
 * const book = new LogBook(1000);
 * book.add('server', { kind: 'event', text: 'listening on 127.0.0.1:9000' });
 * book.entries('server');
 * ```
 */
export class LogBook {
  readonly limit: number;
  readonly #panels = new Map<string, LogEntry[]>();
  #seq = 0;

  constructor(limit = 2_000) {
    this.limit = limit;
  }

  add(panel: string, draft: Draft): LogEntry {
    const entry: LogEntry = { seq: ++this.#seq, ts: Date.now(), ...draft };
    let list = this.#panels.get(panel);
    if (!list) this.#panels.set(panel, (list = []));
    list.push(entry);
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
    return entry;
  }

  entries(panel: string): readonly LogEntry[] {
    return this.#panels.get(panel) ?? [];
  }

  clear(panel: string): void {
    this.#panels.set(panel, []);
  }

  drop(panel: string): void {
    this.#panels.delete(panel);
  }

  /** Every panel's entries, at most `last` each. */
  all(last = this.limit): Record<string, LogEntry[]> {
    const out: Record<string, LogEntry[]> = {};
    for (const [panel, list] of this.#panels) out[panel] = list.slice(-last);
    return out;
  }
}
