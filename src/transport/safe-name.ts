import { join } from 'node:path';
import { SynackError } from '../errors.js';

/** Longest file name most file systems accept, in UTF-8 bytes. */
const MAX_NAME_BYTES = 255;
const MAX_FREE_NAME_TRIES = 10_000;
/** C0 and C1 controls, DEL, and the bidi overrides/isolates that can disguise an extension. */
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const SEPARATORS = /[/\\]/;
const DRIVE = /^[a-z]:/i;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;
const EXTENSION = /(?:\.tar)?\.[^.\s]{1,16}$/i;
/** Made on first use: building a Segmenter loads ICU's break rules, ~9 ms that `import 'synack'` need not pay. */
let graphemes: Intl.Segmenter | undefined;

/**
 * What a receiver keeps of the name a sender announced: the last path component only, so it can
 * never leave the download folder.
 *
 * - directory parts (`/` and `\`) and a drive prefix (`C:`) are dropped; other `:` become `_`
 *   (on Windows they would open an alternate data stream);
 * - NUL, control characters and bidi overrides are removed;
 * - trailing dots and spaces are removed (Windows drops them anyway); dot files such as
 *   `.bashrc` are kept;
 * - Windows device names (`CON`, `nul.txt`, `COM1`…) get a `_` prefix;
 * - the result is cut to 255 bytes of UTF-8, keeping the extension and whole characters.
 *
 * Throws `E_UNSAFE_NAME` when nothing usable remains (``, `.`, `..`, `dir/`, `...`).
 *
 * @example
 * ```ts
 * safeBaseName('../../etc/passwd'); // 'passwd'
 * safeBaseName('C:\\Users\\me\\x.txt'); // 'x.txt'
 * safeBaseName('..'); // throws SynackError E_UNSAFE_NAME
 * ```
 */
export function safeBaseName(name: string): string {
  const last = name.split(SEPARATORS).at(-1) ?? '';
  return cleanPart(last.replace(UNSAFE_CHARS, '').replace(DRIVE, ''), name);
}

/**
 * Checks a relative path sent by another synack (folder transfers) and returns it in POSIX form.
 * Accepts `/` and `\` as separators and skips empty and `.` components; throws `E_UNSAFE_NAME`
 * for `..`, absolute paths, drive letters, NUL, or a path with no components. Each component
 * then goes through the rules of {@link safeBaseName}.
 *
 * @example
 * ```ts
 * safeRelativePath('photos\\2024/./beach.jpg'); // 'photos/2024/beach.jpg'
 * safeRelativePath('photos/../../.ssh/id_rsa'); // throws SynackError E_UNSAFE_NAME
 * ```
 */
export function safeRelativePath(path: string): string {
  const shown = JSON.stringify(path);
  if (path.includes('\u0000')) throw unsafe(`unsafe path ${shown}: it contains a NUL character`);
  if (/^[/\\]/.test(path)) throw unsafe(`unsafe path ${shown}: it is absolute, a relative path is required`);
  if (DRIVE.test(path)) throw unsafe(`unsafe path ${shown}: it starts with a drive letter`);
  const parts = path.split(SEPARATORS).filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw unsafe(`unsafe path ${shown}: it contains '..'`);
  if (parts.length === 0) throw unsafe(`unsafe path ${shown}: it names no file`);
  return parts.map((part) => cleanPart(part.replace(UNSAFE_CHARS, ''), path)).join('/');
}

/**
 * Picks a name that does not exist yet in `dir`: `name` itself, else `name (1).ext`,
 * `name (2).ext`… as browsers do, still within 255 bytes. `exists` gets the joined path.
 * There is a race between this check and creating the file: create it with the `wx` flag.
 * Throws `E_UNSAFE_NAME` after 10 000 taken names.
 *
 * @example
 * ```ts
 * import { access } from 'node:fs/promises';
 * const exists = (p: string) => access(p).then(() => true, () => false);
 * await nextFreeName('/downloads', 'report.pdf', exists); // 'report (1).pdf' if report.pdf exists
 * ```
 */
export async function nextFreeName(
  dir: string,
  name: string,
  exists: (p: string) => boolean | Promise<boolean>,
): Promise<string> {
  if (!(await exists(join(dir, name)))) return name;
  const { stem, ext } = splitExtension(name);
  for (let n = 1; n <= MAX_FREE_NAME_TRIES; n++) {
    const suffix = ` (${n})${ext}`;
    const candidate = truncateUtf8(stem, MAX_NAME_BYTES - Buffer.byteLength(suffix)) + suffix;
    if (!(await exists(join(dir, candidate)))) return candidate;
  }
  throw unsafe(`no free name for ${JSON.stringify(name)} in ${dir} after ${MAX_FREE_NAME_TRIES} tries`);
}

function cleanPart(part: string, original: string): string {
  let name = part.replaceAll(':', '_').replace(/[. ]+$/, '');
  if (name === '') throw unsafe(`unsafe file name ${JSON.stringify(original)}: no usable name is left`);
  if (WINDOWS_DEVICE.test(name)) name = `_${name}`;
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const { stem, ext } = splitExtension(name);
  name = (truncateUtf8(stem, MAX_NAME_BYTES - Buffer.byteLength(ext)) + ext).replace(/[. ]+$/, '');
  if (name === '') throw unsafe(`unsafe file name ${JSON.stringify(original)}: no usable name is left`);
  return name;
}

function splitExtension(name: string): { stem: string; ext: string } {
  const match = EXTENSION.exec(name);
  if (!match || match.index === 0) return { stem: name, ext: '' };
  return { stem: name.slice(0, match.index), ext: match[0] };
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  let used = 0;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(text)) {
    const size = Buffer.byteLength(segment);
    if (used + size > maxBytes) break;
    out += segment;
    used += size;
  }
  if (out !== '' || text === '') return out;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (used + size > maxBytes) break;
    out += char;
    used += size;
  }
  return out;
}

function unsafe(message: string): SynackError {
  return new SynackError('E_UNSAFE_NAME', message);
}
