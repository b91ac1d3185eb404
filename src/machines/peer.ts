/**
 * A P2P chat peer of seed 003 (DESIGN §3.4): it listens for chat links, keeps a link to the
 * registry (GREETING, REGISTER every 15 s, the PEERLIST it gets back), and talks to other peers
 * directly over links of its own.
 *
 * Built on the listener machine (an invoked child, for chat links, its client table holding the
 * accepted ones) and the connection machine: the registry link is one connection actor with a
 * reconnect policy (backoff with jitter), and each outbound chat link is one connection actor in
 * {@link ChatLinks}, a map like the client table, never children of the peer.
 */
import { Subject, type Subscription } from 'rxjs';
import { assertEvent, assign, createActor, emit, enqueueActions, fromCallback, sendTo, setup, stateIn, type ActorRefFrom, type AnyActorRef, type SnapshotFrom } from 'xstate';
import { SynackError, type SynackErrorInfo } from '../errors.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  greeting,
  messageFrame,
  P2pFrameDecoder,
  parseGreeting,
  parsePeerAddress,
  REGISTRY_GREETING,
  registerFrame,
  type P2pFrame,
  type PeerAddress,
} from '../transport/p2p-frame.js';
import { formatEndpoint, type Endpoint } from '../transport/socket-bridge.js';
import { ClientTable } from './client-table.js';
import { connectionMachine, connectionState, type ConnectionActor, type ConnectionStateName } from './connection.js';
import { listenerMachine, listenerState, type ListenerSnapshot } from './listener.js';
import { endpointIp, REGISTRY_DEFAULTS, REGISTRY_REFUSED } from './registry.js';
import { backoffDelay, type RetryPolicy } from './retry.js';

/**
 * Frame types a chat link accepts (the original's set): anything else closes the link.
 *
 * @example
 * ```ts
 * const decoder = new P2pFrameDecoder({ types: CHAT_LINK_TYPES });
 * ```
 */
export const CHAT_LINK_TYPES: readonly string[] = Object.freeze(['GREETING', 'MESSAGE']);

/**
 * Frame types a peer accepts from the registry (the original client's set).
 *
 * @example
 * ```ts
 * const decoder = new P2pFrameDecoder({ types: REGISTRY_REPLY_TYPES });
 * ```
 */
export const REGISTRY_REPLY_TYPES: readonly string[] = Object.freeze(['GREETING', 'REGISTER', 'PEERLIST']);

/**
 * Defaults: re-register every 15 s (the original's period); registry reconnects back off from
 * 0.5 s to 10 s and never give up; after a refusal, wait 1 s doubling to 30 s.
 *
 * @example
 * ```ts
 * createActor(peerMachine, { input: { name: 'alice', registry, refreshMs: PEER_DEFAULTS.refreshMs / 3 } });
 * ```
 */
export const PEER_DEFAULTS = Object.freeze({
  refreshMs: 15_000,
  registryRetry: Object.freeze({ attempts: Number.POSITIVE_INFINITY, baseMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 }),
  backoff: Object.freeze({ attempts: Number.POSITIVE_INFINITY, baseMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2 }),
  connectTimeoutMs: 5_000,
});

// ---------------------------------------------------------------------------------------------
// Chat links

/** What happens on chat links. */
export type ChatLinkEvent =
  | { type: 'up'; link: string; name: string; peer: Endpoint; direction: 'in' | 'out' }
  | { type: 'messages'; link: string; from: string; peer: Endpoint; texts: string[] }
  | { type: 'down'; link: string; name: string | null; peer: Endpoint; reason: string; error: SynackErrorInfo | null }
  | { type: 'refused'; link: string; name: string | null; peer: Endpoint; error: SynackErrorInfo };

/** One row of a peer's chat link list. */
export interface ChatLinkInfo {
  id: string;
  direction: 'in' | 'out';
  name: string | null;
  peer: Endpoint;
  open: boolean;
}

export interface ChatLinksOptions {
  /** The table the chat listener adopts accepted links into. */
  inbound: ClientTable;
  /** A link that starts a frame (or connects) and does not finish it within this time is closed. Default 40 s. */
  frameTimeoutMs?: number;
  maxPayloadBytes?: number;
  /** Give up dialling a peer after this long. Default 5 s. */
  connectTimeoutMs?: number;
  /** Told of every connection actor before it starts (a supervisor's inspection hooks in here). */
  adopt?: (actor: AnyActorRef) => void;
}

interface Pending {
  text: string;
  resolve: () => void;
  reject: (error: SynackError) => void;
}

interface ChatLink {
  id: string;
  direction: 'in' | 'out';
  name: string | null;
  remoteName: string | null;
  peer: Endpoint;
  local: Endpoint | null;
  decoder: P2pFrameDecoder;
  open: boolean;
  closing: boolean;
  framed: boolean;
  queue: Pending[];
  timer: NodeJS.Timeout | undefined;
  actor: ConnectionActor | undefined;
}

/**
 * A peer's chat links, both ways: links accepted by its listener (from its client table) and
 * links it dials, one connection actor each, kept in a map. Each side sends GREETING
 * `name:ip:port` first, then MESSAGE frames. The first message to a name opens a link to it;
 * later messages reuse whichever open link that name has, dialled or accepted.
 *
 * @example
 * ```ts
 * const links = new ChatLinks({ inbound: clients });
 * links.setSelf({ name: 'alice', host: '192.168.1.5', port: 9001 });
 * links.events$.subscribe((e) => e.type === 'messages' && console.log(e.from, e.texts));
 * await links.send({ name: 'bob', host: '192.168.1.6', port: 9002 }, 'hi bob');
 * ```
 */
export class ChatLinks {
  readonly events$ = new Subject<ChatLinkEvent>();
  readonly #links = new Map<string, ChatLink>();
  readonly #byName = new Map<string, string>();
  readonly #inbound: ClientTable;
  readonly #frameTimeoutMs: number;
  readonly #maxPayloadBytes: number;
  readonly #connectTimeoutMs: number;
  readonly #adopt: ((actor: AnyActorRef) => void) | undefined;
  readonly #subscription: Subscription;
  #self: { name: string; host: string | null; port: number } | null = null;
  #sequence = 0;

  constructor(options: ChatLinksOptions) {
    this.#inbound = options.inbound;
    this.#frameTimeoutMs = options.frameTimeoutMs ?? REGISTRY_DEFAULTS.frameTimeoutMs;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? PEER_DEFAULTS.connectTimeoutMs;
    this.#adopt = options.adopt;
    this.#subscription = this.#inbound.events$.subscribe((event) => {
      if (event.type === 'connected') this.#accept(event.id, event.peer);
      else if (event.type === 'data') this.#receive(event.id, event.chunk);
      else if (event.type === 'disconnected') this.#gone(event.id, event.reason, event.error);
    });
  }

  /** Who we are on chat links. `host` null: the address each link reached us at. */
  setSelf(self: { name: string; host: string | null; port: number }): void {
    this.#self = { ...self };
  }

  get size(): number {
    return this.#links.size;
  }

  list(): ChatLinkInfo[] {
    return [...this.#links.values()].map((l) => ({ id: l.id, direction: l.direction, name: l.name, peer: l.peer, open: l.open }));
  }

  /** The open (or opening) link a name is reached by, if any. */
  linkTo(name: string): ChatLinkInfo | undefined {
    const id = this.#byName.get(name);
    return id === undefined ? undefined : this.list().find((l) => l.id === id);
  }

  /**
   * Sends one MESSAGE to `to.name`: on its open link, or on a new link to `to.host:to.port`.
   * Resolves when the frame is handed to the socket; rejects with E_USAGE for an empty text,
   * E_NOT_FOUND with neither a link nor an address, or the link's error if it fails first.
   */
  send(to: { name: string; host?: string; port?: number }, text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (text === '') return reject(new SynackError('E_USAGE', 'empty message: the original peer cannot read an empty frame'));
      if (!this.#self) return reject(new SynackError('E_NOT_CONNECTED', 'not listening for chat yet'));
      if (to.name === this.#self.name) return reject(new SynackError('E_USAGE', `${to.name} is this peer`));
      let link = this.#usable(to.name);
      if (!link) {
        if (to.host === undefined || to.port === undefined) {
          return reject(new SynackError('E_NOT_FOUND', `no peer named ${JSON.stringify(to.name)} in the list and no link to it`));
        }
        link = this.#dial(to.name, to.host, to.port);
      }
      const pending: Pending = { text, resolve, reject };
      if (link.open) this.#write(link, messageFrame(text), [pending]);
      else link.queue.push(pending);
    });
  }

  /** Closes every link: gracefully (FIN after what is queued), or at once with `abort`. */
  closeAll(options: { abort?: boolean } = {}): void {
    for (const link of [...this.#links.values()]) {
      link.closing = true;
      if (link.actor) link.actor.send({ type: options.abort ? 'USER.ABORT' : 'USER.CLOSE' });
      else if (options.abort) this.#inbound.get(link.id)?.send({ type: 'USER.ABORT' });
      else this.#inbound.close(link.id);
    }
  }

  /** Stops listening to the inbound table and completes `events$`. Call after the links are gone. */
  dispose(): void {
    this.#subscription.unsubscribe();
    for (const link of this.#links.values()) this.#stopTimer(link);
    this.events$.complete();
  }

  #usable(name: string): ChatLink | undefined {
    const id = this.#byName.get(name);
    const link = id === undefined ? undefined : this.#links.get(id);
    return link && !link.closing ? link : undefined;
  }

  #newLink(id: string, direction: 'in' | 'out', name: string | null, peer: Endpoint): ChatLink {
    const link: ChatLink = {
      id,
      direction,
      name,
      remoteName: null,
      peer,
      local: null,
      decoder: new P2pFrameDecoder({ types: CHAT_LINK_TYPES, maxPayloadBytes: this.#maxPayloadBytes }),
      open: false,
      closing: false,
      framed: false,
      queue: [],
      timer: undefined,
      actor: undefined,
    };
    this.#links.set(id, link);
    return link;
  }

  #accept(id: string, peer: Endpoint): void {
    const link = this.#newLink(id, 'in', null, peer);
    link.local = this.#inbound.get(id)?.getSnapshot().context.local ?? null;
    this.#startTimer(link);
  }

  #dial(name: string, host: string, port: number): ChatLink {
    const id = `out${++this.#sequence}`;
    const link = this.#newLink(id, 'out', name, formatEndpoint(host, port));
    this.#byName.set(name, id);
    const onData = (chunk: Buffer) => this.#receive(id, chunk);
    const actor = createActor(connectionMachine, { id, input: { id, host, port, connectTimeoutMs: this.#connectTimeoutMs, onData } });
    this.#adopt?.(actor);
    link.actor = actor;
    let last: ConnectionStateName | undefined;
    actor.subscribe({
      next: (snapshot) => {
        const state = connectionState(snapshot);
        if (state === last) return;
        const previous = last;
        last = state;
        if (state === 'ESTABLISHED' && previous === 'SYN_SENT') {
          link.local = snapshot.context.local ?? null;
          link.peer = snapshot.context.peer ?? link.peer;
          link.open = true;
          const queued = link.queue.splice(0);
          this.#write(link, Buffer.concat([this.#greeting(link), ...queued.map((p) => messageFrame(p.text))]), queued);
          this.#startTimer(link);
          this.events$.next({ type: 'up', link: id, name, peer: link.peer, direction: 'out' });
        } else if ((state === 'CLOSED' && snapshot.context.closedAt !== null) || state === 'FAILED') {
          const { closeReason, lastError } = snapshot.context;
          this.#gone(id, state === 'FAILED' ? 'failed' : (closeReason ?? 'closed'), lastError);
          queueMicrotask(() => actor.stop());
        }
      },
      error: (error) => this.#gone(id, 'error', SynackError.from(error).toInfo()),
    });
    queueMicrotask(() => {
      actor.start();
      actor.send({ type: 'USER.CONNECT' });
    });
    return link;
  }

  #greeting(link: ChatLink): Buffer {
    const self = this.#self!;
    const host = self.host ?? (link.local ? endpointIp(link.local) : '127.0.0.1');
    return greeting(self.name, host, self.port);
  }

  #write(link: ChatLink, data: Buffer, delivered: Pending[]): void {
    if (link.actor) link.actor.send({ type: 'USER.SEND', data });
    else this.#inbound.send(link.id, data);
    for (const pending of delivered) pending.resolve();
  }

  #receive(id: string, chunk: Buffer): void {
    const link = this.#links.get(id);
    if (!link || link.closing) return;
    const frames: P2pFrame[] = [];
    let failure: SynackErrorInfo | undefined;
    try {
      link.decoder.push(chunk, frames);
    } catch (error) {
      failure = SynackError.from(error).toInfo();
    }
    const texts: string[] = [];
    for (const frame of frames) {
      if (link.remoteName === null) {
        if (frame.type !== 'GREETING') {
          failure = { code: 'E_PROTOCOL', message: `first frame must be GREETING, got ${frame.type}` };
          break;
        }
        try {
          link.remoteName = parseGreeting(frame.payload).name;
        } catch (error) {
          failure = { code: 'E_PROTOCOL', message: `malformed greeting: ${(error as Error).message}` };
          break;
        }
        if (link.direction === 'in') {
          link.name = link.remoteName;
          this.#byName.set(link.name, link.id);
          link.open = true;
          const queued = link.queue.splice(0);
          this.#write(link, Buffer.concat([this.#greeting(link), ...queued.map((p) => messageFrame(p.text))]), queued);
          this.events$.next({ type: 'up', link: id, name: link.name, peer: link.peer, direction: 'in' });
        }
      } else if (frame.type === 'MESSAGE') {
        texts.push(frame.payload);
      }
    }
    if (frames.length > 0) link.framed = true;
    if (texts.length > 0) this.events$.next({ type: 'messages', link: id, from: link.remoteName!, peer: link.peer, texts });
    if (failure) return this.#refuse(link, failure);
    if (!link.decoder.hasPartialFrame && link.remoteName !== null) this.#stopTimer(link);
    else if (frames.length > 0 || !link.timer) this.#startTimer(link);
  }

  #refuse(link: ChatLink, error: SynackErrorInfo): void {
    this.#stopTimer(link);
    link.closing = true;
    if (this.#byName.get(link.name ?? '') === link.id) this.#byName.delete(link.name!);
    if (link.actor) link.actor.send({ type: 'USER.CLOSE' });
    else this.#inbound.close(link.id);
    this.events$.next({ type: 'refused', link: link.id, name: link.name, peer: link.peer, error });
  }

  #gone(id: string, reason: string, error: SynackErrorInfo | null): void {
    const link = this.#links.get(id);
    if (!link) return;
    this.#stopTimer(link);
    this.#links.delete(id);
    if (link.name !== null && this.#byName.get(link.name) === id) this.#byName.delete(link.name);
    const failure = new SynackError(error?.code ?? 'E_NOT_CONNECTED', `link to ${link.name ?? link.peer} closed before the message was sent: ${error?.message ?? reason}`);
    for (const pending of link.queue.splice(0)) pending.reject(failure);
    this.events$.next({ type: 'down', link: id, name: link.name, peer: link.peer, reason, error });
  }

  #startTimer(link: ChatLink): void {
    this.#stopTimer(link);
    link.timer = setTimeout(() => {
      link.timer = undefined;
      if (link.closing) return;
      const pending = link.decoder.pendingBytes;
      const message =
        pending > 0 || link.framed
          ? `frame stopped half-way: ${pending} bytes of a frame and no end within ${this.#frameTimeoutMs} ms`
          : `no greeting within ${this.#frameTimeoutMs} ms`;
      this.#refuse(link, { code: 'E_TIMEOUT', message });
    }, this.#frameTimeoutMs);
  }

  #stopTimer(link: ChatLink): void {
    if (link.timer) clearTimeout(link.timer);
    link.timer = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The registry link

/** Commands to the registry link effect. */
export type PeerLinkCommand = { type: 'SEND'; data: Buffer };

export interface PeerLinkInput {
  id: string;
  host: string;
  port: number;
  retry: RetryPolicy;
  connectTimeoutMs: number;
  frameTimeoutMs: number;
  maxPayloadBytes: number;
  adopt: ((actor: AnyActorRef) => void) | undefined;
}

/**
 * The effect that owns the registry link: one connection actor that dials, and on a lost link
 * redials with backoff (its retry policy); a fresh decoder per session, one `REGISTRY.FRAMES`
 * per chunk, and a timer for a frame that stops half-way.
 */
const registryLink = fromCallback<PeerLinkCommand, PeerLinkInput, PeerEvent>(({ input, sendBack, receive }) => {
  let decoder: P2pFrameDecoder | undefined;
  let timer: NodeJS.Timeout | undefined;
  let up = false;
  let last: ConnectionStateName | undefined;
  let stopped = false;
  const stopTimer = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const broken = (error: SynackErrorInfo) => {
    stopTimer();
    decoder = undefined;
    sendBack({ type: 'REGISTRY.BROKEN', error });
  };
  const onData = (chunk: Buffer) => {
    if (!decoder) return;
    const frames: P2pFrame[] = [];
    try {
      decoder.push(chunk, frames);
    } catch (error) {
      if (frames.length > 0) sendBack({ type: 'REGISTRY.FRAMES', frames });
      return broken(SynackError.from(error).toInfo());
    }
    if (frames.length > 0) sendBack({ type: 'REGISTRY.FRAMES', frames });
    if (!decoder?.hasPartialFrame) stopTimer();
    else if (frames.length > 0 || !timer) {
      stopTimer();
      const pending = decoder;
      timer = setTimeout(() => {
        timer = undefined;
        if (decoder !== pending) return;
        broken({ code: 'E_TIMEOUT', message: `registry frame stopped half-way: ${pending.pendingBytes} bytes and no end within ${input.frameTimeoutMs} ms` });
      }, input.frameTimeoutMs);
    }
  };
  const { id, host, port, retry, connectTimeoutMs } = input;
  const actor = createActor(connectionMachine, { id, input: { id, host, port, reconnect: true, retry, connectTimeoutMs, onData } });
  input.adopt?.(actor);
  actor.subscribe({
    next: (snapshot) => {
      const state = connectionState(snapshot);
      if (state === last || stopped) return;
      const previous = last;
      last = state;
      const c = snapshot.context;
      if (state === 'ESTABLISHED' && previous === 'SYN_SENT') {
        up = true;
        decoder = new P2pFrameDecoder({ types: REGISTRY_REPLY_TYPES, maxPayloadBytes: input.maxPayloadBytes });
        sendBack({ type: 'REGISTRY.UP', local: c.local ?? '?', peer: c.peer ?? `${input.host}:${input.port}` });
        return;
      }
      const down = state === 'RETRY_WAIT' || state === 'FAILED' || state === 'CLOSED';
      if (up && down) {
        up = false;
        decoder = undefined;
        stopTimer();
        sendBack({ type: 'REGISTRY.DOWN', reason: c.closeReason ?? 'closed', error: c.lastError });
      }
      if (state === 'RETRY_WAIT') sendBack({ type: 'REGISTRY.RETRYING', attempt: c.retries, delayMs: c.retryDelayMs });
      if (state === 'FAILED' || (state === 'CLOSED' && c.closedAt !== null)) {
        sendBack({ type: 'REGISTRY.FAILED', error: c.lastError ?? { code: 'E_NOT_CONNECTED', message: `registry link closed (${c.closeReason ?? 'closed'})` } });
      }
    },
    error: (error) => sendBack({ type: 'REGISTRY.FAILED', error: SynackError.from(error).toInfo() }),
  });
  receive((command) => {
    const state = connectionState(actor.getSnapshot());
    if (state === 'ESTABLISHED' || state === 'CLOSE_WAIT') actor.send({ type: 'USER.SEND', data: command.data });
  });
  queueMicrotask(() => {
    if (stopped) return;
    actor.start();
    actor.send({ type: 'USER.CONNECT' });
  });
  return () => {
    stopped = true;
    stopTimer();
    actor.send({ type: 'USER.ABORT' });
    actor.stop();
  };
});

// ---------------------------------------------------------------------------------------------
// The peer machine

export interface PeerInput {
  id?: string;
  /** The name this peer registers (no `@ : ;`, whitespace or control characters). */
  name: string;
  registry: { host: string; port: number };
  /** Address the chat listener binds. Default 0.0.0.0 (other peers must reach it). */
  host?: string;
  /** Chat port; 0 picks a free one. Default 0. */
  port?: number;
  /** IP to advertise; default the address this peer reaches the registry from. */
  advertise?: string;
  /** Re-register this often. Default 15 s. */
  refreshMs?: number;
  /** Redialling the registry: default forever, 0.5 s doubling to 10 s, ±20 % jitter. */
  registryRetry?: Partial<RetryPolicy>;
  /** Waiting after the registry refused us or spoke garbage: default 1 s doubling to 30 s. */
  backoff?: Partial<RetryPolicy>;
  /** Give up dialling the registry or a peer after this long. Default 5 s. */
  connectTimeoutMs?: number;
  /** A half-sent frame is given up on after this long. Default 40 s. */
  frameTimeoutMs?: number;
  /** Largest frame payload. Default 1,024,000 bytes. */
  maxPayloadBytes?: number;
  /** Table for accepted chat links; one is made if not given. */
  clients?: ClientTable;
  /** Chat links; made over `clients` if not given. */
  chat?: ChatLinks;
  /** Told of every connection actor the peer makes, before it starts (a supervisor's inspection hooks in here). */
  adopt?: (actor: AnyActorRef) => void;
}

/** The peer's settings, fixed by its input. */
export interface PeerConfig {
  registry: { host: string; port: number };
  /** Chat listener address and port (0: any free port). */
  host: string;
  port: number;
  advertise: string | null;
  refreshMs: number;
  registryRetry: RetryPolicy;
  backoff: RetryPolicy;
  connectTimeoutMs: number;
  frameTimeoutMs: number;
  maxPayloadBytes: number;
  adopt: ((actor: AnyActorRef) => void) | undefined;
}

// Kept under 20 top-level fields, like the registry's (XState copies it on every assign).
export interface PeerContext {
  id: string;
  name: string;
  config: PeerConfig;
  /** The chat port, once listening. */
  boundPort: number | null;
  /** What we advertise: name, IP, chat port. */
  self: PeerAddress | null;
  /** The registry link's endpoints while it is up (or last up). */
  registryLink: { local: Endpoint; peer: Endpoint } | null;
  /** The other peers, as the registry last listed them. Kept while the registry is away. */
  peers: PeerAddress[];
  registrations: number;
  refusals: number;
  backoffMs: number;
  listener: string;
  lastError: SynackErrorInfo | null;
  clients: ClientTable;
  chat: ChatLinks;
}

/** Events of the peer machine: `LISTENER.*` relayed from its chat listener, `REGISTRY.*` from its registry link. */
export type PeerEvent =
  | { type: 'USER.START' }
  | { type: 'USER.STOP' }
  | { type: 'USER.RECONNECT' }
  | { type: 'LISTENER.LISTENING'; host: string; port: number; address: Endpoint }
  | { type: 'LISTENER.FAILED'; error: SynackErrorInfo }
  | { type: 'LISTENER.STOPPED' }
  | { type: 'REGISTRY.UP'; local: Endpoint; peer: Endpoint }
  | { type: 'REGISTRY.FRAMES'; frames: P2pFrame[] }
  | { type: 'REGISTRY.BROKEN'; error: SynackErrorInfo }
  | { type: 'REGISTRY.DOWN'; reason: string; error: SynackErrorInfo | null }
  | { type: 'REGISTRY.RETRYING'; attempt: number; delayMs: number }
  | { type: 'REGISTRY.FAILED'; error: SynackErrorInfo };

/** What the peer reports to observers (`actor.on(…)`). */
export type PeerEmitted =
  | { type: 'registry-up'; registry: Endpoint; local: Endpoint }
  | { type: 'registry-down'; registry: Endpoint; reason: string; error: SynackErrorInfo | null }
  | { type: 'reconnecting'; attempt: number; delayMs: number }
  | { type: 'registered'; self: PeerAddress; registry: Endpoint }
  | { type: 'peers'; peers: PeerAddress[] }
  | { type: 'error'; error: SynackErrorInfo };

function refusalOf(frames: readonly P2pFrame[]): SynackErrorInfo | null {
  const frame = frames.find((f) => f.type === 'GREETING' && f.payload.startsWith(REGISTRY_REFUSED));
  if (!frame) return null;
  const text = frame.payload.slice(REGISTRY_REFUSED.length);
  const space = text.indexOf(' ');
  const code = space > 0 ? text.slice(0, space) : '';
  const known = code === 'E_NAME_TAKEN' || code === 'E_PROTOCOL' || code === 'E_TIMEOUT' || code === 'E_FRAME_TOO_LARGE';
  return {
    code: known ? (code as SynackErrorInfo['code']) : 'E_PROTOCOL',
    message: `the registry refused us: ${known ? text.slice(space + 1) : text}`,
  };
}

function samePeers(a: readonly PeerAddress[], b: readonly PeerAddress[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.host === b[i]!.host && p.port === b[i]!.port);
}

function relayedListener(event: unknown): ListenerSnapshot {
  return (event as { snapshot: ListenerSnapshot }).snapshot;
}

/**
 * A chat peer: `STOPPED → RUNNING → STOPPED`. RUNNING has two regions:
 * - `CHAT`: `BINDING → LISTENING` (or `FAILED`), the chat listener.
 * - `REGISTRY`: `WAITING` (for the chat port) `→ ONLINE` (`CONNECTING → UP`: `HANDSHAKE →
 *   REGISTERED`, re-registering every `refreshMs`). A lost registry link goes back to
 *   `CONNECTING` (the link redials with backoff) and the peer keeps its list and its chat links;
 *   a refusal or garbage from the registry waits in `BACKOFF`; `GAVE_UP` when a finite retry
 *   budget runs out.
 *
 * @example
 * ```ts
 * const peer = createActor(peerMachine, { input: { name: 'alice', registry: { host: '127.0.0.1', port: 9000 } } });
 * peer.on('peers', ({ peers }) => console.log(peers.map((p) => p.name)));
 * peer.start();
 * peer.send({ type: 'USER.START' });
 * ```
 */
export const peerMachine = setup({
  types: {
    context: {} as PeerContext,
    events: {} as PeerEvent,
    input: {} as PeerInput,
    emitted: {} as PeerEmitted,
  },
  actors: { listener: listenerMachine, registryLink },
  guards: {
    listenerChanged: ({ context, event }) => listenerState(relayedListener(event)) !== context.listener,
    // Read before this event's transitions: the CHAT region is still BINDING when the port is first known.
    chatBinding: stateIn({ RUNNING: { CHAT: 'BINDING' } }),
    isRefused: ({ event }) => event.type === 'REGISTRY.FRAMES' && refusalOf(event.frames) !== null,
    hasPeerList: ({ event }) => event.type === 'REGISTRY.FRAMES' && event.frames.some((f) => f.type === 'PEERLIST'),
  },
  delays: {
    refreshInterval: ({ context }) => context.config.refreshMs,
    backoffDelay: ({ context }) => context.backoffMs,
  },
  actions: {
    relayListener: enqueueActions(({ event, enqueue }) => {
      const snapshot = relayedListener(event);
      const state = listenerState(snapshot);
      const { host, boundPort, address, lastError } = snapshot.context;
      enqueue.assign({ listener: state });
      if (state === 'LISTENING') enqueue.raise({ type: 'LISTENER.LISTENING', host, port: boundPort!, address: address! });
      else if (state === 'FAILED') enqueue.raise({ type: 'LISTENER.FAILED', error: lastError ?? { code: 'E_SOCKET', message: 'could not listen' } });
      else if (state === 'STOPPED') enqueue.raise({ type: 'LISTENER.STOPPED' });
    }),
    recordBound: assign(({ event }) => {
      assertEvent(event, 'LISTENER.LISTENING');
      return { boundPort: event.port };
    }),
    recordListenerError: assign(({ event }) => {
      assertEvent(event, 'LISTENER.FAILED');
      return { lastError: event.error };
    }),
    announceSelf: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'REGISTRY.UP');
      const { advertise } = context.config;
      const self: PeerAddress = { name: context.name, host: advertise ?? endpointIp(event.local), port: context.boundPort! };
      context.chat.setSelf({ name: self.name, host: event.local === '?' && !advertise ? null : self.host, port: self.port });
      enqueue.assign({ self, registryLink: { local: event.local, peer: event.peer } });
      enqueue.emit({ type: 'registry-up', registry: event.peer, local: event.local });
    }),
    setChatSelf: ({ context, event }) => {
      assertEvent(event, 'LISTENER.LISTENING');
      context.chat.setSelf({ name: context.name, host: context.config.advertise, port: event.port });
    },
    sendHello: sendTo('registryLink', ({ context }) => {
      const { name, host, port } = context.self!;
      return { type: 'SEND' as const, data: Buffer.concat([greeting(name, host, port), registerFrame(name, host, port)]) };
    }),
    sendRegister: sendTo('registryLink', ({ context }) => {
      const { name, host, port } = context.self!;
      return { type: 'SEND' as const, data: registerFrame(name, host, port) };
    }),
    applyFrames: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'REGISTRY.FRAMES');
      for (const frame of event.frames) {
        if (frame.type !== 'PEERLIST') continue;
        const peers: PeerAddress[] = [];
        const bad: string[] = [];
        for (const entry of frame.payload === '' ? [] : frame.payload.split(';')) {
          try {
            const peer = parsePeerAddress(entry);
            if (peer.name !== context.name) peers.push(peer);
          } catch (error) {
            bad.push((error as Error).message);
          }
        }
        if (bad.length > 0) {
          enqueue.emit({ type: 'error', error: { code: 'E_PROTOCOL', message: `registry list: skipped ${bad.length} malformed entr${bad.length === 1 ? 'y' : 'ies'}: ${bad[0]}` } });
        }
        if (!samePeers(peers, context.peers)) {
          enqueue.assign({ peers });
          enqueue.emit({ type: 'peers', peers });
        }
      }
    }),
    markRegistered: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ registrations: context.registrations + 1, refusals: 0, lastError: null });
      enqueue.emit({ type: 'registered', self: context.self!, registry: context.registryLink?.peer ?? '?' });
    }),
    recordRefusal: enqueueActions(({ context, event, enqueue }) => {
      const error =
        event.type === 'REGISTRY.FRAMES'
          ? refusalOf(event.frames)!
          : event.type === 'REGISTRY.BROKEN'
            ? { ...event.error, message: `registry link: ${event.error.message}` }
            : { code: 'E_PROTOCOL' as const, message: 'registry link broken' };
      const refusals = context.refusals + 1;
      enqueue.assign({ lastError: error, refusals, backoffMs: backoffDelay(context.config.backoff, refusals) });
      enqueue.emit({ type: 'error', error });
    }),
    recordLoss: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'REGISTRY.DOWN');
      enqueue.assign({ lastError: event.error });
      const { registry } = context.config;
      enqueue.emit({ type: 'registry-down', registry: context.registryLink?.peer ?? `${registry.host}:${registry.port}`, reason: event.reason, error: event.error });
    }),
    emitReconnecting: emit(({ event }) => {
      assertEvent(event, 'REGISTRY.RETRYING');
      return { type: 'reconnecting' as const, attempt: event.attempt, delayMs: event.delayMs };
    }),
    recordGiveUp: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'REGISTRY.FAILED');
      enqueue.assign({ lastError: event.error });
      enqueue.emit({ type: 'error', error: { ...event.error, message: `gave up on the registry: ${event.error.message}` } });
    }),
    closeChat: ({ context }) => context.chat.closeAll(),
  },
}).createMachine({
  id: 'peer',
  context: ({ input }) => {
    const clients = input.clients ?? new ClientTable({ idPrefix: 'in', ...(input.adopt ? { adopted: input.adopt } : {}) });
    const frameTimeoutMs = input.frameTimeoutMs ?? REGISTRY_DEFAULTS.frameTimeoutMs;
    const maxPayloadBytes = input.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const connectTimeoutMs = input.connectTimeoutMs ?? PEER_DEFAULTS.connectTimeoutMs;
    return {
      id: input.id ?? 'peer',
      name: input.name,
      config: {
        registry: { ...input.registry },
        host: input.host ?? '0.0.0.0',
        port: input.port ?? 0,
        advertise: input.advertise ?? null,
        refreshMs: input.refreshMs ?? PEER_DEFAULTS.refreshMs,
        registryRetry: { ...PEER_DEFAULTS.registryRetry, ...input.registryRetry },
        backoff: { ...PEER_DEFAULTS.backoff, ...input.backoff },
        connectTimeoutMs,
        frameTimeoutMs,
        maxPayloadBytes,
        adopt: input.adopt,
      },
      boundPort: null,
      self: null,
      registryLink: null,
      peers: [],
      registrations: 0,
      refusals: 0,
      backoffMs: 0,
      listener: 'STOPPED',
      lastError: null,
      clients,
      chat: input.chat ?? new ChatLinks({ inbound: clients, frameTimeoutMs, maxPayloadBytes, connectTimeoutMs, ...(input.adopt ? { adopt: input.adopt } : {}) }),
    };
  },
  initial: 'STOPPED',
  states: {
    STOPPED: {
      on: { 'USER.START': { target: 'RUNNING' } },
    },
    RUNNING: {
      type: 'parallel',
      invoke: {
        id: 'listener',
        src: 'listener',
        input: ({ context }) => ({ id: `${context.id}-chat`, host: context.config.host, port: context.config.port, clients: context.clients }),
        onSnapshot: { guard: 'listenerChanged', actions: 'relayListener' },
      },
      entry: sendTo('listener', { type: 'USER.LISTEN' as const }),
      exit: ['closeChat', assign({ listener: 'STOPPED', boundPort: null })],
      on: { 'USER.STOP': { target: 'STOPPED' } },
      states: {
        CHAT: {
          initial: 'BINDING',
          states: {
            BINDING: {
              on: {
                'LISTENER.LISTENING': { target: 'LISTENING', actions: ['recordBound', 'setChatSelf'] },
                'LISTENER.FAILED': { target: 'FAILED', actions: 'recordListenerError' },
              },
            },
            LISTENING: {},
            FAILED: {},
          },
        },
        REGISTRY: {
          initial: 'WAITING',
          states: {
            WAITING: {
              on: { 'LISTENER.LISTENING': { guard: 'chatBinding', target: 'ONLINE' } },
            },
            ONLINE: {
              initial: 'CONNECTING',
              invoke: {
                id: 'registryLink',
                src: 'registryLink',
                input: ({ context }) => ({
                  id: `${context.id}-registry`,
                  host: context.config.registry.host,
                  port: context.config.registry.port,
                  retry: context.config.registryRetry,
                  connectTimeoutMs: context.config.connectTimeoutMs,
                  frameTimeoutMs: context.config.frameTimeoutMs,
                  maxPayloadBytes: context.config.maxPayloadBytes,
                  adopt: context.config.adopt,
                }),
              },
              on: {
                'REGISTRY.BROKEN': { target: 'BACKOFF', actions: 'recordRefusal' },
                'REGISTRY.FAILED': { target: 'GAVE_UP', actions: 'recordGiveUp' },
                'REGISTRY.RETRYING': { actions: 'emitReconnecting' },
              },
              states: {
                CONNECTING: {
                  on: { 'REGISTRY.UP': { target: 'UP', actions: ['announceSelf', 'sendHello'] } },
                },
                UP: {
                  type: 'parallel',
                  on: { 'REGISTRY.DOWN': { target: 'CONNECTING', actions: 'recordLoss' } },
                  states: {
                    SESSION: {
                      initial: 'HANDSHAKE',
                      states: {
                        HANDSHAKE: {
                          on: {
                            'REGISTRY.FRAMES': [
                              { guard: 'isRefused', target: '#peer.RUNNING.REGISTRY.BACKOFF', actions: 'recordRefusal' },
                              { guard: 'hasPeerList', target: 'REGISTERED', actions: ['applyFrames', 'markRegistered'] },
                              { actions: 'applyFrames' },
                            ],
                          },
                        },
                        REGISTERED: {
                          on: {
                            'REGISTRY.FRAMES': [
                              { guard: 'isRefused', target: '#peer.RUNNING.REGISTRY.BACKOFF', actions: 'recordRefusal' },
                              { actions: 'applyFrames' },
                            ],
                          },
                        },
                      },
                    },
                    REFRESH: {
                      initial: 'WAITING',
                      states: {
                        WAITING: { after: { refreshInterval: { target: 'WAITING', reenter: true, actions: 'sendRegister' } } },
                      },
                    },
                  },
                },
              },
            },
            BACKOFF: {
              after: { backoffDelay: { target: 'ONLINE' } },
              on: { 'USER.RECONNECT': { target: 'ONLINE' } },
            },
            GAVE_UP: {
              on: { 'USER.RECONNECT': { target: 'ONLINE' } },
            },
          },
        },
      },
    },
  },
});

export type PeerActor = ActorRefFrom<typeof peerMachine>;
export type PeerSnapshot = SnapshotFrom<typeof peerMachine>;
export type PeerChatStateName = 'STOPPED' | 'BINDING' | 'LISTENING' | 'FAILED';
export type PeerRegistryStateName = 'STOPPED' | 'WAITING' | 'CONNECTING' | 'HANDSHAKE' | 'REGISTERED' | 'BACKOFF' | 'GAVE_UP';

/**
 * The peer's two regions as names: `{ chat: 'LISTENING', registry: 'REGISTERED' }`.
 *
 * @example
 * ```ts
 * peerState(actor.getSnapshot()).registry; // 'REGISTERED'
 * ```
 */
export function peerState(snapshot: PeerSnapshot): { chat: PeerChatStateName; registry: PeerRegistryStateName } {
  const value = snapshot.value;
  if (typeof value === 'string') return { chat: 'STOPPED', registry: 'STOPPED' };
  const running = (value as { RUNNING: { CHAT: PeerChatStateName; REGISTRY: string | { ONLINE: string | { UP: { SESSION: string } } } } }).RUNNING;
  const registry = running.REGISTRY;
  let name: string;
  if (typeof registry === 'string') name = registry;
  else if (typeof registry.ONLINE === 'string') name = registry.ONLINE;
  else name = registry.ONLINE.UP.SESSION;
  return { chat: running.CHAT, registry: name as PeerRegistryStateName };
}

/** Both regions in one name, chat first: `LISTENING/REGISTERED`. */
export function peerStateName(snapshot: PeerSnapshot): string {
  const { chat, registry } = peerState(snapshot);
  return `${chat}/${registry}`;
}

/**
 * Sample events for graph traversal (`xstate/graph`): the chat port bound, the registry link up,
 * its greeting and list, a refusal, a lost and a broken link, a retry and a final failure.
 *
 * @example
 * ```ts
 * exploreModel(peerMachine.provide({ actors: { listener: fake, registryLink: fake } }), { events: peerSampleEvents, inputs });
 * ```
 */
export const peerSampleEvents: PeerEvent[] = [
  { type: 'USER.START' },
  { type: 'LISTENER.LISTENING', host: '0.0.0.0', port: 9001, address: '0.0.0.0:9001' },
  { type: 'LISTENER.FAILED', error: { code: 'E_ADDR_IN_USE', message: 'listen EADDRINUSE' } },
  { type: 'REGISTRY.UP', local: '127.0.0.1:40000', peer: '127.0.0.1:9000' },
  {
    type: 'REGISTRY.FRAMES',
    frames: [
      { type: 'GREETING', payload: REGISTRY_GREETING },
      { type: 'PEERLIST', payload: 'alice@127.0.0.1:9001;bob@127.0.0.1:9002' },
    ],
  },
  { type: 'REGISTRY.FRAMES', frames: [{ type: 'GREETING', payload: REGISTRY_GREETING }] },
  { type: 'REGISTRY.FRAMES', frames: [{ type: 'GREETING', payload: `${REGISTRY_REFUSED}E_NAME_TAKEN name "alice" is registered from 10.0.0.5:9001` }] },
  { type: 'REGISTRY.DOWN', reason: 'peer-closed', error: null },
  { type: 'REGISTRY.RETRYING', attempt: 1, delayMs: 500 },
  { type: 'REGISTRY.BROKEN', error: { code: 'E_PROTOCOL', message: 'unknown frame type "HELLO"' } },
  { type: 'REGISTRY.FAILED', error: { code: 'E_CONN_REFUSED', message: 'connect ECONNREFUSED' } },
  { type: 'USER.RECONNECT' },
  { type: 'USER.STOP' },
];
