import { SynackError } from '../../errors.js';
import type { Framing } from '../../machines/connection.js';
import type { Eol } from '../../transport/raw.js';
import { parseHost } from '../cli/args.js';
import type { ClientSettings } from './settings.js';

/** How a send box's text becomes bytes: UTF-8 text (with a line ending in raw framing) or hex digits. */
export interface Payload {
  data: string;
  mode: 'text' | 'hex';
  eol: Eol;
}

/** What the page asks the UI to do (POST /api/command, JSON). */
export type UiCommand =
  | { type: 'server.start'; host: string; port: number; framing: Framing; relay: boolean }
  | { type: 'server.stop'; closeClients: boolean }
  | ({ type: 'server.send'; to: 'all' | string[] } & Payload)
  | { type: 'server.disconnect'; id: string }
  | ({
      type: 'client.add';
      /** Connect at once (the page's Connect button adds a card and dials). */
      connect: boolean;
    } & ClientSettings)
  | { type: 'client.connect'; id: string }
  | { type: 'client.disconnect'; id: string }
  | { type: 'client.remove'; id: string }
  | ({ type: 'client.send'; id: string } & Payload)
  | { type: 'registry.start'; host: string; port: number }
  | { type: 'registry.stop' }
  | { type: 'peer.join'; name: string; registry: string; host: string; port: number }
  | { type: 'peer.leave' }
  | { type: 'peer.send'; to: string; text: string }
  | { type: 'files.receive'; host: string; port: number; dir: string; force: boolean }
  | { type: 'files.stop' }
  | { type: 'files.send'; upload: string; host: string; port: number }
  | { type: 'files.cancel'; id: string }
  | { type: 'files.clear' }
  | { type: 'log.clear'; panel: string }
  | { type: 'view.set'; hex?: boolean; mode?: 'text' | 'hex'; eol?: Eol };

/** Largest send-box text accepted, in characters. */
export const MAX_PAYLOAD_CHARS = 512 * 1024;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A command the page should not have sent: E_USAGE, whose message the page shows. */
export function usage(message: string): SynackError {
  return new SynackError('E_USAGE', message);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Reads one command's fields, each checked; every field must be known. */
class Fields {
  readonly #body: Record<string, unknown>;
  readonly #seen = new Set<string>(['type']);

  constructor(body: Record<string, unknown>) {
    this.#body = body;
  }

  #get(name: string): unknown {
    this.#seen.add(name);
    return this.#body[name];
  }

  string(name: string, options: { max?: number; optional?: boolean } = {}): string {
    const value = this.#get(name);
    if (typeof value !== 'string') throw usage(`${name}: expected text, got ${show(value)}`);
    if (value.length > (options.max ?? 256)) throw usage(`${name}: too long (${value.length} characters, at most ${options.max ?? 256})`);
    return value;
  }

  id(name = 'id'): string {
    const value = this.string(name, { max: 64 });
    if (!ID.test(value)) throw usage(`${name}: ${show(value)} is not an id`);
    return value;
  }

  integer(name: string, min: number, max: number, fallback?: number, what = `a whole number from ${min} to ${max}`): number {
    const value = this.#get(name);
    if (value === undefined && fallback !== undefined) return fallback;
    const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw usage(`${name}: expected ${what}, got ${show(value)}`);
    return n;
  }

  boolean(name: string, fallback?: boolean): boolean {
    const value = this.#get(name);
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'boolean') throw usage(`${name}: expected true or false, got ${show(value)}`);
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T {
    const value = this.#get(name);
    if (value === undefined && fallback !== undefined) return fallback;
    if (!values.includes(value as T)) throw usage(`${name}: expected ${values.join(' or ')}, got ${show(value)}`);
    return value as T;
  }

  has(name: string): boolean {
    return this.#body[name] !== undefined;
  }

  host(name: string): string {
    const value = this.string(name, { max: 255 }).trim();
    try {
      return parseHost(value);
    } catch {
      throw usage(`${name}: expected an IP address or a host name, got ${show(value)}`);
    }
  }

  /** `"all"` or a non-empty list of ids (duplicates dropped). */
  target(name: string): 'all' | string[] {
    const value = this.#get(name);
    if (value === 'all') return 'all';
    if (Array.isArray(value) && value.length > 0 && value.length <= 10_000 && value.every((id) => typeof id === 'string' && ID.test(id))) {
      return [...new Set(value as string[])];
    }
    throw usage(`${name}: expected "all" or a list of client ids, got ${show(value)}`);
  }

  payload(): Payload {
    const mode = this.oneOf('mode', ['text', 'hex'] as const, 'text');
    const eol = this.oneOf('eol', ['none', 'lf', 'crlf'] as const, 'lf');
    const data = this.string('data', { max: MAX_PAYLOAD_CHARS });
    return { data, mode, eol };
  }

  done(): void {
    const unknown = Object.keys(this.#body).filter((key) => !this.#seen.has(key));
    if (unknown.length > 0) throw usage(`unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  }
}

const FRAMINGS = ['raw', 'qt'] as const;

/**
 * Checks a command sent by the page and returns it typed; anything else (an unknown type, a
 * missing or malformed field, a field that does not belong) throws `E_USAGE` with a message
 * that names the field, for the page to show.
 *
 * @example
 * ```ts
 * parseCommand({ type: 'server.start', host: '127.0.0.1', port: 9000, framing: 'raw', relay: false });
 * parseCommand({ type: 'server.start', port: 70000 }); // throws E_USAGE "host: expected text, got undefined"
 * ```
 */
export function parseCommand(body: unknown): UiCommand {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw usage('expected a JSON object with a "type"');
  const f = new Fields(body as Record<string, unknown>);
  const type = (body as { type?: unknown }).type;
  let command: UiCommand;
  switch (type) {
    case 'server.start': {
      const host = f.string('host', { max: 64 });
      const port = f.integer('port', 0, 65535, undefined, 'a port from 0 (any free port) to 65535');
      const framing = f.oneOf('framing', FRAMINGS, 'raw');
      const relay = f.boolean('relay', false);
      if (relay && framing !== 'qt') throw usage('relay: needs qt framing (raw bytes have no message boundaries to relay)');
      command = { type, host, port, framing, relay };
      break;
    }
    case 'server.stop':
      command = { type, closeClients: f.boolean('closeClients', true) };
      break;
    case 'server.send':
      command = { type, to: f.target('to'), ...f.payload() };
      break;
    case 'server.disconnect':
      command = { type, id: f.id() };
      break;
    case 'client.add': {
      const host = f.host('host');
      const port = f.integer('port', 1, 65535, undefined, 'a port from 1 to 65535');
      const framing = f.oneOf('framing', FRAMINGS, 'raw');
      const heartbeatMs = f.integer('heartbeatMs', 0, 3_600_000, framing === 'qt' ? 3_000 : 0, 'a number of ms from 0 (off) to 3600000');
      if (heartbeatMs > 0 && framing !== 'qt') throw usage('heartbeatMs: heartbeats need qt framing (use 0 with raw)');
      if (heartbeatMs > 0 && heartbeatMs < 100) throw usage(`heartbeatMs: ${heartbeatMs} ms is too often (at least 100, or 0 for off)`);
      const maxMissed = f.integer('maxMissed', 1, 1_000, 3);
      const reconnect = f.integer('reconnect', 0, 1_000_000, 0);
      const connectTimeoutMs = f.integer('connectTimeoutMs', 100, 600_000, 10_000, 'a number of ms from 100 to 600000');
      const connect = f.boolean('connect', false);
      command = { type, host, port, framing, heartbeatMs, maxMissed, reconnect, connectTimeoutMs, connect };
      break;
    }
    case 'client.connect':
    case 'client.disconnect':
    case 'client.remove':
      command = { type, id: f.id() };
      break;
    case 'client.send':
      command = { type, id: f.id(), ...f.payload() };
      break;
    case 'registry.start':
      command = { type, host: f.string('host', { max: 64 }), port: f.integer('port', 0, 65535, undefined, 'a port from 0 (any free port) to 65535') };
      break;
    case 'registry.stop':
    case 'peer.leave':
      command = { type };
      break;
    case 'peer.join':
      command = {
        type,
        name: f.string('name', { max: 64 }).trim(),
        registry: f.string('registry', { max: 300 }),
        host: f.string('host', { max: 64 }),
        port: f.integer('port', 0, 65535, 0, 'a port from 0 (any free port) to 65535'),
      };
      if (command.name === '') throw usage('name: type the name to join under');
      break;
    case 'peer.send': {
      const to = f.string('to', { max: 64 });
      const text = f.string('text', { max: 64 * 1024 });
      if (text === '') throw usage('nothing to send: the message is empty');
      command = { type, to, text };
      break;
    }
    case 'files.receive': {
      const host = f.string('host', { max: 64 });
      const port = f.integer('port', 0, 65535, undefined, 'a port from 0 (any free port) to 65535');
      const dir = f.string('dir', { max: 1024 });
      if (dir.trim() === '') throw usage('dir: type the folder to receive into');
      command = { type, host, port, dir, force: f.boolean('force', false) };
      break;
    }
    case 'files.stop':
    case 'files.clear':
      command = { type };
      break;
    case 'files.send':
      command = { type, upload: f.id('upload'), host: f.host('host'), port: f.integer('port', 1, 65535, undefined, 'a port from 1 to 65535') };
      break;
    case 'files.cancel':
      command = { type, id: f.id() };
      break;
    case 'log.clear':
      command = { type, panel: f.id('panel') };
      break;
    case 'view.set': {
      const view: Extract<UiCommand, { type: 'view.set' }> = { type };
      if (f.has('hex')) view.hex = f.boolean('hex');
      if (f.has('mode')) view.mode = f.oneOf('mode', ['text', 'hex'] as const);
      if (f.has('eol')) view.eol = f.oneOf('eol', ['none', 'lf', 'crlf'] as const);
      command = view;
      break;
    }
    default:
      throw usage(`unknown command ${show(type)}`);
  }
  f.done();
  return command;
}
