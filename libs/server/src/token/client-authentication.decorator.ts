import { applyDecorators, createParamDecorator, UseGuards, type ExecutionContext } from '@nestjs/common';
import {
  AUTHENTICATED_FORM,
  CLIENT_AUTHENTICATION_OPTIONS,
  ClientAuthenticationGuard,
  type AuthenticatedForm,
  type ClientAuthenticationOptions,
} from './client-authentication.guard.js';

/**
 * Runs the shared preamble of a client-authenticated endpoint ({@link ClientAuthenticationGuard})
 * before the handler. Usage: `@Post('revoke') @ClientAuthenticated() revoke(@Authenticated() { form, client }: AuthenticatedForm)`.
 */
export function ClientAuthenticated(options: ClientAuthenticationOptions = {}): MethodDecorator {
  return applyDecorators(CLIENT_AUTHENTICATION_OPTIONS(options), UseGuards(ClientAuthenticationGuard));
}

/** The form and the authenticated client of a `@ClientAuthenticated()` handler. */
export const Authenticated = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedForm =>
    context.getArgByIndex<{ [AUTHENTICATED_FORM]: AuthenticatedForm }>(0)[AUTHENTICATED_FORM],
);
