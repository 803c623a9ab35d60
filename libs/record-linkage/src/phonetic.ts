const CODES: Record<string, string> = {
  b: '1',
  f: '1',
  p: '1',
  v: '1',
  c: '2',
  g: '2',
  j: '2',
  k: '2',
  q: '2',
  s: '2',
  x: '2',
  z: '2',
  d: '3',
  t: '3',
  l: '4',
  m: '5',
  n: '5',
  r: '6',
};

/**
 * American Soundex of a normalized name (spaces and digits ignored): `robert` and `rupert` → `R163`.
 * Used for blocking, where it keeps one-letter typos of a last name in the same block more often than
 * its first letters would.
 */
export function soundex(name: string): string {
  const s = name.replace(/[^a-z]/g, '');
  if (!s) return '';
  let out = s[0].toUpperCase();
  let prev = CODES[s[0]] ?? '';
  for (let i = 1; i < s.length && out.length < 4; i++) {
    const c = s[i];
    const code = CODES[c];
    if (code) {
      if (code !== prev) out += code;
      prev = code;
    } else if (c !== 'h' && c !== 'w') {
      prev = ''; // a vowel separates equal codes; h and w do not
    }
  }
  return out.padEnd(4, '0');
}
