// End to end in a real n8n (each pinned version): the sandbox's credential and the "Try it: clean
// the sandbox audience" workflow imported exactly as `npm start` imports them, run headlessly. Verify
// only must show the plan and change nothing; with the Clean node set to Clean automatically, the
// fake Mailchimp must end with exactly the planned contacts changed, and the second Email List run
// must show the new subscriber counts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import type { Execution, N8nRuntime, WorkflowJson } from '../../scripts/n8n-runtime.cjs';
import { e2eSuite, RUN_TIMEOUT_MS, SETUP_TIMEOUT_MS } from '../helpers/e2e';
import { CUSTOMERS_ID, NEWSLETTER_ID, SANDBOX_AUDIENCES, startSandbox, sandboxWorkflow, TRY_IT_WORKFLOW_ID, type ContactKind, type Sandbox } from '../../src/sandbox';
import { fakeSubscriberHash, type FakeMailchimp, type FakeMailchimpMember } from '../../src/sandbox/mailchimp';

const TRY_IT_FILE = join(runtime.REPO_ROOT, 'examples', 'try-it-sandbox.json');
const newsletter = SANDBOX_AUDIENCES.find((a) => a.id === NEWSLETTER_ID)!.contacts;

/** Verify Email's status per kind of contact on a first run (greylisting defers a new sender). */
const FIRST_STATUS: Record<ContactKind, string> = {
	valid: 'valid',
	role: 'role_account',
	unknown_user: 'invalid',
	catch_all: 'catch_all',
	greylisted: 'unknown',
	disposable: 'disposable',
	null_mx: 'invalid',
	no_domain: 'invalid',
	typo_trap: 'spamtrap',
};
const INVALID_KINDS: ContactKind[] = ['unknown_user', 'null_mx', 'no_domain'];

/** The default clean-up of the newsletter: invalid members still subscribed or cleaned unsubscribed, disposable ones deleted. */
const planned = newsletter
	.filter((c) => (INVALID_KINDS.includes(c.kind) && c.status !== 'unsubscribed') || c.kind === 'disposable')
	.map((c) => [c.email, c.kind === 'disposable' ? 'delete' : 'unsubscribe']);
/** What Clean automatically then writes: a cleaned member gets no mail already (Mailchimp says `already`). */
const unsubscribed = newsletter.filter((c) => INVALID_KINDS.includes(c.kind) && c.status === 'subscribed').map((c) => c.email);
const archived = newsletter.filter((c) => c.kind === 'disposable').map((c) => c.email);

type Cleanup = { category: string | null; action: string; outcome: string; detail?: string };

function snapshot(mailchimp: FakeMailchimp): Record<string, Record<string, FakeMailchimpMember>> {
	return Object.fromEntries([...mailchimp.state.audiences.values()].map((a) => [a.id, structuredClone(Object.fromEntries(a.members))]));
}

/** Requests and batch operations that change the fake (a batch of GETs only reads). */
function writes(mailchimp: FakeMailchimp, since: { requests: number; batches: number }): string[] {
	const requests = mailchimp.requests.slice(since.requests).filter((r) => r.method !== 'GET' && r.path !== '/3.0/batches').map((r) => `${r.method} ${r.path}`);
	const operations = [...mailchimp.state.batches.values()]
		.slice(since.batches)
		.flatMap((batch) => batch.operations)
		.filter((op) => op.method !== 'GET')
		.map((op) => `${op.method} ${op.path} (batch)`);
	return [...requests, ...operations];
}

const mark = (mailchimp: FakeMailchimp) => ({ requests: mailchimp.requests.length, batches: mailchimp.state.batches.size });

const { timed, prepare } = e2eSuite();

describe.each(runtime.N8N_VERSIONS.map((version) => [version]))('The "Try it" workflow against the sandbox in n8n %s', (version) => {
	let n8n: N8nRuntime;
	let userFolder: string;
	let sandbox: Sandbox;
	let template: WorkflowJson;
	const run = (label: string) => timed(`[${version}] ${label}`, () => runtime.executeWorkflow(n8n, userFolder, TRY_IT_WORKFLOW_ID));
	/** Imports the Try-it workflow as `npm start` does, with the Clean node in `mode`. */
	const importTryIt = (mode: 'verify_only' | 'clean') => {
		const workflow = sandboxWorkflow(template, sandbox);
		const clean = workflow.nodes.find((node) => node.name === 'Clean Email List')!;
		expect(clean.parameters.mode).toBe('verify_only'); // the shipped default
		clean.parameters.mode = mode;
		return timed(`[${version}] import workflow (${mode})`, () => runtime.importWorkflow(n8n, userFolder, workflow));
	};

	beforeAll(async () => {
		sandbox = await startSandbox();
		template = JSON.parse(await readFile(TRY_IT_FILE, 'utf8')) as WorkflowJson;
		({ n8n, userFolder } = await prepare(version, 'sandbox'));
		await timed(`[${version}] import credential`, () => runtime.importCredentials(n8n, userFolder, sandbox.credential));
		await importTryIt('verify_only');
	}, SETUP_TIMEOUT_MS);

	afterAll(() => sandbox?.close());

	let first: Execution;

	it(
		'Verify only: reads the 300 members, verifies them against the sandbox, shows the plan and changes nothing',
		async () => {
			const before = snapshot(sandbox.mailchimp);
			const since = mark(sandbox.mailchimp);
			first = await run('execute Try it (verify only)');

			const members = runtime.nodeItems(first, 'Get the audience');
			expect(members.map((m) => m.email)).toEqual(newsletter.map((c) => c.email));
			expect(members[0]).toMatchObject({ platform: 'mailchimp', listId: NEWSLETTER_ID, contactId: fakeSubscriberHash(newsletter[0].email) });

			const verified = runtime.nodeItems(first, 'Verify Email');
			expect(verified.map((item) => [item.email, (item.verification as { status: string }).status])).toEqual(newsletter.map((c) => [c.email, FIRST_STATUS[c.kind]]));

			const contacts = runtime.nodeItems(first, 'Clean Email List', 0);
			expect(contacts).toHaveLength(300);
			const plan = contacts.filter((item) => (item.cleanup as Cleanup).outcome === 'planned').map((item) => [item.email, (item.cleanup as Cleanup).action]);
			expect(plan).toEqual(planned);
			expect(plan).toHaveLength(29);
			const [summary] = runtime.nodeItems(first, 'Clean Email List', 1);
			expect(summary).toMatchObject({ platform: 'mailchimp', listId: NEWSLETTER_ID, mode: 'verify_only', contacts: 300, overMaxShare: false });

			expect(runtime.nodeItems(first, 'See the result').map((list) => [list.id, list.name, list.memberCount])).toEqual([
				[NEWSLETTER_ID, 'Sandbox newsletter', 293],
				[CUSTOMERS_ID, 'Sandbox customers', 25],
			]);

			expect(writes(sandbox.mailchimp, since)).toEqual([]);
			expect(snapshot(sandbox.mailchimp)).toEqual(before);
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'Clean automatically: exactly the planned contacts change, and the second Email List run shows the new counts',
		async () => {
			expect(first).toBeDefined();
			await importTryIt('clean');
			const before = snapshot(sandbox.mailchimp);
			const execution = await run('execute Try it (clean automatically)');

			const contacts = runtime.nodeItems(execution, 'Clean Email List', 0);
			const changed = contacts.filter((item) => (item.cleanup as Cleanup).action !== 'keep').map((item) => [item.email, (item.cleanup as Cleanup).action, (item.cleanup as Cleanup).outcome]);
			expect(changed).toEqual(
				newsletter
					.filter((c) => INVALID_KINDS.includes(c.kind) || c.kind === 'disposable')
					.map((c) => [c.email, c.kind === 'disposable' ? 'delete' : 'unsubscribe', c.status === 'subscribed' ? 'done' : 'already']),
			);
			// Asked again after the delay, the greylisting host lets the verifier in: now valid.
			const greylisted = runtime.nodeItems(execution, 'Verify Email').filter((item) => newsletter.find((c) => c.email === item.email)!.kind === 'greylisted');
			expect(greylisted.map((item) => (item.verification as { status: string }).status)).toEqual(Array(12).fill('valid'));

			// The fake: the invalid members unsubscribed, the disposable ones archived, nothing else.
			const after = snapshot(sandbox.mailchimp);
			const expected = structuredClone(before);
			for (const [emails, status] of [
				[unsubscribed, 'unsubscribed'],
				[archived, 'archived'],
			] as const) {
				for (const email of emails) {
					const hash = fakeSubscriberHash(email);
					expected[NEWSLETTER_ID][hash] = { ...before[NEWSLETTER_ID][hash], status, last_changed: after[NEWSLETTER_ID][hash].last_changed };
				}
			}
			expect(after).toEqual(expected);
			expect(unsubscribed).toHaveLength(20);
			expect(archived).toHaveLength(7);

			expect(runtime.nodeItems(execution, 'See the result').map((list) => [list.name, list.memberCount])).toEqual([
				['Sandbox newsletter', 293 - 20 - 7],
				['Sandbox customers', 25],
			]);
		},
		RUN_TIMEOUT_MS,
	);
});
