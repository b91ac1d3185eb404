import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import {
  delayedEventTypes,
  exploreModel,
  formatCoverage,
  stateIdsOf,
  transitionPaths,
  transitionsOf,
  withDelayedEvents,
} from '../../src/testing/graph.js';

/** A door that locks after three slams, and closes itself after a while. */
const door = setup({
  types: { context: {} as { slams: number }, events: {} as { type: 'OPEN' } | { type: 'SLAM' } | { type: 'UNLOCK'; code: string } },
  guards: { worn: ({ context }) => context.slams >= 2, rightCode: ({ event }) => event.type === 'UNLOCK' && event.code === '1234' },
  delays: { autoClose: 5_000 },
  actions: { count: assign({ slams: ({ context }) => context.slams + 1 }), beep: () => {} },
}).createMachine({
  id: 'door',
  context: { slams: 0 },
  initial: 'closed',
  states: {
    closed: { on: { OPEN: 'open' } },
    open: {
      after: { autoClose: 'closed' },
      on: {
        SLAM: [
          { guard: 'worn', target: 'locked', actions: 'count' },
          { target: 'closed', actions: 'count' },
        ],
      },
    },
    locked: {
      initial: 'bolted',
      states: {
        bolted: { on: { UNLOCK: { guard: 'rightCode', target: 'released' } } },
        released: { always: { target: '#door.closed', actions: ['beep', assign({ slams: 0 })] } },
      },
    },
  },
});

const events = [{ type: 'OPEN' }, { type: 'SLAM' }, { type: 'UNLOCK', code: '1234' }] as const;
const bySlams = (context: { slams: number }) => context.slams;

describe('model-based testing helper', () => {
  it('lists every state node of a definition, the root left out', () => {
    expect(stateIdsOf(door)).toEqual(['door.closed', 'door.open', 'door.locked', 'door.locked.bolted', 'door.locked.released']);
  });

  it('lists every transition, one per guarded branch, with guards, delays and targets', () => {
    expect(transitionsOf(door)).toEqual([
      { key: 'door.closed#OPEN#0', source: 'door.closed', kind: 'on', event: 'OPEN', index: 0, targets: ['door.open'], actions: [] },
      {
        key: 'door.open#SLAM#0',
        source: 'door.open',
        kind: 'on',
        event: 'SLAM',
        index: 0,
        guard: 'worn',
        targets: ['door.locked'],
        actions: ['count'],
      },
      { key: 'door.open#SLAM#1', source: 'door.open', kind: 'on', event: 'SLAM', index: 1, targets: ['door.closed'], actions: ['count'] },
      {
        key: 'door.open#xstate.after.autoClose.door.open#0',
        source: 'door.open',
        kind: 'after',
        event: 'xstate.after.autoClose.door.open',
        delay: 'autoClose',
        index: 0,
        targets: ['door.closed'],
        actions: [],
      },
      {
        key: 'door.locked.bolted#UNLOCK#0',
        source: 'door.locked.bolted',
        kind: 'on',
        event: 'UNLOCK',
        index: 0,
        guard: 'rightCode',
        targets: ['door.locked.released'],
        actions: [],
      },
      {
        key: 'door.locked.released#always#0',
        source: 'door.locked.released',
        kind: 'always',
        event: '',
        index: 0,
        targets: ['door.closed'],
        actions: ['beep', 'assign'],
      },
    ]);
  });

  it('adds the delayed events a traversal needs, once', () => {
    expect(delayedEventTypes(door)).toEqual(['xstate.after.autoClose.door.open']);
    const withDelays = withDelayedEvents(door, [...events]);
    expect(withDelays.map((e) => e.type)).toEqual(['OPEN', 'SLAM', 'UNLOCK', 'xstate.after.autoClose.door.open']);
    expect(withDelayedEvents(door, withDelays)).toHaveLength(4);
  });

  it('generates paths that end with every edge the traversal finds', () => {
    const paths = transitionPaths(door, { events: [...events], serializeContext: bySlams });
    const descriptions = paths.map((p) => p.description);
    expect(descriptions).toContain('(initial state)');
    expect(descriptions).toContain('OPEN → xstate.after.autoClose.door.open');
    expect(descriptions).toContain('OPEN → SLAM → OPEN → SLAM → OPEN → SLAM');
    expect(paths.find((p) => p.description === 'OPEN → SLAM → OPEN → SLAM → OPEN → SLAM')?.expected).toEqual({ locked: 'bolted' });
  });

  it('reaches every state and transition when the context that guards read is serialised', () => {
    const coverage = exploreModel(door, { events: [...events], serializeContext: bySlams });
    expect(coverage.failures).toEqual([]);
    expect(coverage.states.missed).toEqual([]);
    expect(coverage.transitions.missed).toEqual([]);
    expect(formatCoverage(coverage)).toMatch(/^door: states 5\/5, transitions 6\/6, \d+ paths$/);
  });

  it('reports what it misses when states are told apart by value alone', () => {
    const coverage = exploreModel(door, { events: [...events] });
    // `worn` never holds on the first visit to `open`, so the lock is never reached.
    expect(coverage.transitions.missed).toEqual(['door.open#SLAM#0', 'door.locked.bolted#UNLOCK#0', 'door.locked.released#always#0']);
    expect(coverage.states.missed).toEqual(['door.locked', 'door.locked.bolted', 'door.locked.released']);
  });

  it('reports missing sample events as missed transitions', () => {
    const coverage = exploreModel(door, { events: [{ type: 'OPEN' }, { type: 'SLAM' }], serializeContext: bySlams });
    expect(coverage.transitions.missed).toEqual(['door.locked.bolted#UNLOCK#0', 'door.locked.released#always#0']);
  });

  it('unions coverage over several inputs', () => {
    const gate = setup({
      types: { input: {} as { open: boolean }, context: {} as { open: boolean } },
      guards: { isOpen: ({ context }) => context.open },
    }).createMachine({
      id: 'gate',
      context: ({ input }) => ({ open: input.open }),
      initial: 'start',
      states: { start: { always: [{ guard: 'isOpen', target: 'through' }, { target: 'blocked' }] }, through: {}, blocked: {} },
    });
    expect(exploreModel(gate, { events: [], inputs: [{ open: true }] }).states.missed).toEqual(['gate.blocked']);
    const both = exploreModel(gate, { events: [], inputs: [{ open: true }, { open: false }] });
    expect(both.states.missed).toEqual([]);
    expect(both.transitions.missed).toEqual([]);
  });

  it('reports a path on which the real actor fails', () => {
    const broken = door.provide({
      actions: {
        beep: () => {
          throw new Error('speaker on fire');
        },
      },
    });
    const coverage = exploreModel(broken, { events: [...events], serializeContext: bySlams });
    expect(coverage.failures.length).toBeGreaterThan(0);
    expect(coverage.failures[0]).toEqual({ path: expect.stringContaining('UNLOCK'), message: 'speaker on fire' });
  });
});
