/**
 * The live inspector: a page on 127.0.0.1 that shows every actor of a synack system, its
 * statechart with the active state highlighted, its context and its recent events.
 */
import type { Supervisor } from '../supervisor.js';
import { startInspector, type Inspector, type InspectorOptions } from './server.js';

export { startInspector, type Inspector, type InspectorOptions } from './server.js';
export {
  InspectionRecorder,
  stateName,
  toJsonSafe,
  type ActorView,
  type EventView,
  type InspectorMessage,
  type RecorderOptions,
} from './recorder.js';
export { describeMachine, type MachineView, type TransitionView } from './statechart.js';
export { supervisorSource } from './source.js';

/**
 * Attaches the live inspector to a running synack system and serves it on 127.0.0.1 (a free
 * port unless `port` is given). The URL carries a random token; share it only with yourself.
 * Nothing is recorded until a page is open.
 *
 * @example
 * ```ts
 * import { Supervisor, createServer, attachInspector } from 'synack';
 *
 * const supervisor = new Supervisor();
 * const server = createServer({ port: 9000, supervisor });
 * await server.listen();
 * const inspector = await attachInspector(supervisor);
 * console.log(`open ${inspector.url}`);
 * // … later
 * await inspector.close();
 * ```
 */
export function attachInspector(supervisor: Supervisor, options: InspectorOptions = {}): Promise<Inspector> {
  return startInspector(supervisor, options);
}
