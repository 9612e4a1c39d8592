import type { FastifyInstance } from 'fastify';
import type { Accounts } from './accounts.js';
import { CHAT_MESSAGES } from './chat-messages.js';
import { isPasswordTooLong } from './passwords.js';
import { badRequest, readCredentials } from './request-input.js';

/** `POST /api/users/register` and `POST /api/users/login` (SEEDS-SPEC §3.4): no auth. */
export async function registerAccountRoutes(app: FastifyInstance, accounts: Accounts): Promise<void> {
  app.post('/users/register', async (request, reply) => {
    const { username, password } = readCredentials(request.body);
    if (isPasswordTooLong(password)) throw badRequest(CHAT_MESSAGES.passwordTooLong);
    if (!(await accounts.register(username, password))) throw badRequest(CHAT_MESSAGES.usernameTaken);
    return reply.code(201).send({ message: CHAT_MESSAGES.registered });
  });

  app.post('/users/login', async (request) => {
    const { username, password } = readCredentials(request.body);
    if (isPasswordTooLong(password)) throw badRequest(CHAT_MESSAGES.passwordTooLong);
    return { token: await accounts.login({ username, password, ip: request.ip }) };
  });
}
