import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import local from './tools/lint/import-direction.js';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.tools/', 'dist/', 'client/dist/', 'bench/reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { local },
    rules: { 'local/import-direction': 'error' },
  },
  {
    // A product file past 300 lines is usually two concepts; one that must stay longer
    // says why in its first line (`/* eslint-disable max-lines -- reason */`).
    files: ['{api,app,activities,core,infra,loadtest,workers,workflows}/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 300 }] },
  },
  {
    // A function past ~80 lines is a pipeline waiting to be named (STYLE.md rule 20).
    files: ['{api,activities,core,workflows}/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  {
    files: ['scripts/**', 'tools/**', 'bench/**', 'app/run-stack.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
