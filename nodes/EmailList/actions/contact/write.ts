// Unsubscribe and Delete share everything but the platform call: reading contact references from
// the items, per-item errors for items that name no contact, and one outcome per item.
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';

import type { ApiClient } from '../../../../src/http/client';
import type { ContactRef, Platform, WriteOutcome } from '../../../../src/platforms/types';
import { platformClient } from '../../../shared/platform';

export function contactFields(operation: string): INodeProperties[] {
	const show = { resource: ['contact'], operation: [operation] };
	return [
		{
			displayName: 'Contact ID',
			name: 'contactId',
			type: 'string',
			default: '={{ $json.contactId }}',
			displayOptions: { show },
			description: 'The platform’s ID of the contact. Leave empty to find the contact by email.',
		},
		{
			displayName: 'Email',
			name: 'email',
			type: 'string',
			placeholder: 'name@email.com',
			default: '={{ $json.email }}',
			displayOptions: { show },
			description: 'The contact’s email address, used when there is no contact ID',
		},
	];
}

type Write = (platform: Platform, api: ApiClient, listId: string, contacts: ContactRef[]) => Promise<WriteOutcome[]>;

export async function writeContacts(this: IExecuteFunctions, action: 'unsubscribe' | 'delete', write: Write): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const { platform, api } = await platformClient(this);
	const listId = this.getNodeParameter('listId', 0, '', { extractValue: true }) as string;

	const contacts: ContactRef[] = [];
	const problems = new Map<number, NodeOperationError>();
	items.forEach((_item, index) => {
		const contactId = String(this.getNodeParameter('contactId', index, '') ?? '').trim() || undefined;
		const email = String(this.getNodeParameter('email', index, '') ?? '').trim() || undefined;
		if (!contactId && !email) {
			problems.set(
				index,
				new NodeOperationError(this.getNode(), `Item ${index + 1} names no contact: both Contact ID and Email are empty`, {
					itemIndex: index,
					description: 'Map the contact’s ID or email address from the input; nothing was sent for this item.',
				}),
			);
			return;
		}
		contacts.push({ index, contactId, email });
	});
	const firstProblem = problems.values().next().value;
	if (firstProblem && !this.continueOnFail()) throw firstProblem;

	const outcomes = contacts.length > 0 ? await write(platform, api, listId, contacts) : [];
	const byIndex = new Map(outcomes.map((o) => [o.index, o]));

	const failed = outcomes.filter((o) => o.outcome === 'failed');
	if (failed.length > 0 && !this.continueOnFail()) {
		const counts = ['done', 'already', 'failed', 'skipped'].map((k) => `${outcomes.filter((o) => o.outcome === k).length} ${k}`).join(', ');
		throw new NodeOperationError(this.getNode(), `${platform.name}: ${action} failed for ${failed.length} of ${outcomes.length} contacts: ${failed[0].detail ?? 'no detail'}`, {
			itemIndex: failed[0].index,
			description: `Outcomes: ${counts}. The other contacts were written. Turn on "Continue On Fail" to get one item per contact with its outcome.`,
		});
	}

	return items.map((item, index) => {
		const problem = problems.get(index);
		if (problem) return { json: { ...item.json, error: problem.message }, pairedItem: { item: index } };
		const outcome = byIndex.get(index);
		const result: IDataObject = { action, outcome: outcome?.outcome ?? 'skipped' };
		if (outcome?.contactId) result.contactId = outcome.contactId;
		if (outcome?.detail) result.detail = outcome.detail;
		const json: IDataObject = { ...item.json, result };
		if (outcome?.outcome === 'failed') json.error = outcome.detail ?? `${action} failed`;
		return { json, pairedItem: { item: index } };
	});
}
