/** Shared parts of the model-based machine tests: the coverage check and a stand-in listener. */
import { expect } from 'vitest';
import { setup } from 'xstate';
import type { listenerMachine } from '../src/machines/listener.js';
import { formatCoverage, type ModelCoverage } from '../src/testing/graph.js';

/** Logs what a model reached and expects no failed path and no state or transition missed. */
export function expectFullCoverage(coverage: ModelCoverage): void {
  console.log(formatCoverage(coverage));
  expect(coverage.failures).toEqual([]);
  expect(coverage.states.missed).toEqual([]);
  expect(coverage.transitions.missed).toEqual([]);
}

/**
 * A listener on `host` that never changes, for a model that drives the LISTENER.* events itself,
 * and the snapshot event that a listener bound to `port` relays to its parent.
 */
export function stillListener<TEvent>(host: string, port: number): { logic: typeof listenerMachine; listening: TEvent } {
  const logic = setup({}).createMachine({
    id: 'listener',
    context: { host, boundPort: null, address: null, lastError: null },
    initial: 'STOPPED',
    states: { STOPPED: {} },
  }) as unknown as typeof listenerMachine;
  const address = `${host}:${port}`;
  const listening = {
    type: 'xstate.snapshot.listener',
    snapshot: { value: { ACTIVE: 'LISTENING' }, context: { host, boundPort: port, address, lastError: null } },
  } as unknown as TEvent;
  return { logic, listening };
}
