import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, setup } from 'xstate';
import {
  heartbeatMachine,
  heartbeatSampleEvents,
  type HeartbeatInput,
  type HeartbeatParentEvent,
} from '../../src/machines/heartbeat.js';
import { exploreModel, formatCoverage } from '../../src/testing/graph.js';

/** What the heartbeat told its parent, and when (fake time, ms since the heartbeat started). */
type Told = HeartbeatParentEvent & { at: number };

/**
 * The heartbeat as the child of a minimal parent (the connection's role): the parent records
 * every PING and DEAD with the time it arrived.
 */
function startHeartbeat(input: HeartbeatInput) {
  const startedAt = Date.now();
  const told: Told[] = [];
  const errors: unknown[] = [];
  const parent = setup({
    types: { events: {} as HeartbeatParentEvent },
    actors: { heartbeat: heartbeatMachine },
    actions: { record: ({ event }) => void told.push({ ...event, at: Date.now() - startedAt }) },
  }).createMachine({
    invoke: { id: 'heartbeat', src: 'heartbeat', input },
    on: { 'HEARTBEAT.PING': { actions: 'record' }, 'HEARTBEAT.DEAD': { actions: 'record' } },
  });
  const actor = createActor(parent);
  actor.subscribe({ error: (error) => errors.push(error) });
  actor.start();
  const child = () => actor.getSnapshot().children.heartbeat!;
  return {
    told,
    errors,
    stop: () => actor.stop(),
    pong: () => child().send({ type: 'HEARTBEAT.PONG' }),
    state: () => child().getSnapshot().value as string,
    pings: () => told.filter((e) => e.type === 'HEARTBEAT.PING'),
    dead: () => told.find((e) => e.type === 'HEARTBEAT.DEAD'),
  };
}

describe('heartbeat', () => {
  let running: ReturnType<typeof startHeartbeat>[] = [];
  const start = (input: HeartbeatInput) => {
    const heartbeat = startHeartbeat(input);
    running.push(heartbeat);
    return heartbeat;
  };

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });

  afterEach(() => {
    for (const heartbeat of running) {
      expect(heartbeat.errors).toEqual([]);
      heartbeat.stop();
    }
    running = [];
    vi.useRealTimers();
  });

  it('asks its connection for a ping every interval, counting the pings not yet answered', () => {
    const heartbeat = start({ intervalMs: 1_000, maxMissed: 5 });
    vi.advanceTimersByTime(999);
    expect(heartbeat.pings()).toEqual([]);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(3_000);
    expect(heartbeat.pings()).toEqual([
      { type: 'HEARTBEAT.PING', missed: 0, at: 1_000 },
      { type: 'HEARTBEAT.PING', missed: 1, at: 2_000 },
      { type: 'HEARTBEAT.PING', missed: 2, at: 3_000 },
      { type: 'HEARTBEAT.PING', missed: 3, at: 4_000 },
    ]);
    expect(heartbeat.state()).toBe('MISSING');
  });

  it('keeps pinging on schedule, and never declares a peer dead that answers every ping', () => {
    const heartbeat = start({ intervalMs: 1_000, maxMissed: 2 });
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(1_000);
      vi.advanceTimersByTime(30); // the round trip
      heartbeat.pong();
    }
    expect(heartbeat.dead()).toBeUndefined();
    expect(heartbeat.pings()).toHaveLength(20);
    expect(heartbeat.pings().map((p) => p.at)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 1_000));
    expect(heartbeat.pings().every((p) => p.missed === 0)).toBe(true);
    expect(heartbeat.state()).toBe('ALIVE');
  });

  it('resets the count of unanswered pings on a pong, without moving the ping schedule', () => {
    const heartbeat = start({ intervalMs: 1_000, maxMissed: 3 });
    vi.advanceTimersByTime(2_000);
    expect(heartbeat.pings().map((p) => p.missed)).toEqual([0, 1]);
    vi.advanceTimersByTime(500);
    heartbeat.pong();
    expect(heartbeat.state()).toBe('ALIVE');
    vi.advanceTimersByTime(500);
    expect(heartbeat.pings().at(-1)).toEqual({ type: 'HEARTBEAT.PING', missed: 0, at: 3_000 });
    // Silent again from 2.5 s: three more unanswered pings, and dead at the fourth tick.
    vi.advanceTimersByTime(2_999);
    expect(heartbeat.dead()).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(heartbeat.dead()).toEqual({ type: 'HEARTBEAT.DEAD', missed: 3, silentMs: 3_500, at: 6_000 });
  });

  it('declares the peer dead after maxMissed unanswered pings, at interval × (maxMissed + 1)', () => {
    const heartbeat = start({ intervalMs: 200, maxMissed: 3 });
    vi.advanceTimersByTime(799);
    expect(heartbeat.pings().map((p) => p.at)).toEqual([200, 400, 600]);
    expect(heartbeat.dead()).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(heartbeat.dead()).toEqual({ type: 'HEARTBEAT.DEAD', missed: 3, silentMs: 800, at: 800 });
    expect(heartbeat.state()).toBe('DEAD');
    // A final state: nothing more is sent.
    vi.advanceTimersByTime(10_000);
    expect(heartbeat.told).toHaveLength(4);
  });

  it('counts a single missed ping as dead with maxMissed 1, at two intervals', () => {
    const heartbeat = start({ intervalMs: 3_000, maxMissed: 1 });
    vi.advanceTimersByTime(6_000);
    expect(heartbeat.told.map((e) => `${e.type}@${e.at}`)).toEqual(['HEARTBEAT.PING@3000', 'HEARTBEAT.DEAD@6000']);
  });

  describe('when the event loop stalls (the clock jumps, no timer fires meanwhile)', () => {
    it('yields once to I/O on the late tick, then declares the silent peer dead by the wall clock', () => {
      const heartbeat = start({ intervalMs: 1_000, maxMissed: 3 });
      vi.advanceTimersByTime(500);
      vi.setSystemTime(Date.now() + 10_000); // blocked for 10 s: ten ticks' worth, none fired
      vi.advanceTimersByTime(500); // the one overdue tick runs, 10 s late
      expect(heartbeat.state()).toBe('SETTLING');
      expect(heartbeat.told).toEqual([]);
      vi.advanceTimersByTime(1); // the yield: nothing was heard in it
      // Counting alone would see one missed tick; the wall clock sees 11 s of silence.
      expect(heartbeat.dead()).toMatchObject({ type: 'HEARTBEAT.DEAD', missed: 0, silentMs: 11_001 });
      expect(heartbeat.pings()).toEqual([]);
    });

    it('does not declare the peer dead when a pong is processed in the yield', () => {
      const heartbeat = start({ intervalMs: 1_000, maxMissed: 3 });
      vi.advanceTimersByTime(500);
      vi.setSystemTime(Date.now() + 10_000);
      vi.advanceTimersByTime(500);
      expect(heartbeat.state()).toBe('SETTLING');
      heartbeat.pong(); // the answer that sat in the socket while the loop was blocked
      vi.advanceTimersByTime(1);
      expect(heartbeat.dead()).toBeUndefined();
      // It pings at once (the tick was due long ago) and is back on a normal schedule.
      expect(heartbeat.pings()).toEqual([{ type: 'HEARTBEAT.PING', missed: 0, at: 11_001 }]);
      expect(heartbeat.state()).toBe('MISSING');
      vi.advanceTimersByTime(1_000);
      expect(heartbeat.pings().map((p) => p.at)).toEqual([11_001, 12_001]);
      expect(heartbeat.dead()).toBeUndefined();
    });

    it('does not declare the peer dead for a short stall that stays inside the deadline', () => {
      const heartbeat = start({ intervalMs: 1_000, maxMissed: 3 });
      vi.advanceTimersByTime(500);
      vi.setSystemTime(Date.now() + 1_500);
      vi.advanceTimersByTime(500);
      expect(heartbeat.state()).toBe('SETTLING');
      vi.advanceTimersByTime(1);
      expect(heartbeat.dead()).toBeUndefined();
      expect(heartbeat.pings()).toEqual([{ type: 'HEARTBEAT.PING', missed: 0, at: 2_501 }]);
    });

    it('judges a tick that is only slightly late at once, without yielding', () => {
      const heartbeat = start({ intervalMs: 1_000, maxMissed: 3 });
      vi.advanceTimersByTime(500);
      vi.setSystemTime(Date.now() + 400); // late by less than half an interval
      vi.advanceTimersByTime(500);
      expect(heartbeat.pings()).toEqual([{ type: 'HEARTBEAT.PING', missed: 0, at: 1_400 }]);
      expect(heartbeat.state()).toBe('MISSING');
    });

    it('still finds a dead peer on time when the loop stalls after the pings went unanswered', () => {
      const heartbeat = start({ intervalMs: 1_000, maxMissed: 3 });
      vi.advanceTimersByTime(2_000); // two pings, no answer
      vi.setSystemTime(Date.now() + 5_000);
      vi.advanceTimersByTime(1_000);
      vi.advanceTimersByTime(1);
      expect(heartbeat.dead()).toMatchObject({ missed: 2, silentMs: 8_001, at: 8_001 });
    });
  });
});

describe('heartbeat model', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /**
   * The guards read the wall clock, so the clock is part of the model's environment. Two
   * clocks between them take every branch: one where each tick runs on time (time stands still
   * between readings) and one where the event loop stalls before every reading (time leaps by
   * far more than the deadline each time Date.now() is read).
   */
  function explore(clock: 'on time' | 'stalling') {
    let now = 5_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => (clock === 'on time' ? now : (now += 1_000_000)));
    // The parent is the connection; the model has none, so the messages to it go nowhere.
    const model = heartbeatMachine.provide({ actions: { ping: () => {}, reportDead: () => {} } });
    return exploreModel(model, {
      events: heartbeatSampleEvents,
      inputs: [
        { intervalMs: 1_000, maxMissed: 1 },
        { intervalMs: 1_000, maxMissed: 3 },
      ],
      serializeContext: (c) => ({ missed: c.missed }),
    });
  }

  it('reaches every state and every transition along paths generated from its definition', () => {
    const onTime = explore('on time');
    const stalling = explore('stalling');
    const reached = new Set([...onTime.transitions.reached, ...stalling.transitions.reached]);
    const states = new Set([...onTime.states.reached, ...stalling.states.reached]);
    console.log(
      `heartbeat: states ${states.size}/${onTime.states.all.length}, transitions ${reached.size}/${onTime.transitions.all.length} ` +
        `(${formatCoverage(onTime)} on time; ${formatCoverage(stalling)} stalling)`,
    );
    expect(onTime.failures).toEqual([]);
    expect(stalling.failures).toEqual([]);
    expect(onTime.transitions.all.filter((key) => !reached.has(key))).toEqual([]);
    expect(onTime.states.all.filter((id) => !states.has(id))).toEqual([]);
    expect(onTime.states.all).toEqual([
      'heartbeat.ALIVE',
      'heartbeat.MISSING',
      'heartbeat.DUE',
      'heartbeat.SETTLING',
      'heartbeat.JUDGING',
      'heartbeat.DEAD',
    ]);
    // Each clock alone leaves out the other's branches: the stall path exists only on a late tick.
    expect(onTime.states.missed).toEqual(['heartbeat.SETTLING']);
    expect(stalling.states.missed).toEqual(['heartbeat.MISSING']);
  });
});
