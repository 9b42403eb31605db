import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';

import type { Member, MemberStatus } from '../../src/platforms/types';
import { pollNewMembers, sampleMembers, type NewMemberState } from '../../src/polling/newMembers';
import { toNodeError } from '../shared/errors';
import { listLocator, platformClient, platformCredentials, platformProperties, searchLists } from '../shared/platform';

/** Members a manual run ("Fetch test event") returns. */
const SAMPLE_SIZE = 3;
/** Where the poll state lives in the workflow's static data. */
const STATE_KEY = 'newMembers';

const pollable = (platform: { capabilities: { newMemberPolling: boolean } }) => platform.capabilities.newMemberPolling;

interface Options {
	includeExisting?: boolean;
	includeRaw?: boolean;
	status?: MemberStatus[];
}

/** A member item, the same shape as Email List's (so Verify Email and Clean Email List follow unchanged). */
function memberItem({ raw, ...member }: Member, includeRaw: boolean): INodeExecutionData {
	return { json: (includeRaw ? { ...member, raw } : member) as IDataObject };
}

export class EmailListTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Email List Trigger',
		name: 'emailListTrigger',
		icon: { light: 'file:../../icons/emailListTrigger.svg', dark: 'file:../../icons/emailListTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: 'New member in list',
		description: 'Starts the workflow when a new member joins a list of an email platform',
		defaults: { name: 'Email List Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: platformCredentials(pollable),
		properties: [
			{
				displayName: 'Event',
				name: 'event',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'New Member in List', value: 'newMember', description: 'A contact joined the list' }],
				default: 'newMember',
			},
			...platformProperties(pollable),
			listLocator,
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Include Existing Members',
						name: 'includeExisting',
						type: 'boolean',
						default: false,
						description:
							'Whether the first poll after activation emits the members already in the list (for a first clean-up of the whole list). Off: only members who join from now on.',
					},
					{
						displayName: 'Include Raw Record',
						name: 'includeRaw',
						type: 'boolean',
						default: false,
						description: 'Whether to add the platform’s own record of the member under "raw"',
					},
					{
						displayName: 'Status',
						name: 'status',
						type: 'multiOptions',
						default: [],
						description: 'Only new members in these states (all when empty). Members in other states are passed over, not kept for later.',
						options: [
							{ name: 'Cleaned (Bounced)', value: 'cleaned' },
							{ name: 'Pending', value: 'pending' },
							{ name: 'Subscribed', value: 'subscribed' },
							{ name: 'Transactional', value: 'transactional' },
							{ name: 'Unsubscribed', value: 'unsubscribed' },
						],
					},
				],
			},
		],
	};

	methods = { listSearch: { searchLists } };

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const listId = this.getNodeParameter('listId', '', { extractValue: true }) as string;
		if (!listId) throw new NodeOperationError(this.getNode(), 'No list chosen', { description: 'Choose the list to watch under "List".' });
		const options = this.getNodeParameter('options', {}) as Options;
		const includeRaw = options.includeRaw === true;
		const statuses = options.status?.length ? new Set(options.status) : undefined;

		try {
			const { platform, api } = await platformClient(this);
			if (this.getMode() === 'manual') {
				// "Fetch test event": the newest members, without moving the watermark.
				const sample = await sampleMembers(platform, api, listId, SAMPLE_SIZE);
				if (sample.length === 0) {
					throw new NodeOperationError(this.getNode(), 'The list has no members yet', {
						description: `Add a member to the list in ${platform.name}, then fetch a test event again.`,
					});
				}
				return [sample.map((member) => memberItem(member, includeRaw))];
			}

			const staticData = this.getWorkflowStaticData('node');
			const previous = staticData[STATE_KEY] as NewMemberState | undefined;
			const { members, state } = await pollNewMembers(platform, api, listId, previous, { includeExisting: options.includeExisting === true });
			staticData[STATE_KEY] = state as unknown as IDataObject;

			const items = members.filter((member) => !statuses || statuses.has(member.status)).map((member) => memberItem(member, includeRaw));
			return items.length > 0 ? [items] : null;
		} catch (error) {
			throw toNodeError(this.getNode(), error);
		}
	}
}
