// The conformance checker itself, on requests whose verdict is known, against each shared spec.
import { conformanceProblems, describeConformance } from '../helpers/conformance';

const req = (method: string, url: string, body?: unknown, query: Record<string, string> = {}) => ({ method, url, body, query });

describeConformance('conformance checker: Mailchimp', ['mailchimp/marketing_3.0.55.yaml'], (specs) => {
	it('accepts documented requests', () => {
		expect(conformanceProblems(specs(), [req('GET', 'https://us6.api.mailchimp.com/3.0/lists?count=1000')])).toEqual([]);
		expect(
			conformanceProblems(specs(), [
				req('POST', 'https://us6.api.mailchimp.com/3.0/lists/abc123', { members: [{ email_address: 'a@b.test', status: 'unsubscribed' }], update_existing: true }),
			]),
		).toEqual([]);
	});

	it('names an unknown path, a wrong method and a body that does not fit', () => {
		const problems = conformanceProblems(specs(), [
			req('GET', 'https://us6.api.mailchimp.com/3.0/no-such-thing'),
			req('PATCH', 'https://us6.api.mailchimp.com/3.0/lists'),
			req('POST', 'https://us6.api.mailchimp.com/3.0/lists/abc123', { members: 'not a list' }),
		]);
		expect(problems).toEqual([
			expect.stringContaining('GET /no-such-thing: no such path'),
			expect.stringContaining('the path exists (/lists) but not with PATCH'),
			expect.stringMatching(/POST \/lists\/\{list_id\}: body\/members must be array/),
		]);
	});
});

describeConformance('conformance checker: Constant Contact (Swagger 2)', ['constantcontact/v3_swagger.yml'], (specs) => {
	it('checks paths under the base path and Swagger 2 body parameters', () => {
		expect(conformanceProblems(specs(), [req('GET', 'https://api.cc.email/v3/contact_lists?include_membership_count=all')])).toEqual([]);
		const problems = conformanceProblems(specs(), [req('POST', 'https://api.cc.email/v3/activities/contact_delete', { contact_ids: 'x' })]);
		expect(problems.join('\n')).toMatch(/body\/contact_ids must be array/);
	});
});

describeConformance('conformance checker: HubSpot and SendGrid', ['hubspot/crm_lists_v3.json', 'sendgrid/mc_contacts_v3.json'], (specs) => {
	it('checks required query parameters', () => {
		expect(conformanceProblems(specs(), [req('GET', 'https://api.hubapi.com/crm/v3/lists/123/memberships')])).toEqual([]);
		expect(conformanceProblems(specs(), [req('GET', 'https://api.sendgrid.com/v3/marketing/contacts')])).toEqual([]);
		expect(conformanceProblems(specs(), [req('GET', 'https://api.sendgrid.com/v3/marketing/contacts/search/emails')]).join('\n')).toMatch(/not with GET/);
	});
});
