// End to end in a real n8n (each pinned version): the monthly clean-up pipeline
// (Email List -> Verify Email -> Clean Email List) in Clean automatically mode against the stateful
// fake Mailchimp and HubSpot, with the DNS and SMTP servers this test scripts on loopback. The fakes'
// final state must hold exactly the planned changes; a second run must find everything `already`
// done and change nothing. The shipped examples are imported and run headlessly as well.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { parse } from 'csv-parse/sync';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import { e2eSuite, RUN_TIMEOUT_MS, SETUP_TIMEOUT_MS } from '../helpers/e2e';
import type { CredentialJson, Execution, N8nRuntime, WorkflowJson } from '../../scripts/n8n-runtime.cjs';
import { startFakeHubspot, type FakeHubspot } from '../fakes/hubspot';
import { fakeSubscriberHash, startFakeMailchimp, type FakeMailchimp, type FakeMailchimpMember } from '../fakes/mailchimp';
import { startDnsServer, type DnsZone, type TestDnsServer } from '../helpers/dnsServer';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer';

const EMAIL_LIST = `${runtime.PACKAGE_NAME}.emailList`;
const VERIFY_EMAIL = `${runtime.PACKAGE_NAME}.verifyEmail`;
const CLEAN_EMAIL_LIST = `${runtime.PACKAGE_NAME}.cleanEmailList`;
const MONTHLY_EXAMPLE = join(runtime.REPO_ROOT, 'examples', 'monthly-list-cleanup.json');
const CSV_EXAMPLE = join(runtime.REPO_ROOT, 'examples', 'clean-a-csv-file.json');


const MAILCHIMP_CREDENTIAL = { id: 'LhE2eCleanMcKey', name: 'e2e clean-up Mailchimp (fake)' };
const HUBSPOT_CREDENTIAL = { id: 'LhE2eCleanHsToken', name: 'e2e clean-up HubSpot private app (fake)' };

// ---------------------------------------------------------------------------------------------
// The world on loopback: every mail host is the scripted SMTP server on 127.0.0.1.

const zone: DnsZone = {
	'ok.test': { MX: [{ preference: 10, exchange: 'mx.ok.test' }] },
	'catchall.test': { MX: [{ preference: 10, exchange: 'mx.catchall.test' }] },
	'nullmx.test': { MX: [{ preference: 0, exchange: '.' }] },
	'slow.test': { rcode: 'SERVFAIL' },
	// On the built-in disposable list.
	'mailinator.com': { MX: [{ preference: 10, exchange: 'mail.mailinator.com' }] },
	'yopmail.com': { MX: [{ preference: 10, exchange: 'mx.yopmail.com' }] },
	'mx.ok.test': { A: ['127.0.0.1'] },
	'mx.catchall.test': { A: ['127.0.0.1'] },
	'mail.mailinator.com': { A: ['127.0.0.1'] },
	'mx.yopmail.com': { A: ['127.0.0.1'] },
};

/** Domains whose server accepts any recipient; elsewhere only these mailboxes, the rest get 550 5.1.1. */
const ACCEPT_ANY = ['catchall.test', 'mailinator.com', 'yopmail.com'];
const MAILBOXES = ['ann@ok.test', 'bob@ok.test', 'info@ok.test', 'carl@ok.test', 'dora@ok.test', 'ed@ok.test'];

const loopbackOptions = (dns: TestDnsServer, smtp: TestSmtpServer) => ({
	dnsServers: dns.address,
	dnsTimeoutMs: 3000,
	smtpPort: smtp.port,
	allowPrivateNetworks: true,
	heloName: 'e2e.test',
});

// ---------------------------------------------------------------------------------------------
// The mix seeded on both platforms, and what the clean-up must do with each contact

type Platform = 'mailchimp' | 'hubspot';
type Outcome = 'done' | 'already' | 'skipped';

interface Row {
	email: string;
	/** Verify Email's status and reason. */
	verdict: [string, string];
	category: string | null;
	action: 'keep' | 'unsubscribe' | 'delete';
	/** First run, per platform where they differ. */
	first: Outcome | Record<Platform, Outcome>;
	/** Second run; absent: the contact was archived by the first run and is no longer a member. */
	again?: Outcome;
	/** Why a kept contact was skipped. */
	skip?: 'valid' | 'category_disabled';
}

const ROWS: Row[] = [
	{ email: 'ann@ok.test', verdict: ['valid', 'accepted'], category: null, action: 'keep', first: 'skipped', again: 'skipped', skip: 'valid' },
	{ email: 'bob@ok.test', verdict: ['valid', 'accepted'], category: null, action: 'keep', first: 'skipped', again: 'skipped', skip: 'valid' },
	{ email: 'ghost@ok.test', verdict: ['invalid', 'mailbox_not_found'], category: 'invalid', action: 'unsubscribe', first: 'done', again: 'already' },
	{ email: 'dee@nullmx.test', verdict: ['invalid', 'null_mx'], category: 'invalid', action: 'unsubscribe', first: 'done', again: 'already' },
	{ email: 'temp@mailinator.com', verdict: ['disposable', 'disposable_domain'], category: 'disposable', action: 'delete', first: 'done' },
	{ email: 'throw@yopmail.com', verdict: ['disposable', 'disposable_domain'], category: 'disposable', action: 'delete', first: 'done' },
	{ email: 'info@ok.test', verdict: ['role_account', 'role_account'], category: 'risky', action: 'keep', first: 'skipped', again: 'skipped', skip: 'category_disabled' },
	// Seeded unsubscribed (Mailchimp) / opted out (HubSpot).
	{ email: 'old@ok.test', verdict: ['invalid', 'mailbox_not_found'], category: 'invalid', action: 'unsubscribe', first: 'already', again: 'already' },
	// Seeded cleaned (Mailchimp: gets no mail, nothing to do) / hard-bounced (HubSpot: not opted out yet).
	{
		email: 'gone@nullmx.test',
		verdict: ['invalid', 'null_mx'],
		category: 'invalid',
		action: 'unsubscribe',
		first: { mailchimp: 'already', hubspot: 'done' },
		again: 'already',
	},
	{ email: 'sam@slow.test', verdict: ['unknown', 'dns_servfail'], category: 'unknown', action: 'keep', first: 'skipped', again: 'skipped', skip: 'category_disabled' },
	{ email: 'pat@catchall.test', verdict: ['catch_all', 'catch_all'], category: 'catch_all', action: 'keep', first: 'skipped', again: 'skipped', skip: 'category_disabled' },
];

const UNSUBSCRIBED = ['ghost@ok.test', 'dee@nullmx.test'];
const ARCHIVED = ['temp@mailinator.com', 'throw@yopmail.com'];
const firstOutcome = (row: Row, platform: Platform) => (typeof row.first === 'string' ? row.first : row.first[platform]);

const NEWSLETTER = 'b7c4e1f2a9';
/** A second audience with some of the same people: the clean-up of the newsletter must not touch it. */
const CUSTOMERS = 'c0ffee1234';
/** Its members, for the shipped monthly example: 2 changes of 10, within the default 20%. */
const CUSTOMER_EMAILS = ['carl@ok.test', 'dora@ok.test', 'ed@ok.test', 'ann@ok.test', 'bob@ok.test', 'info@ok.test', 'pat@catchall.test', 'sam@slow.test', 'ghost@ok.test', 'temp@mailinator.com'];

const mailchimpExtras: Record<string, Partial<FakeMailchimpMember>> = {
	'ann@ok.test': { full_name: 'Ann Archer', merge_fields: { FNAME: 'Ann', LNAME: 'Archer' }, tags: [{ id: 1, name: 'vip' }], vip: true },
	'ghost@ok.test': { full_name: 'Gus Ghost', merge_fields: { FNAME: 'Gus', COMPANY: 'Haunted Ltd' }, tags: [{ id: 2, name: 'trial' }], language: 'en' },
	'temp@mailinator.com': { merge_fields: { FNAME: 'Tim' }, email_type: 'text' },
	'old@ok.test': { status: 'unsubscribed' },
	'gone@nullmx.test': { status: 'cleaned' },
};

const mailchimpSeed = () => ({
	pollsToFinish: 1,
	audiences: [
		{ id: NEWSLETTER, name: 'Newsletter', members: ROWS.map((row) => ({ email_address: row.email, ...mailchimpExtras[row.email] })) },
		{ id: CUSTOMERS, name: 'Customers', members: CUSTOMER_EMAILS.map((email_address) => ({ email_address })) },
	],
});

const HUBSPOT_LIST = '201';
const hubspotId = (email: string) => String(3001 + ROWS.findIndex((row) => row.email === email));
const hubspotExtras: Record<string, Record<string, string>> = {
	'ann@ok.test': { firstname: 'Ann', lastname: 'Archer', company: 'Archer Ltd', lifecyclestage: 'customer' },
	'ghost@ok.test': { firstname: 'Gus', lastname: 'Ghost', favourite_colour: 'grey' },
	'temp@mailinator.com': { firstname: 'Tim', lifecyclestage: 'lead' },
	'old@ok.test': { hs_email_optout: 'true' },
	'gone@nullmx.test': { hs_email_hard_bounce_reason_enum: 'UNKNOWN_USER' },
};
/** Not on the list: invalid too, and must stay untouched. */
const OUTSIDER = { id: '3999', properties: { email: 'outsider@ok.test', firstname: 'Olive' } };

const hubspotSeed = () => ({
	contacts: [
		...ROWS.map((row) => ({ id: hubspotId(row.email), properties: { email: row.email, ...hubspotExtras[row.email] } })),
		OUTSIDER,
	],
	lists: [
		{ listId: HUBSPOT_LIST, name: 'Newsletter', processingType: 'MANUAL' as const, objectTypeId: '0-1', memberIds: ROWS.map((row) => hubspotId(row.email)) },
		{ listId: '202', name: 'Customers', processingType: 'MANUAL' as const, objectTypeId: '0-1', memberIds: [hubspotId('ann@ok.test'), hubspotId('ghost@ok.test'), OUTSIDER.id] },
	],
});

// ---------------------------------------------------------------------------------------------
// Credentials and workflows

const credentials = (mailchimp: FakeMailchimp, hubspot: FakeHubspot): CredentialJson[] => [
	{ ...MAILCHIMP_CREDENTIAL, type: 'listHygieneMailchimpApi', data: { apiKey: mailchimp.state.apiKey, baseUrl: mailchimp.url } },
	{ ...HUBSPOT_CREDENTIAL, type: 'listHygieneHubspotAppToken', data: { accessToken: hubspot.state.privateAppToken, baseUrl: hubspot.url } },
];

type Node = WorkflowJson['nodes'][number];

const node = (name: string, type: string, typeVersion: number, x: number, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}): Node => ({
	id: `e2e-${name.toLowerCase().replace(/\W+/g, '-')}`,
	name,
	type,
	typeVersion,
	position: [x, 0],
	parameters,
	...extra,
});

const byId = (value: string) => ({ __rl: true, mode: 'id', value });

/** The platform parameters and credential of the Email List and Clean Email List nodes. */
const platformSetup: Record<Platform, { parameters: Record<string, unknown>; credentials: Record<string, { id: string; name: string }>; listId: string }> = {
	mailchimp: {
		parameters: { platform: 'mailchimp', mailchimpAuthentication: 'apiKey' },
		credentials: { listHygieneMailchimpApi: MAILCHIMP_CREDENTIAL },
		listId: NEWSLETTER,
	},
	hubspot: {
		parameters: { platform: 'hubspot', hubspotAuthentication: 'accessToken' },
		credentials: { listHygieneHubspotAppToken: HUBSPOT_CREDENTIAL },
		listId: HUBSPOT_LIST,
	},
};

const cleanupWorkflowId = (platform: Platform) => `LhE2eClean-${platform}`;

/** Manual Trigger -> Email List (all members of the list) -> Verify Email -> Clean Email List (Clean automatically). */
function cleanupWorkflow(platform: Platform, options: Record<string, unknown>): WorkflowJson {
	const setup = platformSetup[platform];
	return {
		id: cleanupWorkflowId(platform),
		versionId: '4c8e2a61-9d3b-4f7e-b1a5-6e0d2c9f8b37',
		name: `e2e: clean up a ${platform} list`,
		active: false,
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, 0, {}),
			node(
				'Get members',
				EMAIL_LIST,
				1,
				220,
				{ ...setup.parameters, resource: 'member', operation: 'getMany', listId: byId(setup.listId), returnAll: true, options: {} },
				{ credentials: setup.credentials },
			),
			node('Verify Email', VERIFY_EMAIL, 1, 440, { emailField: 'email', options }),
			// The rules are the node's defaults: Invalid -> Unsubscribe, Disposable -> Delete, the rest kept.
			node(
				'Clean Email List',
				CLEAN_EMAIL_LIST,
				1,
				660,
				{ ...setup.parameters, listId: byId(setup.listId), mode: 'clean', maxSharePercent: 60, options: {} },
				{ credentials: setup.credentials },
			),
		],
		connections: {
			Start: { main: [[{ node: 'Get members', type: 'main', index: 0 }]] },
			'Get members': { main: [[{ node: 'Verify Email', type: 'main', index: 0 }]] },
			'Verify Email': { main: [[{ node: 'Clean Email List', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

async function loadExample(file: string): Promise<WorkflowJson> {
	return JSON.parse(await readFile(file, 'utf8')) as WorkflowJson;
}

function nodeOfType(workflow: WorkflowJson, type: string): Node {
	const found = workflow.nodes.find((n) => n.type === type);
	if (!found) throw new Error(`The workflow "${workflow.name}" has no ${type} node`);
	return found;
}

/**
 * The shipped monthly example as a user would set it up: a Mailchimp credential and list, and
 * (for this test only) the loopback resolver and mail port. `n8n execute` starts at a Manual
 * Trigger, so the schedule trigger is swapped for one.
 */
async function monthlyVariant(id: string, listId: string, options: Record<string, unknown>): Promise<WorkflowJson> {
	const workflow = structuredClone(await loadExample(MONTHLY_EXAMPLE));
	workflow.id = id;
	workflow.name = `e2e: ${workflow.name} (${listId})`;
	const trigger = nodeOfType(workflow, 'n8n-nodes-base.scheduleTrigger');
	Object.assign(trigger, { type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} });
	const members = nodeOfType(workflow, EMAIL_LIST);
	members.parameters = { ...members.parameters, listId: byId(listId) };
	members.credentials = platformSetup.mailchimp.credentials;
	nodeOfType(workflow, CLEAN_EMAIL_LIST).credentials = platformSetup.mailchimp.credentials;
	const verify = nodeOfType(workflow, VERIFY_EMAIL);
	verify.parameters = { ...verify.parameters, options: { ...(verify.parameters.options as object), ...options } };
	return workflow;
}

/** The shipped CSV example reading `csvFile` instead of the Docker path, with the loopback options. */
async function csvVariant(csvFile: string, options: Record<string, unknown>): Promise<WorkflowJson> {
	const workflow = structuredClone(await loadExample(CSV_EXAMPLE));
	workflow.id = 'LhE2eCsvFile';
	const settings = workflow.nodes.find((n) => n.name === 'CSV file to clean');
	const assignments = (settings?.parameters.assignments as { assignments: Array<{ name: string; value: unknown }> } | undefined)?.assignments ?? [];
	const path = assignments.find((a) => a.name === 'csvFile');
	if (!path) throw new Error(`${CSV_EXAMPLE}: no "csvFile" field in the node "CSV file to clean"`);
	path.value = csvFile;
	const verify = nodeOfType(workflow, VERIFY_EMAIL);
	verify.parameters = { ...verify.parameters, options: { ...(verify.parameters.options as object), ...options } };
	return workflow;
}

// ---------------------------------------------------------------------------------------------
// Reading the fakes and the runs

function mailchimpSnapshot(mailchimp: FakeMailchimp): Record<string, Record<string, FakeMailchimpMember>> {
	return Object.fromEntries([...mailchimp.state.audiences.values()].map((a) => [a.id, structuredClone(Object.fromEntries(a.members))]));
}

/** Requests and batch operations that change Mailchimp (a batch of GETs only reads). */
function mailchimpWrites(mailchimp: FakeMailchimp, since: { requests: number; batches: number }): string[] {
	const requests = mailchimp.requests
		.slice(since.requests)
		.filter((r) => r.method !== 'GET' && r.path !== '/3.0/batches')
		.map((r) => `${r.method} ${r.path}`);
	const operations = [...mailchimp.state.batches.values()]
		.slice(since.batches)
		.flatMap((batch) => batch.operations)
		.filter((op) => op.method !== 'GET')
		.map((op) => `${op.method} ${op.path} (batch)`);
	return [...requests, ...operations];
}

const mailchimpMark = (mailchimp: FakeMailchimp) => ({ requests: mailchimp.requests.length, batches: mailchimp.state.batches.size });

function hubspotSnapshot(hubspot: FakeHubspot) {
	return structuredClone({
		contacts: Object.fromEntries(hubspot.state.contacts),
		lists: hubspot.state.lists,
		optedOut: [...hubspot.state.optedOut].sort(),
		gdprBlocked: [...hubspot.state.gdprBlocked].sort(),
	});
}

const HUBSPOT_WRITE = /unsubscribe-all$|\/batch\/archive$|\/gdpr-delete$/;

type Cleanup = { category: string | null; action: string; outcome: string; detail?: string };
type Summary = {
	platform: string;
	list: string;
	listId: string;
	mode: string;
	contacts: number;
	counts: Record<string, Record<string, Record<string, number>>>;
	requests: number;
	durationMs: number;
};

/** category -> action -> outcome -> contacts, as the Summary output counts them. */
function expectedCounts(rows: Array<{ row: Row; outcome: Outcome }>): Summary['counts'] {
	const counts: Summary['counts'] = {};
	for (const { row, outcome } of rows) {
		const byAction = (counts[row.category ?? 'none'] ??= {});
		const byOutcome = (byAction[row.action] ??= {});
		byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
	}
	return counts;
}

/** What the Contacts output says about each contact: [email, status, reason, category, action, outcome]. */
const outcomesOf = (items: Array<Record<string, unknown>>) =>
	items.map((item) => {
		const verification = item.verification as { status: string; reason: string };
		const cleanup = item.cleanup as Cleanup;
		return [item.email, verification.status, verification.reason, cleanup.category, cleanup.action, cleanup.outcome];
	});

const expectedOutcomes = (rows: Array<{ row: Row; outcome: Outcome }>) =>
	rows.map(({ row, outcome }) => [row.email, ...row.verdict, row.category, row.action, outcome]);

function expectSkipDetails(items: Array<Record<string, unknown>>) {
	for (const item of items) {
		const row = ROWS.find((r) => r.email === item.email)!;
		const cleanup = item.cleanup as Cleanup;
		if (row.skip) expect([item.email, cleanup.detail]).toEqual([row.email, row.skip]);
		else if (cleanup.outcome === 'done') expect(cleanup.detail === undefined || typeof cleanup.detail === 'string').toBe(true);
		else expect([item.email, cleanup.detail]).toEqual([row.email, expect.stringMatching(/already|opted out|cleaned/i)]);
	}
}

function expectNoSecrets(runs: Execution[], secrets: Record<string, string>) {
	const output = runs.map((run) => `${run.stdout}\n${run.stderr}`).join('\n');
	expect(Object.entries(secrets).filter(([, secret]) => output.includes(secret)).map(([what]) => what)).toEqual([]);
}

const { timed, prepare } = e2eSuite();

describe.each(runtime.N8N_VERSIONS.map((version) => [version]))('List clean-up in n8n %s', (version) => {
	let n8n: N8nRuntime;
	let userFolder: string;
	let dns: TestDnsServer;
	let smtp: TestSmtpServer;
	let mailchimp: FakeMailchimp;
	let hubspot: FakeHubspot;
	const runs: Execution[] = [];
	const run = async (label: string, id: string, options?: Parameters<typeof runtime.executeWorkflow>[3]) => {
		const execution = await timed(`[${version}] ${label}`, () => runtime.executeWorkflow(n8n, userFolder, id, options));
		runs.push(execution);
		return execution;
	};

	beforeAll(async () => {
		[dns, smtp, mailchimp, hubspot] = await Promise.all([
			startDnsServer(zone),
			startSmtpServer({
				rcptReply: (to) => {
					const address = to.toLowerCase();
					return ACCEPT_ANY.includes(address.split('@')[1]) || MAILBOXES.includes(address)
						? '250 2.1.5 Ok'
						: `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`;
				},
			}),
			startFakeMailchimp(mailchimpSeed()),
			startFakeHubspot(hubspotSeed()),
		]);
		({ n8n, userFolder } = await prepare(version, 'clean'));
		await timed(`[${version}] import credentials`, () => runtime.importCredentials(n8n, userFolder, credentials(mailchimp, hubspot)));
		const options = loopbackOptions(dns, smtp);
		// The shipped examples exactly as `npm start` imports them, then the variants this test runs.
		const imported = await timed(`[${version}] import workflows`, async () =>
			runtime.importWorkflow(n8n, userFolder, [
				MONTHLY_EXAMPLE,
				CSV_EXAMPLE,
				await csvVariant(join(userFolder, '.n8n-files', 'contacts.csv'), options),
				await monthlyVariant('LhE2eMonthlyCust', CUSTOMERS, options),
				await monthlyVariant('LhE2eMonthlyNews', NEWSLETTER, options),
				cleanupWorkflow('mailchimp', options),
				cleanupWorkflow('hubspot', options),
			]),
		);
		expect(imported.ids.slice(0, 2)).toEqual([(await loadExample(MONTHLY_EXAMPLE)).id, (await loadExample(CSV_EXAMPLE)).id]);
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await Promise.all([dns?.close(), smtp?.close(), mailchimp?.close(), hubspot?.close()]);
	});

	it(
		'runs the "Clean a CSV file" example: one row out per row in, every input column kept, the verification added',
		async () => {
			const folder = join(userFolder, '.n8n-files');
			await mkdir(folder, { recursive: true });
			const input = [
				'email,first_name,company,notes',
				'ann@ok.test,Ann,"Archer, Ltd",vip',
				'ghost@ok.test,Gus,Nowhere,"said ""hi"""',
				'temp@mailinator.com,Tim,,',
				'dee@nullmx.test,Dee,Null Co,"two',
				'lines"',
				',Nobody,,no address',
				'info@ok.test,Info Desk,OK Inc,',
				'',
			].join('\n');
			await writeFile(join(folder, 'contacts.csv'), input);
			const expectedRows = parse(input, { columns: true }) as Array<Record<string, string>>;
			expect(expectedRows).toHaveLength(6);

			// HOME is the user folder, as in n8n's Docker image: n8n 2.x then allows ~/.n8n-files by default.
			await run('execute CSV example', 'LhE2eCsvFile', { env: { HOME: userFolder } });

			const output = await readFile(join(folder, 'contacts-verified.csv'), 'utf8');
			const rows = parse(output, { columns: true, bom: true }) as Array<Record<string, string>>;
			const header = Object.keys(rows[0]);
			expect(header.slice(0, 4)).toEqual(['email', 'first_name', 'company', 'notes']);
			expect(header).toEqual(
				expect.arrayContaining([
					'verification_status',
					'verification_reason',
					'verification_detail',
					'verification_suggestion',
					'verification_disposable',
					'verification_role',
					'verification_free',
				]),
			);
			expect(rows).toHaveLength(expectedRows.length);
			rows.forEach((row, i) => expect({ row: i, ...row }).toMatchObject({ row: i, ...expectedRows[i] }));
			expect(rows.map((row) => [row.email, row.verification_status, row.verification_reason, row.verification_disposable, row.verification_role])).toEqual([
				['ann@ok.test', 'valid', 'accepted', 'no', 'no'],
				['ghost@ok.test', 'invalid', 'mailbox_not_found', 'no', 'no'],
				['temp@mailinator.com', 'disposable', 'disposable_domain', 'yes', 'no'],
				['dee@nullmx.test', 'invalid', 'null_mx', 'no', 'no'],
				['', '', '', '', ''],
				['info@ok.test', 'role_account', 'role_account', 'no', 'yes'],
			]);
			// The row without an address is kept, with the reason.
			expect(rows[4].error).toMatch(/email/);
			expect(rows[1].verification_detail).toMatch(/does not exist/);
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'runs the "Monthly list clean-up" example in Verify only mode: a readable plan, nothing written',
		async () => {
			const before = mailchimpSnapshot(mailchimp);
			const mark = mailchimpMark(mailchimp);
			const execution = await run('execute monthly example', 'LhE2eMonthlyCust');

			expect(runtime.nodeItems(execution, 'Readable summary')).toEqual([
				{
					list: CUSTOMERS,
					mode: 'Verify only',
					contacts: 10,
					'would unsubscribe': 1,
					'would delete': 1,
					unsubscribed: 0,
					deleted: 0,
					failed: 0,
					'left as they are': 8,
				},
			]);
			const planned = runtime
				.nodeItems(execution, 'Clean Email List')
				.filter((item) => (item.cleanup as Cleanup).outcome === 'planned')
				.map((item) => [item.email, (item.cleanup as Cleanup).action]);
			expect(planned).toEqual([
				['ghost@ok.test', 'unsubscribe'],
				['temp@mailinator.com', 'delete'],
			]);
			expect(mailchimpWrites(mailchimp, mark)).toEqual([]);
			expect(mailchimpSnapshot(mailchimp)).toEqual(before);
		},
		RUN_TIMEOUT_MS,
	);

	// Verify only writes nothing, so a plan over the max share is shown (with a warning), not refused.
	it(
		'shows the whole plan in Verify only mode even when it is over the max share',
		async () => {
			const mark = mailchimpMark(mailchimp);
			const execution = await run('execute monthly example over the max share', 'LhE2eMonthlyNews', { allowFailure: true });
			expect(mailchimpWrites(mailchimp, mark)).toEqual([]);
			expect(execution.error?.message ?? '').not.toMatch(/more than the 20% allowed/);
			expect(runtime.nodeItems(execution, 'Readable summary')).toEqual([
				expect.objectContaining({ list: NEWSLETTER, mode: 'Verify only', contacts: ROWS.length, 'would unsubscribe': 3, 'would delete': 2 }),
			]);
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'cleans the Mailchimp audience: invalid members unsubscribed, disposable ones archived, nothing else changed; again: all already',
		async () => {
			const before = mailchimpSnapshot(mailchimp);
			const mark = mailchimpMark(mailchimp);
			const first = await run('execute Mailchimp clean-up', cleanupWorkflowId('mailchimp'));

			// Contacts: every member with its verdict and what was done.
			const firstRows = ROWS.map((row) => ({ row, outcome: firstOutcome(row, 'mailchimp') }));
			const contacts = runtime.nodeItems(first, 'Clean Email List', 0);
			expect(outcomesOf(contacts)).toEqual(expectedOutcomes(firstRows));
			expectSkipDetails(contacts);
			// The input item goes through whole.
			expect(contacts[0]).toMatchObject({ email: 'ann@ok.test', contactId: fakeSubscriberHash('ann@ok.test'), listId: NEWSLETTER, platform: 'mailchimp', status: 'subscribed' });
			expect(contacts[7]).toMatchObject({ email: 'old@ok.test', status: 'unsubscribed' });

			// The fake: exactly the invalid members still getting mail are unsubscribed, the disposable
			// ones archived; no other field, member or audience changed.
			const after = mailchimpSnapshot(mailchimp);
			const expected = structuredClone(before);
			for (const [emails, status] of [
				[UNSUBSCRIBED, 'unsubscribed'],
				[ARCHIVED, 'archived'],
			] as const) {
				for (const email of emails) {
					const hash = fakeSubscriberHash(email);
					expect(after[NEWSLETTER][hash].last_changed).not.toBe(before[NEWSLETTER][hash].last_changed);
					expected[NEWSLETTER][hash] = { ...before[NEWSLETTER][hash], status, last_changed: after[NEWSLETTER][hash].last_changed };
				}
			}
			expect(after).toEqual(expected);
			const hashes = (emails: string[]) => emails.map((email) => fakeSubscriberHash(email));
			expect(mailchimpWrites(mailchimp, mark).sort()).toEqual(
				[`POST /3.0/lists/${NEWSLETTER}`, ...hashes(ARCHIVED).map((hash) => `DELETE /lists/${NEWSLETTER}/members/${hash} (batch)`)].sort(),
			);
			expect(mailchimp.requests.slice(mark.requests).every((r) => r.authorized || r.path.startsWith('/batch-results/'))).toBe(true);

			// Summary: the same counts; its requests are the fake's, but for the Email List's one read.
			const [summary] = runtime.nodeItems(first, 'Clean Email List', 1) as Summary[];
			expect(summary).toEqual({
				platform: 'mailchimp',
				listId: NEWSLETTER,
				list: NEWSLETTER,
				mode: 'clean',
				contacts: ROWS.length,
				counts: expectedCounts(firstRows),
				requests: mailchimp.requests.length - mark.requests - 1,
				durationMs: expect.any(Number),
				overMaxShare: false,
			});
			expect(summary.counts).toEqual({
				none: { keep: { skipped: 2 } },
				invalid: { unsubscribe: { done: 2, already: 2 } },
				disposable: { delete: { done: 2 } },
				risky: { keep: { skipped: 1 } },
				unknown: { keep: { skipped: 1 } },
				catch_all: { keep: { skipped: 1 } },
			});

			// Again: the archived members are no longer read; every write is already done, none is sent.
			const markAgain = mailchimpMark(mailchimp);
			const again = await run('execute Mailchimp clean-up again', cleanupWorkflowId('mailchimp'));
			const againRows = ROWS.filter((row) => row.again).map((row) => ({ row, outcome: row.again! }));
			const contactsAgain = runtime.nodeItems(again, 'Clean Email List', 0);
			expect(outcomesOf(contactsAgain)).toEqual(expectedOutcomes(againRows));
			expectSkipDetails(contactsAgain);
			expect(mailchimpWrites(mailchimp, markAgain)).toEqual([]);
			expect(mailchimpSnapshot(mailchimp)).toEqual(after);
			const [summaryAgain] = runtime.nodeItems(again, 'Clean Email List', 1) as Summary[];
			expect(summaryAgain).toMatchObject({ mode: 'clean', contacts: againRows.length, counts: expectedCounts(againRows) });
			expect(summaryAgain.counts.invalid).toEqual({ unsubscribe: { already: 4 } });

			expectNoSecrets(runs, { 'Mailchimp API key': mailchimp.state.apiKey });
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'cleans the HubSpot list: invalid contacts opted out, disposable ones archived, nothing else changed; again: all already',
		async () => {
			const before = hubspotSnapshot(hubspot);
			const from = hubspot.requests.length;
			const first = await run('execute HubSpot clean-up', cleanupWorkflowId('hubspot'));

			const firstRows = ROWS.map((row) => ({ row, outcome: firstOutcome(row, 'hubspot') }));
			const contacts = runtime.nodeItems(first, 'Clean Email List', 0);
			expect(outcomesOf(contacts)).toEqual(expectedOutcomes(firstRows));
			expectSkipDetails(contacts);
			expect(contacts.map((item) => [item.email, item.contactId, item.status])).toEqual(
				ROWS.map((row) => [row.email, hubspotId(row.email), row.email === 'old@ok.test' ? 'unsubscribed' : row.email === 'gone@nullmx.test' ? 'cleaned' : 'subscribed']),
			);

			// The fake: the invalid contacts not yet opted out are now (HubSpot's opt-out is global), the
			// disposable ones archived; every other property, contact and list as it was.
			const optedOut = ['ghost@ok.test', 'dee@nullmx.test', 'gone@nullmx.test'];
			const after = hubspotSnapshot(hubspot);
			const expected = structuredClone(before);
			for (const email of optedOut) expected.contacts[hubspotId(email)].properties.hs_email_optout = 'true';
			for (const email of ARCHIVED) expected.contacts[hubspotId(email)].archived = true;
			expected.optedOut = [...before.optedOut, ...optedOut].sort();
			expect(after).toEqual(expected);
			expect(after.contacts[OUTSIDER.id]).toEqual(before.contacts[OUTSIDER.id]);

			// One unsubscribe-all for the invalid addresses still getting mail, one archive for the two disposable contacts.
			const writes = hubspot.requests.slice(from).filter((r) => HUBSPOT_WRITE.test(r.path));
			expect(writes.map((r) => [r.method, r.path])).toEqual([
				['POST', '/communication-preferences/v4/statuses/batch/unsubscribe-all'],
				['POST', '/crm/v3/objects/contacts/batch/archive'],
			]);
			// old@ok.test had opted out already: its own status says so, and it is not sent.
			expect([...(writes[0].body as { inputs: string[] }).inputs].sort()).toEqual(['dee@nullmx.test', 'ghost@ok.test', 'gone@nullmx.test']);
			expect((writes[1].body as { inputs: Array<{ id: string }> }).inputs.map((input) => input.id).sort()).toEqual(ARCHIVED.map(hubspotId).sort());

			// Summary: its requests are the fake's but for the Email List's two reads (memberships, one batch read).
			const [summary] = runtime.nodeItems(first, 'Clean Email List', 1) as Summary[];
			expect(summary).toEqual({
				platform: 'hubspot',
				listId: HUBSPOT_LIST,
				list: HUBSPOT_LIST,
				mode: 'clean',
				contacts: ROWS.length,
				counts: expectedCounts(firstRows),
				requests: hubspot.requests.length - from - 2,
				durationMs: expect.any(Number),
				overMaxShare: false,
			});
			expect(summary.counts.invalid).toEqual({ unsubscribe: { done: 3, already: 1 } });

			// Again: every write is already done and nothing changes; the members' own status (opted out)
			// tells the planner so, and nothing is sent.
			const fromAgain = hubspot.requests.length;
			const optedOutBefore = new Set(hubspot.state.optedOut);
			const again = await run('execute HubSpot clean-up again', cleanupWorkflowId('hubspot'));
			const againRows = ROWS.filter((row) => row.again).map((row) => ({ row, outcome: row.again! }));
			const contactsAgain = runtime.nodeItems(again, 'Clean Email List', 0);
			expect(outcomesOf(contactsAgain)).toEqual(expectedOutcomes(againRows));
			expectSkipDetails(contactsAgain);
			const writesAgain = hubspot.requests.slice(fromAgain).filter((r) => HUBSPOT_WRITE.test(r.path));
			expect(writesAgain).toEqual([]);
			expect(new Set(hubspot.state.optedOut)).toEqual(optedOutBefore);
			expect(hubspotSnapshot(hubspot)).toEqual(after);
			const [summaryAgain] = runtime.nodeItems(again, 'Clean Email List', 1) as Summary[];
			expect(summaryAgain).toMatchObject({ mode: 'clean', contacts: againRows.length, counts: expectedCounts(againRows) });
			expect(summaryAgain.counts.invalid).toEqual({ unsubscribe: { already: 4 } });

			expectNoSecrets(runs, { 'HubSpot token': hubspot.state.privateAppToken, 'Mailchimp API key': mailchimp.state.apiKey });
		},
		RUN_TIMEOUT_MS,
	);
});
