import type { SynackErrorCode } from '../errors.js';
import type { Endpoint } from '../transport/socket-bridge.js';
import type { CoreEvent } from './events.js';

/** Which end of a transfer an event comes from. */
export type FileDirection = 'send' | 'receive';

/** Where a file stands in a batch (`synack send-file a b c`): file `index` (1-based) of `count`. */
export interface BatchPosition {
  index?: number;
  count?: number;
  /** Bytes of the whole batch done so far, and its total. */
  overallBytes?: number;
  overallTotal?: number;
}

/**
 * The events only file transfers have (library `events$`, CLI `--json`); `ts` is added when
 * printed. Their `error` carries the same `id`, `code` and `message` as a {@link CoreEvent}'s,
 * plus where the transfer stood.
 */
export type FileEvent =
  /** A few times a second per transfer (at most ~10/s), and once more when it completes. */
  | ({ event: 'progress'; id: string; direction: FileDirection; name: string; bytes: number; total: number; rate: number; etaMs: number | null } & BatchPosition)
  /** A file arrived (receiver) or was delivered (sender). `sha256` is computed while streaming, on both ends. */
  | ({
      event: 'file';
      id: string;
      direction: FileDirection;
      name: string;
      path: string;
      bytes: number;
      sha256: string;
      peer: Endpoint;
      /** Offset the transfer continued from (0 unless resumed). */
      resumedFrom: number;
      /** Sender: the receiver confirmed the same SHA-256 (a synack receiver); false for a Qt one. */
      verified?: boolean;
      /** The other end, as far as the wire tells: `synack` or `qt`. */
      peerKind?: 'synack' | 'qt';
    } & BatchPosition)
  /** A transfer failed or was cancelled; `bytes` is what had been sent or received. */
  | ({
      event: 'error';
      id: string;
      direction: FileDirection;
      code: SynackErrorCode;
      message: string;
      name?: string;
      path?: string;
      bytes?: number;
      total?: number | null;
    } & BatchPosition)
  /** A transfer continues from what the receiver already had. */
  | { event: 'resuming'; id: string; direction: FileDirection; name: string; offset: number; total: number }
  /** A batch is over: how many files went, how many failed, how many bytes, how long. */
  | { event: 'summary'; id: string; files: number; failed: number; bytes: number; ms: number };

/** What a sender or receiver reports: the {@link FileEvent}s and the generic `listening`, `stopped`, `state` and `connected`. */
export type FileTransferEvent = FileEvent | Extract<CoreEvent, { event: 'listening' | 'stopped' | 'state' | 'connected' }>;

/** The names of the file-transfer events: `progress`, `file`, `error`… */
export type FileTransferEventName = FileTransferEvent['event'];
