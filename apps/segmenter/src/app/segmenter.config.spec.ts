import { ConfigError, loadConfig } from '@cdp/platform';
import { SegmenterConfig } from './segmenter.config';

describe('segmenter config', () => {
  it('defaults predictions to a 6-hour schedule and a 30-day horizon; 0 turns the schedule off', () => {
    const config = loadConfig(SegmenterConfig, {});
    expect(config.SEGMENTER_PREDICTIONS_INTERVAL_MS).toBe(21_600_000);
    expect(config.SEGMENTER_PREDICTIONS_HORIZON_DAYS).toBe(30);
    expect(loadConfig(SegmenterConfig, { SEGMENTER_PREDICTIONS_INTERVAL_MS: '0' }).SEGMENTER_PREDICTIONS_INTERVAL_MS).toBe(0);
    expect(loadConfig(SegmenterConfig, { SEGMENTER_PREDICTIONS_HORIZON_DAYS: '90' }).SEGMENTER_PREDICTIONS_HORIZON_DAYS).toBe(90);
  });

  it('refuses a bad predictions value at start-up, naming the variable', () => {
    expect(() => loadConfig(SegmenterConfig, { SEGMENTER_PREDICTIONS_INTERVAL_MS: '-5' })).toThrow(ConfigError);
    expect(() => loadConfig(SegmenterConfig, { SEGMENTER_PREDICTIONS_INTERVAL_MS: '-5' })).toThrow(/SEGMENTER_PREDICTIONS_INTERVAL_MS/);
    expect(() => loadConfig(SegmenterConfig, { SEGMENTER_PREDICTIONS_HORIZON_DAYS: 'soon' })).toThrow(/SEGMENTER_PREDICTIONS_HORIZON_DAYS/);
    expect(() => loadConfig(SegmenterConfig, { SEGMENTER_PREDICTIONS_HORIZON_DAYS: '0' })).toThrow(/SEGMENTER_PREDICTIONS_HORIZON_DAYS/);
  });
});
