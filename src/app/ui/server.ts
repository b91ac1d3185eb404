import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SynackError } from '../../errors.js';
import { listInterfaces, type InterfaceAddress } from '../../transport/interfaces.js';
import { PAGE_CSS as INSPECTOR_CSS, PAGE_JS as INSPECTOR_JS, pageHtml as inspectorHtml } from '../inspector/page.js';
import { InspectionRecorder } from '../inspector/recorder.js';
import { supervisorSource } from '../inspector/source.js';
import type { Supervisor } from '../supervisor.js';
import { parseCommand } from './commands.js';
import { allowedHosts, checkRequest, hostPort, isLoopback, isWildcard, readJson, refuse, send, sendJson, serveEvents } from './http.js';
import { formatLog } from './log.js';
import { UI_CSS } from './page-style.js';
import { UI_JS } from './page-script.js';
import { uiHtml } from './page.js';
import { UiSession } from './session.js';
import { SettingsStore, settingsFile } from './settings.js';

export interface UiOptions {
  /** Port to serve on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to serve on. Default 127.0.0.1; anything else is reachable from other machines (see {@link exposureNotice}). */
  host?: string;
  /** Folder of `ui.json`; default `$XDG_CONFIG_HOME/synack` or `~/.config/synack`. */
  configDir?: string;
  /** Runs the servers and clients the page starts; made (and shut down on close) if not given. */
  supervisor?: Supervisor;
  /** Page updates at most this often. Default 50 ms. */
  flushMs?: number;
  /** The local interfaces (for the drop-down and the Host check); default {@link listInterfaces}. */
  interfaces?: () => InterfaceAddress[];
  /** Largest file the page may hand over for sending. Default 4 GiB. */
  maxUploadBytes?: number;
}

/** A running web UI. */
export interface Ui {
  /** The page, with its token: `http://127.0.0.1:PORT/?token=…`. */
  url: string;
  /** Every address it can be opened at (for a wildcard bind, one per local address). */
  urls: string[];
  host: string;
  port: number;
  /** What binding beyond loopback exposes, to print before the URL; null on loopback. */
  exposure: string | null;
  /** The servers, clients and logs behind the page. */
  session: UiSession;
  /** Ends the live channels, closes every client and server the page started, and stops serving. */
  close(): Promise<void>;
}

const CSP_BASE = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'";
const UI_CSP = `${CSP_BASE}; frame-src 'self'; frame-ancestors 'none'`;
const INSPECTOR_CSP = `${CSP_BASE}; frame-ancestors 'self'`;

/**
 * What serving on `host` exposes, in plain words, or null for a loopback address.
 *
 * @example
 * ```ts
 * exposureNotice('0.0.0.0', 8080); // 'warning: synack ui serves on 0.0.0.0:8080 (every IPv4 interface) …'
 * ```
 */
export function exposureNotice(host: string, port: number): string | null {
  if (isLoopback(host)) return null;
  const where =
    host === '0.0.0.0' ? 'every IPv4 interface of this machine' : host === '::' ? 'every interface of this machine, IPv6 and IPv4' : `an address other machines can reach`;
  return [
    `warning: synack ui serves on ${hostPort(host, port)} (${where}), over plain HTTP.`,
    'Anyone who can reach it and has the URL (its token) can use this machine through the page:',
    'listen on its ports, connect from it to any host, read and send data there, and write',
    'received files into its folders.',
    'The token crosses the network unencrypted. Use this only on a network you trust, or keep the',
    `default 127.0.0.1 and tunnel: ssh -L ${port}:127.0.0.1:${port} <this machine>`,
  ].join('\n');
}

function stamp(ts: number): string {
  return new Date(ts).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * Serves the network debugging assistant: a page (no CDN, works offline) with a server panel,
 * client cards and the live inspector, driving a {@link UiSession} on one Supervisor. The page
 * receives the model over Server-Sent Events (`/api/events`) and sends commands as JSON
 * (`POST /api/command`); every request needs the URL's random token, the UI's own `Host`, and
 * its own `Origin` when one is sent. Settings and recent targets are kept in `ui.json`.
 *
 * @example
 * ```ts
 * const ui = await startUi({ port: 0 });
 * console.log(`open ${ui.url}`);
 * // … later
 * await ui.close();
 * ```
 */
export async function startUi(options: UiOptions = {}): Promise<Ui> {
  const host = options.host ?? '127.0.0.1';
  const interfaces = options.interfaces ?? (() => listInterfaces());
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  const settings = await SettingsStore.open(settingsFile(options.configDir ? { configDir: options.configDir } : {}));
  const session = new UiSession({
    settings,
    interfaces,
    ...(options.supervisor ? { supervisor: options.supervisor } : {}),
    ...(options.flushMs !== undefined ? { flushMs: options.flushMs } : {}),
    ...(options.maxUploadBytes !== undefined ? { maxUploadBytes: options.maxUploadBytes } : {}),
  });
  const recorder = new InspectionRecorder(supervisorSource(session.supervisor));
  const channels = new Set<http.ServerResponse>();
  let port = 0;
  let hosts = new Set<string>();
  const hostsNow = () => (isWildcard(host) ? allowedHosts(host, port, interfaces) : hosts);

  const command = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      const result = await session.run(parseCommand(await readJson(req)));
      sendJson(res, 200, { ok: true, result });
    } catch (error) {
      const e = SynackError.from(error);
      const status = (error as { status?: number }).status ?? (e.code === 'E_USAGE' || e.code === 'E_BAD_HEX' ? 400 : 409);
      if (status === 413) res.setHeader('Connection', 'close');
      sendJson(res, status, { ok: false, error: { code: e.code, message: e.message } });
    }
  };

  const upload = async (req: http.IncomingMessage, url: URL, res: http.ServerResponse) => {
    try {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/octet-stream') throw Object.assign(new SynackError('E_USAGE', 'expected Content-Type: application/octet-stream'), { status: 415 });
      const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
      const result = await session.files.upload(req, url.searchParams.get('name') ?? '', declared);
      sendJson(res, 200, { ok: true, result });
    } catch (error) {
      const e = SynackError.from(error);
      const status = (error as { status?: number }).status ?? (e.code === 'E_USAGE' || e.code === 'E_UNSAFE_NAME' ? 400 : 409);
      if (status === 413) res.setHeader('Connection', 'close');
      sendJson(res, status, { ok: false, error: { code: e.code, message: e.message } });
    }
  };

  const download = (url: URL, res: http.ServerResponse) => {
    const panel = url.searchParams.get('panel') ?? 'server';
    const format = url.searchParams.get('format') === 'hex' ? 'hex' : 'text';
    try {
      const entries = session.log(panel);
      const name = `synack-${panel.replace(/[^\w-]/g, '_')}-${stamp(Date.now())}.log`;
      send(res, 200, 'text/plain; charset=utf-8', formatLog(entries, format), { 'Content-Disposition': `attachment; filename="${name}"` });
    } catch (error) {
      refuse(res, 404, SynackError.from(error).message);
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const refusal = checkRequest(req, url, { hosts: hostsNow(), token: expected });
    if (refusal) return refuse(res, refusal.status, refusal.message);
    if (url.pathname === '/api/command' || url.pathname === '/api/upload') {
      if (req.method !== 'POST') return refuse(res, 405, 'method not allowed', { Allow: 'POST' });
      return void (url.pathname === '/api/command' ? command(req, res) : upload(req, url, res));
    }
    if (req.method !== 'GET') return refuse(res, 405, 'method not allowed', { Allow: 'GET' });
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', uiHtml(token), { 'Content-Security-Policy': UI_CSP });
      case '/ui.js':
        return send(res, 200, 'text/javascript; charset=utf-8', UI_JS);
      case '/ui.css':
        return send(res, 200, 'text/css; charset=utf-8', UI_CSS);
      case '/api/events':
        return serveEvents(req, res, session.updates$, channels);
      case '/api/log':
        return download(url, res);
      // The inspector's own page, script and channel, at the paths its script expects; framed by the UI.
      case '/inspector':
        return send(res, 200, 'text/html; charset=utf-8', inspectorHtml(token), {
          'Content-Security-Policy': INSPECTOR_CSP,
          'X-Frame-Options': 'SAMEORIGIN',
        });
      case '/app.js':
        return send(res, 200, 'text/javascript; charset=utf-8', INSPECTOR_JS);
      case '/app.css':
        return send(res, 200, 'text/css; charset=utf-8', INSPECTOR_CSS);
      case '/events':
        return serveEvents(req, res, recorder.live$, channels);
      default:
        return refuse(res, 404, 'not found');
    }
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(SynackError.from(error, `ui on ${hostPort(host, options.port ?? 0)}`)));
      server.listen({ host, port: options.port ?? 0 }, () => resolve());
    });
  } catch (error) {
    await session.close();
    throw error;
  }
  port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port, interfaces);

  const local = isWildcard(host) ? '127.0.0.1' : host;
  const url = `http://${hostPort(local, port)}/?token=${token}`;
  const urls = isWildcard(host)
    ? [url, ...interfaces().filter((a) => !a.internal && (host === '::' || a.family === 'IPv4') && !a.scopeId).map((a) => `http://${hostPort(a.address, port)}/?token=${token}`)]
    : [url];

  let closing: Promise<void> | undefined;
  return {
    url,
    urls,
    host,
    port,
    exposure: exposureNotice(host, port),
    session,
    close() {
      closing ??= (async () => {
        await session.close();
        for (const res of channels) res.end();
        channels.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
