// The sandbox's main test: what Verify Email must say about each kind of seeded contact, asserted by
// running the real verification engine (configured from the sandbox's Verify Email options, through
// the node's own option mapping) against the sandbox's DNS and SMTP servers. Then the clean-up the
// defaults would make of the audience: under the 20% rail, so "Clean automatically" works.
import { verifierOptions } from '../../nodes/VerifyEmail/options';
import { planCleanup } from '../../src/cleanup/planner';
import { DEFAULT_RULES } from '../../src/cleanup/rules';
import { getPlatform } from '../../src/platforms/registry';
import { CUSTOMERS_ID, NEWSLETTER_ID, SANDBOX_AUDIENCES, SPARE_MAILBOXES, startSandbox, type ContactKind, type Sandbox } from '../../src/sandbox';
import { Verifier } from '../../src/verification/engine';
import type { Verification } from '../../src/verification/types';

/** What Verify Email must say, per kind of contact, on a first run with the node's default options. */
const EXPECTED: Record<ContactKind, { status: string; reason: string; category: string; suggestion?: string }> = {
	valid: { status: 'valid', reason: 'accepted', category: 'valid' },
	role: { status: 'role_account', reason: 'role_account', category: 'risky' },
	unknown_user: { status: 'invalid', reason: 'mailbox_not_found', category: 'invalid' },
	catch_all: { status: 'catch_all', reason: 'catch_all', category: 'catch_all' },
	// Greylisting defers a new sender: no verdict on a first run without a retry (the node's default).
	greylisted: { status: 'unknown', reason: 'greylisted', category: 'unknown' },
	disposable: { status: 'disposable', reason: 'disposable_domain', category: 'disposable' },
	null_mx: { status: 'invalid', reason: 'null_mx', category: 'invalid' },
	no_domain: { status: 'invalid', reason: 'domain_not_found', category: 'invalid' },
	typo_trap: { status: 'spamtrap', reason: 'typo_domain', category: 'risky' },
};

const newsletter = SANDBOX_AUDIENCES.find((a) => a.id === NEWSLETTER_ID)!;

function verifierFor(sandbox: Sandbox, extra: { greylistRetrySeconds?: number } = {}): Verifier {
	return new Verifier(verifierOptions({ ...sandbox.verifyOptions, ...extra }, undefined));
}

const verdict = (v: Verification) => ({ status: v.status, reason: v.reason, category: v.category, ...(v.suggestion ? { suggestion: v.suggestion } : {}) });

describe('the sandbox audience, verified by the real engine against the sandbox servers', () => {
	let sandbox: Sandbox;
	let first: Verification[];

	beforeAll(async () => {
		sandbox = await startSandbox();
		first = await verifierFor(sandbox).verifyBatch(newsletter.contacts.map((c) => c.email));
	}, 30_000);
	afterAll(() => sandbox.close());

	it('has 300 contacts in the mix the seed promises', () => {
		const count = (kind: ContactKind) => newsletter.contacts.filter((c) => c.kind === kind).length;
		expect(newsletter.contacts).toHaveLength(300);
		expect(new Set(newsletter.contacts.map((c) => c.email)).size).toBe(300);
		expect(Object.fromEntries(Object.keys(EXPECTED).map((kind) => [kind, count(kind as ContactKind)]))).toEqual({
			valid: 225,
			role: 5,
			unknown_user: 15,
			catch_all: 24,
			greylisted: 12,
			disposable: 7,
			null_mx: 6,
			no_domain: 3,
			typo_trap: 3,
		});
	});

	it('gives every contact the verdict its kind calls for', () => {
		const got = newsletter.contacts.map((c, i) => ({ email: c.email, kind: c.kind, ...verdict(first[i]) }));
		const want = newsletter.contacts.map((c) => ({
			email: c.email,
			kind: c.kind,
			...EXPECTED[c.kind],
			...(c.kind === 'typo_trap' ? { suggestion: c.email.replace('@gnail.com', '@gmail.com') } : {}),
			...(c.kind === 'no_domain' ? { suggestion: c.email.replace('@northwind.con', '@northwind.com') } : {}),
		}));
		expect(got).toEqual(want);
	});

	it('explains each verdict with the evidence the servers gave', () => {
		const of = (kind: ContactKind) => first[newsletter.contacts.findIndex((c) => c.kind === kind)];
		expect(of('valid').smtp).toMatchObject({ code: 250, enhanced: '2.1.5', catchAll: false, port: sandbox.smtp.port });
		expect(of('unknown_user').smtp).toMatchObject({ code: 550, enhanced: '5.1.1' });
		expect(of('unknown_user').detail).toMatch(/does not exist/);
		expect(of('greylisted').smtp).toMatchObject({ code: 450, enhanced: '4.7.1' });
		expect(of('catch_all').smtp).toMatchObject({ code: 250, catchAll: true });
		expect(of('null_mx').mx).toBeUndefined();
		expect(of('valid').mx).toEqual([expect.stringMatching(/^mx\.(northwind|fabrikam|tailspin)\.test$/)]);
	});

	it('accepts greylisted contacts once the sender comes back after the delay (a second run)', async () => {
		const greylisted = newsletter.contacts.filter((c) => c.kind === 'greylisted').map((c) => c.email);
		await new Promise((resolve) => setTimeout(resolve, 2100));
		const again = await verifierFor(sandbox).verifyBatch(greylisted);
		expect(again.map(verdict)).toEqual(greylisted.map(() => EXPECTED.valid));
	});

	it('plans the default clean-up for under 10% of the audience, within the 20% rail', () => {
		const items = newsletter.contacts.map((c, i) => ({ email: c.email, contactId: c.email, listId: NEWSLETTER_ID, platform: 'mailchimp', status: c.status, verification: first[i] }));
		const plan = planCleanup(items, getPlatform('mailchimp'), NEWSLETTER_ID, DEFAULT_RULES, { enforceMaxShare: true });
		const changed = (action: string) => plan.entries.filter((e) => e.contact && e.action === action).map((e) => newsletter.contacts[e.index]);
		expect(plan.overMaxShare).toBe(false);
		expect(plan.changes).toBe(29);
		expect(plan.share).toBeCloseTo(29 / 300, 5);
		// Every invalid member not yet unsubscribed is to be unsubscribed (the two cleaned ones too:
		// Mailchimp says at run time that they are `already` out), every disposable one deleted (archived).
		expect(changed('unsubscribe').map((c) => c.kind).sort()).toEqual([...Array(13).fill('unknown_user'), ...Array(3).fill('no_domain'), ...Array(6).fill('null_mx')].sort());
		expect(changed('unsubscribe').filter((c) => c.status === 'cleaned').map((c) => c.kind)).toEqual(['null_mx', 'null_mx']);
		expect(changed('delete').map((c) => c.kind)).toEqual(Array(7).fill('disposable'));
		// The invalid members already unsubscribed are `already`, not changed again.
		expect(plan.entries.filter((e) => e.already).map((e) => [newsletter.contacts[e.index].kind, newsletter.contacts[e.index].status])).toEqual([
			['unknown_user', 'unsubscribed'],
			['unknown_user', 'unsubscribed'],
		]);
	});
});

describe('greylisting and new sign-ups, each on a fresh sandbox', () => {
	let sandbox: Sandbox | undefined;
	afterEach(() => sandbox?.close());

	it('turns greylisted contacts valid within one run when Verify Email retries after the delay', async () => {
		sandbox = await startSandbox({ greylistDelayMs: 1000 });
		const greylisted = newsletter.contacts.filter((c) => c.kind === 'greylisted').map((c) => c.email);
		const results = await verifierFor(sandbox, { greylistRetrySeconds: 2 }).verifyBatch(greylisted);
		expect(results.map(verdict)).toEqual(greylisted.map(() => EXPECTED.valid));
	});

	it('keeps them unknown when the retry comes before the delay is over', async () => {
		sandbox = await startSandbox({ greylistDelayMs: 5000 });
		const greylisted = newsletter.contacts.filter((c) => c.kind === 'greylisted').map((c) => c.email);
		const results = await verifierFor(sandbox, { greylistRetrySeconds: 1 }).verifyBatch(greylisted);
		expect(results.map(verdict)).toEqual(greylisted.map(() => EXPECTED.greylisted));
	});

	it('verifies the customers list as all valid', async () => {
		sandbox = await startSandbox();
		const customers = SANDBOX_AUDIENCES.find((a) => a.id === CUSTOMERS_ID)!.contacts;
		expect(customers.length).toBeGreaterThanOrEqual(20);
		const results = await verifierFor(sandbox).verifyBatch(customers.map((c) => c.email));
		expect(results.map(verdict)).toEqual(customers.map(() => EXPECTED.valid));
	});

	it('adds a subscriber now: a real mailbox unless told otherwise, and a clear error for a second add', async () => {
		sandbox = await startSandbox();
		const before = Date.now();
		const member = sandbox.addSubscriber('Lee.Ngo@northwind.test', { name: 'Lee Ngo' });
		const bad = sandbox.addSubscriber('nobody@fabrikam.test', { mailbox: false, listId: CUSTOMERS_ID });
		const spare = sandbox.addSubscriber(SPARE_MAILBOXES[1]);
		expect(member).toMatchObject({ email_address: 'Lee.Ngo@northwind.test', status: 'subscribed', merge_fields: { FNAME: 'Lee', LNAME: 'Ngo' }, list_id: NEWSLETTER_ID });
		expect(Date.parse(member.timestamp_opt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
		expect(sandbox.mailchimp.state.audiences.get(CUSTOMERS_ID)!.members.get(bad.id)).toBe(bad);
		expect(() => sandbox!.addSubscriber('lee.ngo@northwind.test')).toThrow(/already a member of Sandbox newsletter/);
		expect(() => sandbox!.addSubscriber('x@y.test', { listId: 'nope' })).toThrow(/no audience nope/);

		const results = await verifierFor(sandbox).verifyBatch([member.email_address, bad.email_address, spare.email_address]);
		expect(results.map((r) => r.status)).toEqual(['valid', 'invalid', 'valid']);
	});

	it('says which port is taken and how to pick another', async () => {
		sandbox = await startSandbox();
		const taken = Number(new URL(sandbox.apiUrl).port);
		await expect(startSandbox({ port: taken })).rejects.toThrow(
			new RegExp(`127\\.0\\.0\\.1 port ${taken} for the Mailchimp API: the port is in use\\. Choose another base port with LIST_HYGIENE_SANDBOX_PORT`),
		);
		await expect(startSandbox({ port: 70000 })).rejects.toThrow(/base port must be a whole number from 1 to 65533/);
	});
});
