import type { RetrievedChunk } from './retrieval/retriever.js';

/**
 * Seed 002's `GenerateRagPrompt` text, byte for byte (SEEDS-SPEC §3.7): the background, each
 * result as `[文档<i>: <doc_name>]`, then the question.
 */
export function groundedPrompt(question: string, results: readonly Pick<RetrievedChunk, 'docName' | 'content'>[]): string {
  const background = results.map((result, index) => `[文档${String(index + 1)}: ${result.docName}]\n${result.content}\n\n`).join('');
  return `以下是与问题相关的背景信息：\n\n${background}请基于上述信息回答以下问题：\n\n${question}`;
}
