import { assign, sendParent, setup, type ActorRefFrom, type SnapshotFrom } from 'xstate';

export interface HeartbeatInput {
  /** Send a ping this often. */
  intervalMs: number;
  /** Declare the peer dead after this many unanswered pings. */
  maxMissed: number;
}

export interface HeartbeatContext {
  intervalMs: number;
  maxMissed: number;
  /** Pings sent since the peer was last heard. */
  missed: number;
  pings: number;
  lastHeardAt: number;
  /** When the current tick was due; a tick that runs much later means the event loop stalled. */
  dueAt: number;
}

export type HeartbeatEvent = { type: 'HEARTBEAT.PONG' };

/** What a heartbeat tells its connection. */
export type HeartbeatParentEvent =
  | { type: 'HEARTBEAT.PING'; missed: number }
  | { type: 'HEARTBEAT.DEAD'; missed: number; silentMs: number };

/**
 * The client side of a heartbeat, a child of its connection: every `intervalMs` it asks the
 * connection to send a ping and counts pings unanswered since the peer was last heard; the
 * connection forwards each pong (`HEARTBEAT.PONG`). After `maxMissed` unanswered pings, or once
 * the peer has been silent for `intervalMs × (maxMissed + 1)` of wall-clock time, it reports
 * `HEARTBEAT.DEAD`. A tick that fires late (a stalled event loop) first yields once to I/O, so
 * pongs already in the socket are read before judging, and a dead peer is still found on time.
 *
 * @example
 * ```ts
 * // inside a connection machine's ESTABLISHED state:
 * invoke: { src: 'heartbeat', input: { intervalMs: 3000, maxMissed: 3 } }
 * ```
 */
export const heartbeatMachine = setup({
  types: {
    context: {} as HeartbeatContext,
    events: {} as HeartbeatEvent,
    input: {} as HeartbeatInput,
  },
  guards: {
    isDead: ({ context }) =>
      context.missed >= context.maxMissed || Date.now() - context.lastHeardAt >= context.intervalMs * (context.maxMissed + 1),
    stalled: ({ context }) => Date.now() - context.dueAt > context.intervalMs / 2,
  },
  delays: {
    interval: ({ context }) => Math.max(0, context.dueAt - Date.now()),
  },
  actions: {
    heard: assign({ lastHeardAt: () => Date.now(), missed: 0 }),
    ping: sendParent(({ context }) => ({ type: 'HEARTBEAT.PING', missed: context.missed }) satisfies HeartbeatParentEvent),
    countPing: assign(({ context }) => ({
      pings: context.pings + 1,
      missed: context.missed + 1,
      dueAt: Date.now() + context.intervalMs,
    })),
    reportDead: sendParent(
      ({ context }) =>
        ({ type: 'HEARTBEAT.DEAD', missed: context.missed, silentMs: Date.now() - context.lastHeardAt }) satisfies HeartbeatParentEvent,
    ),
  },
}).createMachine({
  id: 'heartbeat',
  context: ({ input }) => ({
    intervalMs: input.intervalMs,
    maxMissed: input.maxMissed,
    missed: 0,
    pings: 0,
    lastHeardAt: Date.now(),
    dueAt: Date.now() + input.intervalMs,
  }),
  initial: 'ALIVE',
  on: { 'HEARTBEAT.PONG': { target: '.ALIVE', actions: 'heard' } },
  states: {
    ALIVE: {
      after: { interval: 'DUE' },
    },
    MISSING: {
      after: { interval: 'DUE' },
    },
    DUE: {
      always: [{ guard: 'stalled', target: 'SETTLING' }, { target: 'JUDGING' }],
    },
    SETTLING: {
      after: { 0: 'JUDGING' },
    },
    JUDGING: {
      always: [
        { guard: 'isDead', target: 'DEAD' },
        { target: 'MISSING', actions: ['ping', 'countPing'] },
      ],
    },
    DEAD: {
      type: 'final',
      entry: 'reportDead',
    },
  },
});

export type HeartbeatActor = ActorRefFrom<typeof heartbeatMachine>;
export type HeartbeatSnapshot = SnapshotFrom<typeof heartbeatMachine>;

/** Sample events for graph traversal (`xstate/graph`); the delays come from the machine. */
export const heartbeatSampleEvents: HeartbeatEvent[] = [{ type: 'HEARTBEAT.PONG' }];
