import os from 'node:os';
import type { Observable } from 'rxjs';
import { createActor, waitFor } from 'xstate';
import { ClientTable, type ClientInfo } from '../machines/client-table.js';
import { registryMachine, registryState, type RegistryActor, type RegistryEntry, type RegistryInput, type RegistrySnapshot } from '../machines/registry.js';
import type { PeerAddress } from '../transport/p2p-frame.js';
import type { P2pFacadeEvent } from './p2p-events.js';
import { snapshots$ } from './observe.js';
import { drain, P2pFacade } from './p2p-facade.js';
import type { Supervisor } from './supervisor.js';

/**
 * A registry's options: the registry machine's {@link RegistryInput}, except that
 * `localAddresses` defaults to every address of every local interface.
 */
export interface RegistryOptions extends Omit<RegistryInput, 'clients' | 'persistentBook'> {
  /** Lends its inspection observer and its id sequence. */
  supervisor?: Supervisor;
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
export class Registry extends P2pFacade {
  readonly actor: RegistryActor;
  readonly clients: ClientTable;
  readonly state$: Observable<RegistrySnapshot>;

  constructor(options: RegistryOptions) {
    super('registry', options);
    const { supervisor: _supervisor, ...input } = options;
    this.clients = new ClientTable({ idPrefix: 'c', ...(this.adopt ? { adopted: this.adopt } : {}) });
    this.actor = createActor(registryMachine, {
      id: this.id,
      input: { ...input, id: this.id, clients: this.clients, localAddresses: options.localAddresses ?? hostAddresses() },
    });
    this.adopt?.(this.actor);
    this.state$ = snapshots$(this.actor);
    this.#wire();
    this.actor.start();
  }

  #wire(): void {
    const id = this.id;
    const next = (event: P2pFacadeEvent) => this.emit(event);
    let lastError: unknown = null;
    this.watch(this.actor, 'registry', {
      stateOf: registryState,
      isListening: (state) => state === 'LISTENING',
      onSnapshot: ({ context: { lastError: error } }) => {
        if (error && error !== lastError) next({ event: 'error', id, code: error.code, message: error.message });
        lastError = error;
      },
      onChange: (state, previous) => {
        if (state === 'STOPPED' && previous !== '') next({ event: 'stopped', id });
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
    return this.listen(this.actor, (s) => {
      const state = registryState(s);
      return state === 'LISTENING' ? 'up' : state === 'FAILED' || state === 'STOPPED' ? 'down' : null;
    });
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

  /** Stops listening and closes every link (FIN first, at once after `graceMs`); the actor stays, `start()` serves again. */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (['LISTENING', 'BINDING'].includes(this.state)) this.actor.send({ type: 'USER.STOP' });
    await waitFor(this.actor, (s) => ['STOPPED', 'FAILED'].includes(registryState(s)));
    this.clients.closeAll();
    await drain([this.clients], options.graceMs);
  }

  /** Stops serving, closes every link and stops the actor. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    await this.stop(options);
    this.actor.stop();
    this.endEvents();
  }
}

/** Creates a {@link Registry}; call `start()` to listen. */
export function createRegistry(options: RegistryOptions): Registry {
  return new Registry(options);
}
