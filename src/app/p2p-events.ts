import type { SynackErrorCode } from '../errors.js';
import type { Endpoint } from '../transport/socket-bridge.js';
import type { CoreEvent } from './events.js';

/** One peer as the registry lists it. */
export interface PeerEntry {
  name: string;
  host: string;
  port: number;
}

/**
 * What the P2P registry and peer report beside the common {@link CoreEvent}s (and, with
 * `--json`, what `synack registry` / `synack peer` print). `id` is the registry's or peer's id.
 *
 * - `peers`: the registry's list after a change (registry), or the other peers as the registry
 *   last listed them (peer).
 * - `joined` / `left` / `refused`: the registry's log; `refused` says why a link was closed.
 * - `registered`: the registry accepted this peer (again, after a reconnect).
 * - `chat` / `chat-sent`: a message received from / sent to another peer, directly.
 *
 * @example
 * ```ts
 * peer.events$.subscribe((e) => {
 *   if (e.event === 'chat') console.log(`${e.from}: ${e.text}`);
 *   if (e.event === 'peers') console.log(e.peers.map((p) => p.name).join(', '));
 * });
 * ```
 */
export type P2pEvent =
  | { event: 'peers'; id: string; peers: PeerEntry[] }
  | { event: 'joined'; id: string; link: string; peer: Endpoint; name: string; host: string; port: number; peers: number }
  | { event: 'left'; id: string; link: string; name: string; host: string; port: number; reason: string; peers: number }
  | { event: 'refused'; id: string; link: string; peer: Endpoint; code: SynackErrorCode; message: string }
  | { event: 'registered'; id: string; name: string; host: string; port: number; registry: Endpoint }
  | { event: 'chat'; id: string; from: string; text: string; peer: Endpoint }
  | { event: 'chat-sent'; id: string; to: string; text: string; peer: Endpoint };

/** Everything a registry or peer facade emits. */
export type P2pFacadeEvent = CoreEvent | P2pEvent;

export type P2pEventName = P2pEvent['event'];
