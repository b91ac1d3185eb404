import { describe, expect, it } from 'vitest';
import { frameLabel, frameTypeName, wholeFrames } from '../../src/app/frame-display.js';
import { encodeQtFrame, mediaFrame, QtFrameType, textFrame } from '../../src/transport/qt-frame.js';

describe('frame display', () => {
  it('shows a text frame as its text, cut to a length when asked', () => {
    expect(frameLabel(textFrame('hello 你好'))).toBe('hello 你好');
    expect(frameLabel(textFrame('hello'), 3)).toBe('hel');
  });

  it('shows any other frame as its type and size', () => {
    expect(frameLabel(mediaFrame(QtFrameType.IMAGE, Buffer.alloc(5)))).toBe('[image 5 B]');
    expect(frameLabel({ type: 7, description: null, data: null })).toBe('[type 7 0 B]');
    expect(frameTypeName(QtFrameType.VIDEO)).toBe('video frame');
  });

  it('finds the frames of a chunk that holds whole frames only, and nothing in anything else', () => {
    const two = Buffer.concat([encodeQtFrame(textFrame('a')), encodeQtFrame(textFrame('b'))]);
    expect(wholeFrames(two)?.map((f) => frameLabel(f))).toEqual(['a', 'b']);
    expect(wholeFrames(two.subarray(0, two.length - 1))).toBeNull();
    expect(wholeFrames(Buffer.from('de ad be ef'))).toBeNull();
    expect(wholeFrames(Buffer.alloc(0))).toBeNull();
  });
});
