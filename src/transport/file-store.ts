import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { access, link, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { SynackError, type SynackErrorCode, type SynackErrorInfo } from '../errors.js';
import { SAMPLE_BYTES } from './file-wire.js';
import { nextFreeName } from './safe-name.js';

/** Errnos of files that `SynackError.from` does not know, and the stable code each gets here. */
const FILE_ERRNOS: Record<string, SynackErrorCode> = {
  EISDIR: 'E_ACCESS',
  EIO: 'E_ACCESS',
  EBADF: 'E_ACCESS',
  EMFILE: 'E_ACCESS',
  ENOTDIR: 'E_NOT_FOUND',
  ENAMETOOLONG: 'E_UNSAFE_NAME',
  EFBIG: 'E_DISK_FULL',
  ENOTEMPTY: 'E_FILE_EXISTS',
};

/**
 * A file-system error as a stable {@link SynackError}: ENOENT → `E_NOT_FOUND`, ENOSPC →
 * `E_DISK_FULL`, EACCES/EROFS/EISDIR/EIO → `E_ACCESS`…, with `context` before the message.
 *
 * @example
 * ```ts
 * fileError(Object.assign(new Error('no space left'), { code: 'ENOSPC' }), 'cannot write a.txt').code; // 'E_DISK_FULL'
 * ```
 */
export function fileError(error: unknown, context: string): SynackError {
  const wrapped = SynackError.from(error, context);
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (wrapped.code === 'E_SOCKET' && errno && FILE_ERRNOS[errno]) {
    return new SynackError(FILE_ERRNOS[errno], wrapped.message, { cause: error });
  }
  return wrapped;
}

/**
 * {@link fileError} in the plain form machines keep.
 *
 * @example
 * ```ts
 * sendBack({ type: 'FILE.ERROR', error: fileErrorInfo(error, `cannot read ${path}`) });
 * ```
 */
export function fileErrorInfo(error: unknown, context: string): SynackErrorInfo {
  return fileError(error, context).toInfo();
}

/** Where a received file goes: its final path, and the `.part` it is written to first. */
export interface ReceiveTarget {
  /** The output folder, resolved (symbolic links followed). */
  outDir: string;
  /** The folder the file goes into (the output folder or one inside it). */
  dir: string;
  /** The wanted final path; the actual one may become `name (1).ext`. */
  finalPath: string;
  /** The temporary file: the final path + `.part`. */
  partPath: string;
}

/**
 * Resolves a safe relative name (from `safeRelativePath` or `safeBaseName`) inside `outDir`,
 * creating the folders it needs, and refuses (`E_UNSAFE_NAME`) a folder that a symbolic link
 * leads outside `outDir`.
 *
 * @example
 * ```ts
 * const target = await prepareTarget('/downloads', 'photos/a.jpg');
 * // { dir: '/downloads/photos', finalPath: '/downloads/photos/a.jpg', partPath: '/downloads/photos/a.jpg.part', … }
 * ```
 */
export async function prepareTarget(outDir: string, name: string): Promise<ReceiveTarget> {
  const root = await realpath(outDir).catch((error: unknown) => {
    throw fileError(error, `cannot use the output folder ${outDir}`);
  });
  const finalPath = path.join(root, name);
  const dir = path.dirname(finalPath);
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw fileError(error, `cannot create ${dir}`);
  });
  const resolved = await realpath(dir);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw new SynackError('E_UNSAFE_NAME', `unsafe path ${JSON.stringify(name)}: ${dir} leads outside ${root}`);
  }
  const base = path.basename(finalPath);
  return { outDir: root, dir: resolved, finalPath: path.join(resolved, base), partPath: path.join(resolved, partName(base)) };
}

/** `name.part`, shortened (whole characters) so that it stays within 255 bytes. */
function partName(base: string): string {
  let stem = base;
  while (Buffer.byteLength(stem) + 5 > 255) stem = [...stem].slice(0, -1).join('');
  return `${stem}.part`;
}

/** Whether anything is at `p` (a file, a folder, a link). */
export const exists = (p: string) => access(p).then(
  () => true,
  () => false,
);

/**
 * Moves a finished `.part` to its final name. Without `force` it never replaces anything: the
 * name is claimed with a hard link (which fails if it exists), else `name (1).ext` and so on;
 * where hard links are not supported it checks and renames. With `force`, an atomic rename
 * replaces an existing file. Returns the path used.
 *
 * @example
 * ```ts
 * await commitFile('/dl/a.txt.part', '/dl/a.txt', false); // '/dl/a.txt (1)' if a.txt was there
 * ```
 */
export async function commitFile(partPath: string, finalPath: string, force: boolean): Promise<string> {
  if (force) {
    await rename(partPath, finalPath);
    return finalPath;
  }
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  let candidate = base;
  for (let attempt = 0; attempt < 100; attempt++) {
    const target = path.join(dir, candidate);
    try {
      await link(partPath, target);
      await unlink(partPath);
      return target;
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === 'EEXIST') {
        candidate = await nextFreeName(dir, base, exists);
        continue;
      }
      if (errno === 'EPERM' || errno === 'ENOTSUP' || errno === 'EOPNOTSUPP' || errno === 'EXDEV' || errno === 'EMLINK' || errno === 'ENOSYS') {
        const free = path.join(dir, await nextFreeName(dir, base, exists));
        await rename(partPath, free);
        return free;
      }
      throw error;
    }
  }
  throw new SynackError('E_FILE_EXISTS', `could not find a free name for ${finalPath}`);
}

/** Reads up to `length` bytes at `position` (fewer at the end of the file). */
export type ReadAt = (position: number, length: number) => Promise<Buffer>;

/**
 * A {@link ReadAt} over an open file (it reads again until `length` bytes or the end).
 *
 * @example
 * ```ts
 * const read = readAtOf(await open('a.bin', 'r'));
 * const first = await read(0, 65536);
 * ```
 */
export function readAtOf(handle: FileHandle): ReadAt {
  return async (position, length) => {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  };
}

/**
 * SHA-256 of the first and the last {@link SAMPLE_BYTES} before `offset` of a file: how a
 * receiver and a sender check that a partial file is the beginning of the file on offer
 * without hashing all of it.
 *
 * @example
 * ```ts
 * const { head, tail } = await sampleDigests('/dl/big.iso.part', 10_000_000);
 * ```
 */
export async function sampleDigests(file: ReadAt | string, offset: number): Promise<{ head: string; tail: string }> {
  const handle = typeof file === 'string' ? await open(file, 'r') : undefined;
  const read = handle ? readAtOf(handle) : (file as ReadAt);
  try {
    const headLength = Math.min(offset, SAMPLE_BYTES);
    const tailStart = Math.max(0, offset - SAMPLE_BYTES);
    return {
      head: createHash('sha256').update(await read(0, headLength)).digest('hex'),
      tail: createHash('sha256').update(await read(tailStart, offset - tailStart)).digest('hex'),
    };
  } finally {
    await handle?.close();
  }
}

/**
 * Feeds bytes `[start, end)` of a file to `hash` (1 MiB reads); returns how many it read.
 *
 * @example
 * ```ts
 * const hash = createHash('sha256');
 * await hashRange(readAtOf(handle), 0, size, hash);
 * ```
 */
export async function hashRange(read: ReadAt, start: number, end: number, hash: Hash): Promise<number> {
  let position = start;
  while (position < end) {
    const chunk = await read(position, Math.min(1 << 20, end - position));
    if (chunk.length === 0) break;
    hash.update(chunk);
    position += chunk.length;
  }
  return position - start;
}

/**
 * Copies of a running SHA-256 taken every `every` bytes while a file is sent, so that a transfer
 * continued at some offset can rebuild the hash of everything before it from the nearest copy
 * instead of from the start of the file.
 *
 * @example
 * ```ts
 * const checkpoints = new HashCheckpoints();
 * checkpoints.passed(hash, offsetBefore, offsetAfter); // after each chunk
 * const { offset, hash: resumed } = checkpoints.nearest(5 << 20); // then hash [offset, 5 MiB) from the file
 * ```
 */
export class HashCheckpoints {
  readonly every: number;
  readonly #copies = new Map<number, Hash>();

  constructor(every = 16 << 20) {
    this.every = every;
  }

  /** Records a copy if the bytes just hashed (`before` → `after`) ended exactly on a checkpoint. */
  passed(hash: Hash, before: number, after: number): void {
    if (after % this.every !== 0 || after === before || this.#copies.has(after)) return;
    this.#copies.set(after, hash.copy());
  }

  /** A hash of the bytes before the nearest checkpoint at or below `offset`, and that checkpoint. */
  nearest(offset: number): { offset: number; hash: Hash } {
    let best = 0;
    for (const at of this.#copies.keys()) if (at <= offset && at > best) best = at;
    const copy = this.#copies.get(best);
    return { offset: best, hash: copy ? copy.copy() : createHash('sha256') };
  }
}

/**
 * What a receiver knows about the `.part` files of its output folder: which ones a transfer is
 * writing right now, and the running SHA-256 of those a synack sender may continue, so that a
 * continued transfer does not hash the part already received again.
 *
 * @example
 * ```ts
 * const partials = new PartialStore();
 * if (partials.claim(partPath)) { … partials.keep(partPath, hash, received); partials.release(partPath); }
 * ```
 */
export class PartialStore {
  readonly #active = new Set<string>();
  readonly #hashes = new Map<string, { hash: Hash; bytes: number }>();
  readonly #waiters = new Map<string, Set<() => void>>();

  /**
   * Resolves true once no transfer is writing this `.part` (at once when none is), or false after
   * `timeoutMs`: a sender retrying after a cut can come back before the receiver has finished
   * putting the cut connection's partial away.
   */
  whenFree(partPath: string, timeoutMs: number): Promise<boolean> {
    if (!this.#active.has(partPath)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(partPath) ?? new Set<() => void>();
      this.#waiters.set(partPath, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      waiters.add(done);
    });
  }

  /** Marks a `.part` as being written; false when another transfer has it. */
  claim(partPath: string): boolean {
    if (this.#active.has(partPath)) return false;
    this.#active.add(partPath);
    return true;
  }

  release(partPath: string): void {
    this.#active.delete(partPath);
    const waiters = this.#waiters.get(partPath);
    if (!waiters) return;
    this.#waiters.delete(partPath);
    for (const wake of waiters) wake();
  }

  isActive(partPath: string): boolean {
    return this.#active.has(partPath);
  }

  /** Keeps the running hash of a partial left for a later continuation (`bytes` long). */
  keep(partPath: string, hash: Hash, bytes: number): void {
    this.#hashes.set(partPath, { hash, bytes });
  }

  /** The kept hash of a partial if it covers exactly `bytes` (and forgets it). */
  take(partPath: string, bytes: number): Hash | undefined {
    const kept = this.#hashes.get(partPath);
    this.#hashes.delete(partPath);
    return kept && kept.bytes === bytes ? kept.hash : undefined;
  }

  forget(partPath: string): void {
    this.#hashes.delete(partPath);
  }
}
