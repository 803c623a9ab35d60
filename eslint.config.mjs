import nx from '@nx/eslint-plugin';

const services = ['collector', 'normalizer', 'identity-resolver', 'profile-store', 'segmenter'];
const testing = (tags, allow) => (allow ? [...tags, 'type:testing'] : tags);

/** Who may import whom: services meet only on topics; pure domain code never reaches for I/O. */
const boundaries = (inTests) => ({
  enforceBuildableLibDependency: true,
  banTransitiveDependencies: true,
  allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$', '^.*/webpack\\.service\\.cjs$'],
  depConstraints: [
    ...services.map((s) => ({ sourceTag: `scope:${s}`, onlyDependOnLibsWithTags: [`scope:${s}`, 'scope:shared'] })),
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    // End-to-end tests and benchmarks measure every part, so they may read any scope's libs.
    { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['*'] },
    { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared'] },
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
    { sourceTag: 'type:domain', onlyDependOnLibsWithTags: testing(['type:domain', 'type:contracts'], inTests) },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: testing(['type:util', 'type:contracts'], inTests) },
    { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: testing(['type:data-access', 'type:util', 'type:contracts'], inTests) },
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts'] },
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: testing(['type:domain', 'type:data-access', 'type:util', 'type:contracts'], inTests),
    },
    { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:testing', 'type:contracts', 'type:data-access', 'type:util', 'type:domain'] },
  ],
});

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/out-tsc', '**/generated/**', 'bench/results/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(false)] },
  },
  {
    // Tests and an app's own test support (src/testing, src/app/testing) may also use the shared
    // test helpers (a real stack, waiting on conditions).
    files: ['**/*.spec.ts', '**/*.integration-spec.ts', '**/src/testing/**/*.ts', '**/src/app/testing/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(true)] },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Imports across projects go through path aliases, never relative paths.
      'no-restricted-imports': ['error', { patterns: ['../../libs/*', '../../../libs/*', '../../apps/*'] }],
    },
  },
];
