/**
 * Runs the real CLI (`node bin/synack.js …`) as a child process with piped stdio, for tests.
 * Stdout lines are kept; `--json` lines are parsed into a queue that {@link Cli.waitForEvent}
 * consumes in order ({@link Cli.waitForSeen} looks from the start instead). Every wait is bounded.
 * Call {@link killClis} in afterEach, or start processes through {@link perTestCleanup}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, type TestContext } from 'vitest';
import { Cleanup, Waiters } from '../../helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin/synack.js');

/** One `--json` line: `event` and `ts`, and the event's fields. */
export interface JsonEvent {
  event: string;
  ts: number;
  [field: string]: unknown;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type Matcher<T> = string | ((value: T) => boolean);

const live = new Set<Cli>();

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * A command that runs node for us, e.g. `['ip', 'netns', 'exec', 'ns1']`: it must exec node in
   * its own place (as `ip netns exec` does), so that killing the child kills the CLI.
   */
  via?: string[];
  /** The bound of a wait that names none, in ms (default 10 s). */
  waitMs?: number;
}

/** A running `synack` process. */
export class Cli {
  readonly child: ChildProcess;
  readonly args: string[];
  /** Every parsed `--json` event so far, in order. */
  readonly events: JsonEvent[] = [];
  /** Every complete stdout line so far. */
  readonly lines: string[] = [];
  /** The complete stdout lines that start with `{` but are not JSON. */
  readonly notJson: string[] = [];
  stdout = '';
  stderr = '';
  #eventCursor = 0;
  #lineCursor = 0;
  #partial = '';
  #exit: CliExit | undefined;
  readonly #waitMs: number;
  readonly #waiters = new Waiters();

  constructor(args: string[], options: CliOptions = {}) {
    this.args = args;
    this.#waitMs = options.waitMs ?? 10_000;
    const [command, ...prefix] = [...(options.via ?? []), process.execPath];
    this.child = spawn(command!, [...prefix, BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin!.on('error', () => {});
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (text: string) => {
      this.stdout += text;
      const parts = (this.#partial + text).split('\n');
      this.#partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        if (line.startsWith('{')) {
          try {
            this.events.push(JSON.parse(line) as JsonEvent);
          } catch {
            this.notJson.push(line);
          }
        }
      }
      this.#waiters.wake();
    });
    this.child.stderr!.on('data', (text: string) => {
      this.stderr += text;
      this.#waiters.wake();
    });
    this.child.on('close', (code, signal) => {
      if (this.#partial) this.lines.push(this.#partial);
      this.#exit = { code, signal, stdout: this.stdout, stderr: this.stderr };
      live.delete(this);
      this.#waiters.wake();
    });
    live.add(this);
  }

  /** True once the process has exited and its output is read. */
  get done(): boolean {
    return this.#exit !== undefined;
  }

  /** The first value `find` gives, asked at every output; fails once the process has exited without one. */
  #wait<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return this.#waiters.until(
      () => {
        const found = find();
        if (found === undefined && this.#exit) throw new Error(`${what}: the process exited first\n${this.#describe()}`);
        return found;
      },
      timeoutMs,
      () => `${what}: nothing within ${timeoutMs} ms\n${this.#describe()}`,
    );
  }

  #describe(): string {
    const exit = this.#exit ? `exited ${this.#exit.code ?? this.#exit.signal}` : 'running';
    return `synack ${this.args.join(' ')} (${exit})\n--- stdout\n${this.stdout.slice(-3000)}--- stderr\n${this.stderr.slice(-2000)}`;
  }

  /**
   * The next `--json` event (after the ones already returned) that matches: an event name or a
   * predicate. Events before the match are passed over; later waits start after it.
   */
  waitForEvent(match: Matcher<JsonEvent>, timeoutMs = this.#waitMs): Promise<JsonEvent> {
    const test = eventTest(match);
    return this.#wait(
      () => {
        for (let i = this.#eventCursor; i < this.events.length; i++) {
          if (test(this.events[i]!)) {
            this.#eventCursor = i + 1;
            return this.events[i]!;
          }
        }
        return undefined;
      },
      timeoutMs,
      `waitForEvent(${typeof match === 'string' ? match : 'predicate'})`,
    );
  }

  /** The first event so far or to come that matches, looking from the start; does not move the queue. */
  waitForSeen(match: Matcher<JsonEvent>, timeoutMs = this.#waitMs): Promise<JsonEvent> {
    const test = eventTest(match);
    return this.#wait(() => this.events.find(test), timeoutMs, `waitForSeen(${typeof match === 'string' ? match : 'predicate'})`);
  }

  /** The next stdout line (after the ones already returned) that matches a regexp or predicate. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs = this.#waitMs): Promise<string> {
    const test = match instanceof RegExp ? (l: string) => match.test(l) : match;
    return this.#wait(
      () => {
        for (let i = this.#lineCursor; i < this.lines.length; i++) {
          if (test(this.lines[i]!)) {
            this.#lineCursor = i + 1;
            return this.lines[i]!;
          }
        }
        return undefined;
      },
      timeoutMs,
      `waitForLine(${String(match)})`,
    );
  }

  /** Resolves once stderr contains `text` (or matches a regexp). */
  waitForStderr(match: string | RegExp, timeoutMs = this.#waitMs): Promise<string> {
    const test = typeof match === 'string' ? (s: string) => s.includes(match) : (s: string) => match.test(s);
    return this.#wait(() => (test(this.stderr) ? this.stderr : undefined), timeoutMs, `waitForStderr(${String(match)})`);
  }

  /** Every event so far with this name (does not move the queue). */
  seen(name: string): JsonEvent[] {
    return this.events.filter((e) => e.event === name);
  }

  /** Writes one line (plus LF) to the process's stdin. */
  writeLine(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Writes raw bytes to stdin. */
  write(data: string | Buffer): void {
    this.child.stdin!.write(data);
  }

  /** Ends stdin (EOF for the CLI). */
  closeStdin(): void {
    this.child.stdin!.end();
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves when the process has exited, with its code and all of its output. */
  exited(timeoutMs = this.#waitMs): Promise<CliExit> {
    return this.#wait(() => this.#exit, timeoutMs, 'exited');
  }

  /** Kills the process (SIGKILL) if it still runs, and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.#exit) return;
    this.child.kill('SIGKILL');
    await this.exited(5_000);
  }
}

function eventTest(match: Matcher<JsonEvent>): (event: JsonEvent) => boolean {
  return typeof match === 'string' ? (e) => e.event === match : match;
}

/** Starts `synack …args` as a child process. */
export function runCli(args: string[], options: CliOptions = {}): Cli {
  return new Cli(args, options);
}

/** Kills every CLI process still running; for afterEach. */
export async function killClis(): Promise<void> {
  await Promise.all([...live].map((cli) => cli.kill()));
}

/**
 * Per-test cleanup that also works for concurrent tests: `scope(ctx)` is the test's own
 * {@link Cleanup}, run in afterEach for that test only; `scope.cli(ctx, args)` starts a CLI that
 * is killed there. Any process still alive at the end of the file is killed in afterAll.
 */
export function perTestCleanup(): ((ctx: TestContext) => Cleanup) & { cli: (ctx: TestContext, args: string[], options?: CliOptions) => Cli } {
  const scopes = new WeakMap<object, Cleanup>();
  const mine = new Set<Cli>();
  afterEach(async (ctx) => {
    const cleanup = scopes.get(ctx.task);
    scopes.delete(ctx.task);
    await cleanup?.run();
  });
  afterAll(() => Promise.all([...mine].map((cli) => cli.kill())));
  const scope = (ctx: TestContext): Cleanup => {
    let cleanup = scopes.get(ctx.task);
    if (!cleanup) scopes.set(ctx.task, (cleanup = new Cleanup()));
    return cleanup;
  };
  const cli = (ctx: TestContext, args: string[], options?: CliOptions): Cli => {
    const started = runCli(args, options);
    mine.add(started);
    return scope(ctx).add(started, async (c) => {
      await c.kill();
      mine.delete(c);
    });
  };
  return Object.assign(scope, { cli });
}

/** The lines of stderr, without empty ones. */
export function stderrLines(exit: CliExit): string[] {
  return exit.stderr.split('\n').filter((line) => line.length > 0);
}
