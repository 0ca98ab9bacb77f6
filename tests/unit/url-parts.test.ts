import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathAndQuery } from '../../edge/http/url-parts.js';

const viaUrl = (href: string) => {
  const u = new URL(href);
  return { pathname: u.pathname, search: u.search };
};
const ours = (href: string) => pathAndQuery(href);

describe('url parts read from the string', () => {
  it('agree with URL on hand-picked URLs', () => {
    for (const href of [
      'http://localhost/v1/models/m/sample.png?seed=1&class=2',
      'https://a.test/v1/models',
      'https://a.test/?',
      'https://a.test/x?&&a=1&&b&c=&=d&a=b=c',
      'https://a.test/x?q=a+b%20c%2B&%E2%9C%93=%zz',
      'https://a.test/x?seed=1#frag?x=2',
      'https://a.test/x??%41=1',
      'https://a.test/x#only?frag',
      'https://user:pw@a.test:8080/p%20q/r?s=t',
      'http://127.0.0.1:8787/v1/models/dcgan-fashion/grid.png?seed=7&n=64',
    ]) expect(ours(href), href).toEqual(viaUrl(href));
  });

  it('agree with URL on any normalised URL', () => {
    const query = fc.array(fc.oneof(fc.constantFrom('&', '=', '+', '%', '%2', '%41', '%E2%9C%93', '?', '#', 'a', 'seed', '1'), fc.string({ maxLength: 3 })), { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(fc.property(fc.webUrl(), query, (base, q) => {
      const href = new URL(`${base}?${q}`).href;
      expect(ours(href)).toEqual(viaUrl(href));
    }), { numRuns: 500 });
  });
});
