import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../../src/app/ui/log.js';
import { encodeQtFrame, mediaFrame, QtFrameType, textFrame } from '../../../src/transport/qt-frame.js';
import { hexDump } from '../../../src/transport/raw.js';

describe('ui log', () => {
  it('shows a received message as its text and the hex of its bytes on the wire', () => {
    const frame = textFrame('hi');
    const entry = describeEvent({ event: 'message', id: 'c1', peer: '127.0.0.1:5000', frame }, 'qt');
    expect(entry).toEqual({ kind: 'in', who: 'c1 127.0.0.1:5000', text: 'hi', hex: hexDump(encodeQtFrame(frame)), bytes: encodeQtFrame(frame).length });
  });

  it('dumps only the first KiB of a large frame, and says how many bytes it left out', () => {
    const frame = mediaFrame(QtFrameType.IMAGE, Buffer.alloc(1 << 20, 0xab));
    const wire = encodeQtFrame(frame);
    const entry = describeEvent({ event: 'message', id: 'c1', peer: '127.0.0.1:5000', frame }, 'qt');
    expect(entry?.bytes).toBe(wire.length);
    expect(entry?.hex).toBe(`${hexDump(wire.subarray(0, 1024))}\n… ${wire.length - 1024} more bytes`);
  });
});
