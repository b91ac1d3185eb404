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

/**
 * The root of a synack system: servers and clients made with it are its children, and an
 * inspector attached to it sees them all. Actor failures are reported on `errors$` instead of
 * crashing the process.
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
   * The observer for actors outside the supervisor's own system (a server's accepted
   * connections): it feeds `options.inspect`, and {@link inspection$} while someone subscribes.
   */
  readonly inspect: (event: InspectionEvent) => void;
  /**
   * Inspection events of every actor under this supervisor, for observers added at any time
   * (the live inspector). Free while unobserved: the root system's observer is registered with
   * `system.inspect()` on the first subscription and removed after the last.
   */
  readonly inspection$: Observable<InspectionEvent>;
  readonly #adopted = new Subject<InspectionEvent>();
  #sequence = 0;

  constructor(options: SupervisorOptions = {}) {
    const adopted = this.#adopted;
    this.inspect = (event) => {
      options.inspect?.(event);
      if (adopted.observed) adopted.next(event);
    };
    this.actor = createActor(supervisorMachine, options.inspect ? { inspect: options.inspect } : {});
    const system = this.actor.system;
    const own = new Observable<InspectionEvent>((subscriber) => {
      const subscription = system.inspect((event) => subscriber.next(event));
      return () => subscription.unsubscribe();
    });
    this.inspection$ = merge(own, adopted).pipe(share());
    this.actor.subscribe({ error: (error) => this.errors$.next(SynackError.from(error, 'supervisor').toInfo()) });
    this.actor.start();
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
