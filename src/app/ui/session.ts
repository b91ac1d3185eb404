import { Observable, type Subscriber, type Subscription } from 'rxjs';
import { SynackError, type SynackErrorInfo } from '../../errors.js';
import type { ClientInfo } from '../../machines/client-table.js';
import { connectionState, type ConnectionSnapshot, type ConnectionStateName, type Framing } from '../../machines/connection.js';
import { listenerState, type ListenerStateName } from '../../machines/listener.js';
import { listInterfaces, type InterfaceAddress } from '../../transport/interfaces.js';
import { encodeQtFrame, textFrame } from '../../transport/qt-frame.js';
import { encodeRawLine, parseHex } from '../../transport/raw.js';
import { createClient, type Client } from '../client.js';
import { createServer, type Server } from '../server.js';
import { Supervisor } from '../supervisor.js';
import { usage, type Payload, type UiCommand } from './commands.js';
import { describeEvent, LogBook, type LogEntry } from './log.js';
import { FILES_PANEL, FilesPanel, type FilesView } from './files.js';
import { P2P_PANELS, P2pPanel, type P2pView } from './p2p.js';
import { withRecent, type ClientSettings, type SettingsStore, type UiSettings } from './settings.js';

/** One choice of the server panel's interface drop-down. */
export interface InterfaceOption {
  /** What to bind: an address (`fe80::1%eth0` for a link-local one), `0.0.0.0` or `::`. */
  value: string;
  label: string;
  family: 'IPv4' | 'IPv6';
}

/** What the server panel was started with. */
export interface ServerConfig {
  host: string;
  port: number;
  framing: Framing;
  relay: boolean;
}

/** One row of the server's client list, with what its connection machine allows now. */
export interface ClientRow extends ClientInfo {
  canSend: boolean;
  canClose: boolean;
}

/** The server panel, read from the listener actor and its client table. */
export interface ServerView {
  id: string | null;
  state: ListenerStateName;
  config: ServerConfig | null;
  address: string | null;
  lastError: SynackErrorInfo | null;
  clients: ClientRow[];
  accepted: number;
  rejected: number;
  /** Which buttons the listener's state enables (`snapshot.can(…)`). */
  can: { start: boolean; stop: boolean; send: boolean };
}

/** What a client card was created with: the settings the page keeps (see {@link ClientSettings}). */
export type ClientConfig = ClientSettings;

/** A client card, read from its connection actor. */
export interface ClientCardView {
  id: string;
  config: ClientConfig;
  state: ConnectionStateName;
  /** The state with the retry count where it matters: `RETRY_WAIT 2/5`. */
  badge: string;
  retries: number;
  attempts: number;
  retryDelayMs: number;
  peer: string | null;
  local: string | null;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  establishedAt: number | null;
  closeReason: string | null;
  lastError: SynackErrorInfo | null;
  /** The last states it went through, oldest first, so short-lived ones are seen too. */
  history: { badge: string; ts: number }[];
  can: { connect: boolean; disconnect: boolean; send: boolean };
}

/** Panels that appear only when their feature is available in this build. */
export interface UiFeatures {
  files: boolean;
  p2p: boolean;
}

/** What the page receives on its live channel. */
export type UiMessage =
  | {
      type: 'snapshot';
      interfaces: InterfaceOption[];
      settings: UiSettings;
      settingsProblem: string | null;
      server: ServerView;
      clients: ClientCardView[];
      p2p: P2pView;
      files: FilesView;
      logs: Record<string, LogEntry[]>;
      features: UiFeatures;
    }
  | {
      type: 'update';
      server?: ServerView;
      clients?: ClientCardView[];
      removed?: string[];
      p2p?: P2pView;
      files?: FilesView;
      logs?: Record<string, LogEntry[]>;
      cleared?: string[];
      settings?: UiSettings;
    };

export interface UiSessionOptions {
  settings: SettingsStore;
  /** Runs every server and client; made (and shut down with the session) if not given. */
  supervisor?: Supervisor;
  /** The local interfaces; default {@link listInterfaces}. */
  interfaces?: () => InterfaceAddress[];
  /** Changes are sent at most this often. Default 50 ms. */
  flushMs?: number;
  /** Entries kept per panel (and offered by "Save log"). Default 2000. */
  logLimit?: number;
  /** Client cards at most. Default 32. */
  maxClients?: number;
  /** Largest file the page may hand over for sending. Default 4 GiB. */
  maxUploadBytes?: number;
}

const HISTORY = 12;
const PAGE_LOG = 1_000;
const OPEN: readonly ConnectionStateName[] = ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK'];
const NO_DATA = Buffer.alloc(0);

interface ServerSlot {
  server: Server;
  config: ServerConfig;
  subscriptions: Subscription[];
}

interface Card {
  id: string;
  config: ClientConfig;
  client: Client;
  history: { badge: string; ts: number }[];
  subscriptions: Subscription[];
}

/**
 * The interface drop-down: every local address (loopback first), then the wildcards.
 *
 * @example
 * ```ts
 * interfaceOptions(listInterfaces())[0]; // { value: '127.0.0.1', label: 'lo · 127.0.0.1 (loopback)', family: 'IPv4' }
 * ```
 */
export function interfaceOptions(addresses: InterfaceAddress[]): InterfaceOption[] {
  const options: InterfaceOption[] = addresses.map((a) => ({
    value: a.family === 'IPv6' && a.scopeId ? `${a.address}%${a.name}` : a.address,
    label: `${a.name} · ${a.address}${a.internal ? ' (loopback)' : ''}`,
    family: a.family,
  }));
  options.push({ value: '0.0.0.0', label: 'all IPv4 interfaces · 0.0.0.0', family: 'IPv4' });
  options.push({ value: '::', label: 'all interfaces · :: (IPv6 and IPv4)', family: 'IPv6' });
  return options;
}

/**
 * The bytes a send box's text stands for: hex digits as they are (unframed, in either framing,
 * to poke a peer's parser), else a qt text frame, else UTF-8 text with its line ending.
 *
 * @example
 * ```ts
 * encodePayload({ data: 'hi', mode: 'text', eol: 'crlf' }, 'raw'); // <68 69 0d 0a>
 * ```
 */
export function encodePayload(payload: Payload, framing: Framing): Buffer {
  if (payload.mode === 'hex') {
    const bytes = parseHex(payload.data);
    if (bytes.length === 0) throw usage('nothing to send: type hex bytes, e.g. 48 65 6c 6c 6f');
    return bytes;
  }
  if (framing === 'qt') return encodeQtFrame(textFrame(payload.data));
  const bytes = encodeRawLine(payload.data, { eol: payload.eol });
  if (bytes.length === 0) throw usage('nothing to send: the text is empty and the line ending is none');
  return bytes;
}

/** `RETRY_WAIT 2/5` while retrying, else the state's name. */
export function badgeOf(state: ConnectionStateName, retries: number, attempts: number): string {
  if (state === 'RETRY_WAIT' || (state === 'SYN_SENT' && retries > 0)) return `${state} ${retries}/${attempts}`;
  return state;
}

/**
 * The web UI's working part: a server panel and client cards run as actors under one
 * {@link Supervisor}, page commands turned into machine events, and the model the page shows
 * (read from machine snapshots: states, counters, what `snapshot.can(…)` allows) streamed on
 * {@link updates$}, at most once per `flushMs`. The HTTP layer only carries it.
 *
 * @example
 * ```ts
 * const session = new UiSession({ settings: await SettingsStore.open(settingsFile()) });
 * session.updates$.subscribe((message) => console.log(message.type)); // snapshot, update, …
 * await session.run({ type: 'server.start', host: '127.0.0.1', port: 9000, framing: 'raw', relay: false });
 * await session.close();
 * ```
 */
export class UiSession {
  readonly supervisor: Supervisor;
  readonly settings: SettingsStore;
  /** A `snapshot` for each new subscriber, then `update`s with what changed. */
  readonly updates$: Observable<UiMessage>;
  readonly #ownsSupervisor: boolean;
  readonly #interfaces: () => InterfaceAddress[];
  readonly #flushMs: number;
  readonly #maxClients: number;
  readonly #book: LogBook;
  readonly #cards = new Map<string, Card>();
  readonly #subscribers = new Set<Subscriber<UiMessage>>();
  readonly #supervisorErrors: Subscription;
  readonly #p2p: P2pPanel;
  /** The Files tab: uploads from the page are handed to it (`POST /api/upload`). */
  readonly files: FilesPanel;
  #slot: ServerSlot | undefined;
  #serverSeq = 0;
  #clientSeq = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #dirtyServer = false;
  #dirtyP2p = false;
  #dirtyFiles = false;
  #dirtySettings = false;
  readonly #dirtyCards = new Set<string>();
  readonly #removed = new Set<string>();
  readonly #cleared = new Set<string>();
  readonly #pendingLogs = new Map<string, LogEntry[]>();

  constructor(options: UiSessionOptions) {
    this.#ownsSupervisor = !options.supervisor;
    this.supervisor = options.supervisor ?? new Supervisor();
    this.settings = options.settings;
    this.#interfaces = options.interfaces ?? (() => listInterfaces());
    this.#flushMs = options.flushMs ?? 50;
    this.#maxClients = options.maxClients ?? 32;
    this.#book = new LogBook(options.logLimit ?? 2_000);
    this.#p2p = new P2pPanel({
      supervisor: this.supervisor,
      bindable: () => this.interfaces().map((option) => option.value),
      log: (panel, draft) => this.#log(panel, draft),
      changed: () => {
        this.#dirtyP2p = true;
        this.#schedule();
      },
    });
    this.files = new FilesPanel({
      supervisor: this.supervisor,
      bindable: () => this.interfaces().map((option) => option.value),
      log: (panel, draft) => this.#log(panel, draft),
      changed: () => {
        this.#dirtyFiles = true;
        this.#schedule();
      },
      ...(options.maxUploadBytes !== undefined ? { maxUploadBytes: options.maxUploadBytes } : {}),
    });
    this.#supervisorErrors = this.supervisor.errors$.subscribe((error) => this.#log('server', { kind: 'error', text: `${error.code}: ${error.message}` }));
    this.updates$ = new Observable<UiMessage>((subscriber) => {
      if (this.#closed) return subscriber.complete();
      this.#subscribers.add(subscriber);
      subscriber.next(this.snapshot());
      return () => {
        this.#subscribers.delete(subscriber);
        if (this.#subscribers.size === 0) this.#discardPending();
      };
    });
  }

  /** The whole model, as a newly opened page receives it. */
  snapshot(): Extract<UiMessage, { type: 'snapshot' }> {
    return {
      type: 'snapshot',
      interfaces: this.interfaces(),
      settings: this.settings.get(),
      settingsProblem: this.settings.problem,
      server: this.serverView(),
      clients: [...this.#cards.values()].map((card) => this.#cardView(card)),
      p2p: this.#p2p.view(),
      files: this.files.view(),
      logs: this.#book.all(PAGE_LOG),
      features: { files: true, p2p: true },
    };
  }

  interfaces(): InterfaceOption[] {
    return interfaceOptions(this.#interfaces());
  }

  #hasPanel(panel: string): boolean {
    return panel === 'server' || panel === P2P_PANELS.registry || panel === P2P_PANELS.peer || panel === FILES_PANEL || this.#cards.has(panel);
  }

  /** A panel's log (`server`, `files`, `registry`, `p2p` or a client card's id), for "Save log". */
  log(panel: string): readonly LogEntry[] {
    if (!this.#hasPanel(panel)) throw usage(`no panel ${panel}`);
    return this.#book.entries(panel);
  }

  serverView(): ServerView {
    const slot = this.#slot;
    if (!slot) {
      return { id: null, state: 'STOPPED', config: null, address: null, lastError: null, clients: [], accepted: 0, rejected: 0, can: { start: true, stop: false, send: false } };
    }
    const snapshot = slot.server.listener.getSnapshot();
    const { context } = snapshot;
    const clients = slot.server.list().map((info) => {
      const connection = slot.server.clients.get(info.id)?.getSnapshot();
      return {
        ...info,
        canSend: connection?.can({ type: 'USER.SEND', data: NO_DATA }) ?? false,
        canClose: connection?.can({ type: 'USER.CLOSE' }) ?? false,
      };
    });
    return {
      id: slot.server.id,
      state: listenerState(snapshot),
      config: slot.config,
      address: context.address,
      lastError: context.lastError,
      clients,
      accepted: context.accepted,
      rejected: context.rejected,
      can: {
        start: snapshot.can({ type: 'USER.LISTEN' }),
        stop: snapshot.can({ type: 'USER.STOP' }),
        send: clients.some((c) => c.canSend),
      },
    };
  }

  #cardView(card: Card): ClientCardView {
    const snapshot: ConnectionSnapshot = card.client.connection.getSnapshot();
    const c = snapshot.context;
    const state = connectionState(snapshot);
    return {
      id: card.id,
      config: card.config,
      state,
      badge: badgeOf(state, c.retries, c.config.retry.attempts),
      retries: c.retries,
      attempts: c.config.retry.attempts,
      retryDelayMs: c.retryDelayMs,
      peer: c.peer ?? null,
      local: c.local ?? null,
      bytesIn: c.stats.bytesIn,
      bytesOut: c.stats.bytesOut,
      messagesIn: c.stats.messagesIn,
      messagesOut: c.stats.messagesOut,
      establishedAt: OPEN.includes(state) && state !== 'SYN_SENT' ? c.establishedAt : null,
      closeReason: c.closeReason,
      lastError: c.lastError,
      history: [...card.history],
      can: {
        connect: snapshot.can({ type: 'USER.CONNECT' }),
        disconnect: snapshot.can({ type: 'USER.CLOSE' }),
        send: snapshot.can({ type: 'USER.SEND', data: NO_DATA }),
      },
    };
  }

  /** Carries out a command the page sent (already checked by `parseCommand`); resolves with its result. */
  async run(command: UiCommand): Promise<Record<string, unknown>> {
    if (this.#closed) throw new SynackError('E_USAGE', 'the UI is shutting down');
    switch (command.type) {
      case 'server.start':
        return this.#startServer(command);
      case 'server.stop': {
        const slot = this.#slot;
        if (!slot || !slot.server.listener.getSnapshot().can({ type: 'USER.STOP' })) throw usage('the server is not listening');
        void this.#remember((s) => ({ ...s, server: { ...s.server, closeClientsOnStop: command.closeClients } }));
        await slot.server.stop({ closeClients: command.closeClients });
        return { state: listenerState(slot.server.listener.getSnapshot()) };
      }
      case 'server.send': {
        const slot = this.#requireServer();
        const data = encodePayload(command, slot.config.framing);
        if (command.to === 'all') {
          const sent = slot.server.broadcast(data);
          if (sent === 0) throw new SynackError('E_NOT_CONNECTED', 'no clients to send to');
          return { sent };
        }
        const gone = command.to.filter((id) => !slot.server.clients.get(id));
        if (gone.length > 0) throw usage(`no client ${gone.join(', ')} (disconnected?)`);
        for (const id of command.to) slot.server.send(id, data);
        return { sent: command.to.length };
      }
      case 'server.disconnect':
        if (!this.#requireServer().server.disconnect(command.id)) throw usage(`no client ${command.id} (disconnected?)`);
        return {};
      case 'client.add':
        return this.#addClient(command);
      case 'client.connect': {
        const card = this.#card(command.id);
        const snapshot = card.client.connection.getSnapshot();
        if (!snapshot.can({ type: 'USER.CONNECT' })) throw usage(`${card.id} is ${connectionState(snapshot)}: disconnect it first`);
        card.client.connect().catch(() => {});
        return {};
      }
      case 'client.disconnect': {
        const card = this.#card(command.id);
        const snapshot = card.client.connection.getSnapshot();
        if (!snapshot.can({ type: 'USER.CLOSE' })) throw usage(`${card.id} is ${connectionState(snapshot)}: not connected`);
        card.client.connection.send({ type: 'USER.CLOSE' });
        return {};
      }
      case 'client.remove': {
        const card = this.#card(command.id);
        this.#cards.delete(card.id);
        await this.#disposeCard(card);
        this.#book.drop(card.id);
        this.#removed.add(card.id);
        this.#dirtyCards.delete(card.id);
        this.#pendingLogs.delete(card.id);
        this.#schedule();
        return {};
      }
      case 'client.send': {
        const card = this.#card(command.id);
        const sent = card.client.send(encodePayload(command, card.config.framing));
        return { writable: sent };
      }
      case 'registry.start':
        void this.#remember((s) => ({ ...s, p2p: { ...s.p2p, registryHost: command.host, registryPort: command.port } }));
        return this.#p2p.run(command);
      case 'peer.join':
        void this.#remember((s) => ({ ...s, p2p: { ...s.p2p, name: command.name, join: command.registry, chatHost: command.host, chatPort: command.port } }));
        return this.#p2p.run(command);
      case 'registry.stop':
      case 'peer.leave':
      case 'peer.send':
        return this.#p2p.run(command);
      case 'files.receive':
        void this.#remember((s) => ({ ...s, files: { ...s.files, host: command.host, port: command.port, dir: command.dir, force: command.force } }));
        return this.files.run(command);
      case 'files.send':
        void this.#remember((s) => ({ ...s, files: { ...s.files, sendHost: command.host, sendPort: command.port } }));
        return this.files.run(command);
      case 'files.stop':
      case 'files.cancel':
      case 'files.clear':
        return this.files.run(command);
      case 'log.clear':
        if (!this.#hasPanel(command.panel)) throw usage(`no panel ${command.panel}`);
        this.#book.clear(command.panel);
        this.#pendingLogs.delete(command.panel);
        this.#cleared.add(command.panel);
        this.#schedule();
        return {};
      case 'view.set':
        await this.#remember((s) => ({
          ...s,
          view: { hex: command.hex ?? s.view.hex },
          send: { mode: command.mode ?? s.send.mode, eol: command.eol ?? s.send.eol },
        }));
        this.#schedule();
        return {};
    }
  }

  async #startServer(config: ServerConfig): Promise<Record<string, unknown>> {
    if (!this.interfaces().some((option) => option.value === config.host)) {
      throw usage(`host: ${config.host} is not an address of this machine; choose one from the interface list`);
    }
    let slot = this.#slot;
    if (slot && !slot.server.listener.getSnapshot().can({ type: 'USER.LISTEN' })) {
      throw usage(`the server is ${listenerState(slot.server.listener.getSnapshot())}: stop it first`);
    }
    void this.#remember((s) => ({ ...s, server: { ...config, closeClientsOnStop: s.server.closeClientsOnStop } }));
    const same = slot && JSON.stringify(slot.config) === JSON.stringify(config);
    if (slot && !same) {
      this.#slot = undefined;
      await this.#disposeServer(slot);
      slot = undefined;
    }
    if (!slot) slot = this.#slot = this.#createServer(config);
    this.#markServer();
    const bound = await slot.server.listen();
    return { ...bound };
  }

  #createServer(config: ServerConfig): ServerSlot {
    const server = createServer({
      supervisor: this.supervisor,
      id: `server-${++this.#serverSeq}`,
      host: config.host,
      port: config.port,
      framing: config.framing,
      relay: config.relay,
    });
    const subscriptions = [
      server.events$.subscribe((event) => {
        const draft = describeEvent(event, config.framing);
        if (draft) this.#log('server', draft);
        this.#markServer();
      }),
      server.state$.subscribe(() => this.#markServer()),
      server.clients.events$.subscribe(() => this.#markServer()),
    ];
    return { server, config, subscriptions };
  }

  async #disposeServer(slot: ServerSlot): Promise<void> {
    await slot.server.close({ graceMs: 1_000 });
    for (const subscription of slot.subscriptions) subscription.unsubscribe();
  }

  #addClient(command: Extract<UiCommand, { type: 'client.add' }>): Record<string, unknown> {
    if (this.#cards.size >= this.#maxClients) throw usage(`at most ${this.#maxClients} client cards: remove one first`);
    const { type: _type, connect, ...config } = command;
    const id = `client-${++this.#clientSeq}`;
    const client = createClient({
      supervisor: this.supervisor,
      id,
      host: config.host,
      port: config.port,
      framing: config.framing,
      connectTimeoutMs: config.connectTimeoutMs,
      retry: { attempts: config.reconnect },
      reconnect: config.reconnect > 0,
      ...(config.framing === 'qt' && config.heartbeatMs > 0 ? { heartbeat: { intervalMs: config.heartbeatMs, maxMissed: config.maxMissed } } : {}),
    });
    const card: Card = { id, config, client, history: [], subscriptions: [] };
    this.#cards.set(id, card);
    let last = '';
    card.subscriptions.push(
      client.events$.subscribe((event) => {
        const draft = describeEvent(event, config.framing, 'client');
        if (draft) this.#log(id, draft);
        this.#markCard(id);
      }),
      client.state$.subscribe((snapshot) => {
        const state = connectionState(snapshot);
        const badge = badgeOf(state, snapshot.context.retries, snapshot.context.config.retry.attempts);
        if (badge !== last) {
          last = badge;
          card.history.push({ badge, ts: Date.now() });
          if (card.history.length > HISTORY) card.history.splice(0, card.history.length - HISTORY);
          if (state === 'FAILED') {
            const tries = snapshot.context.retries + 1;
            this.#log(id, { kind: 'error', text: `gave up after ${tries} attempt${tries === 1 ? '' : 's'}: ${snapshot.context.lastError?.message ?? 'closed'}` });
          }
        }
        this.#markCard(id);
      }),
    );
    void this.#remember((s) => ({
      ...s,
      client: { ...config },
      recent: withRecent(s.recent, { host: config.host, port: config.port, framing: config.framing }),
    }));
    this.#markCard(id);
    if (connect) client.connect().catch(() => {});
    return { id };
  }

  async #disposeCard(card: Card): Promise<void> {
    await card.client.close();
    for (const subscription of card.subscriptions) subscription.unsubscribe();
  }

  #requireServer(): ServerSlot {
    if (!this.#slot) throw usage('start the server first');
    return this.#slot;
  }

  #card(id: string): Card {
    const card = this.#cards.get(id);
    if (!card) throw usage(`no client card ${id}`);
    return card;
  }

  #log(panel: string, draft: Parameters<LogBook['add']>[1]): void {
    const entry = this.#book.add(panel, draft);
    if (this.#subscribers.size === 0) return;
    let pending = this.#pendingLogs.get(panel);
    if (!pending) this.#pendingLogs.set(panel, (pending = []));
    pending.push(entry);
    if (pending.length > PAGE_LOG) pending.splice(0, pending.length - PAGE_LOG);
    this.#schedule();
  }

  #markServer(): void {
    this.#dirtyServer = true;
    this.#schedule();
  }

  #markCard(id: string): void {
    if (!this.#cards.has(id)) return;
    this.#dirtyCards.add(id);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#subscribers.size === 0) return;
    this.#timer = setTimeout(() => this.#flush(), this.#flushMs);
  }

  #flush(): void {
    this.#timer = undefined;
    const update: Extract<UiMessage, { type: 'update' }> = { type: 'update' };
    if (this.#dirtyServer) update.server = this.serverView();
    const cards = [...this.#dirtyCards].flatMap((id) => {
      const card = this.#cards.get(id);
      return card ? [this.#cardView(card)] : [];
    });
    if (cards.length > 0) update.clients = cards;
    if (this.#removed.size > 0) update.removed = [...this.#removed];
    if (this.#dirtyP2p) update.p2p = this.#p2p.view();
    if (this.#dirtyFiles) update.files = this.files.view();
    if (this.#cleared.size > 0) update.cleared = [...this.#cleared];
    if (this.#pendingLogs.size > 0) update.logs = Object.fromEntries(this.#pendingLogs);
    if (this.#dirtySettings) update.settings = this.settings.get();
    this.#discardPending();
    for (const subscriber of [...this.#subscribers]) subscriber.next(update);
  }

  /** Saves a settings change and sends the page the new settings with the next update. */
  #remember(change: (settings: UiSettings) => UiSettings): Promise<void> {
    this.#dirtySettings = true;
    return this.settings.update(change);
  }

  #discardPending(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dirtyServer = false;
    this.#dirtyP2p = false;
    this.#dirtyFiles = false;
    this.#dirtySettings = false;
    this.#dirtyCards.clear();
    this.#removed.clear();
    this.#cleared.clear();
    this.#pendingLogs.clear();
  }

  /** Closes every client card and the server (clients get a graceful close first), then the live channels. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const cards = [...this.#cards.values()];
    this.#cards.clear();
    await Promise.all(cards.map((card) => this.#disposeCard(card)));
    if (this.#slot) await this.#disposeServer(this.#slot);
    this.#slot = undefined;
    await this.#p2p.close();
    await this.files.close();
    this.#discardPending();
    for (const subscriber of [...this.#subscribers]) subscriber.complete();
    this.#subscribers.clear();
    this.#supervisorErrors.unsubscribe();
    await this.settings.flush();
    if (this.#ownsSupervisor) this.supervisor.shutdown();
  }
}
