import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Framing } from '../../machines/connection.js';
import type { Eol } from '../../transport/raw.js';

/** The server panel's last settings. */
export interface ServerSettings {
  host: string;
  port: number;
  framing: Framing;
  relay: boolean;
  closeClientsOnStop: boolean;
}

/** The settings a new client card starts from. */
export interface ClientSettings {
  host: string;
  port: number;
  framing: Framing;
  /** qt framing: ping every this many ms; 0 = off. */
  heartbeatMs: number;
  maxMissed: number;
  /** Retries after a refused, lost or dead connection; 0 = none. */
  reconnect: number;
  connectTimeoutMs: number;
}

/** A host and port a client card connected to. */
export interface RecentTarget {
  host: string;
  port: number;
  framing: Framing;
}

/** The P2P tab's last settings: the registry it hosts and the peer it joins as. */
export interface P2pSettings {
  registryHost: string;
  registryPort: number;
  name: string;
  /** The registry to join, `host:port`. */
  join: string;
  chatHost: string;
  chatPort: number;
}

/** The Files tab's last settings: where it sends to, and where it receives into. */
export interface FilesSettings {
  sendHost: string;
  sendPort: number;
  host: string;
  port: number;
  /** The folder received files go to (`~` is the home folder). */
  dir: string;
  force: boolean;
}

/** What the web UI remembers between runs (`ui.json` in the user's config folder). */
export interface UiSettings {
  version: 1;
  server: ServerSettings;
  client: ClientSettings;
  p2p: P2pSettings;
  files: FilesSettings;
  send: { mode: 'text' | 'hex'; eol: Eol };
  view: { hex: boolean };
  /** Most recent first, at most {@link MAX_RECENT}. */
  recent: RecentTarget[];
}

export const MAX_RECENT = 10;

export const DEFAULT_SETTINGS: UiSettings = {
  version: 1,
  server: { host: '127.0.0.1', port: 9000, framing: 'raw', relay: false, closeClientsOnStop: true },
  client: { host: '127.0.0.1', port: 9000, framing: 'raw', heartbeatMs: 3_000, maxMissed: 3, reconnect: 0, connectTimeoutMs: 10_000 },
  p2p: { registryHost: '127.0.0.1', registryPort: 9100, name: '', join: '127.0.0.1:9100', chatHost: '0.0.0.0', chatPort: 0 },
  files: { sendHost: '127.0.0.1', sendPort: 9999, host: '127.0.0.1', port: 9999, dir: '~/Downloads/synack', force: false },
  send: { mode: 'text', eol: 'lf' },
  view: { hex: false },
  recent: [],
};

/**
 * Where the UI keeps its settings: `DIR/ui.json` for an explicit `configDir`, else
 * `$XDG_CONFIG_HOME/synack/ui.json`, else `~/.config/synack/ui.json`.
 *
 * @example
 * ```ts
 * settingsFile({ env: { XDG_CONFIG_HOME: '/tmp/cfg' } }); // '/tmp/cfg/synack/ui.json'
 * ```
 */
export function settingsFile(options: { configDir?: string; env?: NodeJS.ProcessEnv } = {}): string {
  if (options.configDir) return path.join(options.configDir, 'ui.json');
  const xdg = (options.env ?? process.env).XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config');
  return path.join(base, 'synack', 'ui.json');
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick<T>(value: unknown, fallback: T, valid: (v: unknown) => boolean): T {
  return valid(value) ? (value as T) : fallback;
}

const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isHost = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 255;
const isFraming = (v: unknown) => v === 'raw' || v === 'qt';
const isBool = (v: unknown) => typeof v === 'boolean';

/**
 * Settings read from a file, field by field: a missing or invalid field takes its default, so
 * a hand-edited file with one mistake keeps the rest.
 *
 * @example
 * ```ts
 * sanitizeSettings({ server: { port: 'x', framing: 'qt' } }).server; // { port: 9000, framing: 'qt', … }
 * ```
 */
export function sanitizeSettings(raw: unknown): UiSettings {
  const d = DEFAULT_SETTINGS;
  const root = isPlain(raw) ? raw : {};
  const server = isPlain(root.server) ? root.server : {};
  const client = isPlain(root.client) ? root.client : {};
  const p2p = isPlain(root.p2p) ? root.p2p : {};
  const files = isPlain(root.files) ? root.files : {};
  const send = isPlain(root.send) ? root.send : {};
  const view = isPlain(root.view) ? root.view : {};
  const recent = Array.isArray(root.recent) ? root.recent : [];
  return {
    version: 1,
    server: {
      host: pick(server.host, d.server.host, isHost),
      port: pick(server.port, d.server.port, isPort),
      framing: pick(server.framing, d.server.framing, isFraming),
      relay: pick(server.relay, d.server.relay, isBool),
      closeClientsOnStop: pick(server.closeClientsOnStop, d.server.closeClientsOnStop, isBool),
    },
    client: {
      host: pick(client.host, d.client.host, isHost),
      port: pick(client.port, d.client.port, isPort),
      framing: pick(client.framing, d.client.framing, isFraming),
      heartbeatMs: pick(client.heartbeatMs, d.client.heartbeatMs, isCount),
      maxMissed: pick(client.maxMissed, d.client.maxMissed, (v) => isCount(v) && (v as number) >= 1),
      reconnect: pick(client.reconnect, d.client.reconnect, isCount),
      connectTimeoutMs: pick(client.connectTimeoutMs, d.client.connectTimeoutMs, (v) => isCount(v) && (v as number) >= 1),
    },
    p2p: {
      registryHost: pick(p2p.registryHost, d.p2p.registryHost, isHost),
      registryPort: pick(p2p.registryPort, d.p2p.registryPort, isPort),
      name: pick(p2p.name, d.p2p.name, (v) => typeof v === 'string' && v.length <= 64),
      join: pick(p2p.join, d.p2p.join, isHost),
      chatHost: pick(p2p.chatHost, d.p2p.chatHost, isHost),
      chatPort: pick(p2p.chatPort, d.p2p.chatPort, isPort),
    },
    files: {
      sendHost: pick(files.sendHost, d.files.sendHost, isHost),
      sendPort: pick(files.sendPort, d.files.sendPort, (v) => isPort(v) && (v as number) > 0),
      host: pick(files.host, d.files.host, isHost),
      port: pick(files.port, d.files.port, isPort),
      dir: pick(files.dir, d.files.dir, (v) => typeof v === 'string' && v.length > 0 && v.length <= 1024),
      force: pick(files.force, d.files.force, isBool),
    },
    send: {
      mode: pick(send.mode, d.send.mode, (v) => v === 'text' || v === 'hex'),
      eol: pick(send.eol, d.send.eol, (v) => v === 'none' || v === 'lf' || v === 'crlf'),
    },
    view: { hex: pick(view.hex, d.view.hex, isBool) },
    recent: recent
      .filter((r): r is Plain => isPlain(r) && isHost(r.host) && isPort(r.port) && (r.port as number) > 0)
      .slice(0, MAX_RECENT)
      .map((r) => ({ host: r.host as string, port: r.port as number, framing: pick(r.framing, 'raw' as Framing, isFraming) })),
  };
}

/** `recent` with `target` moved (or added) to the front, at most {@link MAX_RECENT} long. */
export function withRecent(recent: RecentTarget[], target: RecentTarget): RecentTarget[] {
  const same = (r: RecentTarget) => r.host === target.host && r.port === target.port && r.framing === target.framing;
  return [target, ...recent.filter((r) => !same(r))].slice(0, MAX_RECENT);
}

/**
 * The UI's settings file: loaded once, then rewritten after each change, one write at a time,
 * through a temporary file and a rename so a crash never leaves half a file. A file that cannot
 * be read or parsed gives the defaults and a `problem` the UI shows; a failed write is kept in
 * `problem` too (settings are a convenience, never a reason to stop).
 *
 * @example
 * ```ts
 * const store = await SettingsStore.open(settingsFile());
 * await store.update((s) => ({ ...s, view: { hex: true } }));
 * ```
 */
export class SettingsStore {
  readonly file: string;
  #settings: UiSettings;
  #writing: Promise<void> = Promise.resolve();
  #problem: string | null;

  private constructor(file: string, settings: UiSettings, problem: string | null) {
    this.file = file;
    this.#settings = settings;
    this.#problem = problem;
  }

  /** Reads `file` (a missing file is not a problem: the defaults apply). */
  static async open(file: string): Promise<SettingsStore> {
    try {
      const text = await readFile(file, 'utf8');
      return new SettingsStore(file, sanitizeSettings(JSON.parse(text)), null);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      const problem = missing ? null : `could not read ${file} (${(error as Error).message}); using defaults`;
      return new SettingsStore(file, structuredClone(DEFAULT_SETTINGS), problem);
    }
  }

  get(): UiSettings {
    return this.#settings;
  }

  /** The last read or write failure, or null. */
  get problem(): string | null {
    return this.#problem;
  }

  /** Applies `change` and writes the file; resolves once written (or the write failed). */
  update(change: (settings: UiSettings) => UiSettings): Promise<void> {
    this.#settings = sanitizeSettings(change(structuredClone(this.#settings)));
    const snapshot = `${JSON.stringify(this.#settings, null, 2)}\n`;
    this.#writing = this.#writing.then(() => this.#write(snapshot));
    return this.#writing;
  }

  /** Resolves when every write asked for so far has finished. */
  flush(): Promise<void> {
    return this.#writing;
  }

  async #write(text: string): Promise<void> {
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, this.file);
      this.#problem = null;
    } catch (error) {
      this.#problem = `could not save settings to ${this.file}: ${(error as Error).message}`;
    }
  }
}
