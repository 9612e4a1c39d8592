/** Latency samples with a hard cap on memory; percentiles are exact over what was kept. */
export class Samples {
  private values: Float64Array;
  private size = 0;
  /** Samples offered after the cap was reached (reported, never stored). */
  dropped = 0;

  constructor(private readonly cap = 2_000_000) {
    this.values = new Float64Array(Math.min(cap, 4096));
  }

  add(value: number): void {
    if (this.size >= this.cap) {
      this.dropped++;
      return;
    }
    if (this.size === this.values.length) {
      const grown = new Float64Array(Math.min(this.cap, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
  }

  get count(): number {
    return this.size;
  }

  summary(): Summary {
    if (this.size === 0) return { count: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
    const sorted = this.values.slice(0, this.size).sort();
    let total = 0;
    for (const value of sorted) total += value;
    return {
      count: this.size,
      mean: total / this.size,
      p50: percentileOfSorted(sorted, 50),
      p90: percentileOfSorted(sorted, 90),
      p99: percentileOfSorted(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
    };
  }
}

export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentileOfSorted(sorted: ArrayLike<number>, percent: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((percent / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

/** The middle value (used to combine rounds); NaN for an empty list. */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

/**
 * A distribution-free confidence interval for the median: the order statistics X(k) and
 * X(n+1-k) with k the largest rank such that P(Binomial(n, ½) < k) ≤ (1 − level) / 2. It assumes
 * only that the values are independent draws; NaN bounds when there are too few (under 6 for 95 %).
 */
export function medianInterval(values: readonly number[], level = 0.95): { low: number; high: number } {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  const tail = (1 - level) / 2;
  // P(Bin(n, ½) ≤ j), summed term by term: C(n, j) / 2^n.
  let cumulative = 0;
  let term = 0.5 ** n;
  let k = 0;
  for (let j = 0; j < n; j++) {
    cumulative += term;
    if (cumulative > tail) break;
    k = j + 1;
    term = (term * (n - j)) / (j + 1);
  }
  if (k === 0) return { low: NaN, high: NaN };
  return { low: sorted[k - 1]!, high: sorted[n - k]! };
}
