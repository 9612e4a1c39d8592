import type { SearchHit } from './search-index.js';

/** A chunk after fusion: `score` in 0..1, 1 = first in every ranking. */
export interface FusedHit {
  readonly chunkId: number;
  readonly score: number;
}

/**
 * Reciprocal-rank fusion (Cormack, Clarke, Büttcher 2009): Σ 1/(k + rank) over the rankings a
 * chunk appears in, divided by its maximum (ranked first in every non-empty ranking), so scores land in 0..1 and
 * are comparable across queries. Ranks, not raw scores, are fused: bm25 and cosine are on
 * different scales.
 */
export function fuseRankings(rankings: readonly (readonly SearchHit[])[], options: { k: number; limit: number }): FusedHit[] {
  const totals = new Map<number, number>();
  for (const ranking of rankings) {
    ranking.forEach((hit, index) => totals.set(hit.chunkId, (totals.get(hit.chunkId) ?? 0) + 1 / (options.k + index + 1)));
  }
  const best = rankings.filter((ranking) => ranking.length > 0).length / (options.k + 1);
  return [...totals]
    .map(([chunkId, total]) => ({ chunkId, score: best > 0 ? total / best : 0 }))
    .sort((a, b) => b.score - a.score || a.chunkId - b.chunkId)
    .slice(0, options.limit);
}
