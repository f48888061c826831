import { describe, expect, it } from 'vitest';
import { escapeLogText, escapeStrings } from './log-text.js';

describe('escapeLogText', () => {
  it('escapes C0 and C1 controls, DEL, bidi and zero-width format characters, and line separators', () => {
    expect(escapeLogText('a\r\nb\u001b[31mc\u007f\u0085\u009b\u200b\u202e\u2028\u2029')).toBe(
      'a\\u000d\\u000ab\\u001b[31mc\\u007f\\u0085\\u009b\\u200b\\u202e\\u2028\\u2029',
    );
  });
  it('leaves printable text, including non-ASCII letters, as it is', () => {
    expect(escapeLogText('GET /register/abc ünïcödé 名前 "quoted" \\ back')).toBe(
      'GET /register/abc ünïcödé 名前 "quoted" \\ back',
    );
  });
  it('escapes astral format characters unit by unit (still valid inside JSON)', () => {
    const out = escapeLogText('x\u{E0001}y');
    expect(out).toBe('x\\udb40\\udc01y');
    expect(JSON.parse(`"${out}"`)).toBe('x\u{E0001}y');
  });
  it('escapeStrings escapes every string member and list item, keeps other values', () => {
    expect(escapeStrings({ type: 't', reason: 'a\nb', n: 3, list: ['c\u001b', 4] })).toEqual({
      type: 't',
      reason: 'a\\u000ab',
      n: 3,
      list: ['c\\u001b', 4],
    });
  });
});
