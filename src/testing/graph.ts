/**
 * Model-based testing for synack's machines (and any XState v5 machine): walk the machine's
 * pure logic with `xstate/graph`, replay every generated path against a real actor, and report
 * which state nodes and which transitions of the definition were reached.
 *
 * This module becomes the `synack/testing` entry point.
 */
import { createActor, type AnyStateMachine, type AnyTransitionDefinition, type AnyMachineSnapshot, type ContextFrom, type EventFromLogic, type InputFrom, type StateValue } from 'xstate';
import { getAdjacencyMap, getShortestPaths, getStateNodes, type AnyStateNode, type StatePath } from 'xstate/graph';

/** One transition of a machine definition, as written in its config. */
export interface TransitionInfo {
  /** Stable key: `<source id>#<event>#<index>`, e.g. `connection.LINK.SYN_SENT#SOCKET.CLOSED#1`. */
  key: string;
  /** Id of the state node that declares the transition (`connection.LINK.SYN_SENT`). */
  source: string;
  /** `on` for event transitions, `after` for delayed ones, `always` for eventless ones. */
  kind: 'on' | 'after' | 'always';
  /** The event type; `xstate.after.<delay>.<state id>` for delayed transitions, `''` for `always`. */
  event: string;
  /** The delay of an `after` transition: its name (`connectTimeout`) or a number of ms. */
  delay?: string | number;
  /** Position among the candidates for the same source and event (guarded branches). */
  index: number;
  /** The guard's name, when there is one (`canRetry`, `not(hasRoom)`). */
  guard?: string;
  /** Target state node ids; empty for a targetless transition (actions only). */
  targets: string[];
  /** Names of the actions the transition runs. */
  actions: string[];
}

type AnyEvent = { type: string };

function nameOf(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'function') {
    const fn = value as { name?: string; type?: string; guards?: unknown[] };
    if (Array.isArray(fn.guards) && fn.name) return `${fn.name}(${fn.guards.map((g) => nameOf(g, 'guard')).join(', ')})`;
    if (typeof fn.type === 'string' && !fn.type.startsWith('xstate.')) return fn.type;
    if (typeof fn.type === 'string') return fn.type.slice('xstate.'.length);
    return fn.name || fallback;
  }
  if (value && typeof value === 'object' && 'type' in value && typeof value.type === 'string') return value.type;
  return fallback;
}

/** All state nodes of a machine (the root excluded), in definition order. */
export function stateNodesOf(machine: AnyStateMachine): AnyStateNode[] {
  return getStateNodes(machine.root);
}

/** The ids of all state nodes of a machine (the root excluded), e.g. `connection.LINK.SYN_SENT`. */
export function stateIdsOf(machine: AnyStateMachine): string[] {
  return stateNodesOf(machine).map((node) => node.id);
}

function transitionsOfNode(node: AnyStateNode): TransitionInfo[] {
  const list: TransitionInfo[] = [];
  const describe = (t: AnyTransitionDefinition, kind: TransitionInfo['kind'], event: string, index: number) => {
    const delay = (t as { delay?: string | number }).delay;
    const info: TransitionInfo = {
      key: `${node.id}#${kind === 'always' ? 'always' : event}#${index}`,
      source: node.id,
      kind,
      event,
      index,
      targets: (t.target ?? []).map((target: AnyStateNode) => target.id),
      actions: (t.actions ?? []).map((action: unknown) => nameOf(action, 'inline')),
    };
    if (delay !== undefined) info.delay = delay;
    if (t.guard !== undefined) info.guard = nameOf(t.guard, 'guard');
    list.push(info);
  };
  for (const [event, candidates] of node.transitions) {
    const kind = event.startsWith('xstate.after.') ? 'after' : 'on';
    candidates.forEach((t, index) => describe(t, kind, event, index));
  }
  (node.always ?? []).forEach((t, index) => describe(t, 'always', '', index));
  return list;
}

/**
 * Every transition a machine definition declares (root-level `on` included), one entry per
 * guarded branch, in definition order.
 */
export function transitionsOf(machine: AnyStateMachine): TransitionInfo[] {
  return [machine.root, ...stateNodesOf(machine)].flatMap(transitionsOfNode);
}

/** The `xstate.after.*` event types of a machine's delayed transitions. */
export function delayedEventTypes(machine: AnyStateMachine): string[] {
  return [...new Set(transitionsOf(machine).filter((t) => t.kind === 'after').map((t) => t.event))];
}

/**
 * Adds the machine's delayed (`after`) events to a list of sample events, so that a traversal
 * can take delayed transitions: the graph walks pure logic, where no timer ever fires.
 *
 * @example
 * ```ts
 * withDelayedEvents(connectionMachine, connectionSampleEvents);
 * // [...connectionSampleEvents, { type: 'xstate.after.connectTimeout.connection.LINK.SYN_SENT' }, …]
 * ```
 */
export function withDelayedEvents<TMachine extends AnyStateMachine>(
  machine: TMachine,
  events: readonly EventFromLogic<TMachine>[],
): EventFromLogic<TMachine>[] {
  const present = new Set(events.map((event) => event.type));
  const delayed = delayedEventTypes(machine)
    .filter((type) => !present.has(type))
    .map((type) => ({ type }) as EventFromLogic<TMachine>);
  return [...events, ...delayed];
}

/** A path through a machine: the events to send from its initial state, and where they lead. */
export interface ModelPath<TEvent extends AnyEvent = AnyEvent> {
  events: TEvent[];
  /** The state value the model predicts at the end of the path. */
  expected: StateValue;
  /** `USER.CONNECT → SOCKET.CONNECTED → …`, for failure messages. */
  description: string;
}

export interface ModelOptions<TMachine extends AnyStateMachine> {
  /** Sample events (with payloads). Delayed events are added with {@link withDelayedEvents}. */
  events: readonly EventFromLogic<TMachine>[];
  /** Input for the machine, if it takes one. */
  input?: InputFrom<TMachine>;
  /**
   * The part of the context that tells states apart: whatever the guards read (counters, flags).
   * By default states are told apart by their value only. Leave out timestamps and objects.
   */
  serializeContext?: (context: ContextFrom<TMachine>) => unknown;
  /** Abort a traversal that visits more than this many states. Default 10,000. */
  limit?: number;
}

function serializeEvent(event: AnyEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null && !(value instanceof Uint8Array) && !('type' in value && value.type === 'Buffer')) {
        return `[${(value as object).constructor?.name ?? 'object'}]`;
      }
    }
    return value;
  });
}

function describeEvents(events: AnyEvent[]): string {
  return events.length === 0 ? '(initial state)' : events.map((event) => event.type).join(' → ');
}

/**
 * Paths that together take every edge the traversal finds: for each reachable state (shortest
 * path to it, from `getShortestPaths`) and each sample event the state can handle, one path that
 * ends with that event. This covers transitions, not only states; guarded branches show up as
 * distinct edges as long as `serializeContext` keeps apart the contexts their guards read.
 *
 * @example
 * ```ts
 * const paths = transitionPaths(connectionMachine, {
 *   events: connectionSampleEvents,
 *   input: { host: '127.0.0.1', port: 9000, retry: { attempts: 1 } },
 *   serializeContext: (c) => ({ retries: c.retries, closeReason: c.closeReason }),
 * });
 * ```
 */
export function transitionPaths<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: ModelOptions<TMachine>,
): ModelPath<EventFromLogic<TMachine>>[] {
  type TSnapshot = AnyMachineSnapshot;
  type TEvent = EventFromLogic<TMachine>;
  const serializeContext = options.serializeContext ?? (() => undefined);
  const serializeState = (snapshot: TSnapshot) =>
    JSON.stringify({ value: snapshot.value, status: snapshot.status, context: serializeContext(snapshot.context) });
  const traversal = {
    events: withDelayedEvents(machine, options.events),
    input: options.input,
    serializeState,
    serializeEvent: serializeEvent as (event: TEvent) => string,
    limit: options.limit ?? 10_000,
  };
  // The typings of xstate/graph are looser than `TMachine`'s; the values are the machine's own.
  const shortest = getShortestPaths(machine, traversal as never) as StatePath<TSnapshot, TEvent>[];
  const adjacency = getAdjacencyMap(machine, traversal as never) as Record<
    string,
    { state: TSnapshot; transitions: Record<string, { event: TEvent; state: TSnapshot }> }
  >;
  const eventsTo = new Map<string, TEvent[]>();
  for (const path of shortest) {
    // A real actor ignores every event once it is done (a top-level final state): a path that
    // goes on past such a state leads nowhere, though the pure transition function follows it.
    if (path.steps.slice(0, -1).some((step) => step.state.status !== 'active')) continue;
    // Step 0 is `xstate.init`; each later step holds the event that led to its state.
    eventsTo.set(serializeState(path.state), path.steps.slice(1).map((step) => step.event));
  }
  const paths: ModelPath<TEvent>[] = [];
  for (const [key, { state, transitions }] of Object.entries(adjacency)) {
    const prefix = eventsTo.get(key);
    if (!prefix) continue;
    paths.push({ events: prefix, expected: state.value, description: describeEvents(prefix) });
    if (state.status !== 'active') continue;
    for (const { event, state: next } of Object.values(transitions)) {
      if (!state.can(event)) continue;
      const events = [...prefix, event];
      paths.push({ events, expected: next.value, description: describeEvents(events) });
    }
  }
  return paths;
}

/** What replaying paths reached. */
export interface ModelCoverage {
  machine: string;
  paths: number;
  states: { all: string[]; reached: string[]; missed: string[] };
  transitions: { all: string[]; reached: string[]; missed: string[] };
  /** Paths where the real actor disagreed with the model, or failed. */
  failures: { path: string; message: string }[];
}

function valueOfPath(path: readonly string[]): StateValue {
  let value: StateValue = path[path.length - 1]!;
  for (let i = path.length - 2; i >= 0; i--) value = { [path[i]!]: value };
  return value;
}

/**
 * Maps the machine's transition definition objects to their stable keys, and to the state nodes
 * that were active when one was taken: its source and the source's ancestors.
 */
function transitionKeys(machine: AnyStateMachine): Map<unknown, { key: string; active: string[] }> {
  const keys = new Map<unknown, { key: string; active: string[] }>();
  for (const node of [machine.root, ...stateNodesOf(machine)]) {
    const active: string[] = [];
    for (let n: AnyStateNode | undefined = node; n && n !== machine.root; n = n.parent) active.push(n.id);
    for (const [event, candidates] of node.transitions) {
      candidates.forEach((t, index) => keys.set(t, { key: `${node.id}#${event}#${index}`, active }));
    }
    (node.always ?? []).forEach((t, index) => keys.set(t, { key: `${node.id}#always#${index}`, active }));
  }
  return keys;
}

/**
 * Replays paths against real actors of `machine` (provide fakes for its effects first) and
 * records every state node entered and every transition taken, microstep by microstep, so
 * transient states (left at once by an `always`) count too.
 *
 * @example
 * ```ts
 * const paths = transitionPaths(model, { events, input });
 * const { states, transitions, failures } = replayPaths(model, paths, input);
 * ```
 */
export function replayPaths<TMachine extends AnyStateMachine>(
  machine: TMachine,
  paths: readonly ModelPath<EventFromLogic<TMachine>>[],
  input?: InputFrom<TMachine>,
): { states: Set<string>; transitions: Set<string>; failures: ModelCoverage['failures'] } {
  const nodes = stateNodesOf(machine).map((node) => ({ id: node.id, value: valueOfPath(node.path) }));
  const keys = transitionKeys(machine);
  const states = new Set<string>();
  const transitions = new Set<string>();
  const failures: ModelCoverage['failures'] = [];
  const see = (snapshot: { matches(value: StateValue): boolean }) => {
    for (const node of nodes) if (!states.has(node.id) && snapshot.matches(node.value)) states.add(node.id);
  };
  for (const path of paths) {
    let failure: unknown;
    // Unset while the initial snapshot is computed, when only the root can take microsteps.
    let root: unknown;
    const actor = createActor(machine, {
      ...(input !== undefined ? { input } : {}),
      inspect: (event) => {
        if (event.type !== '@xstate.microstep' || (root !== undefined && event.actorRef !== root)) return;
        see(event.snapshot as AnyMachineSnapshot);
        // `_transitions` lists the definition objects taken in this microstep. Their sources were
        // active, even a state left by an `always` while the initial snapshot was computed.
        for (const t of (event as { _transitions?: unknown[] })._transitions ?? []) {
          const taken = keys.get(t);
          if (!taken) continue;
          transitions.add(taken.key);
          for (const id of taken.active) states.add(id);
        }
      },
    });
    root = actor;
    actor.subscribe({ error: (error) => (failure ??= error) });
    try {
      actor.start();
      see(actor.getSnapshot());
      for (const event of path.events) actor.send(event);
      const value = (actor.getSnapshot() as AnyMachineSnapshot).value;
      if (failure === undefined && JSON.stringify(value) !== JSON.stringify(path.expected)) {
        failure = new Error(`ended in ${JSON.stringify(value)}, the model says ${JSON.stringify(path.expected)}`);
      }
    } catch (error) {
      failure ??= error;
    } finally {
      actor.stop();
    }
    if (failure !== undefined) {
      failures.push({ path: path.description, message: failure instanceof Error ? failure.message : String(failure) });
    }
  }
  return { states, transitions, failures };
}

/**
 * Walks a machine with `xstate/graph` for each input, replays the generated paths against real
 * actors, and reports the union of the state nodes and transitions reached, against all those
 * the definition declares. Provide fakes for the machine's effects (actors, side-effecting
 * actions) with `.provide()` first: the replay is synchronous and must not touch the world.
 * When guards read the context (retry budgets, limits, flags set by input), pass several inputs
 * so that every branch is reachable.
 *
 * @example
 * ```ts
 * import { fromCallback } from 'xstate';
 * import { connectionMachine, connectionSampleEvents } from 'synack';
 * import { exploreModel, formatCoverage } from 'synack/testing';
 *
 * const model = connectionMachine.provide({ actors: { socketLink: fromCallback(() => {}) } });
 * const coverage = exploreModel(model, {
 *   events: connectionSampleEvents,
 *   inputs: [{ host: 'h', port: 1 }, { host: 'h', port: 1, retry: { attempts: 2 }, reconnect: true }],
 *   serializeContext: (c) => ({ retries: c.retries, closeReason: c.closeReason }),
 * });
 * console.log(formatCoverage(coverage)); // connection: states 9/9, transitions 33/33, 251 paths
 * expect(coverage.transitions.missed).toEqual([]);
 * ```
 */
export function exploreModel<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: Omit<ModelOptions<TMachine>, 'input'> & { inputs?: readonly InputFrom<TMachine>[] },
): ModelCoverage {
  const inputs: (InputFrom<TMachine> | undefined)[] = options.inputs?.length ? [...options.inputs] : [undefined];
  const states = new Set<string>();
  const transitions = new Set<string>();
  const failures: ModelCoverage['failures'] = [];
  let count = 0;
  for (const input of inputs) {
    const paths = transitionPaths(machine, { ...options, ...(input !== undefined ? { input } : {}) });
    count += paths.length;
    const result = replayPaths(machine, paths, input);
    result.states.forEach((id) => states.add(id));
    result.transitions.forEach((key) => transitions.add(key));
    failures.push(...result.failures);
  }
  const allStates = stateIdsOf(machine);
  const allTransitions = transitionsOf(machine).map((t) => t.key);
  return {
    machine: machine.id,
    paths: count,
    states: {
      all: allStates,
      reached: allStates.filter((id) => states.has(id)),
      missed: allStates.filter((id) => !states.has(id)),
    },
    transitions: {
      all: allTransitions,
      reached: allTransitions.filter((key) => transitions.has(key)),
      missed: allTransitions.filter((key) => !transitions.has(key)),
    },
    failures,
  };
}

/** One line: `connection: states 9/9, transitions 33/33, 251 paths`. */
export function formatCoverage(coverage: ModelCoverage): string {
  const { states, transitions } = coverage;
  return `${coverage.machine}: states ${states.reached.length}/${states.all.length}, transitions ${transitions.reached.length}/${transitions.all.length}, ${coverage.paths} paths`;
}
