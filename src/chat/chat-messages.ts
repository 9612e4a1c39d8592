/** Seed 002's exact error and status texts (SEEDS-SPEC §3.3–3.5); clients match on them. */
export const CHAT_MESSAGES = {
  invalidInput: 'Invalid input',
  invalidRequest: 'Invalid request',
  invalidRequestBody: 'Invalid request body',
  invalidConversationId: 'Invalid conversation ID',
  conversationNotFound: 'Conversation not found',
  usernameTaken: 'username already exists',
  badCredentials: 'invalid username or password',
  registered: 'User registered successfully',
  conversationDeleted: 'Conversation deleted successfully',
  headerMissing: 'Authorization header missing',
  invalidTokenFormat: 'Invalid token format',
  invalidToken: 'Invalid or expired token',
  streamFinished: 'Stream finished',
  // Ours: the seed has no password policy, login limit or 404 body (SEEDS-SPEC §3.6).
  passwordTooLong: 'password must be at most 72 bytes',
  tooManyLogins: 'too many login attempts',
  notFound: '404 page not found',
} as const;
