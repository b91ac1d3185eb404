import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { AnyActorRef, AnyMachineSnapshot, AnyStateMachine, InspectionEvent, StateValue } from 'xstate';
import { connectionState, type ConnectionSnapshot } from '../../machines/connection.js';
import { fileReceiveState, type FileReceiveSnapshot } from '../../machines/file-receive.js';
import { fileSendState, type FileSendSnapshot } from '../../machines/file-send.js';
import { listenerState, type ListenerSnapshot } from '../../machines/listener.js';
import { peerStateName, type PeerSnapshot } from '../../machines/peer.js';
import { registryState, type RegistrySnapshot } from '../../machines/registry.js';
import { describeMachine, type MachineView } from './statechart.js';

/** One event an actor received, as the inspector shows it. */
export interface EventView {
  /** Increases with every recorded event; the page drops events it has already seen. */
  seq: number;
  ts: number;
  type: string;
  /** Id of the actor that sent it, when another actor did. */
  from?: string;
  /** The payload made JSON-safe (Buffers as byte counts, sockets dropped). */
  data?: unknown;
  /** The actor's state once the event was processed. */
  state?: string;
}

/** The live model of one state-machine actor. */
export interface ActorView {
  /** Unique within the recorder (actor ids repeat across systems: every server has a `c1`). */
  key: string;
  /** The actor's own id: `server-1`, `client-2`, `c1`, `supervisor`. */
  id: string;
  /** Key of the parent actor, or null for a root. */
  parent: string | null;
  /** Key of the machine definition (see {@link MachineView}). */
  machine: string;
  /** TCP-style state name: `ESTABLISHED`, `LISTENING`, `RETRY_WAIT`… */
  state: string;
  value: unknown;
  /** Ids of the active state nodes, for highlighting. */
  active: string[];
  status: 'active' | 'done' | 'error' | 'stopped';
  /** True once the actor stopped, finished or failed. */
  stopped: boolean;
  context: unknown;
  /** Recent events: all of them in a `snapshot` message, only new ones in an `actor` message. */
  events: EventView[];
  updatedAt: number;
}

/** What a subscriber of {@link InspectionRecorder.live$} receives. */
export type InspectorMessage =
  | { type: 'snapshot'; actors: ActorView[]; machines: Record<string, MachineView> }
  | { type: 'machine'; key: string; machine: MachineView }
  | { type: 'actor'; actor: ActorView }
  | { type: 'removed'; key: string };

export interface RecorderOptions {
  /** Inspection events; subscribed only while {@link InspectionRecorder.live$} has subscribers. */
  source: Observable<InspectionEvent>;
  /** The actors alive when recording starts, so a page opened late sees them at once. */
  seed?: () => Iterable<AnyActorRef>;
  /** The parent of an actor that is the root of its own system (a listener's accepted connection). */
  parentOf?: (actor: AnyActorRef) => AnyActorRef | undefined;
  /** At most one update per actor per this many ms; the latest state is always sent. Default 100. */
  throttleMs?: number;
  /** Recent events kept per actor. Default 50. */
  maxEvents?: number;
  /** Stopped actors kept (marked stopped) before the oldest are removed. Default 50. */
  maxStopped?: number;
  /** How often counters kept in place (a connection's `stats`) are looked at for changes. Default 500. */
  countersMs?: number;
}

interface ActorRecord {
  key: string;
  ref: AnyActorRef;
  parent: string | null;
  machine: string;
  snapshot: AnyMachineSnapshot;
  events: EventView[];
  /** The last event recorded, to attach the state it led to. */
  lastEvent: object | undefined;
  flushedSeq: number;
  lastFlush: number;
  timer: NodeJS.Timeout | undefined;
  /** The sum of the context's in-place `stats` counters when last looked at. */
  counted: number;
}

/**
 * The sum of a context's `stats` counters (a connection's `ConnectionStats`), which its link
 * counts in place with no event or snapshot; null for a context without them.
 */
function countersOf(context: unknown): number | null {
  const stats = (context as { stats?: unknown } | null)?.stats;
  if (typeof stats !== 'object' || stats === null) return null;
  let sum = 0;
  for (const value of Object.values(stats)) if (typeof value === 'number') sum += value;
  return sum;
}

const STATE_NAMES: Record<string, (snapshot: AnyMachineSnapshot) => string> = {
  connection: (snapshot) => connectionState(snapshot as unknown as ConnectionSnapshot),
  listener: (snapshot) => listenerState(snapshot as unknown as ListenerSnapshot),
  registry: (snapshot) => registryState(snapshot as unknown as RegistrySnapshot),
  peer: (snapshot) => peerStateName(snapshot as unknown as PeerSnapshot),
  'file-send': (snapshot) => fileSendState(snapshot as unknown as FileSendSnapshot),
  'file-receive': (snapshot) => fileReceiveState(snapshot as unknown as FileReceiveSnapshot),
};

const views = new WeakMap<AnyStateMachine, MachineView>();

function leafNames(value: StateValue): string[] {
  if (typeof value === 'string') return [value];
  return Object.entries(value).flatMap(([key, child]) => (child === undefined || (typeof child === 'object' && Object.keys(child).length === 0) ? [key] : leafNames(child)));
}

/**
 * The TCP-style name of a machine snapshot's state, from its machine's own naming (`connectionState`,
 * `peerState`…) where there is one, else the names of its active leaf states.
 *
 * @example
 * ```ts
 * stateName(connection.getSnapshot()); // 'SYN_SENT' for { LINK: 'SYN_SENT' }
 * ```
 */
export function stateName(snapshot: AnyMachineSnapshot): string {
  const named = STATE_NAMES[snapshot.machine.id];
  return named ? named(snapshot) : leafNames(snapshot.value).join(', ');
}

function isMachineSnapshot(snapshot: unknown): snapshot is AnyMachineSnapshot {
  return typeof snapshot === 'object' && snapshot !== null && 'machine' in snapshot && 'value' in snapshot && '_nodes' in snapshot;
}

/**
 * A value made fit for JSON and for a page: Buffers become byte counts (`<5 bytes>`), errors
 * keep name, message and code, infinities become strings, and class instances (sockets, client
 * tables, actors), functions, objects of nothing but functions (a file receiver's client keeper)
 * and symbols are dropped. Long strings and arrays are cut.
 *
 * @example
 * ```ts
 * toJsonSafe({ chunk: Buffer.from('hi'), socket: new net.Socket(), max: Infinity });
 * // { chunk: '<2 bytes>', max: 'Infinity' }
 * ```
 */
export function toJsonSafe(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > 300 ? `${value.slice(0, 300)}…` : value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return `${value}n`;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  if (value instanceof Date) return value.toISOString();
  if (depth >= 6) return '…';
  if (Array.isArray(value)) {
    const items = value.slice(0, 20).map((item) => toJsonSafe(item, depth + 1) ?? null);
    return value.length > 20 ? [...items, `… ${value.length - 20} more`] : items;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const entries = Object.entries(value as object);
  if (entries.length > 0 && entries.every(([, item]) => typeof item === 'function')) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const safe = toJsonSafe(item, depth + 1);
    if (safe !== undefined) out[key] = safe;
  }
  return out;
}

function displayId(ref: AnyActorRef): string {
  const snapshot = ref.getSnapshot() as unknown;
  if (ref.id === ref.sessionId && isMachineSnapshot(snapshot)) return snapshot.machine.id;
  return ref.id;
}

/**
 * Turns XState inspection events into a live model of state-machine actors (id, parent, machine,
 * TCP-style state, JSON-safe context, recent events, stopped flag) and streams it to
 * subscribers of {@link live$}: each gets the whole model first, then one `actor` message per
 * changed actor at most every `throttleMs` (always the latest state). Nothing is recorded while
 * nobody subscribes: the source is subscribed with the first subscriber (the live actors are
 * then read from `seed`) and released, and the model dropped, with the last.
 *
 * @example
 * ```ts
 * const recorder = new InspectionRecorder({
 *   source: supervisor.inspection$,
 *   seed: () => [supervisor.actor, ...Object.values(supervisor.children())],
 * });
 * const sub = recorder.live$.subscribe((message) => console.log(message.type)); // snapshot, actor, …
 * sub.unsubscribe(); // recording stops
 * ```
 */
export class InspectionRecorder {
  /** The model as messages: a `snapshot` first, then `machine`, `actor` and `removed` updates. */
  readonly live$: Observable<InspectorMessage>;
  readonly #options: RecorderOptions;
  readonly #throttleMs: number;
  readonly #maxEvents: number;
  readonly #maxStopped: number;
  readonly #subscribers = new Set<Subscriber<InspectorMessage>>();
  readonly #records = new Map<string, ActorRecord>();
  readonly #keys = new WeakMap<AnyActorRef, string>();
  readonly #machineKeys = new WeakMap<AnyStateMachine, string>();
  readonly #machines = new Map<string, AnyStateMachine>();
  readonly #announced = new Set<string>();
  #stopped: string[] = [];
  #source: Subscription | undefined;
  #counters: NodeJS.Timeout | undefined;
  #nextKey = 0;
  #seq = 0;

  constructor(options: RecorderOptions) {
    this.#options = options;
    this.#throttleMs = options.throttleMs ?? 100;
    this.#maxEvents = options.maxEvents ?? 50;
    this.#maxStopped = options.maxStopped ?? 50;
    this.live$ = new Observable<InspectorMessage>((subscriber) => {
      this.#subscribers.add(subscriber);
      if (this.#subscribers.size === 1) this.#start();
      subscriber.next(this.#snapshotMessage());
      return () => {
        this.#subscribers.delete(subscriber);
        if (this.#subscribers.size === 0) this.#stop();
      };
    });
  }

  /** True while someone subscribes, that is while events are recorded. */
  get recording(): boolean {
    return this.#source !== undefined;
  }

  /** The current model: every recorded actor with its recent events. */
  actors(): ActorView[] {
    return [...this.#records.values()].map((record) => this.#view(record, 0));
  }

  #start(): void {
    this.#source = this.#options.source.subscribe((event) => this.#observe(event));
    for (const ref of this.#options.seed?.() ?? []) this.#ensure(ref, ref.getSnapshot(), false);
    this.#counters = setInterval(() => this.#recount(), this.#options.countersMs ?? 500);
    this.#counters.unref?.();
  }

  /** Sends the actors whose in-place counters moved since they were last looked at (no snapshot tells). */
  #recount(): void {
    for (const record of this.#records.values()) {
      if (record.snapshot.status !== 'active') continue;
      const counted = countersOf(record.snapshot.context);
      if (counted === null || counted === record.counted) continue;
      record.counted = counted;
      this.#touch(record);
    }
  }

  #stop(): void {
    this.#source?.unsubscribe();
    this.#source = undefined;
    clearInterval(this.#counters);
    this.#counters = undefined;
    for (const record of this.#records.values()) clearTimeout(record.timer);
    this.#records.clear();
    this.#machines.clear();
    this.#announced.clear();
    this.#stopped = [];
  }

  #keyOf(ref: AnyActorRef): string {
    let key = this.#keys.get(ref);
    if (!key) this.#keys.set(ref, (key = `a${++this.#nextKey}`));
    return key;
  }

  #machineKeyOf(machine: AnyStateMachine): string {
    let key = this.#machineKeys.get(machine);
    if (key) return key;
    key = machine.id;
    for (let n = 2; this.#machines.has(key) && this.#machines.get(key) !== machine; n++) key = `${machine.id}#${n}`;
    this.#machineKeys.set(machine, key);
    this.#machines.set(key, machine);
    return key;
  }

  #parentKey(ref: AnyActorRef): string | null {
    const parent = ref._parent ?? this.#options.parentOf?.(ref);
    return parent ? this.#keyOf(parent) : null;
  }

  #ensure(ref: AnyActorRef, snapshot: unknown, touch = true): ActorRecord | undefined {
    const key = this.#keyOf(ref);
    const existing = this.#records.get(key);
    if (existing) return existing;
    if (!isMachineSnapshot(snapshot)) return undefined;
    const machine = this.#machineKeyOf(snapshot.machine);
    this.#machines.set(machine, snapshot.machine);
    const record: ActorRecord = {
      key,
      ref,
      parent: this.#parentKey(ref),
      machine,
      snapshot,
      events: [],
      lastEvent: undefined,
      flushedSeq: 0,
      lastFlush: 0,
      timer: undefined,
      counted: countersOf(snapshot.context) ?? 0,
    };
    this.#records.set(key, record);
    if (snapshot.status !== 'active') this.#stopped.push(key);
    if (touch) this.#touch(record);
    return record;
  }

  #observe(event: InspectionEvent): void {
    // Inspection events type their refs loosely (ActorRefLike); they are the system's actors.
    const actor = event.actorRef as AnyActorRef;
    if (event.type === '@xstate.event') {
      const record = this.#ensure(actor, actor.getSnapshot());
      if (!record) return;
      const { type, ...payload } = event.event;
      const data = toJsonSafe(payload);
      const source = event.sourceRef as AnyActorRef | undefined;
      const from = source && source !== actor ? displayId(source) : undefined;
      record.events.push({
        seq: ++this.#seq,
        ts: Date.now(),
        type,
        ...(from ? { from } : {}),
        ...(data && typeof data === 'object' && Object.keys(data).length > 0 ? { data } : {}),
      });
      if (record.events.length > this.#maxEvents) record.events.splice(0, record.events.length - this.#maxEvents);
      record.lastEvent = event.event;
      this.#touch(record);
    } else if (event.type === '@xstate.snapshot') {
      const record = this.#ensure(actor, event.snapshot);
      if (!record || !isMachineSnapshot(event.snapshot)) return;
      const wasActive = record.snapshot.status === 'active';
      record.snapshot = event.snapshot;
      if (wasActive && event.snapshot.status !== 'active') this.#stopped.push(record.key);
      if (record.lastEvent === event.event) {
        record.events[record.events.length - 1]!.state = stateName(event.snapshot);
        record.lastEvent = undefined;
      }
      this.#touch(record);
    }
  }

  #touch(record: ActorRecord): void {
    if (record.timer) return;
    const wait = Math.max(0, record.lastFlush + this.#throttleMs - Date.now());
    record.timer = setTimeout(() => this.#flush(record), wait);
    record.timer.unref?.();
  }

  #flush(record: ActorRecord): void {
    record.timer = undefined;
    record.lastFlush = Date.now();
    if (this.#records.get(record.key) !== record) return;
    if (record.parent === null) record.parent = this.#parentKey(record.ref);
    if (!this.#announced.has(record.machine)) {
      this.#announced.add(record.machine);
      this.#broadcast({ type: 'machine', key: record.machine, machine: this.#describe(record.machine) });
    }
    const view = this.#view(record, record.flushedSeq);
    record.flushedSeq = this.#seq;
    this.#broadcast({ type: 'actor', actor: view });
    this.#retire();
  }

  #retire(): void {
    while (this.#stopped.length > this.#maxStopped) {
      const key = this.#stopped.shift()!;
      const record = this.#records.get(key);
      if (!record) continue;
      clearTimeout(record.timer);
      this.#records.delete(key);
      this.#broadcast({ type: 'removed', key });
    }
  }

  #describe(key: string): MachineView {
    const machine = this.#machines.get(key)!;
    let view = views.get(machine);
    if (!view) views.set(machine, (view = describeMachine(machine)));
    return view;
  }

  #view(record: ActorRecord, sinceSeq: number): ActorView {
    const { snapshot } = record;
    const status = snapshot.status as ActorView['status'];
    return {
      key: record.key,
      id: displayId(record.ref),
      parent: record.parent,
      machine: record.machine,
      state: stateName(snapshot),
      value: toJsonSafe(snapshot.value),
      active: snapshot._nodes.map((node) => node.id),
      status,
      stopped: status !== 'active',
      context: toJsonSafe(snapshot.context) ?? null,
      events: sinceSeq === 0 ? [...record.events] : record.events.filter((e) => e.seq > sinceSeq),
      updatedAt: Date.now(),
    };
  }

  #snapshotMessage(): InspectorMessage {
    const actors = this.actors();
    for (const actor of actors) this.#announced.add(actor.machine);
    const machines: Record<string, MachineView> = {};
    for (const key of this.#announced) machines[key] = this.#describe(key);
    return { type: 'snapshot', actors, machines };
  }

  #broadcast(message: InspectorMessage): void {
    for (const subscriber of [...this.#subscribers]) subscriber.next(message);
  }
}
