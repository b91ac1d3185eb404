import type { AnyActorRef } from 'xstate';
import { ClientTable } from '../../machines/client-table.js';
import type { Supervisor } from '../supervisor.js';
import type { RecorderOptions } from './recorder.js';

/** The client table a listener actor owns, if `actor` is a listener. */
function tableOf(actor: AnyActorRef): ClientTable | undefined {
  const context = (actor.getSnapshot() as { context?: { clients?: unknown } } | undefined)?.context;
  return context?.clients instanceof ClientTable ? context.clients : undefined;
}

function childrenOf(actor: AnyActorRef): AnyActorRef[] {
  const snapshot = actor.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined;
  const children = Object.values(snapshot?.children ?? {}).filter((child): child is AnyActorRef => child !== undefined);
  const table = tableOf(actor);
  if (table) for (const id of table.ids()) children.push(table.get(id)!);
  return children;
}

/**
 * What an {@link InspectionRecorder} needs to watch a supervisor: its inspection events, the
 * actors alive now (the supervisor, its listeners and clients, their accepted connections and
 * their children, and the other actors it adopted: {@link Supervisor.roots}), and the parent of
 * an adopted actor, which is the root of its own system: its owner, as told to
 * {@link Supervisor.adopt}.
 *
 * @example
 * ```ts
 * const recorder = new InspectionRecorder(supervisorSource(supervisor));
 * ```
 */
export function supervisorSource(supervisor: Supervisor): Pick<RecorderOptions, 'source' | 'seed' | 'parentOf'> {
  return {
    source: supervisor.inspection$,
    seed: function* () {
      const pending: AnyActorRef[] = [...supervisor.roots().reverse(), supervisor.actor];
      for (let actor = pending.pop(); actor; actor = pending.pop()) {
        yield actor;
        pending.push(...childrenOf(actor).reverse());
      }
    },
    parentOf: (actor) => supervisor.parentOf(actor),
  };
}
