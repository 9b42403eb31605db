import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { toNodeError } from '../../shared/errors';

import * as revokeAccess from './account/revokeAccess.operation';
import * as deleteContacts from './contact/delete.operation';
import * as unsubscribeContacts from './contact/unsubscribe.operation';
import * as getLists from './list/getMany.operation';
import * as getMembers from './member/getMany.operation';

type Operation = { execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> };

/** resource -> operation -> module: a wrong name fails to compile. */
export const operations: Record<'account' | 'list' | 'member' | 'contact', Record<string, Operation>> = {
	account: { revokeAccess },
	list: { getMany: getLists },
	member: { getMany: getMembers },
	contact: { unsubscribe: unsubscribeContacts, delete: deleteContacts },
};

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as keyof typeof operations;
	const operation = this.getNodeParameter('operation', 0) as string;
	const handler = operations[resource]?.[operation];
	if (!handler) throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`);
	try {
		return [await handler.execute.call(this)];
	} catch (error) {
		throw toNodeError(this.getNode(), error);
	}
}
