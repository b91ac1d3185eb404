import type http from 'node:http';
import os from 'node:os';
import { SynackError } from '../../errors.js';
import { isLoopback, type InterfaceAddress } from '../../transport/interfaces.js';
import { formatEndpoint } from '../../transport/socket-bridge.js';
import { SECURITY_HEADERS } from '../inspector/server.js';

export { checkRequest, refuse, serveEvents, type Refusal } from '../inspector/server.js';

/** Largest command body accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;

export { isLoopback } from '../../transport/interfaces.js';

/** Whether `host` binds every interface. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** `host:port` as it appears in a Host header or URL: IPv6 in brackets, zone ids dropped. */
export function hostPort(host: string, port: number): string {
  return formatEndpoint(host.split('%')[0]!, port);
}

/**
 * The `Host` values the UI answers to, for a server bound to `bind`: the bound address (every
 * local address for a wildcard bind), `localhost` when loopback is reachable, and this machine's
 * name when other machines can reach it. Anything else (a DNS-rebinding attacker's domain) is
 * refused.
 *
 * @example
 * ```ts
 * allowedHosts('127.0.0.1', 8080, () => []); // Set { '127.0.0.1:8080', 'localhost:8080' }
 * ```
 */
export function allowedHosts(bind: string, port: number, interfaces: () => InterfaceAddress[]): Set<string> {
  const hosts = new Set<string>([hostPort(bind, port).toLowerCase()]);
  if (isLoopback(bind) || isWildcard(bind)) hosts.add(`localhost:${port}`);
  if (!isLoopback(bind)) hosts.add(`${os.hostname().toLowerCase()}:${port}`);
  if (isWildcard(bind)) {
    for (const address of interfaces()) {
      if (bind === '0.0.0.0' && address.family !== 'IPv4') continue;
      hosts.add(hostPort(address.address, port).toLowerCase());
    }
  }
  return hosts;
}

/** Sends a body with the shared security headers. */
export function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, ...headers });
  res.end(body);
}

/** Sends a JSON body. */
export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/**
 * Reads a JSON request body: `Content-Type: application/json` (so a cross-site form cannot
 * send it without a preflight), at most {@link MAX_BODY_BYTES}. Throws a SynackError whose
 * `status` says how to answer.
 */
export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw bodyError(415, 'expected Content-Type: application/json');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw bodyError(413, `body too large (at most ${MAX_BODY_BYTES} bytes)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw bodyError(413, `body too large (at most ${MAX_BODY_BYTES} bytes)`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw bodyError(400, `the body is not JSON: ${(error as Error).message}`);
  }
}

function bodyError(status: number, message: string): SynackError & { status: number } {
  return Object.assign(new SynackError('E_USAGE', message), { status });
}
