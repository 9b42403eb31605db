import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { listLocator } from '../../../shared/platform';
import { contactFields, writeContacts } from './write';

export const description: INodeProperties[] = [
	{ ...listLocator, displayOptions: { show: { resource: ['contact'], operation: ['unsubscribe'] } } },
	...contactFields('unsubscribe'),
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return writeContacts.call(this, 'unsubscribe', (platform, api, listId, contacts) => platform.unsubscribe(api, listId, contacts));
}
