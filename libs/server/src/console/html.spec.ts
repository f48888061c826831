import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from './html.js';

describe('html', () => {
  it('escapes every interpolated value, in content and in attributes', () => {
    const name = `"><script>alert('x')</script><img src=x onerror=alert(1)>\``;
    const out = html`<a title="${name}">${name}</a>`.value;
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('"><');
    expect(out).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#96;">' +
        '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#96;</a>',
    );
  });

  it('keeps markup it built, joins arrays and drops null, undefined and false', () => {
    const rows = ['<b>', 'a&b'].map((v) => html`<li>${v}</li>`);
    const nothing = [null, undefined, false] as const;
    const out = html`<ul>
      ${rows}${nothing[0]}${nothing[1]}${nothing[2]}${0}
    </ul>`.value;
    expect(out.replace(/\s+/g, '')).toBe('<ul><li>&lt;b&gt;</li><li>a&amp;b</li>0</ul>');
  });

  it('escapes the five HTML metacharacters and the backtick', () => {
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });
});
