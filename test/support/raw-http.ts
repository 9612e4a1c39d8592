import { connect } from 'node:net';

export interface RawAnswer {
  /** Status of the first response, undefined when the server closed without one. */
  readonly status: number | undefined;
  readonly text: string;
}

/**
 * Writes exact bytes to a server over a plain TCP socket and reads what comes back until the
 * server closes or `timeoutMs` passes: the only way to send malformed HTTP (smuggling, CR/LF in
 * headers, oversize request lines) that a well-behaved client library refuses to produce.
 */
export function rawHttp(port: number, request: string | Buffer, options: { timeoutMs?: number; endAfterWrite?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      // Interim answers (100 Continue) come first; the status is the final one's.
      const text = Buffer.concat(parts).toString('latin1').replace(/^(HTTP\/1\.[01] 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match?.[1] === undefined ? undefined : Number(match[1]), text });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 3_000);
    socket.on('data', (data: Buffer) => {
      parts.push(data);
      // One complete answer is enough; keep-alive servers would otherwise hold the socket open.
      const text = Buffer.concat(parts).toString('latin1').replace(/^(HTTP\/1\.[01] 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
      const headerEnd = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text)?.[1];
      if (headerEnd !== -1 && length !== undefined && text.length >= headerEnd + 4 + Number(length)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(request, () => {
      if (options.endAfterWrite) socket.end();
    });
  });
}
