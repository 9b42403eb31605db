// Lint: typescript-eslint for all TypeScript, n8n's community-node rules for the package.
// This package is for self-hosted n8n only (its verification core opens DNS and SMTP sockets with
// node:dns and node:net, which n8n Cloud forbids), so it uses the rule set without Cloud support.
import js from '@eslint/js';
import { configs as n8nConfigs } from '@n8n/eslint-plugin-community-nodes';
import tseslint from 'typescript-eslint';

const n8n = n8nConfigs.recommendedWithoutN8nCloudSupport;

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'src/verification/lists/generated/**', '.n8n-home/**'] },
	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, ...tseslint.configs.recommended],
		rules: {
			'no-console': 'error',
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
		},
	},
	{
		files: ['package.json', 'credentials/**/*.ts', 'nodes/**/*.ts', 'src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
		plugins: n8n.plugins,
		rules: n8n.rules,
	},
	{
		files: ['package.json'],
		languageOptions: {
			parser: tseslint.parser,
			parserOptions: { extraFileExtensions: ['.json'] },
		},
		rules: {
			// The lint config itself is not shipped; the rule expects n8n's own starter layout.
			'@n8n/community-nodes/no-dead-files': 'off',
		},
	},
	{
		// The core and the CLI have no n8n in them, so they cannot raise NodeApiError.
		files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		// Tests and benchmarks start servers and child processes on purpose.
		files: ['test/**/*.ts', 'bench/**/*.ts'],
		rules: { '@n8n/community-nodes/no-dangerous-functions': 'off' },
	},
	{
		files: ['**/*.{js,mjs,cjs}'],
		extends: [js.configs.recommended],
		languageOptions: {
			globals: {
				require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly',
				console: 'readonly', __dirname: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
				URL: 'readonly', Buffer: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
			},
		},
	},
);
