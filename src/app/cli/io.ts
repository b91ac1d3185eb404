import readline from 'node:readline';
import { SynackError } from '../../errors.js';
import { createRenderer, type CliEvent, type RenderOptions } from './render.js';

/** The process around a command: where it prints, how it reads lines, how it ends. */
export interface CommandIo {
  print: (event: CliEvent) => void;
  /**
   * Prints a one-line error to stderr (and as an `error` event with --json, unless `reported`:
   * the library already printed that event).
   */
  fail: (error: unknown, options?: { reported?: boolean }) => void;
  /** Reads stdin line by line; `pause`/`resume` apply backpressure to stdin. */
  lines: (onLine: (line: string) => void, onEnd: () => void) => { pause: () => void; resume: () => void; close: () => void };
  /** Calls `handler` once on SIGINT or SIGTERM. */
  onSignal: (handler: () => void) => void;
  /** Flushes stdout and exits with `code`. */
  exit: (code: number) => void;
}

export function createIo(options: Omit<RenderOptions, 'color'>): CommandIo {
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const print = createRenderer(process.stdout, { ...options, color });
  return {
    print,
    fail(error, { reported = false } = {}) {
      const e = SynackError.from(error);
      if (options.json && !reported) print({ event: 'error', code: e.code, message: e.message });
      process.stderr.write(`synack: ${e.message}\n`);
    },
    lines(onLine, onEnd) {
      const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
      rl.on('line', onLine);
      rl.on('close', onEnd);
      return { pause: () => rl.pause(), resume: () => rl.resume(), close: () => rl.close() };
    },
    onSignal(handler) {
      let fired = false;
      const once = () => {
        if (fired) return;
        fired = true;
        handler();
      };
      process.once('SIGINT', once);
      process.once('SIGTERM', once);
    },
    exit(code) {
      process.exitCode = code;
      process.stdout.write('', () => process.exit(code));
    },
  };
}
