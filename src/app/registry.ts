import os from 'node:os';
import { filter, firstValueFrom, Observable, Subject } from 'rxjs';
import { createActor, waitFor } from 'xstate';
import { SynackError } from '../errors.js';
import { ClientTable, type ClientInfo } from '../machines/client-table.js';
import {
  registryMachine,
  registryState,
  type AddressTrust,
  type RegistryActor,
  type RegistryEntry,
  type RegistrySnapshot,
} from '../machines/registry.js';
import type { RetryPolicy } from '../machines/retry.js';
import type { PeerAddress } from '../transport/p2p-frame.js';
import { snapshots$ } from './observe.js';
import type { P2pFacadeEvent } from './p2p-events.js';
import type { Supervisor } from './supervisor.js';

export interface RegistryOptions {
  /** Port to listen on; 0 picks a free one (see the `listening` event). */
  port: number;
  /** Address to bind. Default 127.0.0.1; use 0.0.0.0 or :: for peers on other hosts. */
  host?: string;
  /** A registration lives this long unless refreshed. Default 22 s. */
  ttlMs?: number;
  /** A link that begins a frame, or connects, and does not finish it within this time is closed. Default 40 s. */
  frameTimeoutMs?: number;
  /** Largest frame payload. Default 1,024,000 bytes. */
  maxPayloadBytes?: number;
  /** Which advertised addresses to accept (see {@link AddressTrust}). Default `own`. */
  trust?: AddressTrust;
  /** This host's IPs for the `own` rule. Default: every address of every local interface. */
  localAddresses?: string[];
  /** Broadcast coalescing (see the registry machine). */
  coalesce?: { minMs?: number; maxMs?: number; factor?: number };
  bindRetry?: Partial<RetryPolicy>;
  maxClients?: number;
  /** Lends its inspection observer and its id sequence. */
  supervisor?: Supervisor;
  id?: string;
}

function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

/**
 * The P2P registry of seed 003: a registry machine over a listener, with its log and the peer
 * list as an Observable of events (`listening`, `connected`, `joined`, `left`, `refused`,
 * `peers`, `disconnected`, `error`).
 *
 * @example
 * ```ts
 * const registry = createRegistry({ port: 0 });
 * registry.events$.subscribe((e) => e.event === 'refused' && console.warn(e.peer, e.message));
 * const { port } = await registry.start();
 * // … peers register with 127.0.0.1:port
 * console.log(registry.peers());
 * await registry.close();
 * ```
 */
export class Registry {
  readonly id: string;
  readonly actor: RegistryActor;
  readonly clients: ClientTable;
  readonly state$: Observable<RegistrySnapshot>;
  readonly events$: Observable<P2pFacadeEvent>;
  readonly #events = new Subject<P2pFacadeEvent>();

  constructor(options: RegistryOptions) {
    const supervisor = options.supervisor;
    this.id = options.id ?? supervisor?.nextId('registry') ?? 'registry';
    this.clients = new ClientTable({ idPrefix: 'c', ...(supervisor?.inspect ? { inspect: supervisor.inspect } : {}) });
    this.events$ = this.#events.asObservable();
    this.actor = createActor(registryMachine, {
      id: this.id,
      input: {
        id: this.id,
        port: options.port,
        clients: this.clients,
        localAddresses: options.localAddresses ?? hostAddresses(),
        ...(options.host !== undefined ? { host: options.host } : {}),
        ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
        ...(options.frameTimeoutMs !== undefined ? { frameTimeoutMs: options.frameTimeoutMs } : {}),
        ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
        ...(options.trust !== undefined ? { trust: options.trust } : {}),
        ...(options.coalesce ? { coalesce: options.coalesce } : {}),
        ...(options.bindRetry ? { bindRetry: options.bindRetry } : {}),
        ...(options.maxClients !== undefined ? { maxClients: options.maxClients } : {}),
      },
      ...(supervisor?.inspect ? { inspect: supervisor.inspect } : {}),
    });
    this.state$ = snapshots$(this.actor);
    this.#wire();
    this.actor.start();
  }

  #wire(): void {
    const id = this.id;
    const next = (event: P2pFacadeEvent) => this.#events.next(event);
    let last = '';
    let lastError: unknown = null;
    this.actor.subscribe({
      next: (snapshot) => {
        const state = registryState(snapshot);
        const { lastError: error, boundPort, config } = snapshot.context;
        const { host } = config;
        if (error && error !== lastError) next({ event: 'error', id, code: error.code, message: error.message });
        lastError = error;
        if (state === last) return;
        const previous = last;
        last = state;
        next({ event: 'state', actor: id, machine: 'registry', state });
        if (state === 'LISTENING') next({ event: 'listening', id, host, port: boundPort! });
        if (state === 'STOPPED' && previous !== '') next({ event: 'stopped', id });
      },
      error: (error) => {
        const e = SynackError.from(error, 'registry');
        next({ event: 'error', id, code: e.code, message: e.message });
      },
    });
    this.actor.on('joined', (e) => next({ event: 'joined', id, link: e.link, peer: e.peer, ...e.entry, peers: e.peers }));
    this.actor.on('left', (e) => next({ event: 'left', id, link: e.link, ...e.entry, reason: e.reason, peers: e.peers }));
    this.actor.on('refused', (e) => next({ event: 'refused', id, link: e.link, peer: e.peer, code: e.error.code, message: e.error.message }));
    this.actor.on('list', (e) => next({ event: 'peers', id, peers: e.peers.map(({ name, host, port }) => ({ name, host, port })) }));
    this.clients.events$.subscribe((e) => {
      if (e.type === 'connected') next({ event: 'connected', id: e.id, peer: e.peer, clients: e.clients });
      else if (e.type === 'disconnected') {
        next({ event: 'disconnected', id: e.id, peer: e.peer, reason: e.reason, clients: e.clients, ...(e.error ? { code: e.error.code } : {}) });
      }
    });
  }

  /** The registry's state now: `LISTENING`, `FAILED`, … */
  get state(): string {
    return registryState(this.actor.getSnapshot());
  }

  /** Starts listening; resolves with the bound address, rejects with a SynackError (E_ADDR_IN_USE…). */
  async start(): Promise<{ host: string; port: number }> {
    this.actor.send({ type: 'USER.START' });
    const snapshot = await waitFor(this.actor, (s) => ['LISTENING', 'FAILED', 'STOPPED'].includes(registryState(s)));
    if (registryState(snapshot) !== 'LISTENING') {
      const error = snapshot.context.lastError;
      throw new SynackError(error?.code ?? 'E_SOCKET', error?.message ?? 'could not listen');
    }
    return { host: snapshot.context.config.host, port: snapshot.context.boundPort! };
  }

  /** The registered peers, in the order they joined. */
  peers(): PeerAddress[] {
    return this.actor.getSnapshot().context.book.list();
  }

  /** The registered peers with their links and expiry times. */
  entries(): RegistryEntry[] {
    return this.actor.getSnapshot().context.book.entries().map((e) => ({ ...e, peer: { ...e.peer } }));
  }

  /** The open links (registered or not). */
  links(): ClientInfo[] {
    return this.clients.list();
  }

  /** Removes a peer and closes its link; the others get the new list. False when no such peer. */
  evict(name: string): boolean {
    if (!this.peers().some((p) => p.name === name)) return false;
    this.actor.send({ type: 'USER.EVICT', name });
    return true;
  }

  /** Resolves with the next event of the given kind. */
  next<K extends P2pFacadeEvent['event']>(kind: K): Promise<Extract<P2pFacadeEvent, { event: K }>> {
    return firstValueFrom(this.events$.pipe(filter((e): e is Extract<P2pFacadeEvent, { event: K }> => e.event === kind)));
  }

  /** Stops listening and closes every link (FIN first, at once after `graceMs`); the actor stays, `start()` serves again. */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (['LISTENING', 'BINDING'].includes(this.state)) this.actor.send({ type: 'USER.STOP' });
    await waitFor(this.actor, (s) => ['STOPPED', 'FAILED'].includes(registryState(s)));
    this.clients.closeAll();
    if (this.clients.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          sub.unsubscribe();
          this.clients.closeAll({ abort: true });
          resolve();
        }, options.graceMs ?? 2_000);
        const sub = this.clients.events$.subscribe(() => {
          if (this.clients.size === 0) {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve();
          }
        });
      });
    }
  }

  /** Stops serving, closes every link and stops the actor. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    await this.stop(options);
    this.actor.stop();
    this.#events.complete();
  }
}

/** Creates a {@link Registry}; call `start()` to listen. */
export function createRegistry(options: RegistryOptions): Registry {
  return new Registry(options);
}
