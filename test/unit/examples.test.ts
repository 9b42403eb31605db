// The example workflows as n8n imports them: each one headless-importable, made of node types
// that exist, and with an id n8n can keep a trigger's state under.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const examplesDir = join(__dirname, '../../examples');
const manifest = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { name: string; n8n: { nodes: string[] } };
const ourTypes = manifest.n8n.nodes.map((file) => {
	const base = file.split('/').pop()!.replace(/\.node\.js$/, '');
	return `${manifest.name}.${base.charAt(0).toLowerCase()}${base.slice(1)}`;
});

const examples = readdirSync(examplesDir)
	.filter((file) => file.endsWith('.json'))
	.map((file) => [file, JSON.parse(readFileSync(join(examplesDir, file), 'utf8'))] as const);

describe.each(examples)('examples/%s', (_file, workflow) => {
	it('has an id n8n saves static data under (at most 16 characters) and a versionId', () => {
		// n8n persists a polling trigger's state only for workflow ids of at most 16 characters
		// (isWorkflowIdValid in n8n's cli): a longer id makes every restart of the trigger start afresh.
		expect(workflow.id).toMatch(/^[A-Za-z0-9]{1,16}$/);
		expect(workflow.versionId).toMatch(/^[0-9a-f-]{36}$/);
	});

	it('uses only node types that exist: n8n’s own or this package’s', () => {
		for (const node of workflow.nodes as Array<{ type: string }>) {
			if (node.type.startsWith(`${manifest.name}.`)) expect(ourTypes).toContain(node.type);
			else expect(node.type).toMatch(/^n8n-nodes-base\./);
		}
	});
});

it('the example ids are distinct', () => {
	const ids = examples.map(([, workflow]) => workflow.id as string);
	expect(new Set(ids).size).toBe(ids.length);
});
