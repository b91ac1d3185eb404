/**
 * Talks to a running web UI the way a page (or an attacker) would: plain HTTP requests with any
 * headers, commands as JSON, and the live channel read message by message. Every wait is bounded.
 */
import http from 'node:http';
import type { UiMessage } from '../../../src/app/ui/session.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to 127.0.0.1:`port` (fetch would not let us forge Host), within 3 s. */
export function request(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {}, timeout: 3_000, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${path}: no answer within 3000 ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** What POST /api/command answered. */
export interface CommandReply {
  status: number;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

/** Sends a command as the page does. */
export async function command(port: number, token: string, body: unknown, headers: Record<string, string> = {}): Promise<CommandReply> {
  const reply = await request(port, `/api/command?token=${token}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!String(reply.headers['content-type']).startsWith('application/json')) {
    return { status: reply.status, ok: false, error: { code: `HTTP ${reply.status}`, message: reply.body.trim() } };
  }
  return { status: reply.status, ...(JSON.parse(reply.body) as Omit<CommandReply, 'status'>) };
}

/** The live channel of a UI: each message parsed, in order. */
export class LiveChannel {
  readonly messages: UiMessage[] = [];
  readonly #req: http.ClientRequest;
  #buffer = '';
  #wake: (() => void) | undefined;
  #cursor = 0;

  private constructor(req: http.ClientRequest) {
    this.#req = req;
  }

  /** The UI's live channel, or with `path` another event stream (the inspector's `/events`). */
  static open(port: number, token: string, path = '/api/events'): Promise<LiveChannel> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `${path}?token=${token}`, agent: false });
      const channel = new LiveChannel(req);
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error('live channel: no answer within 3000 ms'));
      }, 3_000);
      req.on('response', (res) => {
        clearTimeout(timer);
        if (res.statusCode !== 200) return reject(new Error(`live channel: HTTP ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => channel.#push(chunk));
        resolve(channel);
      });
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  #push(chunk: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf('\n\n'); end !== -1; end = this.#buffer.indexOf('\n\n')) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(block);
      if (data) this.messages.push(JSON.parse(data[1]!) as UiMessage);
    }
    this.#wake?.();
  }

  /** The next message (after those already taken) that satisfies `predicate`, within `timeoutMs`. */
  next(predicate: (message: UiMessage) => boolean, what: string, timeoutMs = 3_000): Promise<UiMessage> {
    return this.#wait(predicate, what, timeoutMs, true);
  }

  /** The first message received so far or later (taken or not) that satisfies `predicate`. */
  seen(predicate: (message: UiMessage) => boolean, what: string, timeoutMs = 3_000): Promise<UiMessage> {
    return this.#wait(predicate, what, timeoutMs, false);
  }

  async #wait(predicate: (message: UiMessage) => boolean, what: string, timeoutMs: number, take: boolean): Promise<UiMessage> {
    const deadline = Date.now() + timeoutMs;
    let index = take ? this.#cursor : 0;
    for (;;) {
      while (index < this.messages.length) {
        const message = this.messages[index++]!;
        if (take) this.#cursor = index;
        if (predicate(message)) return message;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`live channel: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.#req.destroy();
  }
}
