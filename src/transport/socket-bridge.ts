import net from 'node:net';
import { Observable } from 'rxjs';
import { errorInfo, type SynackErrorInfo } from '../errors.js';
import type { QtFrame } from './qt-frame.js';

/** `ip:port`, with IPv6 addresses in brackets (`[::1]:9000`). */
export type Endpoint = string;

/**
 * Everything a socket can tell: one event per Node socket event, one `SOCKET.DATA` per chunk
 * (with the chunk's decoded batch of `frames` when a framing decodes it).
 * These are also the `SOCKET.*` events the connection machine receives.
 */
export type SocketEvent =
  | { type: 'SOCKET.CONNECTED'; local: Endpoint; peer: Endpoint }
  | { type: 'SOCKET.DATA'; chunk: Buffer; frames?: QtFrame[] }
  | { type: 'SOCKET.END' }
  | { type: 'SOCKET.DRAIN' }
  | { type: 'SOCKET.ERROR'; error: SynackErrorInfo }
  | { type: 'SOCKET.CLOSED'; hadError: boolean };

/** Formats an address and port as synack prints peers: `ip:port`, IPv6 in brackets. */
export function formatEndpoint(address: string | undefined, port: number | undefined): Endpoint {
  if (address === undefined || port === undefined) return '?';
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The local and remote endpoints of a connected socket. */
export function endpointsOf(socket: net.Socket): { local: Endpoint; peer: Endpoint } {
  return {
    local: formatEndpoint(socket.localAddress, socket.localPort),
    peer: formatEndpoint(socket.remoteAddress, socket.remotePort),
  };
}

/**
 * Bridges a Node socket into an Observable of {@link SocketEvent}s. Subscribing attaches the
 * listeners (and so starts the flow of data); the Observable completes after `close`.
 * A socket that is already connected emits `SOCKET.CONNECTED` first.
 *
 * @example
 * ```ts
 * const socket = net.connect({ host: '127.0.0.1', port: 9000, allowHalfOpen: true });
 * socketEvents(socket).subscribe((e) => console.log(e.type));
 * ```
 */
export function socketEvents(socket: net.Socket): Observable<SocketEvent> {
  return new Observable<SocketEvent>((subscriber) => {
    const connected = () => subscriber.next({ type: 'SOCKET.CONNECTED', ...endpointsOf(socket) });
    const data = (chunk: Buffer) => subscriber.next({ type: 'SOCKET.DATA', chunk });
    const end = () => subscriber.next({ type: 'SOCKET.END' });
    const drain = () => subscriber.next({ type: 'SOCKET.DRAIN' });
    const error = (err: Error) => subscriber.next({ type: 'SOCKET.ERROR', error: errorInfo(err) });
    const close = (hadError: boolean) => {
      subscriber.next({ type: 'SOCKET.CLOSED', hadError });
      subscriber.complete();
    };
    socket.on('connect', connected);
    socket.on('data', data);
    socket.on('end', end);
    socket.on('drain', drain);
    socket.on('error', error);
    socket.on('close', close);
    if (!socket.connecting && !socket.destroyed && socket.remoteAddress) connected();
    if (socket.destroyed && !socket.connecting) queueMicrotask(() => close(false));
    return () => {
      socket.off('connect', connected);
      socket.off('data', data);
      socket.off('end', end);
      socket.off('drain', drain);
      socket.off('close', close);
      // Keep a no-op error listener: a late error on a socket nobody watches must not crash Node.
      socket.off('error', error);
      if (socket.listenerCount('error') === 0) socket.on('error', () => {});
    };
  });
}

/** What {@link writeBounded} did with a write. */
export type WriteResult = 'written' | 'blocked' | 'overflow';

/**
 * Writes honouring backpressure with a hard bound: returns `'written'`, or `'blocked'` when
 * Node's buffer is above its high-water mark (wait for `drain` before writing more), or
 * `'overflow'` without writing when the bytes queued for a peer that does not read would
 * exceed `maxBufferedBytes`. Memory per connection never grows past that bound.
 *
 * @example
 * ```ts
 * if (writeBounded(socket, data, 8 << 20) === 'overflow') socket.destroy();
 * ```
 */
export function writeBounded(socket: net.Socket, data: Buffer | string, maxBufferedBytes: number): WriteResult {
  if (socket.writableLength + data.length > maxBufferedBytes && socket.writableLength > 0) return 'overflow';
  return socket.write(data) ? 'written' : 'blocked';
}

/** The error of a peer dropped because it does not read (`E_SLOW_CONSUMER`), see {@link writeBounded}. */
export function slowConsumerError(socket: net.Socket, maxBufferedBytes: number): SynackErrorInfo {
  return {
    code: 'E_SLOW_CONSUMER',
    message: `peer is not reading: dropped with ${socket.writableLength} bytes queued (limit ${maxBufferedBytes})`,
  };
}
