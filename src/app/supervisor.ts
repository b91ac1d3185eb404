import { merge, Observable, share, Subject } from 'rxjs';
import { createActor, type AnyActorRef, type InspectionEvent } from 'xstate';
import { SynackError, type SynackErrorInfo } from '../errors.js';
import type { ConnectionActor, ConnectionInput } from '../machines/connection.js';
import type { ListenerActor, ListenerInput } from '../machines/listener.js';
import { supervisorMachine, type SupervisedSpec, type SupervisorActor } from '../machines/supervisor.js';

export interface SupervisorOptions {
  /** XState inspection observer for every actor under this supervisor (off by default). */
  inspect?: (event: InspectionEvent) => void;
}

type Unsubscribe = { unsubscribe(): void };

/**
 * The root of a synack system: servers and clients made with it are its children, and an
 * inspector attached to it sees them all. Actor failures are reported on `errors$` instead of
 * crashing the process. Inspection is free while nobody inspects: no actor carries an
 * observer unless `options.inspect` was given or {@link inspection$} is observed.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor();
 * const server = createServer({ port: 0, supervisor });
 * const client = createClient({ host: '127.0.0.1', port: 9000, supervisor });
 * await supervisor.shutdown();
 * ```
 */
export class Supervisor {
  readonly actor: SupervisorActor;
  readonly errors$ = new Subject<SynackErrorInfo>();
  /**
   * Inspection events of every actor under this supervisor, for observers added at any time
   * (the live inspector). Free while unobserved: the observers are registered with the actor
   * systems (`system.inspect()`) on the first subscription and removed after the last.
   */
  readonly inspection$: Observable<InspectionEvent>;
  readonly #options: SupervisorOptions;
  /**
   * Live actors in systems of their own (see {@link adopt}): their owner, if any, and their
   * inspection$ registration while it is observed.
   */
  readonly #adopted = new Map<AnyActorRef, { owner: AnyActorRef | undefined; registration: Unsubscribe | undefined }>();
  /** Feeds inspection$ while it is observed. */
  #tap: ((event: InspectionEvent) => void) | undefined;
  #sequence = 0;

  constructor(options: SupervisorOptions = {}) {
    this.#options = options;
    this.actor = createActor(supervisorMachine, options.inspect ? { inspect: options.inspect } : {});
    const system = this.actor.system;
    const own = new Observable<InspectionEvent>((subscriber) => {
      const subscription = system.inspect((event) => subscriber.next(event));
      return () => subscription.unsubscribe();
    });
    const adopted = new Observable<InspectionEvent>((subscriber) => {
      const tap = (event: InspectionEvent) => subscriber.next(event);
      this.#tap = tap;
      for (const [actor, adoption] of this.#adopted) adoption.registration = actor.system.inspect(tap);
      return () => {
        this.#tap = undefined;
        for (const adoption of this.#adopted.values()) {
          adoption.registration?.unsubscribe();
          adoption.registration = undefined;
        }
      };
    });
    this.inspection$ = merge(own, adopted).pipe(share());
    this.actor.subscribe({ error: (error) => this.errors$.next(SynackError.from(error, 'supervisor').toInfo()) });
    this.actor.start();
  }

  /**
   * Brings an actor that is the root of a system of its own (an accepted connection, say) under
   * this supervisor's inspection: `options.inspect` sees it from now on, and {@link inspection$}
   * whenever observed. Nothing is attached to it while nobody inspects. Call before `start()`
   * to see its first events; it is let go when it stops. `owner` is the actor it belongs to in
   * the inspector's tree (a server's listener); without one it hangs under the supervisor. Its
   * failure, if any, is reported on {@link errors$}.
   */
  adopt(actor: AnyActorRef, owner?: AnyActorRef): void {
    if (this.#adopted.has(actor)) return;
    if (this.#options.inspect) actor.system.inspect(this.#options.inspect);
    this.#adopted.set(actor, { owner, registration: this.#tap ? actor.system.inspect(this.#tap) : undefined });
    // Let go once the actor's last inspection event (sent after its observers hear of the end) is out.
    const forget = () => {
      this.#adopted.get(actor)?.registration?.unsubscribe();
      this.#adopted.delete(actor);
    };
    actor.subscribe({
      complete: () => queueMicrotask(forget),
      error: (error) => {
        queueMicrotask(forget);
        this.errors$.next(SynackError.from(error, actor.id).toInfo());
      },
    });
  }

  /** The live adopted actors (see {@link adopt}): an inspector lists them with the supervisor's children. */
  roots(): AnyActorRef[] {
    return [...this.#adopted.keys()];
  }

  /** The actor an adopted actor belongs to: its owner, else the supervisor; undefined if not adopted. */
  parentOf(actor: AnyActorRef): AnyActorRef | undefined {
    const adoption = this.#adopted.get(actor);
    return adoption ? (adoption.owner ?? this.actor) : undefined;
  }

  /** A fresh child id: `server-1`, `client-2`… */
  nextId(prefix: string): string {
    return `${prefix}-${++this.#sequence}`;
  }

  /** Starts a listener or connection actor as a child and returns it. */
  start(id: string, spec: { machine: 'listener'; input: ListenerInput }): ListenerActor;
  start(id: string, spec: { machine: 'connection'; input: ConnectionInput }): ConnectionActor;
  start(id: string, spec: SupervisedSpec): ListenerActor | ConnectionActor {
    if (this.actor.getSnapshot().children[id]) throw new SynackError('E_USAGE', `an actor named ${id} is already running`);
    this.actor.send({ type: 'SUPERVISOR.START', id, ...spec } as never);
    const child = this.actor.getSnapshot().children[id];
    if (!child) throw new SynackError('E_USAGE', `could not start ${spec.machine} ${id}`);
    return child as ListenerActor | ConnectionActor;
  }

  /** Stops one child actor (its effects are cleaned up). */
  stop(id: string): void {
    this.actor.send({ type: 'SUPERVISOR.STOP', id });
  }

  /** The live children by id. */
  children(): Record<string, AnyActorRef> {
    return { ...this.actor.getSnapshot().children } as Record<string, AnyActorRef>;
  }

  /** Stops every child and the root. */
  shutdown(): void {
    this.actor.stop();
  }
}
