import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** A SOCKS5 proxy for SMTP probing from hosts whose outbound port 25 is closed. */
export class ListHygieneSocks5Proxy implements ICredentialType {
	name = 'listHygieneSocks5Proxy';

	displayName = 'List Hygiene SOCKS5 Proxy';

	icon: Icon = { light: 'file:../icons/verifyEmail.svg', dark: 'file:../icons/verifyEmail.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-list-hygiene';

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'proxy.example.com',
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 1080,
			required: true,
		},
		{
			displayName: 'Username',
			name: 'username',
			type: 'string',
			default: '',
			description: 'Leave empty for a proxy without authentication',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
	];
}
