import { request } from 'undici';

/** A reply POST that gets no answer within this long is given up. */
const REPLY_TIMEOUT_MS = 10_000;

export interface ReplyAddress {
  readonly requestId: string;
  readonly replyToken: string;
}

/** `{"request_id","reply_token",…,"data":<raw>}`: `data` is embedded as text, never re-serialised. */
export function replyJson(address: ReplyAddress, fields: { end?: boolean; dataText?: string | undefined }): string {
  const head = `{"request_id":${JSON.stringify(address.requestId)},"reply_token":${JSON.stringify(address.replyToken)}`;
  const end = fields.end === undefined ? '' : `,"end":${String(fields.end)}`;
  const data = fields.dataText === undefined ? '' : `,"data":${fields.dataText}`;
  return `${head}${end}${data}}`;
}

/** `POST <endpoint>` (SEEDS-SPEC §1.5 non-stream); resolves with the gateway's status. */
export async function postResult(endpoint: string, address: ReplyAddress, dataText: string): Promise<number> {
  const response = await request(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: replyJson(address, { dataText }),
    headersTimeout: REPLY_TIMEOUT_MS,
    bodyTimeout: REPLY_TIMEOUT_MS,
  });
  await response.body.dump();
  return response.statusCode;
}
