import type { Store } from '../../db/connect.js';
import { PostgresSearchIndex } from './postgres-search-index.js';
import { PostgresVectorCache } from './postgres-vector-cache.js';
import type { SearchIndex } from './search-index.js';
import { SqliteSearchIndex } from './sqlite-search-index.js';

/** Picks the store's SearchIndex: the one place RAG code branches on the dialect. */
export function createSearchIndex(store: Store, options: { pgCacheFloats: number }): SearchIndex {
  if (store.dialect === 'sqlite') return new SqliteSearchIndex(store.db);
  return new PostgresSearchIndex(store.db, new PostgresVectorCache(store.db, options.pgCacheFloats));
}
