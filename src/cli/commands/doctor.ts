import { resolve } from 'node:path';
import { formatDoctorReport, runDoctor } from '../../engine/doctor';
import type { Logger } from '../../engine/log';
import { parseCommandArgs } from '../args';
import { defaultModelDir } from '../paths';

export const doctorHelp = `Usage: engram doctor [options]

Checks the Node.js version, which TensorFlow.js backends load here (and why the others do
not), the GPU through nvidia-smi where present, and a model folder.

Options:
  --model DIR   model folder to check (default: bundled stories260K-hf)
  --json        print the report as JSON
  -h, --help    show this help`;

export async function runDoctorCommand(argv: string[], log: Logger): Promise<number> {
  const { values } = parseCommandArgs(argv, { model: { type: 'string' }, json: { type: 'boolean' } }, false);
  const report = await runDoctor({ modelDir: resolve(values.model ?? defaultModelDir) }, log);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report) + '\n');
  return report.checks.every((check) => check.ok) ? 0 : 1;
}
