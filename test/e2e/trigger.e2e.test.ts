// End to end in a real n8n (each pinned version), as a user runs it: `n8n start` with the
// "Verify new subscribers on arrival" example pointed at the sandbox, activated through n8n's REST
// API. New subscribers join the sandbox audience through its API; within one poll they are
// verified and the bad one is unsubscribed, the good one left alone. Then n8n is stopped, someone
// joins while it is down, and after a restart that member (and only that member) comes through.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import type { N8nRuntime, WorkflowJson } from '../../scripts/n8n-runtime.cjs';
import { fakeSubscriberHash } from '../../src/sandbox/mailchimp';
import { ARRIVAL_WORKFLOW_ID, ARRIVAL_WORKFLOW_NAME, NEWSLETTER_ID, sandboxWorkflow, startSandbox, type Sandbox } from '../../src/sandbox';
import { e2eSuite, RUN_TIMEOUT_MS, SETUP_TIMEOUT_MS } from '../helpers/e2e';
import { startN8nServer, type N8nServer } from '../helpers/n8nServer';

const EXAMPLE = join(runtime.REPO_ROOT, 'examples', 'verify-new-subscribers-on-arrival.json');
/** n8n polls "every minute" at a random second of the minute; one poll is at most a minute away. */
const ONE_POLL_MS = 75_000;

const suite = e2eSuite();
let sandbox: Sandbox;

beforeAll(async () => {
	sandbox = await startSandbox({ port: 0 });
});
afterAll(async () => {
	await sandbox?.close();
});

interface ExecutionSummary {
	id: string;
	status?: string;
	finished?: boolean;
	stoppedAt?: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The workflow's finished executions, oldest first. */
async function executions(server: N8nServer, workflowId: string): Promise<ExecutionSummary[]> {
	const filter = encodeURIComponent(JSON.stringify({ workflowId }));
	const data = await server.rest.get<{ results: ExecutionSummary[] }>(`/rest/executions?filter=${filter}`);
	return [...data.results].filter((e) => e.stoppedAt).sort((a, b) => Number(a.id) - Number(b.id));
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
		await sleep(1000);
	}
}

/** Activates a workflow: POST …/activate in n8n 2.x ("publish"), PATCH active in 1.x. */
async function activate(server: N8nServer, workflow: WorkflowJson): Promise<void> {
	const current = await server.rest.get<{ versionId: string }>(`/rest/workflows/${workflow.id}`);
	const modern = await server.rest.request('POST', `/rest/workflows/${workflow.id}/activate`, { versionId: current.versionId });
	if (modern.status >= 200 && modern.status < 300) return;
	if (modern.status !== 404) throw new Error(`POST /rest/workflows/${workflow.id}/activate answered ${modern.status}: ${JSON.stringify(modern.body).slice(0, 500)}`);
	const legacy = await server.rest.request('PATCH', `/rest/workflows/${workflow.id}`, { active: true, versionId: current.versionId });
	if (legacy.status < 200 || legacy.status >= 300) throw new Error(`PATCH /rest/workflows/${workflow.id} answered ${legacy.status}: ${JSON.stringify(legacy.body).slice(0, 500)}`);
}

/** GET requests the trigger made for new members (Mailchimp's opt-in time filter). */
const newMemberPolls = () => sandbox.mailchimp.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/lists/${NEWSLETTER_ID}/members`) && r.query.since_timestamp_opt !== undefined).length;

/** Requests that wrote something about this address (a clean-up acting on it). */
const writesFor = (email: string) => {
	const hash = fakeSubscriberHash(email);
	return sandbox.mailchimp.requests.filter((r) => r.method !== 'GET' && (r.path.includes(hash) || r.body?.includes(hash) || r.body?.toLowerCase().includes(email.toLowerCase()))).length;
};

const statusOf = (email: string) => sandbox.mailchimp.state.audiences.get(NEWSLETTER_ID)?.members.get(fakeSubscriberHash(email))?.status;

describe.each(runtime.N8N_VERSIONS)('n8n %s: verify new subscribers on arrival', (version) => {
	let n8n: N8nRuntime;
	let userFolder: string;
	let workflow: WorkflowJson;

	beforeAll(async () => {
		({ n8n, userFolder } = await suite.prepare(version, 'trigger'));
		const template = JSON.parse(await readFile(EXAMPLE, 'utf8')) as WorkflowJson;
		// What `npm start` imports beside the example: the same workflow pointed at the sandbox.
		workflow = sandboxWorkflow(template, sandbox, { id: ARRIVAL_WORKFLOW_ID, name: ARRIVAL_WORKFLOW_NAME, listId: NEWSLETTER_ID }) as WorkflowJson;
		await runtime.importCredentials(n8n, userFolder, sandbox.credential);
		await runtime.importWorkflow(n8n, userFolder, workflow);
	}, SETUP_TIMEOUT_MS);

	it(
		'verifies a new subscriber within one poll and acts only on the bad one; after a restart, nothing is repeated or lost',
		async () => {
			const tag = version.replace(/\W/g, '');
			const good = `reader.${tag}@northwind.test`;
			const bad = `nobody.${tag}@northwind.test`;
			const whileDown = `late.${tag}@fabrikam.test`;

			let server = await suite.timed(`[${version}] n8n start`, () => startN8nServer(n8n, userFolder));
			try {
				const pollsBefore = newMemberPolls();
				await activate(server, workflow);
				// The activation polls once: that poll starts from now and emits nothing.
				await waitFor('the activation poll', 30_000, async () => (newMemberPolls() > pollsBefore ? true : undefined));
				expect(await executions(server, workflow.id)).toEqual([]);

				sandbox.addSubscriber(good);
				sandbox.addSubscriber(bad, { mailbox: false });
				const pollsAtJoin = newMemberPolls();
				const [first] = await suite.timed(`[${version}] first poll -> execution`, () =>
					waitFor('an execution for the new subscribers', ONE_POLL_MS + 60_000, async () => {
						const list = await executions(server, workflow.id);
						return list.length > 0 ? list : undefined;
					}),
				);
				// Within one poll: the first poll after they joined started the execution.
				expect(newMemberPolls() - pollsAtJoin).toBe(1);
				expect(first.status ?? (first.finished ? 'success' : 'error')).toBe('success');
				await waitFor('the clean-up of the bad subscriber', 30_000, async () => (statusOf(bad) === 'unsubscribed' ? true : undefined));
				expect(statusOf(good)).toBe('subscribed');
				expect(writesFor(bad)).toBe(1);
				expect(writesFor(good)).toBe(0);
			} finally {
				await server.stop();
			}

			// Someone joins while n8n is down; a restart picks them up, and only them.
			sandbox.addSubscriber(whileDown, { mailbox: false });
			server = await suite.timed(`[${version}] n8n restart`, () => startN8nServer(n8n, userFolder, { ownerExists: true }));
			try {
				const pollsAtRestart = sandbox.mailchimp.requests.length;
				await waitFor('an execution for the member who joined while n8n was down', ONE_POLL_MS + 60_000, async () => {
					const list = await executions(server, workflow.id);
					return list.length > 1 ? list : undefined;
				}).catch((error: Error) => {
					const polls = sandbox.mailchimp.requests.slice(pollsAtRestart).map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`);
					throw new Error(`${error.message}\nRequests to the sandbox since the restart:\n${polls.join('\n')}\n--- n8n output (tail) ---\n${runtime.tail(server.output(), 40)}`);
				});
				await waitFor('the clean-up of that member', 30_000, async () => (statusOf(whileDown) === 'unsubscribed' ? true : undefined));
				expect(statusOf(good)).toBe('subscribed');
				// Then an idle minute: one request, no new execution (nobody is repeated).
				const idleFrom = newMemberPolls();
				await waitFor('an idle poll', ONE_POLL_MS, async () => (newMemberPolls() > idleFrom ? true : undefined));
				await sleep(3000);
				expect(await executions(server, workflow.id)).toHaveLength(2);
				// Only the newcomer was acted on: the members of the first run were not repeated.
				expect(writesFor(whileDown)).toBe(1);
				expect(writesFor(bad)).toBe(1);
				expect(writesFor(good)).toBe(0);
			} finally {
				await server.stop();
			}
		},
		RUN_TIMEOUT_MS * 3,
	);
});
