// The shipped "Try it" workflow and sandboxWorkflow(), which points it at a running sandbox.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
	DEFAULT_SANDBOX_PORT,
	NEWSLETTER_ID,
	SANDBOX_CREDENTIAL_ID,
	SANDBOX_CREDENTIAL_NAME,
	SANDBOX_HELO,
	sandboxWorkflow,
	startSandbox,
	TRY_IT_WORKFLOW_ID,
	ARRIVAL_WORKFLOW_ID,
	type Sandbox,
	type WorkflowTemplate,
} from '../../src/sandbox';

const template = JSON.parse(readFileSync(join(__dirname, '../../examples/try-it-sandbox.json'), 'utf8')) as WorkflowTemplate & {
	connections: Record<string, { main: Array<Array<{ node: string }>> }>;
};
const node = (workflow: WorkflowTemplate, name: string) => workflow.nodes.find((n) => n.name === name)!;

describe('examples/try-it-sandbox.json', () => {
	it('is importable headlessly and runs Email List -> Verify Email -> Clean Email List (Verify only) -> Email List', () => {
		expect(template).toMatchObject({ id: TRY_IT_WORKFLOW_ID, name: 'Try it: clean the sandbox audience', versionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
		const next = (name: string, output = 0) => template.connections[name].main[output].map((c) => c.node);
		expect([next('Start'), next('Get the audience'), next('Verify Email'), next('Clean Email List', 1)]).toEqual([
			['Get the audience'],
			['Verify Email'],
			['Clean Email List'],
			['See the result'],
		]);
		expect(node(template, 'Get the audience')).toMatchObject({
			type: 'n8n-nodes-list-hygiene.emailList',
			parameters: { platform: 'mailchimp', resource: 'member', operation: 'getMany', returnAll: true, listId: { __rl: true, mode: 'list', value: NEWSLETTER_ID, cachedResultName: 'Sandbox newsletter' } },
		});
		expect(node(template, 'Clean Email List')).toMatchObject({ type: 'n8n-nodes-list-hygiene.cleanEmailList', parameters: { mode: 'verify_only', listId: { value: NEWSLETTER_ID } } });
		expect(node(template, 'See the result')).toMatchObject({ type: 'n8n-nodes-list-hygiene.emailList', parameters: { resource: 'list', operation: 'getMany' } });
		for (const name of ['Get the audience', 'Clean Email List', 'See the result']) {
			expect(node(template, name).credentials).toEqual({ listHygieneMailchimpApi: { id: SANDBOX_CREDENTIAL_ID, name: SANDBOX_CREDENTIAL_NAME } });
		}
		expect(template.nodes.filter((n) => n.type === 'n8n-nodes-base.stickyNote')).toHaveLength(5);
	});

	it('names the servers of a sandbox on the default ports', () => {
		expect(node(template, 'Verify Email').parameters.options).toEqual({
			dnsServers: `127.0.0.1:${DEFAULT_SANDBOX_PORT + 1}`,
			dnsTimeoutMs: 2000,
			smtpPort: DEFAULT_SANDBOX_PORT + 2,
			allowPrivateNetworks: true,
			heloName: SANDBOX_HELO,
			connectTimeoutMs: 2000,
			commandTimeoutMs: 5000,
		});
	});
});

describe('sandboxWorkflow', () => {
	let sandbox: Sandbox;
	beforeAll(async () => {
		sandbox = await startSandbox();
	});
	afterAll(() => sandbox.close());

	it('points a copy at the running sandbox: its servers in Verify Email, its credential on the platform nodes', () => {
		const original = structuredClone(template);
		const workflow = sandboxWorkflow(template, sandbox);
		expect(node(workflow, 'Verify Email').parameters).toEqual({ emailField: 'email', options: sandbox.verifyOptions });
		expect(sandbox.verifyOptions).toMatchObject({ dnsServers: sandbox.dns.address, smtpPort: sandbox.smtp.port });
		expect(node(workflow, 'Clean Email List').credentials).toEqual({ listHygieneMailchimpApi: { id: sandbox.credential.id, name: sandbox.credential.name } });
		expect(sandbox.credential).toEqual({ id: SANDBOX_CREDENTIAL_ID, name: SANDBOX_CREDENTIAL_NAME, type: 'listHygieneMailchimpApi', data: { apiKey: sandbox.apiKey, baseUrl: sandbox.apiUrl } });
		expect(template).toEqual(original);
	});

	it('makes a sandbox copy of another example beside it: own id and name, empty list pickers filled, the trigger pointed too', () => {
		const arrival = JSON.parse(readFileSync(join(__dirname, '../../examples/verify-new-subscribers-on-arrival.json'), 'utf8')) as WorkflowTemplate;
		const copy = sandboxWorkflow(arrival, sandbox, { id: ARRIVAL_WORKFLOW_ID, name: 'Try it: verify new sandbox subscribers on arrival', listId: NEWSLETTER_ID });
		expect(copy).toMatchObject({ id: ARRIVAL_WORKFLOW_ID, name: 'Try it: verify new sandbox subscribers on arrival', versionId: arrival.versionId });
		const trigger = node(copy, 'New member in list');
		// Filled as if picked from the list: the editor shows the audience's name.
		expect(trigger.parameters.listId).toEqual({ __rl: true, mode: 'list', value: NEWSLETTER_ID, cachedResultName: 'Sandbox newsletter' });
		expect(trigger.credentials).toEqual({ listHygieneMailchimpApi: { id: sandbox.credential.id, name: sandbox.credential.name } });
		// A list taken from the items by expression is not empty: it stays.
		expect(node(copy, 'Clean Email List').parameters.listId).toEqual({ __rl: true, mode: 'id', value: '={{ $json.listId }}' });
		expect(node(copy, 'Verify Email').parameters.options).toEqual(sandbox.verifyOptions);
		expect(node(arrival, 'New member in list').parameters.listId).toEqual({ __rl: true, mode: 'id', value: '' });
	});

	it('refuses a workflow it cannot point anywhere, or one without an id', () => {
		expect(() => sandboxWorkflow({ ...template, nodes: [node(template, 'Start')] }, sandbox)).toThrow(
			'The workflow "Try it: clean the sandbox audience" has no Verify Email, Email List or Clean Email List node to point at the sandbox.',
		);
		expect(() => sandboxWorkflow({ ...template, versionId: '' }, sandbox)).toThrow(/needs an "id" and a "versionId"/);
	});
});
