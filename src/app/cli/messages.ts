import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SynackError } from '../../errors.js';
import type { Framing } from '../../machines/connection.js';
import { encodeQtFrame, mediaFrame, QtFrameType, textFrame, type QtFrame } from '../../transport/qt-frame.js';
import { encodeRawLine, type Eol } from '../../transport/raw.js';
import type { SynackEvent } from '../events.js';
import type { CliEvent } from './render.js';

export interface LineOptions {
  framing: Framing;
  eol: Eol;
  hex: boolean;
}

/**
 * Turns a line typed on stdin into bytes to send: raw text with its line ending, or a qt text
 * frame; with qt framing `/image FILE` and `/video FILE` send a file as a type 2 or 3 frame, and
 * `//text` sends a line that starts with `/`. With `hex`, the line's bytes go out exactly as
 * written, unframed, in either framing (to poke a peer's parser).
 */
export async function encodeLine(line: string, options: LineOptions): Promise<Buffer> {
  if (options.framing === 'raw' || options.hex) return encodeRawLine(line, options);
  const media = /^\/(image|video)\s+(.+)$/.exec(line);
  if (media) {
    const file = media[2]!.trim();
    const bytes = await readFile(file).catch((error: unknown) => {
      throw SynackError.from(error, `cannot read ${file}`);
    });
    return encodeQtFrame(mediaFrame(media[1] === 'image' ? QtFrameType.IMAGE : QtFrameType.VIDEO, bytes));
  }
  if (/^\/(image|video)\b/.test(line)) throw new SynackError('E_USAGE', `usage: ${line.split(' ')[0]} FILE`);
  const text = line.startsWith('//') ? line.slice(1) : line;
  return encodeQtFrame(textFrame(text));
}

/**
 * Runs async work strictly one after another (so a slow `/image` read never lets a later line
 * overtake it), reporting failures without stopping the queue.
 */
export function serial(onError: (error: unknown) => void): (work: () => Promise<void> | void) => void {
  let chain: Promise<void> = Promise.resolve();
  return (work) => {
    chain = chain.then(work).catch(onError);
  };
}

/** Stores an image or video frame under `dir`; returns the path written. */
export async function saveMedia(dir: string, id: string, sequence: number, frame: QtFrame): Promise<string> {
  await mkdir(dir, { recursive: true });
  const kind = frame.type === QtFrameType.IMAGE ? 'image' : 'video';
  const file = path.join(dir, `${id}-${kind}-${String(sequence).padStart(4, '0')}.jpg`);
  await writeFile(file, frame.data ?? Buffer.alloc(0));
  return file;
}

/**
 * Prints events as they come; with `mediaDir`, image and video messages are first saved there
 * and printed with their `path`.
 */
export function createEventPrinter(
  print: (event: CliEvent) => void,
  mediaDir: string | undefined,
  onError: (error: unknown) => void,
): (event: SynackEvent) => void {
  if (!mediaDir) return print;
  const queue = serial(onError);
  let sequence = 0;
  return (event) => {
    if (event.event !== 'message' || event.frame.type === QtFrameType.TEXT) return print(event);
    const n = ++sequence;
    queue(async () => print({ ...event, path: await saveMedia(mediaDir, event.id, n, event.frame) }));
  };
}
