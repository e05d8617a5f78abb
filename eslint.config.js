// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ONE_YAML_PARSER = {
  name: 'yaml',
  message: 'Vigil has one YAML parser: use operator/src/yaml.ts (parseYaml, parseYamlAll, toYaml).',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.vigil/', 'bench/.work/', 'e2e/.work/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.cjs', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      'no-console': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
    },
  },
  {
    // One YAML parser: js-yaml, through operator/src/yaml.ts. (The `yaml` package is still in
    // node_modules, through testcontainers, so an import of it would resolve.)
    rules: { 'no-restricted-imports': ['error', { paths: [ONE_YAML_PARSER] }] },
  },
  {
    // The engine and rules are pure: no Kubernetes client, logger, metrics, I/O or clock.
    files: ['operator/src/engine/**/*.ts', 'operator/src/rules/**/*.ts'],
    ignores: ['**/*.test.ts', '**/_testkit.ts', 'operator/src/rules/testing.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ONE_YAML_PARSER],
          patterns: [
            {
              group: [
                '@kubernetes/*',
                'prom-client',
                'winston',
                'node:fs*',
                'node:net',
                'node:http*',
                'fs',
                'http',
              ],
              message: 'The engine is pure: no Kubernetes client, logger, metrics or I/O.',
            },
            {
              group: ['**/controller/**', '**/cli/**', '**/adapters/**'],
              message: 'The engine must not depend on the controller or CLI.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', process: 'readonly' },
    },
  },
);
