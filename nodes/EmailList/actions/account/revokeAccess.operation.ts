// Constant Contact: revoke the OAuth2 grant at Constant Contact, ending the app's access to the
// account (RFC 7009). Revoking twice is safe: the server answers OK for an already-invalid token.
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { CONSTANT_CONTACT_AUTH_URL, revokeConstantContactAccess } from '../../../../src/platforms/constantcontact';
import { N8nTransport } from '../../../shared/transport';

const CREDENTIAL = 'listHygieneConstantContactOAuth2Api';

export const description: INodeProperties[] = [
	{
		displayName:
			'Revoking access ends this credential’s access to the Constant Contact account. Reconnect the credential to use it again.',
		name: 'revokeNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { resource: ['account'], operation: ['revokeAccess'] } },
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const credentials = await this.getCredentials(CREDENTIAL);
	const tokens = (credentials.oauthTokenData ?? {}) as IDataObject;
	const token = String(tokens.refresh_token ?? tokens.access_token ?? '');
	const server = String(credentials.authServerUrl ?? '').trim().replace(/\/+$/, '') || CONSTANT_CONTACT_AUTH_URL;
	// The app authenticates itself with its client ID and secret, not with the token being revoked.
	const inner = new N8nTransport(this, CREDENTIAL);
	await revokeConstantContactAccess({ request: (request) => inner.request({ ...request, unsigned: true }) }, token, String(credentials.clientId ?? ''), {
		clientSecret: String(credentials.clientSecret ?? '') || undefined,
		tokenTypeHint: tokens.refresh_token ? 'refresh_token' : 'access_token',
		url: `${server}/revoke`,
	});
	return [{ json: { platform: 'constantcontact', revoked: true }, pairedItem: { item: 0 } }];
}
