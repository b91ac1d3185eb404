import type { Observable } from 'rxjs';
import { createActor, waitFor } from 'xstate';
import { SynackError } from '../errors.js';
import type { ClientTable } from '../machines/client-table.js';
import { peerMachine, peerState, peerStateName, type ChatLinkInfo, type ChatLinks, type PeerActor, type PeerInput, type PeerSnapshot } from '../machines/peer.js';
import { checkName, type PeerAddress } from '../transport/p2p-frame.js';
import { formatEndpoint } from '../transport/socket-bridge.js';
import { snapshots$ } from './observe.js';
import type { P2pFacadeEvent } from './p2p-events.js';
import { drain, P2pFacade } from './p2p-facade.js';
import type { Supervisor } from './supervisor.js';

/** A peer's options: the peer machine's {@link PeerInput}, with the registry also as text. */
export interface PeerOptions extends Omit<PeerInput, 'registry' | 'clients' | 'chat' | 'adopt'> {
  /** The registry, as `host:port` (`[::1]:9000` for IPv6) or an object. */
  registry: string | { host: string; port: number };
  /** Lends its inspection observer and its id sequence. */
  supervisor?: Supervisor;
}

/**
 * Parses `host:port` (IPv6 as `[::1]:9000`). Throws E_USAGE when malformed.
 *
 * @example
 * ```ts
 * parseHostPort('[::1]:9000'); // { host: '::1', port: 9000 }
 * ```
 */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port < 1 || port > 65535) throw new SynackError('E_USAGE', `expected host:port (IPv6 as [::1]:9000), got ${JSON.stringify(text)}`);
  return { host: match[1] ?? match[2]!, port };
}

/**
 * A P2P chat peer of seed 003: registers with a registry, lists the other peers, and chats with
 * them directly. Events: `listening`, `connected`/`disconnected` (`registry`, `chat:NAME`),
 * `registered`, `peers`, `chat`, `chat-sent`, `reconnecting`, `error`.
 *
 * @example
 * ```ts
 * const alice = createPeer({ name: 'alice', registry: '127.0.0.1:9000' });
 * alice.events$.subscribe((e) => e.event === 'chat' && console.log(`${e.from}: ${e.text}`));
 * await alice.start();
 * await alice.registered();
 * await alice.send('bob', 'hi bob');
 * await alice.close();
 * ```
 */
export class Peer extends P2pFacade {
  readonly name: string;
  readonly actor: PeerActor;
  readonly clients: ClientTable;
  readonly chat: ChatLinks;
  readonly state$: Observable<PeerSnapshot>;

  constructor(options: PeerOptions) {
    super('peer', options);
    const { supervisor: _supervisor, registry: where, ...input } = options;
    const registry = typeof where === 'string' ? parseHostPort(where) : where;
    try {
      checkName(options.name, 'greeting');
    } catch (error) {
      throw new SynackError('E_USAGE', `invalid peer name ${JSON.stringify(options.name)}: ${(error as Error).message.replace(/^greeting: /, '')}`);
    }
    this.name = options.name;
    this.actor = createActor(peerMachine, { id: this.id, input: { ...input, id: this.id, registry, adopt: this.adopt } });
    ({ clients: this.clients, chat: this.chat } = this.actor.getSnapshot().context);
    this.adopt?.(this.actor);
    this.state$ = snapshots$(this.actor);
    this.#wire();
    this.actor.start();
  }

  #wire(): void {
    const id = this.id;
    const next = (event: P2pFacadeEvent) => this.emit(event);
    this.watch(this.actor, 'peer', {
      stateOf: peerStateName,
      isListening: (state) => state.startsWith('LISTENING/'),
    });
    this.actor.on('registry-up', (e) => next({ event: 'connected', id: 'registry', peer: e.registry }));
    this.actor.on('registry-down', (e) =>
      next({ event: 'disconnected', id: 'registry', peer: e.registry, reason: e.reason, ...(e.error ? { code: e.error.code } : {}) }),
    );
    this.actor.on('reconnecting', (e) => next({ event: 'reconnecting', id: 'registry', attempt: e.attempt, delayMs: e.delayMs }));
    this.actor.on('registered', (e) => next({ event: 'registered', id, ...e.self, registry: e.registry }));
    this.actor.on('peers', (e) => next({ event: 'peers', id, peers: e.peers.map(({ name, host, port }) => ({ name, host, port })) }));
    this.actor.on('error', (e) => next({ event: 'error', id, code: e.error.code, message: e.error.message }));
    this.chat.events$.subscribe((e) => {
      if (e.type === 'up') next({ event: 'connected', id: `chat:${e.name}`, peer: e.peer });
      else if (e.type === 'messages') for (const text of e.texts) next({ event: 'chat', id, from: e.from, text, peer: e.peer });
      else if (e.type === 'down') {
        next({ event: 'disconnected', id: `chat:${e.name ?? e.link}`, peer: e.peer, reason: e.reason, ...(e.error ? { code: e.error.code } : {}) });
      } else next({ event: 'error', id: `chat:${e.name ?? e.link}`, code: e.error.code, message: `chat link ${e.peer}: ${e.error.message}` });
    });
  }

  /** `{ chat: 'LISTENING', registry: 'REGISTERED' }` and so on. */
  get state(): ReturnType<typeof peerState> {
    return peerState(this.actor.getSnapshot());
  }

  /** What this peer advertises, once it has reached the registry. */
  get self(): PeerAddress | null {
    return this.actor.getSnapshot().context.self;
  }

  /**
   * Starts listening for chat links and then registering; resolves with the chat address once
   * listening (registration goes on in the background: see {@link registered}).
   */
  async start(): Promise<{ host: string; port: number }> {
    return this.listen(this.actor, (s) => (peerState(s).chat === 'LISTENING' ? 'up' : peerState(s).chat === 'FAILED' ? 'down' : null), 'cannot listen for chat: ');
  }

  /** Resolves once the registry has accepted this peer (at once if it has). */
  async registered(): Promise<PeerAddress> {
    const snapshot = await waitFor(this.actor, (s) => peerState(s).registry === 'REGISTERED');
    return snapshot.context.self!;
  }

  /** The other peers, as the registry last listed them (kept while the registry is away). */
  peers(): PeerAddress[] {
    return this.actor.getSnapshot().context.peers.map((p) => ({ ...p }));
  }

  /** The open chat links. */
  links(): ChatLinkInfo[] {
    return this.chat.list();
  }

  /**
   * Sends `text` to the peer called `name`, directly: on the open link to it, or on a new one
   * (the address from the list). Resolves once handed to the socket; rejects with E_USAGE for an
   * empty text, E_NOT_FOUND for a name neither listed nor linked, or the link's error.
   */
  async send(name: string, text: string): Promise<void> {
    const to = this.peers().find((p) => p.name === name);
    await this.chat.send(to ?? { name }, text);
    const peer = this.chat.linkTo(name)?.peer ?? (to ? formatEndpoint(to.host, to.port) : '?');
    this.emit({ event: 'chat-sent', id: this.id, to: name, text, peer });
  }

  /** Sends `text` to every listed peer; resolves with who got it and who did not (and why). */
  async broadcast(text: string): Promise<{ sent: string[]; failed: { name: string; error: SynackError }[] }> {
    if (text === '') throw new SynackError('E_USAGE', 'empty message: the original peer cannot read an empty frame');
    const names = this.peers().map((p) => p.name);
    const results = await Promise.allSettled(names.map((name) => this.send(name, text).then(() => name)));
    const sent: string[] = [];
    const failed: { name: string; error: SynackError }[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') sent.push(r.value);
      else failed.push({ name: names[i]!, error: SynackError.from(r.reason) });
    });
    return { sent, failed };
  }

  /**
   * Leaves: stops registering and listening, closes every chat link gracefully (what was sent is
   * delivered), at once after `graceMs`, and stops the actor.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'USER.STOP' });
    this.clients.closeAll();
    await drain([this.chat, this.clients], options.graceMs);
    this.actor.stop();
    this.chat.dispose();
    this.endEvents();
  }
}

/** Creates a {@link Peer}; call `start()` to listen and register. */
export function createPeer(options: PeerOptions): Peer {
  return new Peer(options);
}
