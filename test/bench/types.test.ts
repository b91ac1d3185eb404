import { describe, expect, it } from 'vitest';
import { medianTrial, trialRatios } from '../../bench/types.js';

describe('bench figures', () => {
  it('report the trial whose ratio is the median, whatever order the trials ran in', () => {
    const trials = [
      { synack: 9, raw: 10 },
      { synack: 5, raw: 10 },
      { synack: 16, raw: 20 },
    ];
    expect(medianTrial(trials)).toEqual({ index: 2, synack: 16, raw: 20, ratios: [0.9, 0.5, 0.8] });
    expect(medianTrial([trials[0]!])).toEqual({ index: 0, synack: 9, raw: 10, ratios: [0.9] });
  });

  it('list every trial ratio for the note', () => {
    expect(trialRatios([0.9, 0.5, 0.8])).toBe('0.90×, 0.50×, 0.80×');
  });
});
