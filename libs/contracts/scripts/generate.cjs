// Generates TypeScript types from the .avsc files (nx run contracts:codegen).
// The .avsc files are the contract; the generated code is never edited or committed.
const { toTypeScript } = require('@ovotech/avro-ts');
const fs = require('node:fs');
const path = require('node:path');

const avroDir = path.join(__dirname, '..', 'avro');
const outDir = path.join(__dirname, '..', 'src', 'generated');
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

const modules = [];
// avro-ts calls TypeScript factory APIs that TypeScript 5 reports as deprecated on every call.
const warn = console.warn;
console.warn = (...args) => (String(args[0]).includes('DeprecationWarning') ? undefined : warn(...args));
for (const file of fs
  .readdirSync(avroDir)
  .filter((f) => f.endsWith('.avsc'))
  .sort()) {
  const schema = JSON.parse(fs.readFileSync(path.join(avroDir, file), 'utf8'));
  const base = file.replace(/\.avsc$/, '');
  fs.writeFileSync(path.join(outDir, `${base}.ts`), `// Generated from avro/${file}. Do not edit.\n${toTypeScript(schema)}`);
  modules.push(`export * from './${base}';`);
}
console.warn = warn;
fs.writeFileSync(path.join(outDir, 'index.ts'), `// Generated. Do not edit.\n${modules.join('\n')}\n`);
console.log(`contracts: generated ${modules.length} schema modules`);
