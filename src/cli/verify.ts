// `list-hygiene verify [FILE|-]`: verifies the addresses of a file or stdin and prints one result
// per address, as JSON lines or CSV.
import { DnsConfigError } from '../verification/dns';
import { Verifier } from '../verification/engine';
import type { Verification } from '../verification/types';
import { formatCsvRow } from './csv';
import { CliError } from './errors';
import { readAddresses, type AddressRecord } from './input';
import type { CliIo } from './io';
import { parseFlags, positiveInteger } from './flags';

export const VERIFY_HELP = `Usage: list-hygiene verify [FILE|-] [flags]

Verifies each address in FILE (or stdin when FILE is - or absent): syntax, DNS mail route,
disposable, role and free-provider lists. FILE holds one address per line, or is a CSV file
(comma, semicolon, tab or pipe separated) whose header names an email column.

Flags:
  --format jsonl|csv     output format (default jsonl: one JSON object per address)
  --column NAME          the CSV column that holds the addresses (default: detected)
  --dns-server HOST:PORT DNS resolver to ask (IP with optional port; repeatable)
  --timeout-ms N         time allowed for one DNS lookup, in milliseconds (default 5000)
  -h, --help             show this help
`;

const CSV_COLUMNS = [
	'email', 'status', 'category', 'reason', 'detail', 'suggestion', 'normalized',
	'disposable', 'role', 'free', 'mx', 'duplicate', 'checked_at', 'line',
] as const;

function csvRow(record: AddressRecord, v: Verification): string {
	return formatCsvRow([
		record.email, v.status, v.category, v.reason, v.detail, v.suggestion, v.normalized,
		v.flags.disposable, v.flags.role, v.flags.free, v.mx?.join(' '), v.duplicate ?? false,
		v.checkedAt, record.line,
	]);
}

function jsonLine(record: AddressRecord, v: Verification): string {
	return JSON.stringify({ email: record.email, ...v, line: record.line });
}

/** Writes a line, waiting when the reader is slower than we are (large lists into a pipe). */
async function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
	if (!stream.write(line + '\n')) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseFlags('verify', args, {
		format: { type: 'string', default: 'jsonl' },
		column: { type: 'string' },
		'dns-server': { type: 'string', multiple: true },
		'timeout-ms': { type: 'string' },
		help: { type: 'boolean', short: 'h' },
	});
	if (values.help) {
		io.stdout.write(VERIFY_HELP);
		return 0;
	}
	const format = values.format as string;
	if (format !== 'jsonl' && format !== 'csv') {
		throw new CliError(`--format must be jsonl or csv, not "${format}".`, 2);
	}
	if (positionals.length > 1) {
		throw new CliError(`verify takes one FILE (or - for stdin); got ${positionals.length}: ${positionals.join(' ')}.`, 2);
	}
	const timeoutMs = values['timeout-ms'] === undefined ? undefined : positiveInteger('--timeout-ms', values['timeout-ms'] as string);

	let verifier: Verifier;
	try {
		verifier = new Verifier({ dns: { servers: values['dns-server'] as string[] | undefined, timeoutMs } });
	} catch (error) {
		if (error instanceof DnsConfigError) throw new CliError(`--dns-server: ${error.message}`, 2);
		throw error;
	}

	const input = await readAddresses(positionals[0] ?? '-', io.stdin, { column: values.column as string | undefined });
	const results = await verifier.verifyBatch(input.records.map((r) => r.email));

	if (format === 'csv') await writeLine(io.stdout, formatCsvRow(CSV_COLUMNS));
	const counts = new Map<string, number>();
	for (let i = 0; i < results.length; i++) {
		const line = format === 'csv' ? csvRow(input.records[i], results[i]) : jsonLine(input.records[i], results[i]);
		await writeLine(io.stdout, line);
		counts.set(results[i].status, (counts.get(results[i].status) ?? 0) + 1);
	}
	const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
	io.stderr.write(`list-hygiene: verified ${results.length} ${results.length === 1 ? 'address' : 'addresses'} from ${input.source}${summary ? `: ${summary}` : ''}\n`);
	return 0;
}
