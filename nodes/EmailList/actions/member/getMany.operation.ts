import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { collect } from '../../../../src/http/paginate';
import type { MemberStatus } from '../../../../src/platforms/types';
import { listLocator, platformClient } from '../../../shared/platform';

const show = { resource: ['member'], operation: ['getMany'] };

export const description: INodeProperties[] = [
	{ ...listLocator, displayOptions: { show } },
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		displayOptions: { show },
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 1 },
		displayOptions: { show: { ...show, returnAll: [false] } },
		description: 'Max number of results to return',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: { show },
		options: [
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
				description: 'Only members in these states (all when empty)',
				options: [
					{ name: 'Archived', value: 'archived' },
					{ name: 'Cleaned (Bounced)', value: 'cleaned' },
					{ name: 'Pending', value: 'pending' },
					{ name: 'Subscribed', value: 'subscribed' },
					{ name: 'Transactional', value: 'transactional' },
					{ name: 'Unsubscribed', value: 'unsubscribed' },
				],
			},
		],
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { platform, api } = await platformClient(this);
	const listId = this.getNodeParameter('listId', 0, '', { extractValue: true }) as string;
	const returnAll = this.getNodeParameter('returnAll', 0) as boolean;
	const limit = returnAll ? undefined : (this.getNodeParameter('limit', 0) as number);
	const options = this.getNodeParameter('options', 0, {}) as { includeRaw?: boolean; status?: MemberStatus[] };
	const status = options.status?.length ? options.status : undefined;

	const members = await collect(platform.members(api, listId, { status }), limit);
	return members.map(({ raw, ...member }) => ({
		json: (options.includeRaw ? { ...member, raw } : member) as IDataObject,
		pairedItem: { item: 0 },
	}));
}
