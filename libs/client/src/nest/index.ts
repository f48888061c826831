/**
 * Nest wrapper of `@clavis/client`: {@link ClavisClientModule} provides a {@link TokenClient}.
 * @packageDocumentation
 */

/**
 * Nest module providing a `TokenClient` (`forRoot` / `forRootAsync`, extra `isGlobal`).
 * @see RFC 6749 §4.4
 */
export { ClavisClientModule } from './clavis-client.module.js';
/**
 * Injection token of the module's `TokenClientOptions`.
 * @see RFC 6749 §4.4
 */
export { CLAVIS_CLIENT_OPTIONS } from './clavis-client.module-definition.js';
