import { isEngramError } from '../engine/errors';
import { type LogLevel, stderrLogger } from '../engine/log';
import { toolVersion } from '../engine/version';
import { UsageError } from './args';
import { doctorHelp, runDoctorCommand } from './commands/doctor';
import { evalHelp, runEval } from './commands/eval';
import { generateHelp, runGenerate } from './commands/generate';
import { inspectHelp, runInspect } from './commands/inspect';
import { runTrain, trainHelp } from './commands/train';

const mainHelp = `Usage: engram <command> [options]

Trains Engram knowledge packs for a local Hugging Face Llama-family model and uses them.

Commands:
  train      train a pack on a corpus while the model stays frozen
  eval       loss and perplexity on text, and probe pass rates, with and without a pack
  generate   continue a prompt, with a pack or side by side with the base model
  inspect    table hit statistics and gate values of a pack
  doctor     check Node.js, TensorFlow.js backends, the GPU and a model folder

Global options:
  --verbose   log debug messages to stderr
  --quiet     log only warnings and errors
  --version   print the version
  -h, --help  show help (also after a command)

Exit codes: 0 success, 1 failure, 2 wrong usage, 130 interrupted.`;

type Command = { run: (argv: string[], log: ReturnType<typeof stderrLogger>) => Promise<number>; help: string };

const commands: Record<string, Command> = {
  train: { run: runTrain, help: trainHelp },
  eval: { run: runEval, help: evalHelp },
  generate: { run: runGenerate, help: generateHelp },
  inspect: { run: runInspect, help: inspectHelp },
  doctor: { run: runDoctorCommand, help: doctorHelp },
};

async function main(argv: string[]): Promise<number> {
  let level: LogLevel = 'info';
  const rest = argv.filter((arg) => {
    if (arg === '--verbose') level = 'debug';
    else if (arg === '--quiet') level = 'warn';
    else return true;
    return false;
  });
  const [name, ...commandArgs] = rest;
  if (name === '--version') {
    process.stdout.write(`${toolVersion}\n`);
    return 0;
  }
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(mainHelp + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`engram: unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}. Run "engram --help" for details.\n`);
    return 2;
  }
  if (commandArgs.includes('-h') || commandArgs.includes('--help')) {
    process.stdout.write(command.help + '\n');
    return 0;
  }
  const log = stderrLogger(level);
  try {
    return await command.run(commandArgs, log);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`engram ${name}: ${error.message}\nRun "engram ${name} --help" for the options.\n`);
      return 2;
    }
    if (isEngramError(error)) {
      process.stderr.write(`engram ${name}: ${error.message}\n`);
      log.debug(error.stack ?? '');
      // An invalid option value is a usage error, like an unknown option.
      return error.code === 'invalid-argument' ? 2 : 1;
    }
    process.stderr.write(`engram ${name}: unexpected error: ${(error as Error).message ?? String(error)}\n`);
    process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`engram: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
