/**
 * What the raw Node relay does with one client's bytes: decode the chunk with the connection's
 * own QtFrameDecoder (the validation synack's relay does) and return the original bytes of the
 * complete frames of types 1/2/3, batched per chunk, to be written once to each other client.
 */
import { QtFrameDecoder, qtFrameWireSize, QtFrameType } from '../../dist/transport/qt-frame.js';

const RELAYED = new Set<number>([QtFrameType.TEXT, QtFrameType.IMAGE, QtFrameType.VIDEO]);

export class RelayFramer {
  readonly #decoder = new QtFrameDecoder();
  /** Bytes of the frame still incomplete (views of earlier chunks). */
  #carry: Buffer[] = [];

  /** The relayable bytes this chunk completed, or null. Throws on a malformed stream. */
  push(chunk: Buffer): Buffer | null {
    const frames = this.#decoder.push(chunk);
    const left = this.#decoder.bufferedBytes;
    if (frames.length === 0) {
      this.#carry.push(chunk);
      return null;
    }
    const cut = chunk.length - left;
    const head = chunk.subarray(0, cut);
    const bytes = this.#carry.length > 0 ? Buffer.concat([...this.#carry, head]) : head;
    this.#carry = left > 0 ? [chunk.subarray(cut)] : [];
    let all = true;
    for (const frame of frames) if (!RELAYED.has(frame.type)) all = false;
    if (all) return bytes;
    const parts: Buffer[] = [];
    let offset = 0;
    for (const frame of frames) {
      const size = qtFrameWireSize(frame);
      if (RELAYED.has(frame.type)) parts.push(bytes.subarray(offset, offset + size));
      offset += size;
    }
    return parts.length === 0 ? null : Buffer.concat(parts);
  }
}
