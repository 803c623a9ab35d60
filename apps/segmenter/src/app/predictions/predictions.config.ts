/** Settings of the predictions run, read from the environment (see the segmenter README). */
export interface PredictionsSettings {
  /** How often every workspace is recomputed; 0 turns the schedule off (POST /v1/predictions/run still works). */
  intervalMs: number;
  /** A customer has churned after this many days without an order. */
  horizonDays: number;
}

const DEFAULT_INTERVAL_MS = 6 * 60 * 60 * 1000;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  // A bad value fails start-up loudly rather than silently running on a default.
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`);
  return value;
}

export function readPredictionsSettings(env: NodeJS.ProcessEnv = process.env): PredictionsSettings {
  return {
    intervalMs: integer(env, 'SEGMENTER_PREDICTIONS_INTERVAL_MS', DEFAULT_INTERVAL_MS, 0),
    horizonDays: integer(env, 'SEGMENTER_PREDICTIONS_HORIZON_DAYS', 30, 1),
  };
}
