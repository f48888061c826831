/**
 * @clavis/server/health — the `@nestjs/terminus` health indicator (terminus is an optional peer
 * dependency: only this entry point loads it).
 */
export { ClavisHealthIndicator } from './clavis-health.indicator.js';
