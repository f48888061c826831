import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults: the demo issuer, audience = issuer, port 3001', () => {
    expect(loadConfig({})).toEqual({
      issuer: 'http://localhost:3000',
      audience: ['http://localhost:3000'],
      port: 3001,
      host: undefined,
    });
  });
  it('reads ISSUER, AUDIENCE (a list), PORT and HOST', () => {
    expect(
      loadConfig({
        ISSUER: 'https://auth.example.com',
        AUDIENCE: 'https://api.example.com, https://statements.example.com',
        PORT: '8080',
        HOST: '127.0.0.1',
      }),
    ).toEqual({
      issuer: 'https://auth.example.com',
      audience: ['https://api.example.com', 'https://statements.example.com'],
      port: 8080,
      host: '127.0.0.1',
    });
  });
  it('AUDIENCE defaults to ISSUER', () => {
    expect(loadConfig({ ISSUER: 'https://auth.example.com' }).audience).toEqual(['https://auth.example.com']);
  });
  it('lists every problem at once', () => {
    expect(() => loadConfig({ ISSUER: 'http://auth.example.com', PORT: '70000' })).toThrow(
      'Invalid environment:\n - ISSUER must be an https URL (http only for localhost)\n - PORT must be a whole number from 1 to 65535',
    );
    expect(() => loadConfig({ AUDIENCE: ' , ' })).toThrow(/AUDIENCE is required/);
  });
});
