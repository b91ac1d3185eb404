import type { Subscription } from 'rxjs';
import { SynackError, type SynackErrorInfo } from '../../errors.js';
import type { ChatLinkInfo, PeerChatStateName, PeerRegistryStateName } from '../../machines/peer.js';
import { peerState } from '../../machines/peer.js';
import { registryState, type RegistryStateName } from '../../machines/registry.js';
import type { P2pFacadeEvent, PeerEntry } from '../p2p-events.js';
import { createPeer, parseHostPort, type Peer } from '../peer.js';
import { createRegistry, type Registry } from '../registry.js';
import type { Supervisor } from '../supervisor.js';
import { usage, type UiCommand } from './commands.js';
import type { LogEntry } from './log.js';
import { formatEndpoint } from '../../transport/socket-bridge.js';

/** The registry panel, read from the registry actor. */
export interface RegistryView {
  id: string | null;
  state: RegistryStateName;
  config: { host: string; port: number } | null;
  address: string | null;
  /** Registered peers, in the order they joined. */
  peers: PeerEntry[];
  /** Open links (registered or not). */
  links: number;
  lastError: SynackErrorInfo | null;
  can: { start: boolean; stop: boolean };
}

/** The peer panel, read from the peer actor. */
export interface PeerView {
  id: string | null;
  name: string | null;
  chat: PeerChatStateName;
  registry: PeerRegistryStateName;
  /** The registry it registers with, `host:port`. */
  target: string | null;
  /** What it advertises, once registered. */
  self: PeerEntry | null;
  /** The other peers, as the registry last listed them. */
  peers: PeerEntry[];
  links: ChatLinkInfo[];
  lastError: SynackErrorInfo | null;
  can: { join: boolean; leave: boolean; send: boolean };
}

/** The P2P tab. */
export interface P2pView {
  registry: RegistryView;
  peer: PeerView;
}

type P2pCommand = Extract<UiCommand, { type: `registry.${string}` | `peer.${string}` }>;
type Draft = Omit<LogEntry, 'seq' | 'ts'>;
type RegistrySlot = { registry: Registry; config: { host: string; port: number }; subscriptions: Subscription[] };
type PeerSlot = { peer: Peer; target: string; subscriptions: Subscription[] };

/** Where the P2P tab logs. */
export const P2P_PANELS = { registry: 'registry', peer: 'p2p' } as const;

function list(peers: readonly PeerEntry[]): string {
  return peers.length === 0 ? 'nobody else' : peers.map((p) => `${p.name}@${formatEndpoint(p.host, p.port)}`).join(', ');
}

/**
 * A registry's or peer's event as a log line, or null for what the badges already show.
 *
 * @example
 * ```ts
 * describeP2p({ event: 'chat', id: 'peer-1', from: 'bob', text: 'hi', peer: '127.0.0.1:5000' });
 * // { kind: 'in', who: 'bob', text: 'hi' }
 * ```
 */
export function describeP2p(event: P2pFacadeEvent): Draft | null {
  switch (event.event) {
    case 'chat':
      return { kind: 'in', who: event.from, text: event.text };
    case 'chat-sent':
      return { kind: 'out', who: event.to, text: event.text };
    case 'peers':
      return { kind: 'event', text: `peers: ${list(event.peers)}` };
    case 'registered':
      return { kind: 'event', text: `registered as ${event.name}@${formatEndpoint(event.host, event.port)} with ${event.registry}` };
    case 'joined':
      return { kind: 'event', who: event.peer, text: `${event.name}@${formatEndpoint(event.host, event.port)} joined (${event.peers} registered)` };
    case 'left':
      return { kind: 'event', text: `${event.name}@${formatEndpoint(event.host, event.port)} left: ${event.reason} (${event.peers} registered)` };
    case 'refused':
      return { kind: 'error', who: event.peer, text: `${event.message} (${event.code})` };
    case 'listening':
      return { kind: 'event', text: `listening on ${formatEndpoint(event.host, event.port)}` };
    case 'stopped':
      return { kind: 'event', text: 'stopped listening' };
    case 'connected':
      return event.id === 'registry' ? { kind: 'event', text: `connected to the registry ${event.peer}` } : null;
    case 'disconnected':
      return event.id === 'registry' ? { kind: 'event', text: `lost the registry ${event.peer}: ${event.reason}${event.code ? ` (${event.code})` : ''}` } : null;
    case 'reconnecting':
      return { kind: 'event', text: `registry: retry ${event.attempt} in ${event.delayMs} ms` };
    case 'error':
      return { kind: 'error', text: `${event.code}: ${event.message}` };
    default:
      return null;
  }
}

export interface P2pPanelOptions {
  supervisor: Supervisor;
  /** Addresses a registry or chat listener may bind (the interface drop-down's values). */
  bindable: () => string[];
  log: (panel: string, draft: Draft) => void;
  changed: () => void;
}

/**
 * The P2P tab's working part: a registry this UI may host, and one peer that joins a registry
 * under a name, lists the other peers and chats with them directly (seed 003).
 *
 * @example
 * ```ts
 * const p2p = new P2pPanel({ supervisor, bindable: () => ['127.0.0.1'], log, changed });
 * await p2p.run({ type: 'peer.join', name: 'alice', registry: '127.0.0.1:9100', host: '127.0.0.1', port: 0 });
 * ```
 */
export class P2pPanel {
  readonly #options: P2pPanelOptions;
  #registry: RegistrySlot | undefined;
  #peer: PeerSlot | undefined;
  #registrySeq = 0;
  #peerSeq = 0;

  constructor(options: P2pPanelOptions) {
    this.#options = options;
  }

  view(): P2pView {
    return { registry: this.#registryView(), peer: this.#peerView() };
  }

  #registryView(): RegistryView {
    const slot = this.#registry;
    if (!slot) return { id: null, state: 'STOPPED', config: null, address: null, peers: [], links: 0, lastError: null, can: { start: true, stop: false } };
    const snapshot = slot.registry.actor.getSnapshot();
    const state = registryState(snapshot);
    const port = snapshot.context.boundPort;
    return {
      id: slot.registry.id,
      state,
      config: slot.config,
      address: state === 'LISTENING' && port !== null ? formatEndpoint(snapshot.context.config.host, port) : null,
      peers: slot.registry.peers().map(({ name, host, port: p }) => ({ name, host, port: p })),
      links: slot.registry.clients.size,
      lastError: snapshot.context.lastError,
      can: { start: snapshot.can({ type: 'USER.START' }), stop: snapshot.can({ type: 'USER.STOP' }) },
    };
  }

  #peerView(): PeerView {
    const slot = this.#peer;
    if (!slot) {
      return { id: null, name: null, chat: 'STOPPED', registry: 'STOPPED', target: null, self: null, peers: [], links: [], lastError: null, can: { join: true, leave: false, send: false } };
    }
    const snapshot = slot.peer.actor.getSnapshot();
    const { chat, registry } = peerState(snapshot);
    const peers = slot.peer.peers().map(({ name, host, port }) => ({ name, host, port }));
    return {
      id: slot.peer.id,
      name: slot.peer.name,
      chat,
      registry,
      target: slot.target,
      self: snapshot.context.self ? { name: snapshot.context.self.name, host: snapshot.context.self.host, port: snapshot.context.self.port } : null,
      peers,
      links: slot.peer.links(),
      lastError: snapshot.context.lastError,
      can: {
        join: snapshot.can({ type: 'USER.START' }),
        leave: snapshot.can({ type: 'USER.STOP' }),
        send: chat === 'LISTENING' && peers.length > 0,
      },
    };
  }

  /** Carries out a `registry.*` or `peer.*` command. */
  async run(command: P2pCommand): Promise<Record<string, unknown>> {
    switch (command.type) {
      case 'registry.start':
        return this.#startRegistry(command);
      case 'registry.stop': {
        const slot = this.#registry;
        if (!slot || !slot.registry.actor.getSnapshot().can({ type: 'USER.STOP' })) throw usage('the registry is not running');
        await slot.registry.stop({ graceMs: 1_000 });
        this.#options.changed();
        return {};
      }
      case 'peer.join':
        return this.#join(command);
      case 'peer.leave': {
        const slot = this.#peer;
        if (!slot) throw usage('not joined');
        this.#peer = undefined;
        await this.#disposePeer(slot);
        this.#options.log(P2P_PANELS.peer, { kind: 'event', text: `left as ${slot.peer.name}` });
        this.#options.changed();
        return {};
      }
      case 'peer.send': {
        const peer = this.#peer?.peer;
        if (!peer) throw usage('join a registry first');
        if (command.to !== 'all') {
          await peer.send(command.to, command.text);
          return { sent: [command.to] };
        }
        if (peer.peers().length === 0) throw new SynackError('E_NOT_CONNECTED', 'no other peers are listed yet');
        const { sent, failed } = await peer.broadcast(command.text);
        for (const f of failed) this.#options.log(P2P_PANELS.peer, { kind: 'error', who: f.name, text: `${f.error.code}: ${f.error.message}` });
        return { sent, failed: failed.map((f) => f.name) };
      }
    }
  }

  #checkBind(host: string): void {
    if (!this.#options.bindable().includes(host)) throw usage(`host: ${host} is not an address of this machine; choose one from the interface list`);
  }

  async #startRegistry(config: { host: string; port: number }): Promise<Record<string, unknown>> {
    this.#checkBind(config.host);
    let slot = this.#registry;
    if (slot && !slot.registry.actor.getSnapshot().can({ type: 'USER.START' })) throw usage(`the registry is ${registryState(slot.registry.actor.getSnapshot())}: stop it first`);
    if (slot && (slot.config.host !== config.host || slot.config.port !== config.port)) {
      this.#registry = undefined;
      await this.#disposeRegistry(slot);
      slot = undefined;
    }
    if (!slot) {
      const registry = createRegistry({ supervisor: this.#options.supervisor, id: `registry-${++this.#registrySeq}`, host: config.host, port: config.port });
      const subscriptions = [
        registry.events$.subscribe((event) => {
          const draft = describeP2p(event);
          if (draft) this.#options.log(P2P_PANELS.registry, draft);
          this.#options.changed();
        }),
        registry.state$.subscribe(() => this.#options.changed()),
      ];
      slot = this.#registry = { registry, config: { ...config }, subscriptions };
    }
    this.#options.changed();
    return { ...(await slot.registry.start()) };
  }

  async #join(command: Extract<P2pCommand, { type: 'peer.join' }>): Promise<Record<string, unknown>> {
    if (this.#peer) throw usage(`already joined as ${this.#peer.peer.name}: leave first`);
    this.#checkBind(command.host);
    let registry: { host: string; port: number };
    try {
      registry = parseHostPort(command.registry.trim());
    } catch {
      throw usage(`registry: expected host:port (IPv6 as [::1]:9100), got ${JSON.stringify(command.registry)}`);
    }
    const peer = createPeer({
      supervisor: this.#options.supervisor,
      id: `peer-${++this.#peerSeq}`,
      name: command.name,
      registry,
      host: command.host,
      port: command.port,
    });
    const target = formatEndpoint(registry.host, registry.port);
    const slot: PeerSlot = { peer, target, subscriptions: [] };
    slot.subscriptions.push(
      peer.events$.subscribe((event) => {
        const draft = describeP2p(event);
        if (draft) this.#options.log(P2P_PANELS.peer, draft);
        this.#options.changed();
      }),
      peer.state$.subscribe(() => this.#options.changed()),
      peer.chat.events$.subscribe(() => this.#options.changed()),
    );
    this.#peer = slot;
    try {
      const bound = await peer.start();
      return { ...bound };
    } catch (error) {
      this.#peer = undefined;
      await this.#disposePeer(slot);
      this.#options.changed();
      throw error;
    }
  }

  async #disposeRegistry(slot: RegistrySlot): Promise<void> {
    await slot.registry.close({ graceMs: 1_000 });
    for (const subscription of slot.subscriptions) subscription.unsubscribe();
  }

  async #disposePeer(slot: PeerSlot): Promise<void> {
    await slot.peer.close({ graceMs: 1_000 });
    for (const subscription of slot.subscriptions) subscription.unsubscribe();
  }

  /** Leaves the registry and stops the hosted one. */
  async close(): Promise<void> {
    const peer = this.#peer;
    const registry = this.#registry;
    this.#peer = undefined;
    this.#registry = undefined;
    if (peer) await this.#disposePeer(peer);
    if (registry) await this.#disposeRegistry(registry);
  }
}
