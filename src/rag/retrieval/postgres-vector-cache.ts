import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { blobToVector, type SearchHit, type VectorQuery } from './search-index.js';

/** One KB's vectors, row-major, and the version they were read at. */
interface KbMatrix {
  readonly ids: number[];
  readonly matrix: Float32Array;
  readonly dimensions: number;
  /** The KB's revision the rows were read at (or after). */
  readonly revision: number;
}

/** Keeps the best `limit` hits while scanning (limit is small: top-k candidates). */
function insertTop(top: SearchHit[], hit: SearchHit, limit: number): void {
  if (top.length === limit && hit.score <= (top.at(-1)?.score ?? -Infinity)) return;
  let index = top.length;
  while (index > 0 && (top[index - 1]?.score ?? Infinity) < hit.score) index--;
  top.splice(index, 0, hit);
  if (top.length > limit) top.pop();
}

/**
 * Brute-force cosine for PostgreSQL without pgvector: a KB's vectors are read once (rows
 * filtered by kb_id in the query) into a Float32Array and scanned in memory. Entries are keyed
 * by the KB's `revision`, which every ingest and document delete bumps in its own transaction,
 * so any instance's write is seen by the next search. Rows are read after the revision was, so
 * an entry is never older than its label. LRU by KB within a float budget.
 */
export class PostgresVectorCache {
  private readonly cache = new Map<string, KbMatrix>();
  private floats = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxFloats: number,
  ) {}

  async search(query: VectorQuery): Promise<SearchHit[]> {
    const kb = await this.matrixOf(query.kbId, query.revision);
    if (kb.dimensions !== query.vector.length) return [];
    const top: SearchHit[] = [];
    const { matrix, dimensions } = kb;
    kb.ids.forEach((chunkId, row) => {
      let score = 0;
      const offset = row * dimensions;
      for (let column = 0; column < dimensions; column++) score += (matrix[offset + column] ?? 0) * (query.vector[column] ?? 0);
      insertTop(top, { chunkId, score }, query.limit);
    });
    return top;
  }

  private async matrixOf(kbId: string, revision: number): Promise<KbMatrix> {
    const cached = this.cache.get(kbId);
    if (cached?.revision === revision) {
      this.cache.delete(kbId);
      this.cache.set(kbId, cached);
      return cached;
    }
    const rows = await this.db.selectFrom('chunks').select(['id', 'embedding']).where('kb_id', '=', kbId).where('embedding', 'is not', null).orderBy('id').execute();
    const vectors = rows.flatMap((row) => (row.embedding ? [{ id: row.id, vector: blobToVector(row.embedding) }] : []));
    const dimensions = vectors[0]?.vector.length ?? 0;
    const usable = vectors.filter((entry) => entry.vector.length === dimensions);
    const matrix = new Float32Array(usable.length * dimensions);
    usable.forEach((entry, row) => matrix.set(entry.vector, row * dimensions));
    const loaded: KbMatrix = { ids: usable.map((entry) => entry.id), matrix, dimensions, revision };
    this.remember(kbId, loaded);
    return loaded;
  }

  private remember(kbId: string, loaded: KbMatrix): void {
    const previous = this.cache.get(kbId);
    if (previous) this.floats -= previous.matrix.length;
    this.cache.delete(kbId);
    if (loaded.matrix.length > this.maxFloats) return;
    this.cache.set(kbId, loaded);
    this.floats += loaded.matrix.length;
    for (const [oldest, entry] of this.cache) {
      if (this.floats <= this.maxFloats) break;
      this.cache.delete(oldest);
      this.floats -= entry.matrix.length;
    }
  }
}
