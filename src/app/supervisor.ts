import { merge, Observable, share, Subject } from 'rxjs';
import { createActor, type AnyActorRef, type InspectionEvent } from 'xstate';
import { SynackError, type SynackErrorInfo } from '../errors.js';
import type { ConnectionActor, ConnectionInput } from '../machines/connection.js';
import type { ListenerActor, ListenerInput } from '../machines/listener.js';
import { supervisorMachine, type SupervisedSpec, type SupervisorActor } from '../machines/supervisor.js';

export interface SupervisorOptions {
  /** XState inspection observer for every actor under this supervisor (off by default). */
  inspect?: (event: InspectionEvent) => void;
  /**
   * Keep {@link Supervisor.inspect} set from the start, so that actors made with it (not
   * {@link Supervisor.adopt}ed) are seen live by an inspector opened later; they pay for
   * inspection events all the while. For a program with an inspector always at hand (the web
   * UI); attaching an inspector does the same from then on.
   */
  inspectable?: boolean;
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
  /** Actors in systems of their own (see {@link adopt}), with their inspection$ registration. */
  readonly #adopted = new Map<AnyActorRef, Unsubscribe | undefined>();
  #inspectable: boolean;
  /** Feeds inspection$ while it is observed. */
  #tap: ((event: InspectionEvent) => void) | undefined;
  readonly #forward = (event: InspectionEvent): void => {
    // An actor made with `inspect` is the root of its own system: remember it for roots().
    if (event.type === '@xstate.actor' && (event.actorRef as AnyActorRef)._parent === undefined) this.#track(event.actorRef as AnyActorRef);
    this.#options.inspect?.(event);
    this.#tap?.(event);
  };
  /** Live actors outside the supervisor's own system that inspection knows of. */
  readonly #roots = new Set<AnyActorRef>();
  #sequence = 0;

  constructor(options: SupervisorOptions = {}) {
    this.#options = options;
    this.#inspectable = options.inspectable ?? false;
    this.actor = createActor(supervisorMachine, options.inspect ? { inspect: options.inspect } : {});
    const system = this.actor.system;
    const own = new Observable<InspectionEvent>((subscriber) => {
      const subscription = system.inspect((event) => subscriber.next(event));
      return () => subscription.unsubscribe();
    });
    const adopted = new Observable<InspectionEvent>((subscriber) => {
      const tap = (event: InspectionEvent) => subscriber.next(event);
      this.#tap = tap;
      for (const actor of this.#adopted.keys()) this.#adopted.set(actor, actor.system.inspect(tap));
      return () => {
        this.#tap = undefined;
        for (const [actor, registration] of this.#adopted) {
          registration?.unsubscribe();
          this.#adopted.set(actor, undefined);
        }
      };
    });
    this.inspection$ = merge(own, adopted).pipe(share());
    this.actor.subscribe({ error: (error) => this.errors$.next(SynackError.from(error, 'supervisor').toInfo()) });
    this.actor.start();
  }

  /**
   * An inspection observer for an actor made outside the supervisor's own system, or undefined
   * while inspection is off: set when `options.inspect` was given, while {@link inspection$} is
   * observed, and always with `options.inspectable`. Read it when creating the actor; prefer
   * {@link adopt}, which also covers inspection that starts later and costs nothing meanwhile.
   */
  get inspect(): ((event: InspectionEvent) => void) | undefined {
    return this.#options.inspect || this.#inspectable || this.#tap ? this.#forward : undefined;
  }

  /** Sets {@link inspect} for good, as `options.inspectable` does: an inspector is attached. */
  makeInspectable(): void {
    this.#inspectable = true;
  }

  /**
   * Brings an actor that is the root of a system of its own (an accepted connection, say) under
   * this supervisor's inspection: `options.inspect` sees it from now on, and {@link inspection$}
   * whenever observed. Nothing is attached to it while nobody inspects. Call before `start()`
   * to see its first events; it is let go when it stops. Its failure, if any, is reported on
   * {@link errors$}.
   */
  adopt(actor: AnyActorRef): void {
    if (this.#adopted.has(actor)) return;
    if (this.#options.inspect) actor.system.inspect(this.#options.inspect);
    this.#adopted.set(actor, this.#tap ? actor.system.inspect(this.#tap) : undefined);
    this.#track(actor, () => {
      this.#adopted.get(actor)?.unsubscribe();
      this.#adopted.delete(actor);
    });
  }

  /**
   * The live actors in systems of their own that this supervisor inspects: those adopted, and
   * those made with {@link inspect}. An inspector lists them with the supervisor's children.
   */
  roots(): AnyActorRef[] {
    return [...this.#roots];
  }

  #track(actor: AnyActorRef, release?: () => void): void {
    if (this.#roots.has(actor)) return;
    this.#roots.add(actor);
    const forget = () => {
      this.#roots.delete(actor);
      release?.();
    };
    // Let go once the actor's last inspection event (sent after its observers hear of the end) is out.
    actor.subscribe({
      complete: () => queueMicrotask(forget),
      error: (error) => {
        queueMicrotask(forget);
        this.errors$.next(SynackError.from(error, actor.id).toInfo());
      },
    });
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
