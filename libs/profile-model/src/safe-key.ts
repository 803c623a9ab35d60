/**
 * Makes a user-supplied name safe as a MongoDB field name: no '.', no leading '$', no prototype
 * keys. Same mapping as the normalizer applies to trait keys, so names line up.
 */
export function safeFieldName(name: string): string {
  let out = name.replace(/\./g, '_');
  if (out.startsWith('$')) out = `_${out.slice(1)}`;
  if (out === '__proto__' || out === 'constructor' || out === 'prototype') out = `_${out}`;
  return out === '' ? '_' : out;
}
