import type { SynackErrorCode } from '../errors.js';
import type { QtFrame } from '../transport/qt-frame.js';
import type { Endpoint } from '../transport/socket-bridge.js';

/**
 * What synack reports, from the library and (as NDJSON with `--json`) from the CLI.
 * `ts` is added when an event is printed.
 */
export type SynackEvent =
  | { event: 'listening'; id: string; host: string; port: number }
  | { event: 'stopped'; id: string }
  | { event: 'state'; actor: string; machine: string; state: string }
  | { event: 'connected'; id: string; peer: Endpoint; clients?: number }
  | { event: 'disconnected'; id: string; peer: Endpoint; reason: string; clients?: number; code?: SynackErrorCode }
  | { event: 'data'; id: string; peer: Endpoint; chunk: Buffer }
  | { event: 'sent'; id: string; peer: Endpoint; chunk: Buffer }
  | { event: 'message'; id: string; peer: Endpoint; frame: QtFrame }
  | { event: 'heartbeat'; id: string; direction: 'sent' | 'received'; missed: number }
  | { event: 'rejected'; peer: Endpoint; code: SynackErrorCode; message: string }
  | { event: 'reconnecting'; id: string; attempt: number; delayMs: number }
  | { event: 'error'; id?: string; code: SynackErrorCode; message: string };

export type SynackEventName = SynackEvent['event'];
