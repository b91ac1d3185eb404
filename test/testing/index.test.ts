import { describe, expect, it } from 'vitest';
import { fromCallback, type AnyStateMachine } from 'xstate';
import * as testing from '../../src/testing/index.js';

const { connectionMachine, connectionSampleEvents, exploreModel, formatCoverage, transitionPaths } = testing;

describe('synack/testing', () => {
  it('runs the README example: generated paths over the connection machine with a fake socket reach every state', () => {
    const model = connectionMachine.provide({ actors: { socketLink: fromCallback(() => () => {}) } });
    const coverage = exploreModel(model, {
      events: connectionSampleEvents,
      inputs: [{ host: 'h', port: 1, retry: { attempts: 2 }, reconnect: true }],
      serializeContext: (c) => ({ retries: c.retries }),
    });
    expect(coverage.failures).toEqual([]);
    expect(coverage.states.missed).toEqual([]);
    expect(formatCoverage(coverage)).toMatch(/^connection: states 9\/9, transitions \d+\/\d+, \d+ paths$/);
  });

  it('gives paths that another implementation can follow: each one a list of events and the state it ends in', () => {
    const paths = transitionPaths(connectionMachine, { events: connectionSampleEvents, input: { host: 'h', port: 1 } });
    expect(paths.length).toBeGreaterThan(10);
    expect(paths[0]).toEqual({ events: [], expected: 'CLOSED', description: '(initial state)' });
    expect(paths.find((p) => p.description === 'USER.CONNECT')?.expected).toEqual({ LINK: 'SYN_SENT' });
  });

  it('exports every synack machine with its sample events', () => {
    const pairs = Object.entries(testing)
      .filter(([name]) => name.endsWith('Machine'))
      .map(([name, machine]) => [name.slice(0, -'Machine'.length), machine as AnyStateMachine] as const);
    expect(pairs.map(([name]) => name).sort()).toEqual(['connection', 'fileReceive', 'fileSend', 'heartbeat', 'listener', 'peer', 'registry', 'supervisor']);
    for (const [name, machine] of pairs) {
      const samples = (testing as Record<string, unknown>)[`${name}SampleEvents`] as { type: string }[];
      expect(samples.length, name).toBeGreaterThan(0);
      for (const event of samples) expect(testing.transitionsOf(machine).some((t) => t.event === event.type), `${name}: ${event.type}`).toBe(true);
    }
  });
});
