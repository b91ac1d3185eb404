import type { SynackErrorCode } from '../errors.js';
import type { QtFrame } from '../transport/qt-frame.js';
import type { Endpoint } from '../transport/socket-bridge.js';
import type { FileEvent } from './file-events.js';
import type { P2pEvent } from './p2p-events.js';

/** What servers and clients report; registries, peers and file transfers report these too. */
export type CoreEvent =
  | { event: 'listening'; id: string; host: string; port: number }
  | { event: 'stopped'; id: string }
  | { event: 'state'; actor: string; machine: string; state: string }
  | { event: 'connected'; id: string; peer: Endpoint; clients?: number }
  | { event: 'disconnected'; id: string; peer: Endpoint; reason: string; clients?: number; code?: SynackErrorCode }
  | { event: 'data'; id: string; peer: Endpoint; chunk: Buffer }
  | { event: 'sent'; id: string; peer: Endpoint; chunk: Buffer }
  | { event: 'message'; id: string; peer: Endpoint; frame: QtFrame }
  /** This side's heartbeat: a ping sent, or a pong received (pings a server answers are not reported). */
  | { event: 'heartbeat'; id: string; direction: 'sent' | 'received'; missed: number }
  | { event: 'rejected'; peer: Endpoint; code: SynackErrorCode; message: string }
  | { event: 'reconnecting'; id: string; attempt: number; delayMs: number }
  | { event: 'error'; id?: string; code: SynackErrorCode; message: string };

/**
 * What synack reports, from the library and (as NDJSON with `--json`) from the CLI: the
 * {@link CoreEvent}s, the file-transfer {@link FileEvent}s and the P2P {@link P2pEvent}s.
 * `ts` is added when an event is printed.
 */
export type SynackEvent = CoreEvent | FileEvent | P2pEvent;

export type SynackEventName = SynackEvent['event'];
