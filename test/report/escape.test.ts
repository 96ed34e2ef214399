import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { embedJson, escapeHtml } from '../../src/report/escape.js';

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('leaves other text alone', () => {
    expect(escapeHtml('report-exporter 12:03 ü ✓ \u2028')).toBe('report-exporter 12:03 ü ✓ \u2028');
  });

  it('output never contains < > " \' and decodes back to the input', () => {
    const decode = (s: string) =>
      s
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"']/);
        // every & starts one of our entities
        expect(out.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
        expect(decode(out)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('embedJson', () => {
  it('escapes <, >, &, U+2028 and U+2029 as \\u escapes', () => {
    expect(embedJson({ a: '</script><!-- & \u2028\u2029' })).toBe(
      '{"a":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029"}',
    );
  });

  it('rejects values that are not JSON', () => {
    expect(() => embedJson(undefined)).toThrow(TypeError);
  });

  it('for arbitrary strings, parses back identically and contains no markup characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = embedJson({ s });
        expect(out).not.toMatch(/[<>&\u2028\u2029]/);
        expect(out.toLowerCase()).not.toContain('</script');
        expect(JSON.parse(out)).toEqual({ s });
      }),
      { numRuns: 1000 },
    );
  });

  it('for arbitrary JSON values, parses back to what JSON.stringify would give', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const out = embedJson(v);
        expect(out).not.toMatch(/[<>&\u2028\u2029]/);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });
});
