// End to end in a real n8n (each pinned version): the built package is packed and installed the way
// n8n installs community packages, credentials and workflows are imported, and the Email List node
// talks to the stateful fake Mailchimp and HubSpot servers this test serves on 127.0.0.1.
// The HubSpot OAuth2 credential is imported with an access token the fake has expired: n8n has to
// refresh it through the fake's token endpoint (the credential's Base URL Override) and retry.
import { randomBytes } from 'node:crypto';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import { e2eSuite, RUN_TIMEOUT_MS, SETUP_TIMEOUT_MS } from '../helpers/e2e';
import type { CredentialJson, Execution, N8nRuntime, WorkflowJson } from '../../scripts/n8n-runtime.cjs';
import { startFakeHubspot, type FakeHubspot } from '../fakes/hubspot';
import { fakeSubscriberHash, startFakeMailchimp, type FakeMailchimp, type FakeMailchimpMember, type FakeMailchimpSeed } from '../fakes/mailchimp';

const EMAIL_LIST = `${runtime.PACKAGE_NAME}.emailList`;


const READ_WORKFLOW = 'LhE2eEmailListRead';
const UNSUBSCRIBE_WORKFLOW = 'LhE2eEmailListUnsub';
const MAILCHIMP_CREDENTIAL = { id: 'LhE2eMailchimpKey', name: 'e2e Mailchimp (fake)' };
const HUBSPOT_CREDENTIAL = { id: 'LhE2eHubspotOAuth2', name: 'e2e HubSpot OAuth2 (fake)' };

// ---------------------------------------------------------------------------------------------
// What the fakes hold

const NEWSLETTER = 'a1b2c3d4e5';
const CUSTOMERS = 'f6e5d4c3b2';

const mailchimpSeed = (): FakeMailchimpSeed => ({
	audiences: [
		{
			id: NEWSLETTER,
			name: 'Newsletter',
			members: [
				{ email_address: 'ann@example.test', full_name: 'Ann Archer', merge_fields: { FNAME: 'Ann', LNAME: 'Archer' }, tags: [{ id: 1, name: 'vip' }], vip: true },
				{ email_address: 'bob@example.test', full_name: 'Bob Baker', merge_fields: { FNAME: 'Bob' }, language: 'en' },
				{ email_address: 'cid@example.test', status: 'unsubscribed' },
				{ email_address: 'dee@example.test', full_name: 'Dee Diaz', merge_fields: { FNAME: 'Dee', COMPANY: 'Diaz Ltd' }, tags: [{ id: 2, name: 'customer' }] },
				{ email_address: 'eve@example.test', status: 'cleaned' },
				{ email_address: 'fay@example.test', full_name: 'Fay Fox' },
			],
		},
		{
			id: CUSTOMERS,
			name: 'Customers',
			members: [
				{ email_address: 'bob@example.test' },
				{ email_address: 'gus@example.test' },
				{ email_address: 'hal@example.test', status: 'pending' },
			],
		},
	],
});

/** Unsubscribed by the second workflow: Bob by his subscriber hash, Dee by her address. */
const BOB = 'bob@example.test';
const DEE = 'dee@example.test';

const hubspotContacts: Array<{ id: string; properties: Record<string, string> }> = [
	{ id: '2001', properties: { email: 'ann@hub.test', firstname: 'Ann', lastname: 'Archer' } },
	{ id: '2002', properties: { email: 'bob@hub.test', firstname: 'Bob', lastname: 'Baker', hs_email_optout: 'true' } },
	{ id: '2003', properties: { email: 'cat@hub.test', firstname: 'Cat', hs_email_hard_bounce_reason_enum: 'MAILBOX_FULL' } },
	{ id: '2004', properties: { email: 'dan@hub.test', firstname: 'Dan' } },
];
const hubspotLists = () => [
	{ listId: '101', name: 'Newsletter subscribers', processingType: 'MANUAL' as const, objectTypeId: '0-1', memberIds: ['2001', '2002', '2003'] },
	{ listId: '102', name: 'Customers (dynamic)', processingType: 'DYNAMIC' as const, objectTypeId: '0-1', memberIds: ['2001', '2004'] },
	// A list of companies: not an email list, the node leaves it out.
	{ listId: '103', name: 'Newsletter companies', processingType: 'MANUAL' as const, objectTypeId: '0-2', memberIds: [] },
];

// ---------------------------------------------------------------------------------------------
// Credentials and workflows

function credentials(mailchimp: FakeMailchimp, hubspot: FakeHubspot, expiredToken: string): CredentialJson[] {
	const oauth = hubspot.state.oauth;
	return [
		{
			...MAILCHIMP_CREDENTIAL,
			type: 'listHygieneMailchimpApi',
			data: { apiKey: mailchimp.state.apiKey, baseUrl: mailchimp.url },
		},
		{
			...HUBSPOT_CREDENTIAL,
			type: 'listHygieneHubspotOAuth2Api',
			// What the OAuth2 dance would have stored, with an access token that has expired since.
			// accessTokenUrl follows baseUrl: <baseUrl>/oauth/v3/token.
			data: {
				clientId: oauth.clientId,
				clientSecret: oauth.clientSecret,
				baseUrl: hubspot.url,
				oauthTokenData: {
					token_type: 'bearer',
					access_token: expiredToken,
					refresh_token: oauth.refreshToken,
					expires_in: 1800,
				},
			},
		},
	];
}

type Node = WorkflowJson['nodes'][number];

const node = (name: string, type: string, typeVersion: number, position: [number, number], parameters: Record<string, unknown>, extra: Record<string, unknown> = {}): Node => ({
	id: `e2e-${name.toLowerCase().replace(/\W+/g, '-')}`,
	name,
	type,
	typeVersion,
	position,
	parameters,
	...extra,
});

const byId = (value: string) => ({ __rl: true, mode: 'id', value });
const mailchimpNode = (name: string, position: [number, number], parameters: Record<string, unknown>) =>
	node(name, EMAIL_LIST, 1, position, { platform: 'mailchimp', mailchimpAuthentication: 'apiKey', ...parameters }, {
		credentials: { listHygieneMailchimpApi: MAILCHIMP_CREDENTIAL },
	});
const hubspotNode = (name: string, position: [number, number], parameters: Record<string, unknown>) =>
	node(name, EMAIL_LIST, 1, position, { platform: 'hubspot', hubspotAuthentication: 'oAuth2', ...parameters }, {
		credentials: { listHygieneHubspotOAuth2Api: HUBSPOT_CREDENTIAL },
	});

const workflow = (id: string, name: string, nodes: Node[], connections: Record<string, string[]>): WorkflowJson => ({
	id,
	versionId: '8d2c6f1e-4b7a-4e3d-9a5c-1f0e7b6d2c48',
	name,
	active: false,
	nodes,
	connections: Object.fromEntries(
		Object.entries(connections).map(([from, to]) => [from, { main: [to.map((target) => ({ node: target, type: 'main', index: 0 }))] }]),
	),
	settings: { executionOrder: 'v1' },
});

/** Manual Trigger -> Mailchimp audiences, HubSpot lists and the members of HubSpot list 101 (run in that order). */
const readWorkflow = () =>
	workflow(
		READ_WORKFLOW,
		'e2e: Email List reads Mailchimp and HubSpot',
		[
			node('Start', 'n8n-nodes-base.manualTrigger', 1, [0, 200], {}),
			mailchimpNode('Mailchimp Lists', [300, 0], { resource: 'list', operation: 'getMany' }),
			hubspotNode('HubSpot Lists', [300, 200], { resource: 'list', operation: 'getMany' }),
			hubspotNode('HubSpot Members', [300, 400], { resource: 'member', operation: 'getMany', listId: byId('101'), returnAll: true, options: {} }),
		],
		{ Start: ['Mailchimp Lists', 'HubSpot Lists', 'HubSpot Members'] },
	);

/** The items the Email List node unsubscribes: one names the member by ID (and address), one by address only. */
const toUnsubscribe = [
	{ name: 'Bob', contactId: fakeSubscriberHash(BOB), email: BOB },
	{ name: 'Dee', email: DEE, note: 'by address' },
];

/** Manual Trigger -> Set (raw JSON) -> Split Out -> Email List (Mailchimp, unsubscribe from the newsletter). */
const unsubscribeWorkflow = () =>
	workflow(
		UNSUBSCRIBE_WORKFLOW,
		'e2e: Email List unsubscribes in Mailchimp',
		[
			node('Start', 'n8n-nodes-base.manualTrigger', 1, [0, 0], {}),
			node('Contacts', 'n8n-nodes-base.set', 3.4, [200, 0], { mode: 'raw', jsonOutput: JSON.stringify({ contacts: toUnsubscribe }), options: {} }),
			node('Split', 'n8n-nodes-base.splitOut', 1, [400, 0], { fieldToSplitOut: 'contacts', options: {} }),
			mailchimpNode('Unsubscribe', [600, 0], {
				resource: 'contact',
				operation: 'unsubscribe',
				listId: byId(NEWSLETTER),
				contactId: '={{ $json.contactId }}',
				email: '={{ $json.email }}',
			}),
		],
		{ Start: ['Contacts'], Contacts: ['Split'], Split: ['Unsubscribe'] },
	);

// ---------------------------------------------------------------------------------------------
// Helpers

/** A deep copy of every audience's members, by audience then subscriber hash. */
function snapshot(mailchimp: FakeMailchimp): Record<string, Record<string, FakeMailchimpMember>> {
	return Object.fromEntries(
		[...mailchimp.state.audiences.values()].map((audience) => [audience.id, structuredClone(Object.fromEntries(audience.members))]),
	);
}

const writesTo = (mailchimp: FakeMailchimp, from = 0) => mailchimp.requests.slice(from).filter((r) => r.method !== 'GET');

/** Fails when any of the secrets shows up in what n8n printed. */
function expectNoSecrets(runs: Execution[], secrets: Record<string, string>) {
	const output = runs.map((run) => `${run.stdout}\n${run.stderr}`).join('\n');
	const leaked = Object.entries(secrets)
		.filter(([, secret]) => secret.length >= 8 && output.includes(secret))
		.map(([what]) => what);
	expect(leaked).toEqual([]);
}

const { timed, prepare } = e2eSuite();

describe.each(runtime.N8N_VERSIONS.map((version) => [version]))('Email List in n8n %s', (version) => {
	let n8n: N8nRuntime;
	let userFolder: string;
	let mailchimp: FakeMailchimp;
	let hubspot: FakeHubspot;
	const expiredToken = `oauth-0-${randomBytes(12).toString('hex')}`;
	const runs: Execution[] = [];

	beforeAll(async () => {
		mailchimp = await startFakeMailchimp(mailchimpSeed());
		hubspot = await startFakeHubspot({
			contacts: hubspotContacts,
			lists: hubspotLists(),
			// The token the credential holds: known to the fake, and expired a minute ago.
			oauth: { accessToken: expiredToken, expiresAt: Date.now() - 60_000 },
		});
		({ n8n, userFolder } = await prepare(version, 'list'));
		await timed(`[${version}] import credentials`, () => runtime.importCredentials(n8n, userFolder, credentials(mailchimp, hubspot, expiredToken)));
		await timed(`[${version}] import workflows`, () => runtime.importWorkflow(n8n, userFolder, [readWorkflow(), unsubscribeWorkflow()]));
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await mailchimp?.close();
		await hubspot?.close();
	});

	it(
		'reads Mailchimp audiences, and HubSpot lists and members after refreshing the expired OAuth2 token',
		async () => {
			const refreshToken = hubspot.state.oauth.refreshToken;
			const run = await timed(`[${version}] execute read`, () => runtime.executeWorkflow(n8n, userFolder, READ_WORKFLOW));
			runs.push(run);

			// Mailchimp: every audience, its member count being the subscribed members.
			expect(runtime.nodeItems(run, 'Mailchimp Lists')).toEqual([
				{ id: NEWSLETTER, name: 'Newsletter', kind: 'audience', memberCount: 4, platform: 'mailchimp' },
				{ id: CUSTOMERS, name: 'Customers', kind: 'audience', memberCount: 2, platform: 'mailchimp' },
			]);
			// Signed with the API key, and nothing went elsewhere.
			expect(mailchimp.requests.length).toBeGreaterThan(0);
			expect(mailchimp.requests.every((r) => r.authorized && r.method === 'GET' && r.path === '/3.0/lists')).toBe(true);

			// HubSpot: the contact lists with their sizes, and list 101's members with their states.
			expect(runtime.nodeItems(run, 'HubSpot Lists')).toEqual([
				{ id: '101', name: 'Newsletter subscribers', kind: 'static_list', memberCount: 3, platform: 'hubspot' },
				{ id: '102', name: 'Customers (dynamic)', kind: 'dynamic_list', memberCount: 2, platform: 'hubspot' },
			]);
			expect(runtime.nodeItems(run, 'HubSpot Members')).toEqual([
				{ email: 'ann@hub.test', contactId: '2001', listId: '101', platform: 'hubspot', status: 'subscribed' },
				{ email: 'bob@hub.test', contactId: '2002', listId: '101', platform: 'hubspot', status: 'unsubscribed' },
				{ email: 'cat@hub.test', contactId: '2003', listId: '101', platform: 'hubspot', status: 'cleaned' },
			]);

			// The first call answered 401 (expired token), n8n refreshed the token once with the refresh
			// token and the client credentials in the body, and repeated the call, which succeeded.
			const tokenPath = '/oauth/v3/token';
			const tokenCalls = hubspot.requests.filter((r) => r.path === tokenPath);
			expect(tokenCalls).toHaveLength(1);
			expect(tokenCalls[0].method).toBe('POST');
			const form = Object.fromEntries(new URLSearchParams(String(tokenCalls[0].body)));
			expect(form).toMatchObject({
				grant_type: 'refresh_token',
				refresh_token: refreshToken,
				client_id: hubspot.state.oauth.clientId,
				client_secret: hubspot.state.oauth.clientSecret,
			});
			expect(hubspot.state.oauth.issued).toBe(2);
			// Before the refresh only the rejected list search (a node may ask once more before n8n
			// refreshes); after it, each call once: nothing was rejected with the new token.
			const paths = hubspot.requests.map((r) => `${r.method} ${r.path}`);
			const refreshAt = paths.indexOf(`POST ${tokenPath}`);
			expect(refreshAt).toBeGreaterThan(0);
			expect(new Set(paths.slice(0, refreshAt))).toEqual(new Set(['POST /crm/v3/lists/search']));
			expect(paths.slice(refreshAt + 1)).toEqual([
				'POST /crm/v3/lists/search',
				'GET /crm/v3/lists/101/memberships',
				'POST /crm/v3/objects/contacts/batch/read',
			]);

			expectNoSecrets([run], {
				'Mailchimp API key': mailchimp.state.apiKey,
				'HubSpot client secret': hubspot.state.oauth.clientSecret,
				'HubSpot refresh token': refreshToken,
				'expired HubSpot access token': expiredToken,
				'refreshed HubSpot access token': hubspot.state.oauth.accessToken,
			});
		},
		RUN_TIMEOUT_MS,
	);

	it(
		'unsubscribes two Mailchimp members, then finds them already unsubscribed and writes nothing',
		async () => {
			const before = snapshot(mailchimp);
			const requestsBefore = mailchimp.requests.length;
			const first = await timed(`[${version}] execute unsubscribe`, () => runtime.executeWorkflow(n8n, userFolder, UNSUBSCRIBE_WORKFLOW));
			runs.push(first);

			const results = runtime.nodeItems(first, 'Unsubscribe');
			expect(results).toEqual([
				{ ...toUnsubscribe[0], result: { action: 'unsubscribe', outcome: 'done', contactId: fakeSubscriberHash(BOB) } },
				{ ...toUnsubscribe[1], result: { action: 'unsubscribe', outcome: 'done', contactId: fakeSubscriberHash(DEE) } },
			]);

			// One batch write, to the newsletter audience only.
			expect(writesTo(mailchimp, requestsBefore).map((r) => `${r.method} ${r.path}`)).toEqual([`POST /3.0/lists/${NEWSLETTER}`]);
			expect(mailchimp.requests.slice(requestsBefore).every((r) => r.authorized)).toBe(true);

			// Bob and Dee are unsubscribed from the newsletter; nothing else changed, Bob stays in Customers.
			const after = snapshot(mailchimp);
			const expected = structuredClone(before);
			for (const email of [BOB, DEE]) {
				const hash = fakeSubscriberHash(email);
				expect(after[NEWSLETTER][hash].last_changed).not.toBe(before[NEWSLETTER][hash].last_changed);
				expected[NEWSLETTER][hash] = { ...before[NEWSLETTER][hash], status: 'unsubscribed', last_changed: after[NEWSLETTER][hash].last_changed };
			}
			expect(after).toEqual(expected);
			expect(after[CUSTOMERS][fakeSubscriberHash(BOB)].status).toBe('subscribed');

			// Again: both are already unsubscribed, and nothing is written.
			const requestsBeforeAgain = mailchimp.requests.length;
			const again = await timed(`[${version}] execute unsubscribe again`, () => runtime.executeWorkflow(n8n, userFolder, UNSUBSCRIBE_WORKFLOW));
			runs.push(again);
			const outcomes = runtime.nodeItems(again, 'Unsubscribe').map((item) => item.result as Record<string, unknown>);
			expect(outcomes.map((result) => [result.action, result.outcome, result.contactId])).toEqual([
				['unsubscribe', 'already', fakeSubscriberHash(BOB)],
				['unsubscribe', 'already', fakeSubscriberHash(DEE)],
			]);
			expect(outcomes.every((result) => typeof result.detail === 'string' && /already unsubscribed/i.test(String(result.detail)))).toBe(true);
			expect(mailchimp.requests.length).toBeGreaterThan(requestsBeforeAgain);
			expect(writesTo(mailchimp, requestsBeforeAgain)).toEqual([]);
			expect(snapshot(mailchimp)).toEqual(after);

			expectNoSecrets(runs, { 'Mailchimp API key': mailchimp.state.apiKey, 'HubSpot client secret': hubspot.state.oauth.clientSecret });
		},
		RUN_TIMEOUT_MS,
	);
});
