import { assertEvent, enqueueActions, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';
import { connectionMachine, type ConnectionInput } from './connection.js';
import { listenerMachine, type ListenerInput } from './listener.js';

/** What a supervisor can run, by machine name. */
export type SupervisedSpec =
  | { machine: 'listener'; input: ListenerInput }
  | { machine: 'connection'; input: ConnectionInput };

export type SupervisorEvent =
  | ({ type: 'SUPERVISOR.START'; id: string } & SupervisedSpec)
  | { type: 'SUPERVISOR.STOP'; id: string };

/**
 * The root actor: starts and stops listeners and outbound connections as its children, so the
 * app, the CLI and the inspector read every actor from one place. It holds a handful of
 * children; a listener's thousands of accepted connections live in the listener's client table.
 *
 * @example
 * ```ts
 * const root = createActor(supervisorMachine).start();
 * root.subscribe({ error: (err) => console.error(err) });
 * root.send({ type: 'SUPERVISOR.START', id: 'server', machine: 'listener', input: { port: 0 } });
 * ```
 */
export const supervisorMachine = setup({
  types: { events: {} as SupervisorEvent },
  actors: { listener: listenerMachine, connection: connectionMachine },
  actions: {
    startChild: enqueueActions(({ enqueue, event }) => {
      assertEvent(event, 'SUPERVISOR.START');
      if (event.machine === 'listener') enqueue.spawnChild('listener', { id: event.id, input: event.input });
      else enqueue.spawnChild('connection', { id: event.id, input: event.input });
    }),
    stopChild: enqueueActions(({ enqueue, event }) => {
      assertEvent(event, 'SUPERVISOR.STOP');
      enqueue.stopChild(event.id);
    }),
  },
}).createMachine({
  id: 'supervisor',
  initial: 'RUNNING',
  states: {
    RUNNING: {
      on: {
        'SUPERVISOR.START': { actions: 'startChild' },
        'SUPERVISOR.STOP': { actions: 'stopChild' },
      },
    },
  },
});

export type SupervisorActor = ActorRefFrom<typeof supervisorMachine>;
export type SupervisorSnapshot = SnapshotFrom<typeof supervisorMachine>;

/** Sample events for graph traversal (`xstate/graph`). */
export const supervisorSampleEvents: SupervisorEvent[] = [
  { type: 'SUPERVISOR.START', id: 'server', machine: 'listener', input: { port: 0 } },
  { type: 'SUPERVISOR.STOP', id: 'server' },
];
