/**
 * How a person reads qt frames, for every face (CLI lines, web UI log): a text frame as its text,
 * anything else as `[image 1234 B]`.
 */
import { frameText, QtFrameDecoder, QtFrameType, type QtFrame } from '../transport/qt-frame.js';
import { displayText } from '../transport/raw.js';

const MEDIA_NAMES: Record<number, string> = { [QtFrameType.IMAGE]: 'image', [QtFrameType.VIDEO]: 'video frame' };

/** A frame type as a word: `image`, `video frame`, `type 7`. */
export function frameTypeName(type: number): string {
  return MEDIA_NAMES[type] ?? `type ${type}`;
}

/**
 * A frame as a person reads it: a text frame's text (its first `maxChars`), else its type and size.
 *
 * @example
 * ```ts
 * frameLabel(textFrame('hi')); // 'hi'
 * frameLabel(mediaFrame(QtFrameType.IMAGE, jpeg)); // '[image 5120 B]'
 * ```
 */
export function frameLabel(frame: QtFrame, maxChars = Number.POSITIVE_INFINITY): string {
  const text = frameText(frame);
  if (text !== null) return displayText(Buffer.from(text.slice(0, maxChars)));
  return `[${frameTypeName(frame.type)} ${frame.data?.length ?? 0} B]`;
}

/** The frames of a chunk that holds whole qt frames only (one or more), else null (say, hex typed by hand). */
export function wholeFrames(chunk: Buffer): QtFrame[] | null {
  try {
    const decoder = new QtFrameDecoder();
    const frames = decoder.push(chunk);
    return decoder.bufferedBytes === 0 && frames.length > 0 ? frames : null;
  } catch {
    return null;
  }
}
