// Switchboard's chat page: plain ES module, no framework, no build step.
// Model output only ever reaches the page through textContent (OWASP LLM05), never parsed as HTML.

import { SEND_ERRORS, TOKEN_ERRORS, decodeClaims, fetchConversation, fetchConversations, fetchToken, postMessage, sseData } from './conv-api.js';

const STORAGE_KEY = 'switchboard.browserToken';
const LIST_LIMIT = 50;

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`);
  return element;
};

const ui = {
  signIn: $('sign-in'),
  signInForm: $('sign-in-form'),
  signInButton: $('sign-in-button'),
  signInError: $('sign-in-error'),
  tokenId: $('token-id'),
  tokenKey: $('token-key'),
  tokenHours: $('token-hours'),
  session: $('session'),
  sessionLabel: $('session-label'),
  signOut: $('sign-out'),
  workspace: $('workspace'),
  list: $('conversation-list'),
  listEmpty: $('conversations-empty'),
  newConversation: $('new-conversation'),
  chatTitle: $('chat-title'),
  transcript: $('transcript'),
  composer: $('composer'),
  message: $('message'),
  send: $('send'),
  stop: $('stop'),
  status: $('status'),
};

/** In memory, mirrored to sessionStorage (this tab only, gone when it closes; never localStorage). */
const state = {
  token: '',
  id: '',
  expiresAt: 0,
  conversationId: '',
  parentMessageId: '',
  controller: null,
};

function setStatus(text) {
  ui.status.textContent = text;
}

function rememberToken(token) {
  const claims = decodeClaims(token);
  state.token = token;
  state.id = typeof claims.jti === 'string' ? claims.jti : '';
  state.expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
  sessionStorage.setItem(STORAGE_KEY, token);
}

function showSignedIn() {
  ui.signIn.hidden = true;
  ui.workspace.hidden = false;
  ui.session.hidden = false;
  const until = state.expiresAt ? new Date(state.expiresAt).toLocaleTimeString() : '';
  ui.sessionLabel.textContent = `Signed in as ${state.id || '(no id)'}${until ? `, until ${until}` : ''}`;
  startNewConversation();
  void loadConversations();
  ui.message.focus();
}

function signOut(reason) {
  state.controller?.abort();
  state.token = '';
  sessionStorage.removeItem(STORAGE_KEY);
  ui.workspace.hidden = true;
  ui.session.hidden = true;
  ui.signIn.hidden = false;
  ui.signInError.textContent = reason ?? '';
  ui.tokenKey.value = '';
  ui.tokenId.focus();
}

async function requestToken(event) {
  event.preventDefault();
  ui.signInError.textContent = '';
  const id = ui.tokenId.value.trim();
  const key = ui.tokenKey.value;
  if (id === '' || key === '') {
    ui.signInError.textContent = 'Enter your id and the key.';
    (id === '' ? ui.tokenId : ui.tokenKey).focus();
    return;
  }
  ui.signInButton.disabled = true;
  try {
    const response = await fetchToken({ id, hour: ui.tokenHours.value, key });
    if (!response.ok) {
      ui.signInError.textContent = TOKEN_ERRORS[response.status] ?? ((await response.text()).trim() || `The server answered ${response.status}.`);
      return;
    }
    const body = await response.json();
    rememberToken(body.token);
    ui.tokenKey.value = '';
    showSignedIn();
  } catch {
    ui.signInError.textContent = 'The server could not be reached.';
  } finally {
    ui.signInButton.disabled = false;
  }
}

/** Handles the answers every /conv call shares; returns false when the caller should stop. */
function checkConvResponse(response) {
  if (response.status === 403) {
    signOut('Your token has expired. Get a new one.');
    return false;
  }
  return true;
}

function renderConversationList(items) {
  ui.list.replaceChildren();
  ui.listEmpty.hidden = items.length > 0;
  for (const item of items) {
    const entry = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'conversation';
    button.textContent = item.title || 'Untitled';
    button.dataset.id = item.id;
    if (item.id === state.conversationId) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => void openConversation(item.id));
    entry.append(button);
    ui.list.append(entry);
  }
}

async function loadConversations() {
  try {
    const response = await fetchConversations(state.token, LIST_LIMIT);
    if (!checkConvResponse(response)) return;
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    renderConversationList(Array.isArray(body.items) ? body.items : []);
  } catch {
    setStatus('The conversation list could not be loaded.');
  }
}

function scrollToEnd() {
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
}

function addMessage(role, text) {
  const entry = document.createElement('li');
  entry.className = `message ${role}`;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = role === 'user' ? 'You' : 'Assistant';
  const content = document.createElement('div');
  content.className = 'content';
  content.textContent = text;
  entry.append(who, content);
  ui.transcript.append(entry);
  scrollToEnd();
  return { entry, content };
}

function startNewConversation() {
  state.conversationId = '';
  state.parentMessageId = '';
  ui.chatTitle.textContent = 'New conversation';
  ui.transcript.replaceChildren();
  for (const button of ui.list.querySelectorAll('[aria-current]')) button.removeAttribute('aria-current');
  setStatus('');
}

async function openConversation(id) {
  if (state.controller) return setStatus('Wait for the answer to finish, or stop it first.');
  try {
    const response = await fetchConversation(state.token, id);
    if (!checkConvResponse(response)) return;
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    state.conversationId = id;
    state.parentMessageId = body.current_node ?? '';
    ui.chatTitle.textContent = body.title || 'Untitled';
    ui.transcript.replaceChildren();
    for (const message of body.messages ?? []) addMessage(message.role, message.content);
    for (const button of ui.list.querySelectorAll('button.conversation')) {
      if (button.dataset.id === id) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    setStatus('');
    ui.message.focus();
  } catch {
    setStatus('That conversation could not be opened.');
  }
}

function setStreaming(controller) {
  state.controller = controller;
  ui.send.disabled = controller !== null;
  ui.stop.disabled = controller === null;
}

async function readAnswer(response, answer) {
  let finished = false;
  for await (const data of sseData(response.body)) {
    if (data === '[DONE]') {
      finished = true;
      break;
    }
    const event = JSON.parse(data);
    if (event.error) throw new Error(String(event.error));
    if (!event.message) continue;
    answer.content.textContent = event.message.content?.parts?.[0] ?? '';
    scrollToEnd();
    state.conversationId = event.conversation_id ?? state.conversationId;
    state.parentMessageId = event.message.id ?? state.parentMessageId;
  }
  return finished;
}

async function sendMessage(event) {
  event.preventDefault();
  const content = ui.message.value;
  if (content.trim() === '' || state.controller) return;
  const controller = new AbortController();
  setStreaming(controller);
  const isNew = state.conversationId === '';
  addMessage('user', content);
  ui.message.value = '';
  const answer = addMessage('assistant', '');
  answer.entry.setAttribute('aria-busy', 'true');
  setStatus('Answering…');
  try {
    const response = await postMessage(state.token, {
      content,
      parentMessageId: state.parentMessageId,
      conversationId: state.conversationId,
      signal: controller.signal,
    });
    if (!checkConvResponse(response)) return;
    if (!response.ok) {
      answer.entry.remove();
      ui.message.value = content;
      setStatus(SEND_ERRORS[response.status] ?? `The server answered ${response.status}.`);
      if (response.status === 404 && state.conversationId) {
        setStreaming(null);
        await openConversation(state.conversationId);
        setStatus(SEND_ERRORS[404]);
      }
      return;
    }
    const finished = await readAnswer(response, answer);
    setStatus(finished ? '' : 'The answer was cut off.');
  } catch (error) {
    setStatus(error?.name === 'AbortError' ? 'Stopped.' : `The answer failed: ${error?.message ?? error}`);
  } finally {
    answer.entry.removeAttribute('aria-busy');
    setStreaming(null);
    if (isNew) void loadConversations();
    ui.message.focus();
  }
}

ui.signInForm.addEventListener('submit', (event) => void requestToken(event));
ui.signOut.addEventListener('click', () => signOut());
ui.newConversation.addEventListener('click', () => {
  if (state.controller) return setStatus('Wait for the answer to finish, or stop it first.');
  startNewConversation();
  ui.message.focus();
});
ui.composer.addEventListener('submit', (event) => void sendMessage(event));
ui.stop.addEventListener('click', () => state.controller?.abort());
ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && state.controller) state.controller.abort();
});

const saved = sessionStorage.getItem(STORAGE_KEY);
if (saved) {
  rememberToken(saved);
  if (state.expiresAt > Date.now()) showSignedIn();
  else signOut('Your token has expired. Get a new one.');
} else {
  ui.tokenId.focus();
}
