import net from 'node:net';
import { Observable } from 'rxjs';
import { errorInfo, type SynackErrorInfo } from '../errors.js';
import { formatEndpoint } from './socket-bridge.js';

/** Events of a listening socket; these are also the `LISTEN.*` events of the listener machine. */
export type ListenEvent =
  | { type: 'LISTEN.LISTENING'; host: string; port: number; address: string }
  | { type: 'LISTEN.ACCEPTED'; socket: net.Socket }
  | { type: 'LISTEN.ERROR'; error: SynackErrorInfo }
  | { type: 'LISTEN.CLOSED' };

/**
 * Connections the kernel may hold complete but not yet accepted (capped by net.core.somaxconn).
 * Node's default of 511 overflowed when 1,000 peers joined a registry at once: while the event
 * loop created the actors of earlier connections, later handshakes were dropped, and each such
 * client waited a 1 s SYN retransmit. Go listens with the kernel's maximum for the same reason.
 */
export const DEFAULT_BACKLOG = 4096;

export interface ListenOptions {
  host: string;
  port: number;
  /** Default {@link DEFAULT_BACKLOG}. */
  backlog?: number;
}

/**
 * Binds a TCP server and emits its events. Accepted sockets allow half-open connections, so a
 * peer that shuts down its sending side can still be written to (CLOSE_WAIT). Unsubscribing
 * stops accepting and frees the port; accepted sockets are not touched.
 *
 * @example
 * ```ts
 * listenEvents({ host: '127.0.0.1', port: 0 }).subscribe((e) => {
 *   if (e.type === 'LISTEN.LISTENING') console.log('port', e.port);
 * });
 * ```
 */
export function listenEvents(options: ListenOptions): Observable<ListenEvent> {
  return new Observable<ListenEvent>((subscriber) => {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.on('connection', (socket) => subscriber.next({ type: 'LISTEN.ACCEPTED', socket }));
    server.on('error', (err) => subscriber.next({ type: 'LISTEN.ERROR', error: errorInfo(err, `cannot listen on ${formatEndpoint(options.host, options.port)}`) }));
    let active = true;
    server.on('listening', () => {
      // Unsubscribed while the bind was still under way: give the port back now.
      if (!active) return void server.close();
      const address = server.address() as net.AddressInfo;
      subscriber.next({
        type: 'LISTEN.LISTENING',
        host: address.address,
        port: address.port,
        address: formatEndpoint(address.address, address.port),
      });
    });
    server.listen({ host: options.host, port: options.port, backlog: options.backlog ?? DEFAULT_BACKLOG });
    return () => {
      active = false;
      if (server.listening) server.close();
      server.unref();
    };
  });
}
