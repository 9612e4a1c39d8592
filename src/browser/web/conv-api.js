// The few HTTP calls the chat page makes, in the shapes of seed 003 (/token, /conv).

/** Claims of a JWT, read without verifying it (the server does that); {} when unreadable. */
export function decodeClaims(token) {
  try {
    const part = token.split('.')[1] ?? '';
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

/** What the page says for the statuses /token answers besides 200. */
export const TOKEN_ERRORS = {
  403: 'That key is not right.',
  429: 'Too many wrong keys. Wait a minute and try again.',
};

/** What the page says when POST /conv is refused. */
export const SEND_ERRORS = {
  404: 'That message is no longer in this conversation; it was reloaded, send again.',
  409: 'Another answer is still streaming. Wait for it or stop it.',
};

function convHeaders(token, chatType, extra = {}) {
  return { authorization: `Bearer ${token}`, 'chat-type': chatType, ...extra };
}

/** GET /token; the key travels in the query string as the seed defines, over this origin only. */
export function fetchToken({ id, hour, key }) {
  return fetch(`/token?${new URLSearchParams({ id, hour, key })}`, { cache: 'no-store' });
}

export function fetchConversations(token, limit) {
  return fetch(`/conv?limit=${limit}&offset=0`, { headers: convHeaders(token, 'conversations') });
}

/** One conversation with the branch that ends at its current node (`include=messages`). */
export function fetchConversation(token, id) {
  return fetch('/conv?include=messages', { headers: convHeaders(token, `conversation/${id}`) });
}

export function postMessage(token, { content, parentMessageId, conversationId, signal }) {
  return fetch('/conv', {
    method: 'POST',
    headers: convHeaders(token, 'conversation', { accept: 'text/event-stream', 'content-type': 'application/json' }),
    body: JSON.stringify({ content, parent_message_id: parentMessageId, conversation_id: conversationId }),
    signal,
  });
}

/** Yields the `data:` payloads of an SSE body as they arrive. */
export async function* sseData(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n').filter((line) => line.startsWith('data:'));
      const data = lines.map((line) => line.slice(line.startsWith('data: ') ? 6 : 5)).join('\n');
      if (data !== '') yield data;
    }
  }
}
