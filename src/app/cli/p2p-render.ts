import type { Writable } from 'node:stream';
import type { P2pEvent, P2pFacadeEvent, PeerEntry } from '../p2p-events.js';
import type { CommandIo } from './io.js';
import { toJson, type CliEvent } from './render.js';

const P2P_EVENTS = new Set<string>(['peers', 'joined', 'left', 'refused', 'registered', 'chat', 'chat-sent']);

function isP2p(event: P2pFacadeEvent | CliEvent): event is P2pEvent {
  return P2P_EVENTS.has(event.event);
}

function where(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function list(peers: readonly PeerEntry[]): string {
  return peers.length === 0 ? 'none' : peers.map((p) => `${p.name}@${where(p.host, p.port)}`).join(', ');
}

/**
 * Prints registry and peer events: NDJSON with `--json` (as every command does), otherwise a
 * human log, leaving the common events to the command's own printer.
 *
 * @example
 * ```ts
 * const print = createP2pPrinter(io, process.stdout, { json: false, color: false });
 * peer.events$.subscribe(print);
 * ```
 */
export function createP2pPrinter(
  io: CommandIo,
  out: Writable,
  options: { json: boolean; color: boolean },
): (event: P2pFacadeEvent | CliEvent) => void {
  const paint = (code: string, text: string) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return (event) => {
    if (!isP2p(event)) return io.print(event as CliEvent);
    if (options.json) return void out.write(`${JSON.stringify(toJson(event as unknown as CliEvent))}\n`);
    const time = paint('90', new Date().toISOString().slice(11, 23));
    let line: string;
    switch (event.event) {
      case 'peers':
        line = `peers (${event.peers.length}): ${list(event.peers)}`;
        break;
      case 'joined':
        line = paint('33', `+ ${event.name}@${where(event.host, event.port)} joined from ${event.peer} (${event.link})`) + ` (${event.peers} registered)`;
        break;
      case 'left':
        line = paint('33', `- ${event.name}@${where(event.host, event.port)} left: ${event.reason}`) + ` (${event.peers} registered)`;
        break;
      case 'refused':
        line = paint('31', `x ${event.link} ${event.peer} closed: ${event.message} (${event.code})`);
        break;
      case 'registered':
        line = `registered as ${event.name}@${where(event.host, event.port)} with ${event.registry}`;
        break;
      case 'chat':
        line = `${paint('32', `← ${event.from}:`)} ${event.text}`;
        break;
      case 'chat-sent':
        line = `${paint('36', `→ ${event.to}:`)} ${event.text}`;
        break;
    }
    out.write(`${time} ${line}\n`);
  };
}
