// Type-aware linting: no-floating-promises catches forgotten awaits, which matter most in Lambda code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Nothing under lambda/ imports CDK code: no aws-cdk-lib or constructs in a bundle. */
const NO_CDK = { group: ['**/lib/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'constructs/*'], message: 'lambda/ must not import CDK code' };

/** The core is pure: no SDK, no adapters (lambda/aws/*, from the core's root or a capability folder). */
const CORE_IS_PURE = { group: ['@aws-sdk/*', '@smithy/*', '**/aws/*'], message: 'the core is pure: no SDK, no adapters' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'coverage/**', 'bench/.tmp/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': 'off',
    },
  },
  {
    // lambda/** never imports lib/** (no aws-cdk-lib in a bundle).
    files: ['lambda/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_CDK] }],
    },
  },
  {
    // The core imports no SDK and no adapter either. A later no-restricted-imports replaces the
    // earlier one for the files both match, so this block repeats the lambda/** patterns.
    files: ['lambda/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_CDK, CORE_IS_PURE] }],
    },
  },
);
