import net from 'node:net';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createActor, fromCallback, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import { createClient } from '../../../src/app/client.js';
import { InspectionRecorder, stateName, toJsonSafe, type ActorView, type InspectorMessage } from '../../../src/app/inspector/recorder.js';
import { supervisorSource } from '../../../src/app/inspector/source.js';
import { createServer } from '../../../src/app/server.js';
import { Supervisor } from '../../../src/app/supervisor.js';
import { connectionMachine } from '../../../src/machines/connection.js';
import { Cleanup, connectRaw } from '../../helpers.js';

/** A small machine with a nested state, a counter and a Buffer in its context. */
const lamp = setup({
  types: { context: {} as { flips: number; last: Buffer | null; onFlip: () => void }, events: {} as { type: 'FLIP'; data?: Buffer } | { type: 'BREAK' } },
}).createMachine({
  id: 'lamp',
  context: { flips: 0, last: null, onFlip: () => {} },
  initial: 'OFF',
  states: {
    OFF: { on: { FLIP: { target: 'ON', actions: assign(({ context, event }) => ({ flips: context.flips + 1, last: event.data ?? null })) } } },
    ON: {
      initial: 'BRIGHT',
      states: { BRIGHT: {} },
      on: {
        FLIP: { target: 'OFF', actions: assign(({ context, event }) => ({ flips: context.flips + 1, last: event.data ?? null })) },
        BREAK: 'BROKEN',
      },
    },
    BROKEN: { type: 'final' },
  },
});

describe('inspection recorder', () => {
  const cleanup = new Cleanup();
  afterEach(async () => {
    vi.useRealTimers();
    await cleanup.run();
  });

  /** A recorder over actors created with `start()`, all feeding one inspection stream. */
  function setupRecorder(options: { throttleMs?: number; maxEvents?: number; maxStopped?: number } = {}) {
    const inspection = new Subject<InspectionEvent>();
    const actors: AnyActorRef[] = [];
    const recorder = new InspectionRecorder({ source: inspection, seed: () => actors, ...options });
    const start = (id: string) => {
      const actor = createActor(lamp, { id, inspect: (event) => inspection.next(event) });
      actors.push(actor);
      cleanup.actor(actor.start());
      return actor;
    };
    const messages: InspectorMessage[] = [];
    const watch = () => cleanup.add(recorder.live$.subscribe((m) => messages.push(m)), (s) => s.unsubscribe());
    const updatesOf = (id: string) =>
      messages.flatMap((m) => (m.type === 'actor' && m.actor.id === id ? [m.actor] : m.type === 'snapshot' ? m.actors.filter((a) => a.id === id) : []));
    const latest = (id: string): ActorView | undefined => updatesOf(id).at(-1);
    return { inspection, recorder, start, messages, watch, updatesOf, latest };
  }

  it('subscribes to nothing and records nothing until a page subscribes, and stops with the last one', () => {
    const { inspection, recorder, start, watch } = setupRecorder();
    const lampActor = start('kitchen');
    lampActor.send({ type: 'FLIP' });
    expect(inspection.observed).toBe(false);
    expect(recorder.recording).toBe(false);
    expect(recorder.actors()).toEqual([]);

    const first = watch();
    const second = watch();
    expect(inspection.observed).toBe(true);
    expect(recorder.recording).toBe(true);
    first.unsubscribe();
    expect(recorder.recording).toBe(true);
    second.unsubscribe();
    expect(inspection.observed).toBe(false);
    expect(recorder.recording).toBe(false);
    expect(recorder.actors()).toEqual([]);
  });

  it('gives a page opened late the current model first', () => {
    const { start, watch, messages } = setupRecorder();
    start('kitchen').send({ type: 'FLIP' });
    watch();
    expect(messages[0]).toMatchObject({
      type: 'snapshot',
      actors: [{ id: 'kitchen', machine: 'lamp', state: 'BRIGHT', value: { ON: 'BRIGHT' }, status: 'active', stopped: false, context: { flips: 1 } }],
      machines: { lamp: { id: 'lamp', svg: expect.stringContaining('data-state="lamp.ON.BRIGHT"') } },
    });
    const [actor] = (messages[0] as Extract<InspectorMessage, { type: 'snapshot' }>).actors;
    expect(actor!.active).toEqual(expect.arrayContaining(['lamp.ON', 'lamp.ON.BRIGHT']));
  });

  it('follows state changes and records each event with the state it led to', async () => {
    const { start, watch, latest, updatesOf } = setupRecorder({ throttleMs: 0 });
    watch();
    const kitchen = start('kitchen');
    kitchen.send({ type: 'FLIP', data: Buffer.from('hello') });
    await vi.waitFor(() => expect(latest('kitchen')?.state).toBe('BRIGHT'), { timeout: 1_000 });
    const events = updatesOf('kitchen').flatMap((u) => u.events);
    expect(events.map((e) => [e.type, e.state])).toEqual([
      ['xstate.init', 'OFF'],
      ['FLIP', 'BRIGHT'],
    ]);
    expect(events[1]!.data).toEqual({ data: '<5 bytes>' });
  });

  it('keeps a bounded ring of recent events per actor', () => {
    const { start, watch, messages } = setupRecorder({ maxEvents: 5 });
    watch();
    const kitchen = start('kitchen');
    for (let i = 0; i < 12; i++) kitchen.send({ type: 'FLIP' });
    messages.length = 0;
    watch();
    const snapshot = messages[0] as Extract<InspectorMessage, { type: 'snapshot' }>;
    const events = snapshot.actors[0]!.events;
    expect(events).toHaveLength(5);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(events.every((e) => e.type === 'FLIP')).toBe(true);
  });

  it('sends at most one update per actor per throttle period, always ending with the latest state', () => {
    vi.useFakeTimers();
    const { start, watch, updatesOf } = setupRecorder({ throttleMs: 100 });
    watch();
    const kitchen = start('kitchen');
    for (let i = 0; i < 100; i++) {
      kitchen.send({ type: 'FLIP' });
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(200);
    const updates = updatesOf('kitchen');
    expect(updates.length).toBeGreaterThanOrEqual(10);
    expect(updates.length).toBeLessThanOrEqual(12);
    for (let i = 1; i < updates.length; i++) expect(updates[i]!.updatedAt - updates[i - 1]!.updatedAt).toBeGreaterThanOrEqual(100);
    expect(updates.at(-1)!.state).toBe('OFF');
    expect(updates.at(-1)!.context).toMatchObject({ flips: 100 });
    expect(updates.flatMap((u) => u.events).filter((e) => e.type === 'FLIP')).toHaveLength(100);
  });

  it('marks an actor that stops or finishes, and removes the oldest beyond the limit', async () => {
    const { start, watch, latest, messages } = setupRecorder({ throttleMs: 0, maxStopped: 1 });
    watch();
    const a = start('a');
    const b = start('b');
    a.send({ type: 'FLIP' });
    a.send({ type: 'BREAK' });
    await vi.waitFor(() => expect(latest('a')).toMatchObject({ state: 'BROKEN', status: 'done', stopped: true }), { timeout: 1_000 });
    b.stop();
    await vi.waitFor(() => expect(latest('b')).toMatchObject({ status: 'stopped', stopped: true }), { timeout: 1_000 });
    expect(messages).toContainEqual({ type: 'removed', key: latest('a')!.key });
  });

  it('names states the TCP way for connections and by their leaf elsewhere', () => {
    const model = connectionMachine.provide({ actors: { socketLink: fromCallback(() => {}) } });
    const connection = cleanup.actor(createActor(model, { input: { host: '127.0.0.1', port: 9 } }).start());
    connection.send({ type: 'USER.CONNECT' });
    expect(connection.getSnapshot().value).toEqual({ LINK: 'SYN_SENT' });
    expect(stateName(connection.getSnapshot())).toBe('SYN_SENT');
    const kitchen = cleanup.actor(createActor(lamp).start());
    kitchen.send({ type: 'FLIP' });
    expect(stateName(kitchen.getSnapshot())).toBe('BRIGHT');
  });

  it('makes context JSON-safe: Buffers as byte counts, sockets, tables, functions and objects of functions dropped, errors kept', () => {
    const socket = new net.Socket();
    const error = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    expect(
      toJsonSafe({
        chunk: Buffer.alloc(3),
        socket,
        table: new Map([[1, 2]]),
        send: () => {},
        keeper: { adopt: () => 'c1', closeAll: () => {} },
        empty: {},
        error,
        lastError: { code: 'E_CONN_REFUSED', message: 'refused' },
        max: Infinity,
        list: [Buffer.alloc(1), 'x'],
        missing: undefined,
      }),
    ).toEqual({
      chunk: '<3 bytes>',
      empty: {},
      error: { name: 'Error', message: 'refused', code: 'ECONNREFUSED' },
      lastError: { code: 'E_CONN_REFUSED', message: 'refused' },
      max: 'Infinity',
      list: ['<1 bytes>', 'x'],
    });
    socket.destroy();
  });

  /** Records a supervisor's actors and keeps the latest view of each, by actor id, with every event so far. */
  function latestViews(supervisor: Supervisor): Map<string, ActorView> {
    const recorder = new InspectionRecorder({ ...supervisorSource(supervisor), throttleMs: 20, countersMs: 50 });
    const latest = new Map<string, ActorView>();
    cleanup.add(
      recorder.live$.subscribe((m) => {
        if (m.type === 'snapshot') for (const a of m.actors) latest.set(a.id, a);
        if (m.type === 'actor') latest.set(m.actor.id, { ...m.actor, events: [...(latest.get(m.actor.id)?.events ?? []), ...m.actor.events] });
      }),
      (s) => s.unsubscribe(),
    );
    return latest;
  }

  it("shows a server's accepted connections under its listener, and clients under the supervisor", async () => {
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    const server = createServer({ port: 0, supervisor, id: 'server-1' });
    cleanup.add(server, (s) => s.close({ graceMs: 200 }));
    const { port } = await server.listen();
    const latest = latestViews(supervisor);
    expect(latest.get('server-1')).toMatchObject({ state: 'LISTENING', parent: latest.get('supervisor')!.key });

    const client = createClient({ host: '127.0.0.1', port, supervisor, id: 'client-1' });
    cleanup.add(client, (c) => c.close());
    await client.connect();
    await vi.waitFor(
      () => {
        expect(latest.get('client-1')).toMatchObject({ state: 'ESTABLISHED', parent: latest.get('supervisor')!.key });
        expect(latest.get('c1')).toMatchObject({ state: 'ESTABLISHED', parent: latest.get('server-1')!.key });
      },
      { timeout: 2_000 },
    );
    expect(latest.get('c1')!.context).not.toHaveProperty('adopted');
    expect(latest.get('server-1')!.context).not.toHaveProperty('clients');
  });

  /** A server (`server-1`) under a fresh supervisor, and a raw client connected to it. */
  async function serverWithRawClient() {
    const supervisor = cleanup.add(new Supervisor(), (s) => s.shutdown());
    const server = createServer({ port: 0, supervisor, id: 'server-1' });
    cleanup.add(server, (s) => s.close({ graceMs: 200 }));
    const { port } = await server.listen();
    const socket = cleanup.socket(await connectRaw(port));
    return { supervisor, server, socket };
  }

  it("follows live a server's connection accepted before anyone inspected", async () => {
    const { supervisor, server, socket } = await serverWithRawClient();
    await vi.waitFor(() => expect(server.clients.size).toBe(1), { timeout: 2_000 });
    const latest = latestViews(supervisor);
    socket.write('hello');
    await vi.waitFor(
      () => {
        expect(latest.get('c1')!.events.map((e) => e.type)).toContain('SOCKET.DATA');
        expect(latest.get('c1')!.context).toMatchObject({ stats: { bytesIn: 5 } });
      },
      { timeout: 2_000 },
    );
  });

  it("keeps a connection's counters live, though the chunks after its first cause no event", async () => {
    const { supervisor, socket } = await serverWithRawClient();
    const latest = latestViews(supervisor);
    socket.write('hello');
    await vi.waitFor(() => expect(latest.get('c1')!.context).toMatchObject({ stats: { bytesIn: 5 } }), { timeout: 2_000 });
    const eventsSoFar = latest.get('c1')!.events.length;
    socket.write(', world');
    await vi.waitFor(() => expect(latest.get('c1')!.context).toMatchObject({ stats: { bytesIn: 12 } }), { timeout: 2_000 });
    expect(latest.get('c1')!.events.length).toBe(eventsSoFar);
  });
});

describe('supervisor inspection stream', () => {
  it('registers with the actor system only while someone observes it', () => {
    const supervisor = new Supervisor();
    try {
      const unsubscribed = vi.fn();
      const inspect = vi.spyOn(supervisor.actor.system, 'inspect').mockImplementation(() => ({ unsubscribe: unsubscribed }));
      const seen: InspectionEvent[] = [];
      const a = supervisor.inspection$.subscribe((e) => seen.push(e));
      const b = supervisor.inspection$.subscribe(() => {});
      expect(inspect).toHaveBeenCalledTimes(1);
      const tap = inspect.mock.calls[0]![0] as (event: InspectionEvent) => void;
      tap({ type: '@xstate.actor', actorRef: supervisor.actor, rootId: supervisor.actor.sessionId });
      expect(seen).toHaveLength(1);
      a.unsubscribe();
      b.unsubscribe();
      expect(unsubscribed).toHaveBeenCalledTimes(1);
    } finally {
      supervisor.shutdown();
    }
  });

  it('attaches nothing to an adopted actor until someone inspects, then follows it until it stops', async () => {
    const supervisor = new Supervisor();
    const actor = createActor(lamp);
    try {
      const attach = vi.spyOn(actor.system, 'inspect');
      supervisor.adopt(actor);
      actor.start();
      actor.send({ type: 'FLIP' });
      expect(attach).not.toHaveBeenCalled();
      const seen: InspectionEvent[] = [];
      const sub = supervisor.inspection$.subscribe((e) => seen.push(e));
      expect(attach).toHaveBeenCalledTimes(1);
      actor.send({ type: 'FLIP' });
      expect(seen.some((e) => e.type === '@xstate.event' && e.actorRef === actor && e.event.type === 'FLIP')).toBe(true);
      sub.unsubscribe();
      const count = seen.length;
      actor.send({ type: 'FLIP' });
      expect(seen).toHaveLength(count);
      actor.stop();
      await new Promise<void>((resolve) => queueMicrotask(resolve)); // its last inspection event is out, then it is let go
      const again = supervisor.inspection$.subscribe(() => {});
      expect(attach).toHaveBeenCalledTimes(1);
      again.unsubscribe();
    } finally {
      actor.stop();
      supervisor.shutdown();
    }
  });

  it("gives a permanent observer every adopted actor's events", () => {
    const events: InspectionEvent[] = [];
    const supervisor = new Supervisor({ inspect: (e) => events.push(e) });
    const actor = createActor(lamp);
    try {
      supervisor.adopt(actor);
      actor.start();
      actor.send({ type: 'FLIP' });
      expect(events.some((e) => e.type === '@xstate.event' && e.actorRef === actor && e.event.type === 'FLIP')).toBe(true);
    } finally {
      actor.stop();
      supervisor.shutdown();
    }
  });
});
