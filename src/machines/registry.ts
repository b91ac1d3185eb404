/**
 * The P2P registry of seed 003 (DESIGN §3.4): peers greet, register `name@ip:port`, and get the
 * full peer list back; entries expire unless refreshed; every change is broadcast, coalesced.
 *
 * Built on the listener machine (an invoked child: binding, bind retries, max clients) and its
 * client table (one connection actor per peer link, kept in a map, never as children). The peer
 * table itself is a {@link PeerBook}: O(1) per join, refresh and leave, held in context like the
 * listener holds its client table, with the counts the guards read copied into context.
 */
import { assertEvent, assign, enqueueActions, fromCallback, sendTo, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import { isIP } from 'node:net';
import { SynackError, type SynackErrorInfo } from '../errors.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  encodeP2pFrame,
  formatPeerAddress,
  P2pFrameDecoder,
  parseGreeting,
  parsePeerAddress,
  peerListFrame,
  registryGreetingFrame,
  type P2pFrame,
  type PeerAddress,
} from '../transport/p2p-frame.js';
import { isLoopback } from '../transport/interfaces.js';
import { formatEndpoint, type Endpoint } from '../transport/socket-bridge.js';
import { ClientTable } from './client-table.js';
import { listenerMachine, listenerState, type ListenerSnapshot } from './listener.js';
import type { RetryPolicy } from './retry.js';

/**
 * Frame types a registry link accepts (the original registry's set); anything else closes the link.
 *
 * @example
 * ```ts
 * const decoder = new P2pFrameDecoder({ types: REGISTRY_LINK_TYPES });
 * ```
 */
export const REGISTRY_LINK_TYPES: readonly string[] = Object.freeze(['GREETING', 'REGISTER', 'PEERLIST']);

/**
 * Prefix of the GREETING the registry sends before it closes a link it refuses, e.g.
 * `GREETING 71 Register Refused: E_NAME_TAKEN name "alice" is registered from 10.0.0.5:9001`.
 * An original peer ignores a GREETING once greeted; a synack peer reports the reason.
 *
 * @example
 * ```ts
 * if (frame.type === 'GREETING' && frame.payload.startsWith(REGISTRY_REFUSED)) console.error(frame.payload);
 * ```
 */
export const REGISTRY_REFUSED = 'Register Refused: ';

/**
 * Defaults of the original program: a registration lives 22 s, a half-sent frame 40 s.
 *
 * @example
 * ```ts
 * createActor(registryMachine, { input: { port: 0, ttlMs: 2 * REGISTRY_DEFAULTS.ttlMs } });
 * ```
 */
export const REGISTRY_DEFAULTS = Object.freeze({ ttlMs: 22_000, frameTimeoutMs: 40_000 });

/**
 * Which addresses a peer may advertise:
 * - `own` (default): the IP its link comes from; a peer on the registry's own host (loopback or one
 *   of this host's addresses) may name any address of this host.
 * - `private`: also, a peer connecting from a private address (RFC 1918, ULA, link-local) may name
 *   any private address (one LAN, several subnets or a NAT inside it).
 * - `any`: no check, as the original.
 */
export type AddressTrust = 'own' | 'private' | 'any';

/**
 * Strips an IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1` → `127.0.0.1`) and lower-cases IPv6.
 *
 * @example
 * ```ts
 * normalizeIp('::FFFF:10.0.0.1'); // '10.0.0.1'
 * ```
 */
export function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped ? mapped[1]! : lower;
}

/**
 * The IP of an `ip:port` endpoint (IPv6 in brackets), normalised with {@link normalizeIp}.
 *
 * @example
 * ```ts
 * endpointIp('[::ffff:127.0.0.1]:5000'); // '127.0.0.1'
 * ```
 */
export function endpointIp(endpoint: Endpoint): string {
  if (endpoint.startsWith('[')) return normalizeIp(endpoint.slice(1, endpoint.indexOf(']')));
  const colon = endpoint.lastIndexOf(':');
  return normalizeIp(colon < 0 ? endpoint : endpoint.slice(0, colon));
}

function isPrivate(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || a === 127;
  }
  return /^f[cd]/.test(ip) || /^fe[89ab]/.test(ip) || ip === '::1';
}

/**
 * Whether a link from `remote` may advertise `claimed` under `trust` (see {@link AddressTrust}).
 * `localAddresses` are this host's own IPs; loopback always counts as local.
 *
 * @example
 * ```ts
 * ownsAddress('10.0.0.9', '10.0.0.9', 'own', []); // true
 * ownsAddress('192.0.2.7', '127.0.0.1', 'own', ['127.0.0.1']); // false: not an address of this host
 * ```
 */
export function ownsAddress(claimed: string, remote: string, trust: AddressTrust, localAddresses: readonly string[]): boolean {
  const want = normalizeIp(claimed);
  const from = normalizeIp(remote);
  if (trust === 'any' || want === from) return true;
  const local = (ip: string) => isLoopback(ip) || localAddresses.some((a) => normalizeIp(a) === ip);
  if (local(from) && local(want)) return true;
  return trust === 'private' && isPrivate(from) && isPrivate(want);
}

function sameAddress(a: PeerAddress, b: PeerAddress): boolean {
  return a.name === b.name && normalizeIp(a.host) === normalizeIp(b.host) && a.port === b.port;
}

/** Where a registry link is in the protocol. */
export type RegistryLinkPhase = 'GREETING' | 'GREETED' | 'REGISTERED' | 'CLOSING';

/** One link to the registry, as {@link PeerBook} keeps it. */
export interface RegistryLinkInfo {
  id: string;
  /** The link's remote endpoint, `ip:port` (an IPv4-mapped IPv6 address shown as IPv4). */
  peer: Endpoint;
  /** The remote IP, normalised. */
  remote: string;
  phase: RegistryLinkPhase;
  /** Who the link greeted as. */
  identity: PeerAddress | null;
}

/** One registered peer. */
export interface RegistryEntry {
  peer: PeerAddress;
  link: string;
  joinedAt: number;
  expiresAt: number;
}

/** What a REGISTER did to the table. */
export type RegisterOutcome =
  | { kind: 'added'; entry: RegistryEntry }
  | { kind: 'refreshed'; entry: RegistryEntry }
  | { kind: 'moved'; entry: RegistryEntry; previousLink: string }
  | { kind: 'taken'; holder: RegistryEntry };

/**
 * The registry's table: links, registered peers, expiry order, and who is owed a list. Every
 * operation is O(1) except listing: the expiry queue is a Map kept in refresh order (one TTL for
 * all, so refresh order is expiry order), and the PEERLIST frame is built once per change.
 *
 * @example
 * ```ts
 * const book = new PeerBook();
 * book.openLink('c1', '10.0.0.5:40000');
 * book.greet('c1', { name: 'alice', host: '10.0.0.5', port: 9001 });
 * book.register('c1', { name: 'alice', host: '10.0.0.5', port: 9001 }, Date.now(), 22_000).kind; // 'added'
 * book.listFrame().toString(); // 'PEERLIST 22 alice@10.0.0.5:9001'
 * ```
 */
export class PeerBook {
  readonly #links = new Map<string, RegistryLinkInfo>();
  readonly #members = new Map<string, RegistryEntry>();
  readonly #expiry = new Map<string, RegistryEntry>();
  readonly #owed = new Set<string>();
  #version = 0;
  #frame: { version: number; data: Buffer } | undefined;

  /** Bumped whenever the list's content changes. */
  get version(): number {
    return this.#version;
  }

  get peerCount(): number {
    return this.#members.size;
  }

  get linkCount(): number {
    return this.#links.size;
  }

  /** Links that registered again (or moved) since the last flush and wait for the list. */
  get owedCount(): number {
    return this.#owed.size;
  }

  /** When the next entry expires, or null with no entries. */
  get nextExpiry(): number | null {
    for (const entry of this.#expiry.values()) return entry.expiresAt;
    return null;
  }

  openLink(id: string, peer: Endpoint): RegistryLinkInfo {
    const remote = endpointIp(peer);
    const port = peer.slice(peer.lastIndexOf(':') + 1);
    const link: RegistryLinkInfo = { id, peer: formatEndpoint(remote, Number(port)), remote, phase: 'GREETING', identity: null };
    this.#links.set(id, link);
    return link;
  }

  link(id: string): RegistryLinkInfo | undefined {
    return this.#links.get(id);
  }

  greet(id: string, identity: PeerAddress): void {
    const link = this.#links.get(id);
    if (!link) return;
    link.identity = identity;
    link.phase = 'GREETED';
  }

  register(id: string, peer: PeerAddress, now: number, ttlMs: number): RegisterOutcome {
    const link = this.#links.get(id);
    const existing = this.#members.get(peer.name);
    if (existing && !sameAddress(existing.peer, peer)) return { kind: 'taken', holder: existing };
    if (link) link.phase = 'REGISTERED';
    this.#owed.add(id);
    if (existing) {
      const previousLink = existing.link;
      existing.link = id;
      existing.expiresAt = now + ttlMs;
      this.#expiry.delete(peer.name);
      this.#expiry.set(peer.name, existing);
      if (previousLink !== id) {
        this.#owed.delete(previousLink);
        return { kind: 'moved', entry: existing, previousLink };
      }
      return { kind: 'refreshed', entry: existing };
    }
    const entry: RegistryEntry = { peer, link: id, joinedAt: now, expiresAt: now + ttlMs };
    this.#members.set(peer.name, entry);
    this.#expiry.set(peer.name, entry);
    this.#version++;
    return { kind: 'added', entry };
  }

  /** The entry registered on this link, if it still holds one. */
  entryOf(id: string): RegistryEntry | undefined {
    const name = this.#links.get(id)?.identity?.name;
    const entry = name === undefined ? undefined : this.#members.get(name);
    return entry?.link === id ? entry : undefined;
  }

  /** Marks a link as being closed and removes its entry at once; returns the entry removed. */
  closing(id: string): RegistryEntry | undefined {
    const entry = this.entryOf(id);
    const link = this.#links.get(id);
    if (link) link.phase = 'CLOSING';
    this.#owed.delete(id);
    if (entry) this.#remove(entry);
    return entry;
  }

  /** Forgets a link whose socket is gone; returns the entry it still held, now removed. */
  dropLink(id: string): RegistryEntry | undefined {
    const entry = this.entryOf(id);
    this.#links.delete(id);
    this.#owed.delete(id);
    if (entry) this.#remove(entry);
    return entry;
  }

  /** Removes every entry whose expiry is at or before `now`, oldest first. */
  expire(now: number): RegistryEntry[] {
    const expired: RegistryEntry[] = [];
    for (const entry of this.#expiry.values()) {
      if (entry.expiresAt > now) break;
      expired.push(entry);
    }
    for (const entry of expired) this.#remove(entry);
    return expired;
  }

  /** The registered peers in the order they joined. */
  list(): PeerAddress[] {
    return [...this.#members.values()].map((entry) => entry.peer);
  }

  entries(): RegistryEntry[] {
    return [...this.#members.values()];
  }

  links(): RegistryLinkInfo[] {
    return [...this.#links.values()];
  }

  /** The links of every registered peer. */
  registeredLinks(): string[] {
    return [...this.#members.values()].map((entry) => entry.link);
  }

  /** The links owed a list since the last flush; clears the set. */
  takeOwed(): string[] {
    const ids = [...this.#owed];
    this.#owed.clear();
    return ids;
  }

  /** The current PEERLIST frame, built once per version and shared by every write. */
  listFrame(): Buffer {
    if (this.#frame?.version !== this.#version) this.#frame = { version: this.#version, data: peerListFrame(this.list()) };
    return this.#frame.data;
  }

  #remove(entry: RegistryEntry): void {
    this.#members.delete(entry.peer.name);
    this.#expiry.delete(entry.peer.name);
    this.#version++;
  }

  /** A deep copy: what a persistent registry (see `persistentBook`) changes instead of this one. */
  clone(): PeerBook {
    const copy = new PeerBook();
    for (const [id, link] of this.#links) copy.#links.set(id, { ...link });
    for (const [name, entry] of this.#members) copy.#members.set(name, { ...entry });
    for (const name of this.#expiry.keys()) copy.#expiry.set(name, copy.#members.get(name)!);
    for (const id of this.#owed) copy.#owed.add(id);
    copy.#version = this.#version;
    return copy;
  }

  /** A plain view for inspectors and JSON. */
  toJSON(): { peers: string[]; links: number } {
    return { peers: this.list().map(formatPeerAddress), links: this.#links.size };
  }
}

export interface RegistryInput {
  id?: string;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** A registration lives this long unless refreshed. Default 22 s. */
  ttlMs?: number;
  /** A link that begins a frame (or connects) and does not finish it within this time is closed. Default 40 s. */
  frameTimeoutMs?: number;
  /** Largest frame payload. Default 1,024,000 bytes, the original's cap. */
  maxPayloadBytes?: number;
  /** Which advertised addresses to accept. Default `own`. */
  trust?: AddressTrust;
  /** This host's IPs, for `own` (loopback always counts). Default none beyond loopback. */
  localAddresses?: string[];
  /**
   * List broadcasts are coalesced: after a flush that took `t` ms the next waits at least
   * `factor × t` (at least `minMs`, at most `maxMs`), so broadcasting never takes more than about
   * 1/(1+factor) of the time however fast peers join. Defaults 0 ms, 2,000 ms, 4.
   */
  coalesce?: { minMs?: number; maxMs?: number; factor?: number };
  /** Retry binding, e.g. while a previous run still holds the port. */
  bindRetry?: Partial<RetryPolicy>;
  /** Refuse links beyond this many. */
  maxClients?: number;
  /** The table peer links go into; one is made if not given. */
  clients?: ClientTable;
  /**
   * Copy the peer table on every change instead of changing it in place, so that no two
   * snapshots share it: for model-based traversal (which branches from old snapshots) and time
   * travel. Costs O(peers) per event; leave it off in service.
   */
  persistentBook?: boolean;
}

/** The registry's settings, fixed by its input. */
export interface RegistryConfig {
  host: string;
  port: number;
  ttlMs: number;
  frameTimeoutMs: number;
  maxPayloadBytes: number;
  trust: AddressTrust;
  localAddresses: string[];
  coalesce: { minMs: number; maxMs: number; factor: number };
  bindRetry: Partial<RetryPolicy> | undefined;
  maxClients: number | undefined;
  persistentBook: boolean;
}

/** What the registry has sent since it started. */
export interface RegistryStats {
  /** How long the last list flush took to hand to the sockets. */
  lastFlushMs: number;
  /** Lists sent to everyone because the list changed. */
  broadcasts: number;
  /** Lists sent to one peer in answer to its REGISTER. */
  answers: number;
  listBytesOut: number;
}

// Kept under 20 top-level fields: XState copies the context with Object.assign on every assign,
// and V8 turns an object of 20 or more properties built that way into a slow dictionary (~30×).
export interface RegistryContext {
  id: string;
  config: RegistryConfig;
  clients: ClientTable;
  book: PeerBook;
  /** The listener's last state, as relayed. */
  listener: string;
  boundPort: number | null;
  address: Endpoint | null;
  lastError: SynackErrorInfo | null;
  peerCount: number;
  linkCount: number;
  version: number;
  announcedVersion: number;
  owed: number;
  nextExpiryAt: number | null;
  stats: RegistryStats;
}

/** Events of the registry machine. `LISTENER.*` are relayed from its listener, `PEER.*` from its links. */
export type RegistryEvent =
  | { type: 'USER.START' }
  | { type: 'USER.STOP' }
  | { type: 'USER.EVICT'; name: string }
  | { type: 'LISTENER.LISTENING'; host: string; port: number; address: Endpoint }
  | { type: 'LISTENER.FAILED'; error: SynackErrorInfo }
  | { type: 'LISTENER.STOPPED' }
  | { type: 'PEER.OPENED'; id: string; peer: Endpoint }
  | { type: 'PEER.FRAMES'; id: string; frames: P2pFrame[] }
  | { type: 'PEER.FAILED'; id: string; error: SynackErrorInfo }
  | { type: 'PEER.CLOSED'; id: string; reason: string; error: SynackErrorInfo | null }
  | { type: 'PEER.LIST_SENT'; ms: number; bytes: number; writes: number };

/** What the registry reports to observers (`actor.on(…)`): its log. */
export type RegistryEmitted =
  | { type: 'joined'; link: string; peer: Endpoint; entry: PeerAddress; peers: number }
  | { type: 'left'; link: string; entry: PeerAddress; reason: string; peers: number }
  | { type: 'refused'; link: string; peer: Endpoint; error: SynackErrorInfo }
  | { type: 'list'; peers: PeerAddress[]; links: number };

/** Commands to the links effect. */
export type RegistryLinkCommand =
  | { type: 'WRITE'; id: string; data: Buffer }
  | { type: 'BROADCAST'; ids: string[]; data: Buffer }
  | { type: 'CLOSE'; id: string };

export interface RegistryLinksInput {
  clients: ClientTable;
  frameTimeoutMs: number;
  maxPayloadBytes: number;
}

/**
 * The effect between the client table and the machine: one decoder per link, one `PEER.FRAMES`
 * per socket chunk, and one timer per link, armed while a frame has begun and not ended, and
 * from the connect until the first REGISTER (so no link can sit there unregistered for ever).
 * Writes go to the links' connection actors; a broadcast is timed for coalescing.
 */
const registryLinks = fromCallback<RegistryLinkCommand, RegistryLinksInput, RegistryEvent>(({ input, sendBack, receive }) => {
  interface Link {
    decoder: P2pFrameDecoder;
    timer: NodeJS.Timeout | undefined;
    dead: boolean;
    framed: boolean;
    registered: boolean;
  }
  const links = new Map<string, Link>();
  const stopTimer = (link: Link) => {
    if (link.timer) clearTimeout(link.timer);
    link.timer = undefined;
  };
  const startTimer = (id: string, link: Link) => {
    stopTimer(link);
    link.timer = setTimeout(() => {
      link.timer = undefined;
      if (link.dead) return;
      link.dead = true;
      const pending = link.decoder.pendingBytes;
      const message =
        pending > 0
          ? `frame stopped half-way: ${pending} bytes of a frame and no end within ${input.frameTimeoutMs} ms`
          : link.framed
            ? `no REGISTER within ${input.frameTimeoutMs} ms`
            : `no frame within ${input.frameTimeoutMs} ms of connecting`;
      sendBack({ type: 'PEER.FAILED', id, error: { code: 'E_TIMEOUT', message } });
    }, input.frameTimeoutMs);
  };
  const subscription = input.clients.events$.subscribe((event) => {
    if (event.type === 'connected') {
      const link: Link = {
        decoder: new P2pFrameDecoder({ types: REGISTRY_LINK_TYPES, maxPayloadBytes: input.maxPayloadBytes }),
        timer: undefined,
        dead: false,
        framed: false,
        registered: false,
      };
      links.set(event.id, link);
      startTimer(event.id, link);
      sendBack({ type: 'PEER.OPENED', id: event.id, peer: event.peer });
    } else if (event.type === 'data') {
      const link = links.get(event.id);
      if (!link || link.dead) return;
      const frames: P2pFrame[] = [];
      let failure: SynackErrorInfo | undefined;
      try {
        link.decoder.push(event.chunk, frames);
      } catch (error) {
        failure = SynackError.from(error).toInfo();
      }
      if (frames.length > 0) {
        link.framed = true;
        link.registered ||= frames.some((f) => f.type === 'REGISTER');
        sendBack({ type: 'PEER.FRAMES', id: event.id, frames });
      }
      if (failure) {
        link.dead = true;
        stopTimer(link);
        sendBack({ type: 'PEER.FAILED', id: event.id, error: failure });
      } else if (link.decoder.hasPartialFrame) {
        if (frames.length > 0 || !link.timer) startTimer(event.id, link);
      } else if (link.registered) {
        stopTimer(link);
      }
    } else if (event.type === 'disconnected') {
      const link = links.get(event.id);
      if (link) stopTimer(link);
      links.delete(event.id);
      sendBack({ type: 'PEER.CLOSED', id: event.id, reason: event.reason, error: event.error });
    }
  });
  receive((command) => {
    if (command.type === 'WRITE') {
      input.clients.send(command.id, command.data);
    } else if (command.type === 'BROADCAST') {
      const started = performance.now();
      let writes = 0;
      for (const id of command.ids) if (input.clients.send(id, command.data)) writes++;
      sendBack({ type: 'PEER.LIST_SENT', ms: performance.now() - started, bytes: writes * command.data.length, writes });
    } else {
      const link = links.get(command.id);
      if (link) {
        link.dead = true;
        stopTimer(link);
      }
      input.clients.close(command.id);
    }
  });
  return () => {
    subscription.unsubscribe();
    for (const link of links.values()) stopTimer(link);
    links.clear();
  };
});

/** The table an action may change: the context's own, or a copy when snapshots must not share it (then assign it). */
function editBook(context: RegistryContext): PeerBook {
  return context.config.persistentBook ? context.book.clone() : context.book;
}

function refusalFrame(error: SynackErrorInfo): Buffer {
  return encodeP2pFrame('GREETING', `${REGISTRY_REFUSED}${error.code} ${error.message}`);
}

const CLOSE_REASONS: Record<string, string> = {
  'peer-closed': 'the peer closed its link',
  reset: 'link reset',
  timeout: 'link timed out',
  closed: 'link closed',
  aborted: 'link aborted',
};

function closeReason(reason: string, error: SynackErrorInfo | null): string {
  const text = CLOSE_REASONS[reason] ?? `link ${reason}`;
  return error ? `${text}: ${error.message}` : text;
}

function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/**
 * The registry: `STOPPED → BINDING → LISTENING → CLOSING → STOPPED`, or `FAILED` when its listener
 * cannot bind. While LISTENING two regions run: `LIST` (IDLE → PENDING → flush, the coalesced
 * broadcast) and `EXPIRY` (ARMED for the earliest expiry while anyone is registered).
 *
 * Per link: the first frame must be GREETING `name:ip:port` naming an address the link owns
 * ({@link AddressTrust}); it is answered `GREETING Register Validation`. Then REGISTER
 * `name@ip:port` (the same peer) adds or refreshes the entry and is answered with the list; a
 * name held by another address is refused. Anything wrong closes only that link, with a
 * `refused` event saying why.
 *
 * @example
 * ```ts
 * const registry = createActor(registryMachine, { input: { port: 0 } });
 * registry.on('joined', (e) => console.log('joined', e.entry.name));
 * registry.on('refused', (e) => console.log(e.peer, e.error.message));
 * registry.start();
 * registry.send({ type: 'USER.START' });
 * ```
 */
export const registryMachine = setup({
  types: {
    context: {} as RegistryContext,
    events: {} as RegistryEvent,
    input: {} as RegistryInput,
    emitted: {} as RegistryEmitted,
  },
  actors: { listener: listenerMachine, registryLinks },
  guards: {
    listenerChanged: ({ context, event }) => listenerState((event as unknown as { snapshot: ListenerSnapshot }).snapshot) !== context.listener,
    flushDue: ({ context }) => context.version !== context.announcedVersion || context.owed > 0,
    hasPeers: ({ context }) => context.peerCount > 0,
    hasNoPeers: ({ context }) => context.peerCount === 0,
  },
  delays: {
    coalesceDelay: ({ context }) =>
      Math.min(context.config.coalesce.maxMs, Math.max(context.config.coalesce.minMs, Math.ceil(context.stats.lastFlushMs * context.config.coalesce.factor))),
    nextExpiry: ({ context }) => Math.max(0, (context.nextExpiryAt ?? Date.now()) - Date.now()),
  },
  actions: {
    relayListener: enqueueActions(({ event, enqueue }) => {
      const snapshot = (event as unknown as { snapshot: ListenerSnapshot }).snapshot;
      const state = listenerState(snapshot);
      const { host, boundPort, address, lastError } = snapshot.context;
      enqueue.assign({ listener: state });
      if (state === 'LISTENING') enqueue.raise({ type: 'LISTENER.LISTENING', host, port: boundPort!, address: address! });
      else if (state === 'FAILED') enqueue.raise({ type: 'LISTENER.FAILED', error: lastError ?? { code: 'E_SOCKET', message: 'could not listen' } });
      else if (state === 'STOPPED') enqueue.raise({ type: 'LISTENER.STOPPED' });
    }),
    stopListener: sendTo('listener', { type: 'USER.STOP' as const, closeClients: true }),
    recordBound: assign(({ event }) => {
      assertEvent(event, 'LISTENER.LISTENING');
      return { boundPort: event.port, address: event.address, lastError: null };
    }),
    recordListenerError: assign(({ event }) => {
      assertEvent(event, 'LISTENER.FAILED');
      return { lastError: event.error };
    }),
    clearBound: assign({ boundPort: null, address: null, listener: 'STOPPED' }),
    openLink: assign(({ context, event }) => {
      assertEvent(event, 'PEER.OPENED');
      const book = editBook(context);
      book.openLink(event.id, event.peer);
      return { book };
    }),
    handleFrames: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'PEER.FRAMES');
      const book = editBook(context);
      const link = book.link(event.id);
      if (!link) return;
      if (book !== context.book) enqueue.assign({ book });
      const refuse = (code: SynackErrorInfo['code'], message: string) => {
        const error: SynackErrorInfo = { code, message };
        enqueue.sendTo('registryLinks', { type: 'WRITE', id: link.id, data: refusalFrame(error) });
        enqueue.sendTo('registryLinks', { type: 'CLOSE', id: link.id });
        const entry = book.closing(link.id);
        if (entry) enqueue.emit({ type: 'left', link: link.id, entry: entry.peer, reason: `link refused: ${message}`, peers: book.peerCount });
        enqueue.emit({ type: 'refused', link: link.id, peer: link.peer, error });
      };
      const parse = <T>(what: string, payload: string, parser: (text: string) => T): T | undefined => {
        try {
          return parser(payload);
        } catch (error) {
          refuse('E_PROTOCOL', `malformed ${what} ${show(payload)}: ${(error as Error).message}`);
          return undefined;
        }
      };
      const claims = (peer: PeerAddress, what: string): boolean => {
        if (ownsAddress(peer.host, link.remote, context.config.trust, context.config.localAddresses)) return true;
        refuse('E_PROTOCOL', `${what} names ${peer.host} but the link comes from ${link.remote}: a peer may only advertise an address it owns`);
        return false;
      };
      for (const frame of event.frames) {
        if (link.phase === 'CLOSING') break;
        if (link.phase === 'GREETING') {
          if (frame.type !== 'GREETING') {
            refuse('E_PROTOCOL', `first frame must be GREETING, got ${frame.type}`);
            break;
          }
          const identity = parse('greeting', frame.payload, parseGreeting);
          if (!identity || !claims(identity, 'greeting')) break;
          book.greet(link.id, identity);
          enqueue.sendTo('registryLinks', { type: 'WRITE', id: link.id, data: registryGreetingFrame() });
          continue;
        }
        if (frame.type === 'PEERLIST') continue;
        if (frame.type === 'GREETING') {
          const again = parse('greeting', frame.payload, parseGreeting);
          if (!again) break;
          if (!sameAddress(again, link.identity!)) {
            refuse('E_PROTOCOL', `greeted again as ${formatPeerAddress(again)} after ${formatPeerAddress(link.identity!)}`);
            break;
          }
          continue;
        }
        const peer = parse('REGISTER', frame.payload, parsePeerAddress);
        if (!peer) break;
        if (!sameAddress(peer, link.identity!)) {
          refuse('E_PROTOCOL', `REGISTER ${formatPeerAddress(peer)} does not match the greeting ${formatPeerAddress(link.identity!)}`);
          break;
        }
        if (!claims(peer, 'REGISTER')) break;
        const outcome = book.register(link.id, peer, Date.now(), context.config.ttlMs);
        if (outcome.kind === 'taken') {
          const holder = outcome.holder.peer;
          refuse('E_NAME_TAKEN', `name ${show(peer.name)} is registered from ${formatEndpoint(holder.host, holder.port)}; ${formatEndpoint(peer.host, peer.port)} may not take it`);
          break;
        }
        if (outcome.kind === 'added') {
          enqueue.emit({ type: 'joined', link: link.id, peer: link.peer, entry: peer, peers: book.peerCount });
        } else if (outcome.kind === 'moved') {
          const previous = book.link(outcome.previousLink);
          if (previous) previous.phase = 'CLOSING';
          enqueue.sendTo('registryLinks', { type: 'CLOSE', id: outcome.previousLink });
          enqueue.emit({ type: 'left', link: outcome.previousLink, entry: peer, reason: 'replaced by a newer link', peers: book.peerCount });
          enqueue.emit({ type: 'joined', link: link.id, peer: link.peer, entry: peer, peers: book.peerCount });
        }
      }
    }),
    failLink: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'PEER.FAILED');
      const book = editBook(context);
      const link = book.link(event.id);
      if (!link || link.phase === 'CLOSING') return;
      if (book !== context.book) enqueue.assign({ book });
      enqueue.sendTo('registryLinks', { type: 'WRITE', id: link.id, data: refusalFrame(event.error) });
      enqueue.sendTo('registryLinks', { type: 'CLOSE', id: link.id });
      const entry = book.closing(link.id);
      if (entry) enqueue.emit({ type: 'left', link: link.id, entry: entry.peer, reason: `link refused: ${event.error.message}`, peers: book.peerCount });
      enqueue.emit({ type: 'refused', link: link.id, peer: link.peer, error: event.error });
    }),
    dropLink: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'PEER.CLOSED');
      const book = editBook(context);
      if (book !== context.book) enqueue.assign({ book });
      const entry = book.dropLink(event.id);
      if (entry) {
        enqueue.emit({ type: 'left', link: event.id, entry: entry.peer, reason: closeReason(event.reason, event.error), peers: book.peerCount });
      }
    }),
    evict: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'USER.EVICT');
      const book = editBook(context);
      const entry = book.entries().find((e) => e.peer.name === event.name);
      if (!entry) return;
      if (book !== context.book) enqueue.assign({ book });
      enqueue.sendTo('registryLinks', { type: 'CLOSE', id: entry.link });
      book.closing(entry.link);
      enqueue.emit({ type: 'left', link: entry.link, entry: entry.peer, reason: 'evicted', peers: book.peerCount });
    }),
    evictExpired: enqueueActions(({ context, enqueue }) => {
      const book = editBook(context);
      if (book !== context.book) enqueue.assign({ book });
      for (const entry of book.expire(Date.now())) {
        const link = book.link(entry.link);
        if (link) link.phase = 'CLOSING';
        enqueue.sendTo('registryLinks', { type: 'CLOSE', id: entry.link });
        enqueue.emit({ type: 'left', link: entry.link, entry: entry.peer, reason: `expired: no REGISTER for ${context.config.ttlMs} ms`, peers: book.peerCount });
      }
    }),
    syncCounts: assign(({ context }) => ({
      peerCount: context.book.peerCount,
      linkCount: context.book.linkCount,
      version: context.book.version,
      owed: context.book.owedCount,
      nextExpiryAt: context.book.nextExpiry,
    })),
    flushList: enqueueActions(({ context, enqueue }) => {
      const book = editBook(context);
      const changed = context.version !== context.announcedVersion;
      const owed = book.takeOwed();
      const ids = changed ? book.registeredLinks() : owed;
      if (ids.length > 0) enqueue.sendTo('registryLinks', { type: 'BROADCAST', ids, data: book.listFrame() });
      if (changed) enqueue.emit({ type: 'list', peers: book.list(), links: ids.length });
      enqueue.assign({
        book,
        announcedVersion: context.version,
        owed: 0,
        stats: {
          ...context.stats,
          broadcasts: context.stats.broadcasts + (changed ? 1 : 0),
          answers: context.stats.answers + (changed ? 0 : ids.length),
        },
      });
    }),
    recordListSent: assign(({ context, event }) => {
      assertEvent(event, 'PEER.LIST_SENT');
      return { stats: { ...context.stats, lastFlushMs: event.ms, listBytesOut: context.stats.listBytesOut + event.bytes } };
    }),
    resetBook: assign(() => ({
      book: new PeerBook(),
      peerCount: 0,
      linkCount: 0,
      version: 0,
      announcedVersion: 0,
      owed: 0,
      nextExpiryAt: null,
      lastError: null,
    })),
  },
}).createMachine({
  id: 'registry',
  context: ({ input }) => ({
    id: input.id ?? 'registry',
    config: {
      host: input.host ?? '127.0.0.1',
      port: input.port,
      ttlMs: input.ttlMs ?? REGISTRY_DEFAULTS.ttlMs,
      frameTimeoutMs: input.frameTimeoutMs ?? REGISTRY_DEFAULTS.frameTimeoutMs,
      maxPayloadBytes: input.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      trust: input.trust ?? 'own',
      localAddresses: input.localAddresses ?? [],
      coalesce: { minMs: input.coalesce?.minMs ?? 0, maxMs: input.coalesce?.maxMs ?? 2_000, factor: input.coalesce?.factor ?? 4 },
      bindRetry: input.bindRetry,
      maxClients: input.maxClients,
      persistentBook: input.persistentBook ?? false,
    },
    clients: input.clients ?? new ClientTable(),
    book: new PeerBook(),
    listener: 'STOPPED',
    boundPort: null,
    address: null,
    lastError: null,
    peerCount: 0,
    linkCount: 0,
    version: 0,
    announcedVersion: 0,
    owed: 0,
    nextExpiryAt: null,
    stats: { lastFlushMs: 0, broadcasts: 0, answers: 0, listBytesOut: 0 },
  }),
  initial: 'STOPPED',
  states: {
    STOPPED: {
      on: { 'USER.START': { target: 'ACTIVE', actions: 'resetBook' } },
    },
    ACTIVE: {
      initial: 'BINDING',
      invoke: [
        {
          id: 'listener',
          src: 'listener',
          input: ({ context }) => ({
            id: `${context.id}-listener`,
            host: context.config.host,
            port: context.config.port,
            clients: context.clients,
            ...(context.config.bindRetry ? { retry: context.config.bindRetry } : {}),
            ...(context.config.maxClients !== undefined ? { maxClients: context.config.maxClients } : {}),
          }),
          onSnapshot: { guard: 'listenerChanged', actions: 'relayListener' },
        },
        {
          id: 'registryLinks',
          src: 'registryLinks',
          input: ({ context }) => ({
            clients: context.clients,
            frameTimeoutMs: context.config.frameTimeoutMs,
            maxPayloadBytes: context.config.maxPayloadBytes,
          }),
        },
      ],
      entry: sendTo('listener', { type: 'USER.LISTEN' as const }),
      exit: 'clearBound',
      on: {
        'PEER.OPENED': { actions: ['openLink', 'syncCounts'] },
        'PEER.FRAMES': { actions: ['handleFrames', 'syncCounts'] },
        'PEER.FAILED': { actions: ['failLink', 'syncCounts'] },
        'PEER.CLOSED': { actions: ['dropLink', 'syncCounts'] },
        'PEER.LIST_SENT': { actions: 'recordListSent' },
      },
      states: {
        BINDING: {
          on: {
            'LISTENER.LISTENING': { target: 'LISTENING', actions: 'recordBound' },
            'LISTENER.FAILED': { target: '#registry.FAILED', actions: 'recordListenerError' },
            'USER.STOP': { target: '#registry.STOPPED' },
          },
        },
        LISTENING: {
          type: 'parallel',
          on: {
            'USER.STOP': { target: 'CLOSING', actions: 'stopListener' },
            'USER.EVICT': { actions: ['evict', 'syncCounts'] },
          },
          states: {
            LIST: {
              initial: 'IDLE',
              states: {
                IDLE: { always: { guard: 'flushDue', target: 'PENDING' } },
                PENDING: { after: { coalesceDelay: { target: 'IDLE', actions: 'flushList' } } },
              },
            },
            EXPIRY: {
              initial: 'IDLE',
              states: {
                IDLE: { always: { guard: 'hasPeers', target: 'ARMED' } },
                ARMED: {
                  always: { guard: 'hasNoPeers', target: 'IDLE' },
                  after: { nextExpiry: { target: 'ARMED', reenter: true, actions: ['evictExpired', 'syncCounts'] } },
                },
              },
            },
          },
        },
        CLOSING: {
          on: { 'LISTENER.STOPPED': { target: '#registry.STOPPED' } },
        },
      },
    },
    FAILED: {
      on: { 'USER.START': { target: 'ACTIVE', actions: 'resetBook' } },
    },
  },
});

export type RegistryActor = ActorRefFrom<typeof registryMachine>;
export type RegistrySnapshot = SnapshotFrom<typeof registryMachine>;
export type RegistryStateName = 'STOPPED' | 'BINDING' | 'LISTENING' | 'CLOSING' | 'FAILED';

/**
 * The registry's state as one name: `LISTENING`, `FAILED`, …
 *
 * @example
 * ```ts
 * registryState(actor.getSnapshot()); // 'LISTENING'
 * ```
 */
export function registryState(snapshot: RegistrySnapshot): RegistryStateName {
  const value = snapshot.value;
  if (typeof value === 'string') return value as RegistryStateName;
  const active = (value as { ACTIVE: string | Record<string, unknown> }).ACTIVE;
  return (typeof active === 'string' ? active : Object.keys(active)[0]) as RegistryStateName;
}

/**
 * Sample events for graph traversal (`xstate/graph`): binding, a link that greets and registers,
 * one that sends something else first, a failed and a closed link, a list flush.
 *
 * @example
 * ```ts
 * exploreModel(registryMachine.provide({ actors: { listener: fake, registryLinks: fake } }), { events: registrySampleEvents });
 * ```
 */
export const registrySampleEvents: RegistryEvent[] = [
  { type: 'USER.START' },
  { type: 'LISTENER.LISTENING', host: '127.0.0.1', port: 9000, address: '127.0.0.1:9000' },
  { type: 'LISTENER.FAILED', error: { code: 'E_ADDR_IN_USE', message: 'listen EADDRINUSE' } },
  { type: 'PEER.OPENED', id: 'c1', peer: '127.0.0.1:40001' },
  {
    type: 'PEER.FRAMES',
    id: 'c1',
    frames: [
      { type: 'GREETING', payload: 'alice:127.0.0.1:9001' },
      { type: 'REGISTER', payload: 'alice@127.0.0.1:9001' },
    ],
  },
  { type: 'PEER.FRAMES', id: 'c1', frames: [{ type: 'REGISTER', payload: 'alice@127.0.0.1:9001' }] },
  { type: 'PEER.OPENED', id: 'c2', peer: '127.0.0.1:40002' },
  { type: 'PEER.FRAMES', id: 'c2', frames: [{ type: 'REGISTER', payload: 'bob@127.0.0.1:9002' }] },
  { type: 'PEER.FAILED', id: 'c2', error: { code: 'E_TIMEOUT', message: 'frame stopped half-way' } },
  { type: 'PEER.CLOSED', id: 'c1', reason: 'peer-closed', error: null },
  { type: 'PEER.LIST_SENT', ms: 1, bytes: 100, writes: 1 },
  { type: 'USER.EVICT', name: 'alice' },
  { type: 'USER.STOP' },
  { type: 'LISTENER.STOPPED' },
];
