import { parseArgs, type ParseArgsConfig } from 'node:util';

import { CliError } from './errors';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses a command's flags strictly; an unknown or malformed flag is a usage error with advice. */
export function parseFlags(command: string, args: string[], options: Options) {
	try {
		return parseArgs({ args, options, allowPositionals: true, strict: true });
	} catch (error) {
		const code = (error as { code?: string }).code;
		const flag = /'([^']+)'/.exec((error as Error).message)?.[1];
		const problem =
			code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
				? `unknown flag ${flag ?? ''}`.trim()
				: code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
					? (error as Error).message.replace(/^Option /, 'flag ')
					: (error as Error).message;
		throw new CliError(`list-hygiene ${command}: ${problem}. Run \`list-hygiene ${command} --help\` for the flags.`, 2);
	}
}

export function positiveInteger(flag: string, value: string): number {
	const n = Number(value);
	if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
		throw new CliError(`${flag} must be a whole number greater than 0, not "${value}".`, 2);
	}
	return n;
}
