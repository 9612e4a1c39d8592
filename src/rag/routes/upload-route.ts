import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SwitchboardError } from '../../platform/errors.js';
import { ERROR_PREFIXES, RAG_MESSAGES } from '../rag-messages.js';
import type { RagService } from '../rag-service.js';
import { FIELD_LIMITS, callerOf } from './request-fields.js';

/** RFC 2046 §5.1.1: a boundary is 1–70 characters. Longer ones also hit busboy's CPU loop (GHSA-xjh9-v7x6-24jw). */
const MAX_BOUNDARY_CHARS = 70;

/** Refuses bad multipart boundaries before a byte of the body is parsed. */
export async function checkBoundary(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const type = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\b/i.test(type)) return;
  const boundary = /;\s*boundary=(?:"([^"]*)"|([^;\s]*))/i.exec(type);
  const value = boundary?.[1] ?? boundary?.[2] ?? '';
  if (value.length === 0 || value.length > MAX_BOUNDARY_CHARS) {
    await reply.code(400).type('application/json; charset=utf-8').send({ error: RAG_MESSAGES.badBoundary });
  }
}

interface UploadedFile {
  readonly name: string;
  readonly bytes: Buffer;
}

/** Reads `kb_id` and the `file` part, in any order; other parts are drained and ignored. */
async function readUpload(request: FastifyRequest): Promise<{ kbId: string | undefined; file: UploadedFile | undefined }> {
  let kbId: string | undefined;
  let file: UploadedFile | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname === 'file' && file === undefined) file = { name: part.filename, bytes: await part.toBuffer() };
      else part.file.resume();
    } else if (part.fieldname === 'kb_id') {
      if (part.valueTruncated) throw new SwitchboardError('payload_too_large', RAG_MESSAGES.fieldTooLarge);
      kbId = typeof part.value === 'string' ? part.value : undefined;
    }
  }
  return { kbId, file };
}

/**
 * `POST /doc/upload` (SEEDS-SPEC §3.7): multipart `kb_id` + `file`. Limits come from the
 * multipart plugin's options (file size, one file, parts, field size); the boundary is checked
 * in onRequest. Parsing runs in a worker, so a large document never blocks other requests.
 */
export async function registerUploadRoute(app: FastifyInstance, service: RagService): Promise<void> {
  app.post('/doc/upload', { config: { ragErrorPrefix: ERROR_PREFIXES.upload }, onRequest: checkBoundary }, async (request, reply) => {
    const caller = callerOf(request, reply);
    // gin's PostForm on a non-multipart body finds no kb_id: the seed's first check.
    if (!request.isMultipart()) throw new SwitchboardError('bad_request', RAG_MESSAGES.missingKbId);
    const { kbId, file } = await readUpload(request);
    if (kbId === undefined || kbId === '' || kbId.length > FIELD_LIMITS.idChars) throw new SwitchboardError('bad_request', RAG_MESSAGES.missingKbId);
    if (!file) throw new SwitchboardError('bad_request', RAG_MESSAGES.noFile);
    const result = await service.upload(caller, { kbId, fileName: file.name, bytes: file.bytes });
    return { success: true, doc_id: result.docId, message: RAG_MESSAGES.docUploaded(result.chunkCount) };
  });
}
