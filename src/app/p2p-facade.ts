import { filter, firstValueFrom, type Observable, Subject } from 'rxjs';
import { waitFor, type ActorRef, type AnyActorRef, type Snapshot } from 'xstate';
import { SynackError, type SynackErrorInfo } from '../errors.js';
import type { P2pFacadeEvent } from './p2p-events.js';
import type { Supervisor } from './supervisor.js';

/** What the registry and peer machines keep about their listener, as their facades read it. */
export interface ListeningContext {
  config: { host: string };
  boundPort: number | null;
  lastError: SynackErrorInfo | null;
}

type ListeningSnapshot = Snapshot<unknown> & { context: ListeningContext };
type StartableActor<S extends ListeningSnapshot> = ActorRef<S, { type: 'USER.START' }>;

/** Link tables a facade closes on the way out: the registry's clients, a peer's clients and chat links. */
export interface LinkTable {
  readonly size: number;
  readonly events$: Observable<unknown>;
  closeAll(options?: { abort?: boolean }): void;
}

/**
 * Resolves once every table is empty, closing what is still open at once after `graceMs`.
 * Close the links gracefully first; this only waits for them.
 *
 * @example
 * ```ts
 * clients.closeAll();
 * await drain([clients], 2_000);
 * ```
 */
export async function drain(tables: readonly LinkTable[], graceMs = 2_000): Promise<void> {
  const open = () => tables.reduce((n, t) => n + t.size, 0);
  if (open() === 0) return;
  await new Promise<void>((resolve) => {
    const subs: { unsubscribe(): void }[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const sub of subs) sub.unsubscribe();
      resolve();
    };
    const timer = setTimeout(() => {
      for (const table of tables) table.closeAll({ abort: true });
      done();
    }, graceMs);
    const check = () => open() === 0 && done();
    for (const table of tables) subs.push(table.events$.subscribe(check));
    check();
  });
}

/**
 * The plumbing the registry and peer facades share: the id, `events$` and `next()`, the
 * `state`/`listening`/`error` events read from the actor, and starting to listen.
 */
export abstract class P2pFacade {
  readonly id: string;
  readonly events$: Observable<P2pFacadeEvent>;
  readonly #events = new Subject<P2pFacadeEvent>();
  /**
   * Brings each actor the facade makes under its supervisor's inspection (free while nobody
   * inspects), as a part of the facade's own actor unless it is that actor.
   */
  protected readonly adopt: ((actor: AnyActorRef) => void) | undefined;
  /** The facade's own actor, which the links it makes belong to. */
  protected abstract readonly actor: AnyActorRef;

  protected constructor(kind: 'registry' | 'peer', options: { id?: string; supervisor?: Supervisor }) {
    this.id = options.id ?? options.supervisor?.nextId(kind) ?? kind;
    const supervisor = options.supervisor;
    this.adopt = supervisor ? (actor) => supervisor.adopt(actor, actor === this.actor ? undefined : this.actor) : undefined;
    this.events$ = this.#events.asObservable();
  }

  protected emit(event: P2pFacadeEvent): void {
    this.#events.next(event);
  }

  /** Completes `events$`; the last step of `close()`. */
  protected endEvents(): void {
    this.#events.complete();
  }

  /**
   * Emits `state` when `stateOf` changes and `listening` when it becomes one `isListening`
   * accepts; `onSnapshot` sees every snapshot before that, `onChange` every change after it
   * (`previous` is '' at first). An actor that fails is reported as `error`.
   */
  protected watch<S extends ListeningSnapshot>(
    actor: StartableActor<S>,
    machine: 'registry' | 'peer',
    hooks: {
      stateOf: (snapshot: S) => string;
      isListening: (state: string) => boolean;
      onSnapshot?: (snapshot: S) => void;
      onChange?: (state: string, previous: string) => void;
    },
  ): void {
    const id = this.id;
    let last = '';
    actor.subscribe({
      next: (snapshot) => {
        hooks.onSnapshot?.(snapshot);
        const state = hooks.stateOf(snapshot);
        if (state === last) return;
        const previous = last;
        last = state;
        this.emit({ event: 'state', actor: id, machine, state });
        if (hooks.isListening(state) && !hooks.isListening(previous)) this.emit({ event: 'listening', id, ...addressOf(snapshot) });
        hooks.onChange?.(state, previous);
      },
      error: (error) => {
        const e = SynackError.from(error, machine);
        this.emit({ event: 'error', id, code: e.code, message: e.message });
      },
    });
  }

  /** Sends `USER.START` and resolves with the bound address once `settled` says it listens; rejects with the machine's error. */
  protected async listen<S extends ListeningSnapshot>(
    actor: StartableActor<S>,
    settled: (snapshot: S) => 'up' | 'down' | null,
    failure = '',
  ): Promise<{ host: string; port: number }> {
    actor.send({ type: 'USER.START' });
    const snapshot = await waitFor(actor, (s) => settled(s) !== null);
    if (settled(snapshot) === 'down') {
      const error = snapshot.context.lastError;
      throw new SynackError(error?.code ?? 'E_SOCKET', `${failure}${error?.message ?? 'could not listen'}`);
    }
    return addressOf(snapshot);
  }

  /** Resolves with the next event of the given kind. */
  next<K extends P2pFacadeEvent['event']>(kind: K): Promise<Extract<P2pFacadeEvent, { event: K }>> {
    return firstValueFrom(this.events$.pipe(filter((e): e is Extract<P2pFacadeEvent, { event: K }> => e.event === kind)));
  }
}

function addressOf(snapshot: ListeningSnapshot): { host: string; port: number } {
  return { host: snapshot.context.config.host, port: snapshot.context.boundPort! };
}
