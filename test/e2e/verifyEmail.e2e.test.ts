// End to end in a real n8n (each pinned version): the built package is packed and installed the way
// n8n installs community packages, workflows are imported and run headlessly with `n8n execute`,
// and the Verify Email node asks a loopback DNS server that this test scripts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import { e2eSuite, RUN_TIMEOUT_MS, SETUP_TIMEOUT_MS } from '../helpers/e2e';
import type { N8nRuntime, WorkflowJson } from '../../scripts/n8n-runtime.cjs';
import { startDnsServer, type DnsZone, type TestDnsServer } from '../helpers/dnsServer';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtpServer';

const VERIFY_EMAIL = `${runtime.PACKAGE_NAME}.verifyEmail`;
const EXAMPLE_FILE = join(runtime.REPO_ROOT, 'examples', 'verify-email-addresses.json');


// Every mail host of the zone is the scripted SMTP server on 127.0.0.1.
const zone: DnsZone = {
	'good.test': { MX: [{ preference: 10, exchange: 'mx.good.test' }] },
	'nullmx.test': { MX: [{ preference: 0, exchange: '.' }] },
	'mailinator.com': { MX: [{ preference: 10, exchange: 'mail.mailinator.com' }] },
	// for the shipped example
	'outlook.com': { MX: [{ preference: 5, exchange: 'outlook-com.olc.protection.outlook.com' }] },
	'n8n.io': { MX: [{ preference: 1, exchange: 'aspmx.l.google.com' }] },
	'example.com': { MX: [{ preference: 0, exchange: '.' }] },
	'mx.good.test': { A: ['127.0.0.1'] },
	'mail.mailinator.com': { A: ['127.0.0.1'] },
	'outlook-com.olc.protection.outlook.com': { A: ['127.0.0.1'] },
	'aspmx.l.google.com': { A: ['127.0.0.1'] },
};

/** Mailboxes the scripted SMTP server knows; it answers 550 5.1.1 for any other. */
const mailboxes = ['ann@good.test', 'a@mailinator.com', 'ada.lovelace@outlook.com', 'sales@n8n.io', 'info@mailinator.com'];

/** The node options that point it at the loopback DNS and SMTP servers. */
const loopbackOptions = (dns: TestDnsServer, smtp: TestSmtpServer) => ({
	dnsServers: dns.address,
	dnsTimeoutMs: 3000,
	smtpPort: smtp.port,
	allowPrivateNetworks: true,
	heloName: 'e2e.test',
});

const contacts = [
	{ email: 'ann@good.test', name: 'Ann', crm: { id: 1, tags: ['vip'] } },
	{ email: 'bob@nullmx.test', name: 'Bob' },
	{ email: 'x@missing.test', name: 'Xavier' },
	{ email: 'not-an-address', name: 'Nobody' },
	{ email: 'a@mailinator.com', name: 'Temp' },
	{ email: 'ann@good.test', name: 'Ann again' },
	{ name: 'No address' },
];

/** Manual Trigger -> Set (raw JSON) -> Split Out -> Verify Email: n8n core nodes that need no task runner. */
function testWorkflow(
	options: Record<string, unknown>,
	{ id = 'LhE2eVerifyEmail', onError = 'continueRegularOutput', routeByCategory = false }: { id?: string; onError?: string; routeByCategory?: boolean } = {},
): WorkflowJson {
	const node = (name: string, type: string, typeVersion: number, x: number, parameters: Record<string, unknown>) => ({
		id: `e2e-${name.toLowerCase().replace(/\W+/g, '-')}`,
		name,
		type,
		typeVersion,
		position: [x, 0],
		parameters,
	});
	return {
		id,
		versionId: '3f7a8c52-6d1e-4b0a-9c2f-5e8d7b6a4c31',
		name: `e2e: Verify Email (${onError})`,
		active: false,
		nodes: [
			node('Start', 'n8n-nodes-base.manualTrigger', 1, 0, {}),
			node('Contacts', 'n8n-nodes-base.set', 3.4, 200, {
				mode: 'raw',
				jsonOutput: JSON.stringify({ contacts }),
				options: {},
			}),
			node('Split', 'n8n-nodes-base.splitOut', 1, 400, { fieldToSplitOut: 'contacts', options: {} }),
			{
				...node('Verify Email', VERIFY_EMAIL, 1, 600, {
					emailField: 'email',
					routeByCategory,
					options,
				}),
				// "On Error: Continue": a bad item becomes an item with `error`, the rest go on.
				onError,
			},
		],
		connections: {
			Start: { main: [[{ node: 'Contacts', type: 'main', index: 0 }]] },
			Contacts: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
			Split: { main: [[{ node: 'Verify Email', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** The shipped example, pointed at the loopback DNS server instead of the machine's resolvers. */
async function exampleWorkflow(options: Record<string, unknown>): Promise<WorkflowJson> {
	const workflow = JSON.parse(await readFile(EXAMPLE_FILE, 'utf8')) as WorkflowJson;
	const verify = workflow.nodes.find((n) => n.type === VERIFY_EMAIL);
	if (!verify) throw new Error(`${EXAMPLE_FILE} has no ${VERIFY_EMAIL} node`);
	verify.parameters = {
		...verify.parameters,
		options: { ...(verify.parameters.options as object), ...options },
	};
	return workflow;
}

type Verification = {
	status: string;
	category: string;
	reason: string;
	detail: string;
	normalized?: string;
	suggestion?: string;
	flags: { disposable: boolean; role: boolean; free: boolean };
	mx?: string[];
	smtp?: Record<string, unknown>;
	duplicate?: true;
	checkedAt: string;
};
const verificationOf = (item: Record<string, unknown>) => item.verification as Verification;

const { timed, prepare } = e2eSuite();

describe.each(runtime.N8N_VERSIONS.map((version) => [version]))('Verify Email in n8n %s', (version) => {
	let n8n: N8nRuntime;
	let userFolder: string;
	let dns: TestDnsServer;
	let smtp: TestSmtpServer;

	beforeAll(async () => {
		({ n8n, userFolder } = await prepare(version, 'verify'));
		dns = await startDnsServer(zone);
		smtp = await startSmtpServer({
			rcptReply: (to) => (mailboxes.includes(to.toLowerCase()) ? '250 2.1.5 Ok' : `550 5.1.1 <${to}>: Recipient address rejected: User unknown`),
		});
		const options = loopbackOptions(dns, smtp);
		const workflows = [
			testWorkflow(options),
			testWorkflow(options, { id: 'LhE2eErrorOutput', onError: 'continueErrorOutput' }),
			testWorkflow(options, { id: 'LhE2eRouted', routeByCategory: true }),
			await exampleWorkflow(options),
		];
		await timed(`[${version}] import`, () => runtime.importWorkflow(n8n, userFolder, workflows));
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await dns?.close();
		await smtp?.close();
	});

	it(
		'verifies every item with the loopback DNS server and keeps the input fields',
		async () => {
			const run = await timed(`[${version}] execute`, () => runtime.executeWorkflow(n8n, userFolder, 'LhE2eVerifyEmail'));
			const items = runtime.nodeItems(run, 'Verify Email');

			expect(items.map((item) => item.name)).toEqual(contacts.map((contact) => contact.name));
			expect(items.map((item) => item.email)).toEqual(contacts.map((contact) => contact.email));
			expect(items[0].crm).toEqual({ id: 1, tags: ['vip'] });

			const outcome = items.map((item) => {
				const v = verificationOf(item);
				return v ? [v.status, v.category, v.reason] : ['error'];
			});
			expect(outcome).toEqual([
				['valid', 'valid', 'accepted'],
				['invalid', 'invalid', 'null_mx'],
				['invalid', 'invalid', 'domain_not_found'],
				['invalid', 'invalid', 'invalid_syntax'],
				['disposable', 'disposable', 'disposable_domain'],
				['valid', 'valid', 'accepted'],
				['error'],
			]);

			const ann = verificationOf(items[0]);
			expect(ann.mx).toEqual(['mx.good.test']);
			expect(ann.normalized).toBe('ann@good.test');
			expect(ann.flags).toEqual({ disposable: false, role: false, free: false });
			expect(ann.duplicate).toBeUndefined();
			expect(ann.smtp).toMatchObject({ host: 'mx.good.test', ip: '127.0.0.1', code: 250, catchAll: false });
			// n8n's node asked our SMTP server: EHLO with the configured name, and never DATA.
			const commands = smtp.sessions.flatMap((session) => session.commands);
			expect(commands).toContain('EHLO e2e.test');
			expect(commands).not.toContain('DATA');
			expect(typeof ann.detail).toBe('string');
			expect(new Date(ann.checkedAt).toISOString()).toBe(ann.checkedAt);

			expect(verificationOf(items[4]).flags.disposable).toBe(true);
			expect(verificationOf(items[5]).duplicate).toBe(true);
			expect(items[6].error).toMatch(/no field "email"/);

			// The node asked our DNS server, not the machine's resolvers.
			expect(dns.queries).toEqual(expect.arrayContaining([{ name: 'good.test', type: 'MX' }, { name: 'nullmx.test', type: 'MX' }]));
			expect(dns.queries.map((q) => q.name)).not.toContain('not-an-address');
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'routes an item without an address to the error output when asked to',
		async () => {
			const run = await timed(`[${version}] execute error output`, () => runtime.executeWorkflow(n8n, userFolder, 'LhE2eErrorOutput'));
			const success = runtime.nodeItems(run, 'Verify Email', 0);
			const failed = runtime.nodeItems(run, 'Verify Email', 1);
			expect(success.map((item) => item.name)).toEqual(contacts.slice(0, 6).map((contact) => contact.name));
			expect(failed).toHaveLength(1);
			expect(failed[0]).toMatchObject({ name: 'No address', error: expect.stringMatching(/no field "email"/) });
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'sends each item to the output of its category when routing is on',
		async () => {
			const run = await timed(`[${version}] execute routed`, () => runtime.executeWorkflow(n8n, userFolder, 'LhE2eRouted'));
			// Valid, Invalid, Disposable, Catch-All, Unknown, Risky
			const names = [0, 1, 2, 3, 4, 5].map((output) => runtime.nodeItems(run, 'Verify Email', output).map((item) => item.name));
			expect(names).toEqual([['Ann', 'Ann again'], ['Bob', 'Xavier', 'Nobody'], ['Temp'], [], ['No address'], []]);
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'runs the shipped example workflow',
		async () => {
			const example = JSON.parse(await readFile(EXAMPLE_FILE, 'utf8')) as WorkflowJson;
			const verifyNode = example.nodes.find((n) => n.type === VERIFY_EMAIL)!.name;
			const run = await timed(`[${version}] execute example`, () => runtime.executeWorkflow(n8n, userFolder, example.id));
			const items = runtime.nodeItems(run, verifyNode);

			expect(items.map((item) => item.email)).toEqual([
				'ada.lovelace@outlook.com',
				'sales@n8n.io',
				'someone@example.com',
				'jane.doe@gmial.com',
				'info@mailinator.com',
				'not-an-address',
				'Ada.Lovelace@Outlook.com',
			]);
			for (const item of items) expect(typeof item.name).toBe('string');
			const v = items.map(verificationOf);
			expect([v[0].status, v[0].reason, v[0].flags.free]).toEqual(['valid', 'accepted', true]);
			expect(v[1].status).toBe('role_account');
			expect([v[2].status, v[2].reason]).toEqual(['invalid', 'null_mx']);
			expect(v[3].suggestion).toBe('jane.doe@gmail.com');
			expect(v[4].status).toBe('disposable');
			expect([v[5].status, v[5].reason]).toEqual(['invalid', 'invalid_syntax']);
			expect(v[6].duplicate).toBe(true);
		},
		RUN_TIMEOUT_MS,
	);
});
