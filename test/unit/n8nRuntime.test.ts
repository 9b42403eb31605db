// The version matrix and the Node each n8n version runs on, without installing anything.
import { delimiter, dirname } from 'node:path';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import type { N8nRuntime } from '../../scripts/n8n-runtime.cjs';

describe('n8n versions', () => {
	it('tests 1.x, 2.8 and the current 2.41 line, and the default matrix is all of them', () => {
		expect(runtime.ALL_N8N_VERSIONS).toEqual(['1.123.50', '2.8.4', expect.stringMatching(/^2\.41\.\d+$/)]);
		expect(runtime.selectedVersions('')).toEqual(runtime.ALL_N8N_VERSIONS);
	});

	it('filters the matrix by a comma list of versions and patterns', () => {
		const current = runtime.ALL_N8N_VERSIONS[2];
		expect(runtime.selectedVersions('2.41.x')).toEqual([current]);
		expect(runtime.selectedVersions(' 1.123.50 , 2.41 ')).toEqual(['1.123.50', current]);
		expect(runtime.selectedVersions('2.x')).toEqual(['2.8.4', current]);
	});

	it('names what matched nothing and what there is', () => {
		expect(() => runtime.selectedVersions('2.41.x,3.x')).toThrow(
			'LIST_HYGIENE_N8N_VERSIONS=2.41.x,3.x: 3.x matches none of the tested n8n versions (1.123.50, 2.8.4, 2.4',
		);
	});

	it('resolves a pattern to the pinned release and keeps an exact version that is not pinned', () => {
		expect(runtime.resolveN8nVersion('2.41.x')).toBe(runtime.ALL_N8N_VERSIONS[2]);
		expect(runtime.resolveN8nVersion('1.x')).toBe('1.123.50');
		expect(runtime.resolveN8nVersion('2.20.1')).toBe('2.20.1');
		expect(() => runtime.resolveN8nVersion('2.99.x')).toThrow('No pinned n8n version matches "2.99.x"');
	});

	it('rejects what is not a version before installing anything', async () => {
		await expect(runtime.ensureN8n('latest')).rejects.toThrow('Not an n8n version: "latest"');
	});
});

describe('the node that runs n8n', () => {
	const node24 = `/cache/node/${runtime.NODE_24.version}/bin/node`;
	const current: N8nRuntime = { version: '2.41.1', dir: '/cache/n8n/2.41.1', bin: '/cache/n8n/2.41.1/node_modules/n8n/bin/n8n', node: node24 };

	it('runs the n8n entry point with its own node', () => {
		expect(runtime.n8nCommand(current, ['execute', '--id=1'])).toEqual([node24, [current.bin, 'execute', '--id=1']]);
	});

	it("puts that node first on PATH, for the task runner n8n starts as 'node'", () => {
		const env = runtime.n8nEnv('/tmp/user', { runtime: current });
		expect(env.PATH?.split(delimiter)[0]).toBe(dirname(node24));
		expect(env.PATH).toBe([dirname(node24), process.env.PATH].join(delimiter));
	});

	it('leaves PATH alone for a version that runs on the node that runs us', () => {
		const env = runtime.n8nEnv('/tmp/user', { runtime: { ...current, version: '1.123.50', node: process.execPath } });
		expect(env.PATH).toBe(process.env.PATH);
	});
});
