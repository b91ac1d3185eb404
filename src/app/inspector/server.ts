import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Observable, Subscription } from 'rxjs';
import { SynackError } from '../../errors.js';
import type { Supervisor } from '../supervisor.js';
import { PAGE_CSS, PAGE_JS, pageHtml } from './page.js';
import { InspectionRecorder } from './recorder.js';
import { supervisorSource } from './source.js';

export interface InspectorOptions {
  /** Port to serve on; 0 (the default) picks a free one. */
  port?: number;
  /** The inspector serves on loopback only. */
  host?: '127.0.0.1';
  /** At most one update per actor per this many ms. Default 100 (10 per second). */
  throttleMs?: number;
  /** Recent events kept per actor. Default 50. */
  maxEvents?: number;
}

/** A running inspector. */
export interface Inspector {
  /** The page, with its token: `http://127.0.0.1:PORT/?token=…`. */
  url: string;
  port: number;
  /** Ends the live channels and stops serving; recording stops with them. */
  close(): Promise<void>;
}

/** A page that stops reading is dropped (its EventSource reconnects and gets a fresh snapshot). */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

/** Headers on every inspector (and web UI) response: no caching, no referrer, no sniffing, no framing. */
export const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Whether `given` is the expected token, compared in constant time. */
function tokenMatches(expected: Buffer, given: string | null): boolean {
  if (given === null) return false;
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** What a request is refused with, or null when it may proceed. */
export interface Refusal {
  status: number;
  message: string;
}

/**
 * Checks a request to the inspector or the web UI before anything else: its `Host` must be one
 * the page is served as (no DNS rebinding), its `Origin`, when sent, must be the page's own, and
 * its URL must carry the token (compared in constant time).
 *
 * @example
 * ```ts
 * const refusal = checkRequest(req, url, { hosts: allowedHosts('127.0.0.1', port, listInterfaces), token });
 * if (refusal) return refuse(res, refusal.status, refusal.message);
 * ```
 */
export function checkRequest(req: http.IncomingMessage, url: URL, options: { hosts: Set<string>; token: Buffer }): Refusal | null {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!options.hosts.has(host)) return { status: 403, message: 'forbidden: unexpected Host header (open the URL synack gave, with its token)' };
  const origin = req.headers.origin;
  if (origin !== undefined && !(origin.startsWith('http://') && options.hosts.has(origin.slice(7).toLowerCase()))) {
    return { status: 403, message: 'forbidden: cross-origin request' };
  }
  if (!tokenMatches(options.token, url.searchParams.get('token'))) {
    return { status: 403, message: 'forbidden: missing or wrong token (open the URL synack gave, with its token)' };
  }
  return null;
}

/** Ends a response with a short plain-text reason. */
export function refuse(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${message}\n`);
}

/**
 * Streams `source` to one page as Server-Sent Events (`event:` is each message's `type`),
 * with keepalives; the channel is in `channels` while open. A page that stops reading is
 * dropped rather than buffered without bound.
 *
 * @example
 * ```ts
 * serveEvents(req, res, recorder.live$, channels);
 * ```
 */
export function serveEvents(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  source: Observable<{ type: string }>,
  channels: Set<http.ServerResponse>,
): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
  res.write('retry: 1000\n\n');
  channels.add(res);
  let subscription: Subscription | undefined;
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
  const end = () => {
    clearInterval(keepalive);
    subscription?.unsubscribe();
    channels.delete(res);
  };
  req.once('close', end);
  res.once('close', end);
  subscription = source.subscribe({
    next: (message) => {
      if (res.destroyed) return;
      res.write(`event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`);
      if (res.writableLength > MAX_QUEUED_BYTES) res.destroy();
    },
    complete: () => res.end(),
  });
  if (res.destroyed) end();
}

/**
 * Serves the live inspector of a supervisor on 127.0.0.1: a self-contained page (no CDN) with
 * the actor tree, and per actor its statechart with the active state highlighted, its context
 * and its recent events, kept live over Server-Sent Events. Every request must carry the random
 * token of the URL; a request with another `Host` (DNS rebinding) or a foreign `Origin` is
 * refused with 403. Recording starts when the first page connects and stops with the last; actors
 * the supervisor adopted are followed from then on. The inspector never keeps the process alive by itself.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor();
 * const server = createServer({ port: 9000, supervisor });
 * const inspector = await startInspector(supervisor);
 * console.log(`inspector: ${inspector.url}`); // open it in a browser
 * // … later
 * await inspector.close();
 * ```
 */
export async function startInspector(supervisor: Supervisor, options: InspectorOptions = {}): Promise<Inspector> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new SynackError('E_USAGE', `the inspector serves on 127.0.0.1 only, not ${String(host)}`);
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  const recorder = new InspectionRecorder({
    ...supervisorSource(supervisor),
    ...(options.throttleMs !== undefined ? { throttleMs: options.throttleMs } : {}),
    ...(options.maxEvents !== undefined ? { maxEvents: options.maxEvents } : {}),
  });
  const channels = new Set<http.ServerResponse>();
  let port = 0;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const refusal = checkRequest(req, url, { hosts: new Set([`127.0.0.1:${port}`, `localhost:${port}`]), token: expected });
    if (refusal) return refuse(res, refusal.status, refusal.message);
    if (req.method !== 'GET') return refuse(res, 405, 'method not allowed');
    switch (url.pathname) {
      case '/':
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP });
        return res.end(pageHtml(token));
      case '/app.js':
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/javascript; charset=utf-8' });
        return res.end(PAGE_JS);
      case '/app.css':
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/css; charset=utf-8' });
        return res.end(PAGE_CSS);
      case '/events':
        return serveEvents(req, res, recorder.live$, channels);
      default:
        return refuse(res, 404, 'not found');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(SynackError.from(error, `inspector on ${host}:${options.port ?? 0}`)));
    server.listen({ host, port: options.port ?? 0 }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  // Watching a process must not keep it alive: neither the listening socket nor an open page does.
  server.unref();
  server.on('connection', (socket) => socket.unref());

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/?token=${token}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const res of channels) res.end();
        channels.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
