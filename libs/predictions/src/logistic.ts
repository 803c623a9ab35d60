export interface LogisticOptions {
  /** L2 penalty on the weights (not the intercept), per example. */
  l2?: number;
  /** Gradient descent step; inputs are expected standardized, where 0.5 is stable for a handful of features. */
  learningRate?: number;
  iterations?: number;
}

export interface LogisticModel {
  intercept: number;
  weights: number[];
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export const predictProbability = (model: LogisticModel, row: readonly number[]): number =>
  sigmoid(row.reduce((z, x, j) => z + x * (model.weights[j] as number), model.intercept));

/**
 * Logistic regression by full-batch gradient descent on the L2-penalized mean log loss. Starts
 * from zero and has no randomness, so the same data always gives the same model; the penalty
 * keeps weights finite on separable data.
 */
export function trainLogistic(
  rows: readonly (readonly number[])[],
  labels: readonly boolean[],
  options: LogisticOptions = {},
): LogisticModel {
  const { l2 = 1e-3, learningRate = 0.5, iterations = 800 } = options;
  const n = rows.length;
  const width = rows[0]?.length ?? 0;
  const weights = new Array<number>(width).fill(0);
  let intercept = 0;
  if (n === 0) return { intercept, weights };
  const gradient = new Array<number>(width);
  for (let it = 0; it < iterations; it++) {
    gradient.fill(0);
    let gradientIntercept = 0;
    for (let i = 0; i < n; i++) {
      const row = rows[i] as readonly number[];
      let z = intercept;
      for (let j = 0; j < width; j++) z += (row[j] as number) * (weights[j] as number);
      const error = sigmoid(z) - (labels[i] ? 1 : 0);
      gradientIntercept += error;
      for (let j = 0; j < width; j++) gradient[j] = (gradient[j] as number) + error * (row[j] as number);
    }
    intercept -= (learningRate * gradientIntercept) / n;
    for (let j = 0; j < width; j++)
      weights[j] = (weights[j] as number) - learningRate * ((gradient[j] as number) / n + l2 * (weights[j] as number));
  }
  return { intercept, weights };
}
