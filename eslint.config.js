'use strict'

const js = require('@eslint/js')
const stylistic = require('@stylistic/eslint-plugin')
const globals = require('globals')

// The JavaScript style, stated once for every file: no semicolons, single
// quotes, two-space indents, a space before a function's parentheses, no
// trailing commas (the style of JavaScript Standard Style).
const style = {
  '@stylistic/semi': ['error', 'never'],
  '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
  '@stylistic/indent': ['error', 2, { SwitchCase: 1, flatTernaryExpressions: true, offsetTernaryExpressions: true }],
  '@stylistic/space-before-function-paren': ['error', 'always'],
  '@stylistic/comma-dangle': ['error', 'never'],
  '@stylistic/no-trailing-spaces': 'error',
  '@stylistic/eol-last': 'error'
}

module.exports = [
  {
    ignores: ['binding.js', 'binding.d.ts', 'target/**', 'node_modules/**', 'bench/node_modules/**', 'dist/**', '.stryker-tmp*/**', 'reports/**', '**/*.d.ts', '**/*.ts']
  },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      globals: { ...globals.node }
    },
    plugins: { '@stylistic': stylistic },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      ...style
    }
  },
  {
    files: ['**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node }
    },
    plugins: { '@stylistic': stylistic },
    rules: style
  },
  {
    // The library's own code keeps its functions short, as
    // clippy::too_many_lines holds the engine to (tests and benchmarks,
    // whose describe blocks and scripts read top to bottom, are left out).
    files: ['lib/**/*.js', 'index.js', 'bin/**/*.js', 'scripts/**/*.js'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }]
    }
  }
]
