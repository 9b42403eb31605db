// Secrets never leave in output: error messages, logged URLs, CLI output, item JSON.

// Includes the signature parts of pre-signed storage URLs (S3 and the like).
const SECRET_QUERY_KEYS =
	/^(api[_-]?key|apikey|key|token|access[_-]?token|refresh[_-]?token|client[_-]?secret|password|secret|auth|signature|x-amz-signature|x-amz-credential|x-amz-security-token|sig)$/i;

/** The URL with the values of secret-looking query parameters and any user:password replaced. */
export function maskUrl(url: string): string {
	try {
		const parsed = new URL(url);
		if (parsed.password) parsed.password = '***';
		if (parsed.username) parsed.username = '***';
		for (const key of [...parsed.searchParams.keys()]) {
			if (SECRET_QUERY_KEYS.test(key)) parsed.searchParams.set(key, '***');
		}
		return parsed.toString().replace(/%2A%2A%2A/g, '***');
	} catch {
		return url;
	}
}

/** `text` with every occurrence of each secret (4 characters or longer) replaced by ***. */
export function maskSecrets(text: string, secrets: readonly (string | undefined)[]): string {
	let masked = text;
	for (const secret of secrets) {
		if (secret && secret.length >= 4) masked = masked.split(secret).join('***');
	}
	return masked;
}
