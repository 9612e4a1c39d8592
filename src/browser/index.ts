/** The browser capability's public surface (seed 003: /token, /event, /chat, /conv, the chat page). */
export { registerBrowser, type BrowserDeps } from './routes.js';
export { withApiProxyUpstream } from './api-proxy-upstream.js';
