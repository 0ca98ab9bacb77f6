/**
 * The path and query of a request's URL (the response cache's key), read from the URL string. In workerd every
 * `new URL` crosses into C++, and a sample.png request parsed its URL four times and built a Request for its cache
 * key: ~7% of the worker isolate's CPU profile. (End to end the saving is within this machine's noise.)
 * tests/unit/url-parts.test.ts checks it against `URL`.
 */

/**
 * The path and query of a request's URL, as `new URL(url)` gives them, without parsing it again: a request's URL
 * is already normalised.
 */
export function pathAndQuery(url: string): { pathname: string; search: string } {
  const head = withoutFragment(url);
  const start = head.indexOf('/', head.indexOf('//') + 2);
  if (start < 0) return { pathname: '/', search: '' };
  const q = head.indexOf('?', start);
  if (q < 0) return { pathname: head.slice(start), search: '' };
  return { pathname: head.slice(start, q), search: q === head.length - 1 ? '' : head.slice(q) };
}

function withoutFragment(url: string): string {
  const hash = url.indexOf('#');
  return hash < 0 ? url : url.slice(0, hash);
}
