import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { platformClient } from '../../../shared/platform';

export const description: INodeProperties[] = [
	{
		displayName: 'Name Contains',
		name: 'filter',
		type: 'string',
		default: '',
		displayOptions: { show: { resource: ['list'], operation: ['getMany'] } },
		description: 'Only lists whose name contains this text (any case)',
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { platform, api } = await platformClient(this);
	const filter = (this.getNodeParameter('filter', 0, '') as string).trim() || undefined;
	const items: INodeExecutionData[] = [];
	let cursor: string | undefined;
	do {
		const page = await platform.lists(api, { filter, cursor });
		for (const list of page.lists) items.push({ json: { ...list, platform: platform.id }, pairedItem: { item: 0 } });
		cursor = page.cursor;
	} while (cursor);
	return items;
}
