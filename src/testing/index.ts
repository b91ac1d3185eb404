/**
 * `synack/testing`: model-based tests and diagrams from synack's machines (or any XState v5
 * machine). Every synack machine module exports sample events with payloads; delayed transitions
 * are added from the definition, so a traversal reaches `after` edges too.
 *
 * @example Generate paths and replay them against synack's own connection machine, with its
 * socket effect swapped for a fake so no network is touched:
 * ```ts
 * import { fromCallback } from 'xstate';
 * import { connectionMachine, connectionSampleEvents, exploreModel, formatCoverage } from 'synack/testing';
 *
 * const model = connectionMachine.provide({ actors: { socketLink: fromCallback(() => () => {}) } });
 * const coverage = exploreModel(model, {
 *   events: connectionSampleEvents,
 *   inputs: [{ host: 'h', port: 1, retry: { attempts: 2 }, reconnect: true }],
 *   serializeContext: (c) => ({ retries: c.retries }),
 * });
 * console.log(formatCoverage(coverage)); // connection: states 9/9, transitions …
 * ```
 *
 * @example Drive your own implementation along the same paths:
 * ```ts
 * for (const path of transitionPaths(listenerMachine, { events: listenerSampleEvents, input: { port: 0 } })) {
 *   const mine = new MyListener();
 *   for (const event of path.events) mine.handle(event);
 *   expect(mine.state).toEqual(path.expected);
 * }
 * ```
 * @packageDocumentation
 */
export {
  delayedEventTypes,
  exploreModel,
  formatCoverage,
  replayPaths,
  stateIdsOf,
  stateNodesOf,
  transitionPaths,
  transitionsOf,
  withDelayedEvents,
  type ModelCoverage,
  type ModelOptions,
  type ModelPath,
  type TransitionInfo,
} from './graph.js';
export { machineToMarkdown, machineToMermaid, transitionLabel } from './diagram.js';

export { connectionMachine, connectionSampleEvents } from '../machines/connection.js';
export { listenerMachine, listenerSampleEvents } from '../machines/listener.js';
export { heartbeatMachine, heartbeatSampleEvents } from '../machines/heartbeat.js';
export { supervisorMachine, supervisorSampleEvents } from '../machines/supervisor.js';
export { fileSendMachine, fileSendSampleEvents } from '../machines/file-send.js';
export { fileReceiveMachine, fileReceiveSampleEvents } from '../machines/file-receive.js';
export { registryMachine, registrySampleEvents } from '../machines/registry.js';
export { peerMachine, peerSampleEvents } from '../machines/peer.js';
